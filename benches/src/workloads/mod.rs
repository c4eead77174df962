//! The workloads, each with its runtimes. `run` dispatches a command line.

pub mod bank;
pub mod binary_trees;
pub mod churn;
pub mod counter;
pub mod gcbench;
pub mod hashmap;
pub mod host;
pub mod intset;
mod intset_ordered;
mod libitm_stm;
mod ordered;
mod ordered_runtimes;
pub mod pauses;
pub mod tasks;
mod tx_tree;

use crate::cli::Args;
use crate::result::RunResult;

/// Runs a workload for every runtime and thread count asked for, `rounds`
/// times each (round-robin, so that a slow stretch of a noisy machine falls
/// on every runtime alike), and reports each configuration's median run.
pub fn run(args: &Args) -> Result<Vec<RunResult>, String> {
    let (available, known): (&[&str], &[&str]) = match args.workload.as_str() {
        "binary-trees" => (binary_trees::RUNTIMES, &["depth"]),
        "gcbench" => (gcbench::RUNTIMES, &["max-depth"]),
        "bank" => (bank::RUNTIMES, &["accounts", "read-every", "partitioned"]),
        "intset" => (intset::RUNTIMES, &["structure", "range", "update"]),
        "churn" => (churn::RUNTIMES, &["live-mb"]),
        "pauses" => (pauses::RUNTIMES, &[]),
        "hashmap" => (hashmap::RUNTIMES, &["keys", "update"]),
        "counter" => (counter::RUNTIMES, &[]),
        "tasks" => (tasks::RUNTIMES, &["batch", "work", "accounts"]),
        "host" => (host::RUNTIMES, &["program", "scale", "tx-length"]),
        other => {
            return Err(format!(
                "unknown workload {other:?}\n\n{}",
                crate::cli::USAGE
            ))
        }
    };
    args.only_options(known)?;
    let runtimes = args.runtimes_or(available)?;
    let configs: Vec<(&String, usize)> = runtimes
        .iter()
        .flat_map(|r| args.threads.iter().map(move |&t| (r, t)))
        .collect();
    // Each configuration's runs; `None` once it was skipped.
    let mut runs: Vec<Option<Vec<RunResult>>> = configs.iter().map(|_| Some(Vec::new())).collect();
    for round in 0..args.rounds {
        for (&(runtime, threads), slot) in configs.iter().zip(&mut runs) {
            let Some(list) = slot else { continue };
            let timed = !matches!(args.workload.as_str(), "binary-trees" | "gcbench" | "host");
            let mut label = format!("{} {runtime} x{threads}", args.workload);
            if args.rounds > 1 {
                label += &format!(" (round {}/{})", round + 1, args.rounds);
            }
            let progress = crate::progress::Progress::start(
                label,
                timed.then(|| std::time::Duration::from_secs_f64(args.seconds)),
            );
            let outcome = match args.workload.as_str() {
                _ if runtime == "libitm-stm" => libitm_stm::run(args, threads),
                "binary-trees" => binary_trees::run(runtime, threads, args),
                "gcbench" => gcbench::run(runtime, threads, args),
                "bank" => bank::run(runtime, threads, args),
                "intset" => intset::run(runtime, threads, args),
                "churn" => churn::run(runtime, threads, args),
                "host" => host::run(runtime, threads, args),
                "hashmap" => hashmap::run(runtime, threads, args),
                "counter" => counter::run(runtime, threads, args),
                "tasks" => tasks::run(runtime, threads, args),
                _ => pauses::run(runtime, threads, args),
            };
            drop(progress);
            match outcome? {
                Outcome::Done(r) => list.push(*r),
                Outcome::Skipped(note) => {
                    eprintln!("\r{note}");
                    *slot = None;
                }
            }
        }
    }
    Ok(runs.into_iter().flatten().map(median_run).collect())
}

/// The run that stands for a configuration's rounds: the first whose check
/// failed (a failure is never hidden by passing rounds), else the median by
/// throughput (the upper middle of an even count). It is a real run, whole:
/// its collector and memory figures belong to it. With more than one round
/// it lists every round's throughput.
fn median_run(mut runs: Vec<RunResult>) -> RunResult {
    let rounds: Vec<f64> = runs.iter().map(RunResult::ops_per_sec).collect();
    let pick = match runs.iter().position(|r| r.check != "ok") {
        Some(failed) => failed,
        None => {
            let mut order: Vec<usize> = (0..runs.len()).collect();
            order.sort_by(|&a, &b| rounds[a].total_cmp(&rounds[b]));
            order[order.len() / 2]
        }
    };
    let mut chosen = runs.swap_remove(pick);
    if rounds.len() > 1 {
        chosen.round_ops_per_sec = rounds;
    }
    chosen
}

/// The runtimes of `all` that run in this process (`libitm-stm` runs in a
/// child `strata-bench`, which a unit test's binary is not; the integration
/// test `tests/child_runtimes.rs` runs it).
#[cfg(test)]
pub fn in_process<'a>(all: &'a [&'a str]) -> impl Iterator<Item = &'a &'a str> {
    all.iter().filter(|&&r| r != "libitm-stm")
}

/// For a workload's unit tests: runs `run` for `runtime` on `threads`
/// threads with the command line `words`, and returns its result, which
/// must have passed its check and done some work (a skipped run fails).
#[cfg(test)]
pub fn run_checked(
    run: fn(&str, usize, &Args) -> Result<Outcome, String>,
    runtime: &str,
    threads: usize,
    words: &str,
) -> Box<RunResult> {
    let args = Args::parse(words.split_whitespace().map(str::to_owned)).unwrap();
    match run(runtime, threads, &args).unwrap() {
        Outcome::Done(r) => {
            assert_eq!(r.check, "ok", "{runtime} x{threads}: {words}");
            assert!(r.ops > 0, "{runtime} x{threads}: {words}");
            r
        }
        Outcome::Skipped(note) => panic!("{runtime} x{threads}: {note}"),
    }
}

/// A run, or why this runtime cannot run this configuration.
pub enum Outcome {
    Done(Box<RunResult>),
    Skipped(String),
}

impl From<RunResult> for Outcome {
    fn from(r: RunResult) -> Self {
        Outcome::Done(Box::new(r))
    }
}

thread_local! {
    /// Wall seconds of the last timed phase run from this thread.
    static WINDOW: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

/// Runs `phase` and records its wall time as this thread's measured window:
/// throughput workloads divide by the timed phase, not by their set-up
/// (building a million accounts is single-threaded and would flatten the
/// scaling they measure).
pub fn measure_window<R>(phase: impl FnOnce() -> R) -> R {
    let start = std::time::Instant::now();
    let result = phase();
    WINDOW.with(|w| w.set(Some(start.elapsed().as_secs_f64())));
    result
}

/// The measured window recorded since the last call, if any.
pub fn take_window() -> Option<f64> {
    WINDOW.with(|w| w.take())
}

/// Runs `body` on `threads` threads and waits; `body(t)` gets the index.
pub fn on_threads<R: Send>(threads: usize, body: impl Fn(usize) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn({
                    let body = &body;
                    move || body(t)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(ops: u64, check: &str) -> RunResult {
        let mut r = RunResult::new("bank", "strata", 1, serde_json::json!({}));
        r.seconds = 1.0;
        r.ops = ops;
        r.check = check.into();
        r
    }

    #[test]
    fn the_median_round_stands_for_its_configuration() {
        let chosen = median_run(vec![
            run_with(5, "ok"),
            run_with(9, "ok"),
            run_with(7, "ok"),
        ]);
        assert_eq!(chosen.ops, 7);
        assert_eq!(chosen.round_ops_per_sec, vec![5.0, 9.0, 7.0]);
        let one = median_run(vec![run_with(4, "ok")]);
        assert!(
            one.round_ops_per_sec.is_empty(),
            "one round lists no rounds"
        );
        assert!(one.to_json()["rounds"].is_null());
    }

    #[test]
    fn a_failed_round_is_reported_whatever_the_others_did() {
        let chosen = median_run(vec![
            run_with(5, "ok"),
            run_with(6, "final total 1 != 2"),
            run_with(7, "ok"),
        ]);
        assert_eq!(chosen.check, "final total 1 != 2");
        assert_eq!(chosen.to_json()["rounds"], 3);
    }

    #[test]
    fn rounds_run_every_configuration_and_report_one_result_each() {
        let args = Args::parse(
            "bank --accounts 16 --seconds 0.05 --rounds 3 --runtime strata,mutex --threads 1,2"
                .split_whitespace()
                .map(str::to_owned),
        )
        .unwrap();
        let results = run(&args).unwrap();
        assert_eq!(results.len(), 4);
        for r in &results {
            assert_eq!(r.check, "ok");
            assert_eq!(r.round_ops_per_sec.len(), 3, "{} x{}", r.runtime, r.threads);
        }
    }
}
