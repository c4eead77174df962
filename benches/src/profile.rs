//! `strata-bench profile FILE`: summarises an event log that a heap wrote
//! (`STRATA_EVENTS=FILE`, or `ReportConfig::events_path`; see `DESIGN.md`,
//! "Conflict reports"): per thread, the time in committed attempts (useful
//! work), in aborted ones (wasted), waiting (for an owner, in blocking
//! sections) and in collections, with the commits and aborts.
//!
//! A wait inside an attempt (a blocking section in a transaction) counts as
//! waiting, not as the attempt's time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

/// One thread's time, in nanoseconds, and its counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadSummary {
    pub thread: u64,
    pub useful: u64,
    pub wasted: u64,
    pub waiting: u64,
    pub collections: u64,
    /// First event to last.
    pub span: u64,
    pub commits: u64,
    pub aborts: u64,
    /// Aborts by the kind the log names.
    pub abort_kinds: BTreeMap<String, u64>,
    pub inevitable: u64,
}

/// What a thread's events have opened and not closed yet.
#[derive(Default)]
struct Open {
    first: Option<u64>,
    attempt: Option<u64>,
    waited_in_attempt: u64,
    wait: Option<u64>,
    collection: Option<u64>,
}

/// The log's threads, by thread id.
pub fn summarise(log: &str) -> Result<Vec<ThreadSummary>, String> {
    let mut threads: BTreeMap<u64, (ThreadSummary, Open)> = BTreeMap::new();
    for (number, line) in log.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let bad = || format!("line {}: {line:?} is not `nanos thread event`", number + 1);
        let mut words = line.split_whitespace();
        let (Some(nanos), Some(thread), Some(event), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(bad());
        };
        let at: u64 = nanos.parse().map_err(|_| bad())?;
        let thread: u64 = thread.parse().map_err(|_| bad())?;
        let (summary, open) = threads.entry(thread).or_insert_with(|| {
            let summary = ThreadSummary {
                thread,
                ..ThreadSummary::default()
            };
            (summary, Open::default())
        });
        let first = *open.first.get_or_insert(at);
        summary.span = at.saturating_sub(first);
        let since = |start: Option<u64>| at.saturating_sub(start.unwrap_or(at));
        match event {
            "begin" => {
                open.attempt = Some(at);
                open.waited_in_attempt = 0;
            }
            "commit" => {
                summary.useful += since(open.attempt.take()).saturating_sub(open.waited_in_attempt);
                summary.commits += 1;
            }
            "inevitable" => summary.inevitable += 1,
            "wait-start" => open.wait = Some(at),
            "wait-end" => {
                let waited = since(open.wait.take());
                summary.waiting += waited;
                if open.attempt.is_some() {
                    open.waited_in_attempt += waited;
                }
            }
            "collection-start" => open.collection = Some(at),
            "collection-end" => summary.collections += since(open.collection.take()),
            _ => {
                let kind = event
                    .strip_prefix("abort:")
                    .ok_or_else(|| format!("line {}: unknown event {event:?}", number + 1))?;
                summary.wasted += since(open.attempt.take()).saturating_sub(open.waited_in_attempt);
                summary.aborts += 1;
                *summary.abort_kinds.entry(kind.to_string()).or_default() += 1;
            }
        }
    }
    Ok(threads.into_values().map(|(summary, _)| summary).collect())
}

fn millis(nanos: u64) -> String {
    format!("{:.3}", nanos as f64 / 1e6)
}

/// The summaries as a table, times in milliseconds and as shares of the
/// thread's span.
pub fn table(summaries: &[ThreadSummary]) -> String {
    let mut out = format!(
        "{:>8} {:>12} {:>18} {:>18} {:>18} {:>18} {:>9} {:>8}  aborts by kind\n",
        "thread",
        "span ms",
        "useful ms",
        "wasted ms",
        "waiting ms",
        "collections ms",
        "commits",
        "aborts"
    );
    for s in summaries {
        let share = |nanos: u64| match s.span {
            0 => format!("{} (-)", millis(nanos)),
            span => format!(
                "{} ({:.1}%)",
                millis(nanos),
                100.0 * nanos as f64 / span as f64
            ),
        };
        let kinds: Vec<String> = s
            .abort_kinds
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "{:>8} {:>12} {:>18} {:>18} {:>18} {:>18} {:>9} {:>8}  {}",
            s.thread,
            millis(s.span),
            share(s.useful),
            share(s.wasted),
            share(s.waiting),
            share(s.collections),
            s.commits,
            s.aborts,
            kinds.join(", ")
        );
    }
    out
}

/// `strata-bench profile FILE`.
pub fn run(args: &[String]) -> ExitCode {
    let [path] = args else {
        eprintln!("strata-bench: usage: strata-bench profile FILE (an event log, STRATA_EVENTS)");
        return ExitCode::from(2);
    };
    let summaries = std::fs::read_to_string(path)
        .map_err(|e| format!("reading {path}: {e}"))
        .and_then(|log| summarise(&log).map_err(|e| format!("{path}: {e}")));
    match summaries {
        Ok(summaries) => {
            print!("{}", table(&summaries));
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("strata-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use strata::{Heap, HeapConfig, Object, ReportConfig};

    #[test]
    fn a_hand_written_log_adds_up_per_thread() {
        let log = "# strata events: nanoseconds thread event\n\
                   0 1 collection-start\n\
                   40 1 collection-end\n\
                   50 1 begin\n\
                   80 1 abort:write-write\n\
                   80 1 wait-start\n\
                   120 1 wait-end\n\
                   130 1 begin\n\
                   140 1 wait-start\n\
                   150 1 wait-end\n\
                   200 1 commit\n\
                   5 2 begin\n\
                   6 2 inevitable\n\
                   25 2 commit\n";
        let s = summarise(log).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].collections, s[0].wasted, s[0].waiting, s[0].useful),
            (40, 30, 50, 60)
        );
        assert_eq!((s[0].span, s[0].commits, s[0].aborts), (200, 1, 1));
        assert_eq!(s[0].abort_kinds["write-write"], 1);
        assert_eq!((s[1].useful, s[1].inevitable, s[1].span), (20, 1, 20));
        assert!(table(&s).contains("write-write 1"));
        assert!(summarise("1 2").is_err());
        assert!(summarise("1 2 jump").is_err());
    }

    #[derive(Clone, Copy)]
    struct Account {
        balance: i64,
    }
    impl Object for Account {}

    /// A heap that logs, two threads moving money between two accounts
    /// (so they conflict), then the log read back: each thread's commits
    /// and aborts are the ones its `Thread` counted.
    #[test]
    fn a_real_log_gives_each_threads_commits_and_aborts() {
        let path = std::env::temp_dir().join(format!("strata-bench-events-{}", std::process::id()));
        let heap = Heap::new(HeapConfig {
            nursery_bytes: 64 << 10,
            ..HeapConfig::default()
        })
        .unwrap();
        let mut config = heap.tx_config().clone();
        config.reports = ReportConfig {
            events_path: Some(path.clone()),
            ..ReportConfig::default()
        };
        let heap = heap.with_tx_config(config);
        let mut main = heap.attach().unwrap();
        let accounts = main
            .atomically(|tx| {
                let array = tx.alloc_array(2);
                for i in 0..2 {
                    let account = tx.alloc(Account { balance: 100 });
                    tx.set(array, i, Some(account));
                }
                tx.root(array)
            })
            .unwrap();
        let accounts = Arc::new(main.global(&accounts));
        let counts = main.blocking(|| {
            let workers: Vec<_> = (0..2)
                .map(|w| {
                    let (heap, accounts) = (heap.clone(), accounts.clone());
                    std::thread::spawn(move || {
                        let mut t = heap.attach().unwrap();
                        for _ in 0..2000 {
                            t.atomically(|tx| {
                                let array = tx.get_global(&accounts);
                                let from = tx.get_for_update::<Account>(array, w).unwrap();
                                let to = tx.get_for_update::<Account>(array, 1 - w).unwrap();
                                tx.update(from, |a| a.balance -= 1);
                                tx.update(to, |a| a.balance += 1);
                            })
                            .unwrap();
                        }
                        t.tx_counts()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap())
                .collect::<Vec<_>>()
        });
        drop(main);
        drop(heap);
        let log = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let summaries = summarise(&log).unwrap();
        // Main and the two workers.
        assert_eq!(summaries.len(), 3);
        let mut seen: Vec<(u64, u64)> = summaries[1..]
            .iter()
            .map(|s| (s.commits, s.aborts))
            .collect();
        let mut counted = counts.clone();
        seen.sort_unstable();
        counted.sort_unstable();
        assert_eq!(seen, counted);
        for s in &summaries[1..] {
            assert!(s.useful > 0 && s.useful + s.wasted <= s.span, "{s:?}");
            assert_eq!(s.aborts > 0, s.wasted > 0, "{s:?}");
        }
    }
}
