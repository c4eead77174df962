//! The command line: `WORKLOAD [--runtime a,b] [--threads 1,2] [--seconds S]
//! [--rounds N] [--json] [workload options]` (and `profile FILE`, which
//! `main` hands to `profile.rs` before this parser).

use std::collections::BTreeMap;

pub const USAGE: &str = "usage: strata-bench WORKLOAD [--runtime a,b,...] [--threads 1,2,...] \
[--seconds S] [--rounds N] [--json] [workload options]
  --rounds N: run every configuration N times, round-robin, and report its median run
workloads:
  binary-trees --depth D                 runtimes: strata, strata-c, strata-raw, box, arena, boehm
  gcbench [--max-depth D]                runtimes: strata, strata-raw, box, boehm
  bank --accounts N --read-every K [--partitioned]
                                         runtimes: strata, strata-c, libitm, libitm-stm, stm-core, mutex
  intset --structure rbtree|skiplist|hash|list --range R --update P
                                         runtimes: strata, libitm, libitm-stm, stm-core, rwlock
  hashmap [--keys N] [--update P]        runtimes: strata, rwlock, dashmap
  counter                                runtimes: strata (fails on any abort)
  tasks [--batch N] [--work W] [--accounts A]
                                         runtimes: strata, strata-ordered (the task runner)
  churn --live-mb M                      runtimes: strata
  pauses                                 runtimes: strata
  host --program NAME [--scale S] [--tx-length STEPS]
                                         runtimes: strata, gil (examples/host/programs/NAME.scm)
  suite [--rounds N]                     short runs of all of the above, table and report
  clock                                  the commit clock's measurements: TSC bound, counter costs
  profile FILE                           an event log (STRATA_EVENTS=FILE) summarised per thread:
                                         useful, wasted in aborts, waiting, in collections";

/// Workload options that take no value.
const WORKLOAD_FLAGS: &[&str] = &["partitioned"];

/// Parsed arguments.
#[derive(Debug, Clone)]
pub struct Args {
    pub workload: String,
    pub runtimes: Option<Vec<String>>,
    pub threads: Vec<usize>,
    pub seconds: f64,
    /// How many times each configuration runs (round-robin over the
    /// runtimes and thread counts); its median run is reported.
    pub rounds: usize,
    pub json: bool,
    pub options: BTreeMap<String, String>,
}

impl Args {
    pub fn parse(mut words: impl Iterator<Item = String>) -> Result<Args, String> {
        let workload = words.next().ok_or("no workload given")?;
        if workload == "--help" || workload == "-h" {
            return Err("help".into());
        }
        let mut args = Args {
            workload,
            runtimes: None,
            threads: vec![1],
            seconds: 2.0,
            rounds: 1,
            json: false,
            options: BTreeMap::new(),
        };
        while let Some(word) = words.next() {
            let Some(name) = word.strip_prefix("--") else {
                return Err(format!("unexpected argument {word:?}"));
            };
            if name == "json" {
                args.json = true;
                continue;
            }
            if WORKLOAD_FLAGS.contains(&name) {
                args.options.insert(name.to_owned(), String::new());
                continue;
            }
            let value = words.next().ok_or(format!("--{name} needs a value"))?;
            match name {
                "runtime" => args.runtimes = Some(value.split(',').map(str::to_owned).collect()),
                "threads" => {
                    args.threads = value
                        .split(',')
                        .map(|t| t.parse().ok().filter(|&n| n > 0))
                        .collect::<Option<_>>()
                        .ok_or(format!(
                            "--threads {value:?}: positive numbers, comma-separated"
                        ))?
                }
                "seconds" => {
                    args.seconds = value
                        .parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0)
                        .ok_or(format!("--seconds {value:?}: a positive number"))?
                }
                "rounds" => {
                    args.rounds = value
                        .parse()
                        .ok()
                        .filter(|&n: &usize| n > 0)
                        .ok_or(format!("--rounds {value:?}: a positive whole number"))?
                }
                _ => {
                    args.options.insert(name.to_owned(), value);
                }
            }
        }
        Ok(args)
    }

    /// A numeric workload option, or its default.
    pub fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.options.get(name) {
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name} {v:?}: not a number")),
            None => Ok(default),
        }
    }

    /// Whether a workload flag (an option without a value) was given.
    pub fn flag(&self, name: &str) -> bool {
        self.options.contains_key(name)
    }

    /// A text workload option, or its default.
    pub fn text<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.options.get(name).map_or(default, String::as_str)
    }

    /// Fails on options the workload does not know.
    pub fn only_options(&self, known: &[&str]) -> Result<(), String> {
        match self.options.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(format!("{} has no option --{k}", self.workload)),
            None => Ok(()),
        }
    }

    /// The runtimes asked for, or all of `available`.
    pub fn runtimes_or<'a>(&'a self, available: &[&'a str]) -> Result<Vec<String>, String> {
        match &self.runtimes {
            None => Ok(available.iter().map(|s| s.to_string()).collect()),
            Some(asked) => {
                for r in asked {
                    if !available.contains(&r.as_str()) {
                        return Err(format!(
                            "{} has no runtime {r:?} (available: {})",
                            self.workload,
                            available.join(", ")
                        ));
                    }
                }
                Ok(asked.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, String> {
        Args::parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_the_fixed_command_line() {
        let a =
            parse("bank --runtime strata,mutex --threads 1,2 --seconds 0.5 --json --accounts 64")
                .unwrap();
        assert_eq!(a.workload, "bank");
        assert_eq!(a.runtimes.unwrap(), vec!["strata", "mutex"]);
        assert_eq!(a.threads, vec![1, 2]);
        assert_eq!(a.seconds, 0.5);
        assert!(a.json);
        assert_eq!(a.options["accounts"], "64");
        assert!(parse("bank --threads 0").is_err());
        assert!(parse("bank --seconds").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn rounds_are_a_positive_count_defaulting_to_one() {
        assert_eq!(parse("bank").unwrap().rounds, 1);
        assert_eq!(parse("bank --rounds 5").unwrap().rounds, 5);
        assert!(parse("bank --rounds 0").is_err());
        assert!(parse("bank --rounds two").is_err());
        assert!(!parse("bank --rounds 3")
            .unwrap()
            .options
            .contains_key("rounds"));
    }
}
