//! The workloads, each with its runtimes. `run` dispatches a command line.

pub mod bank;
pub mod binary_trees;
pub mod churn;
pub mod gcbench;
pub mod intset;
mod intset_ordered;
mod ordered;
mod ordered_runtimes;
pub mod pauses;
mod tx_tree;

use crate::cli::Args;
use crate::result::RunResult;

/// Runs a workload for every runtime and thread count asked for.
pub fn run(args: &Args) -> Result<Vec<RunResult>, String> {
    let (available, known): (&[&str], &[&str]) = match args.workload.as_str() {
        "binary-trees" => (binary_trees::RUNTIMES, &["depth"]),
        "gcbench" => (gcbench::RUNTIMES, &["max-depth"]),
        "bank" => (bank::RUNTIMES, &["accounts", "read-every"]),
        "intset" => (intset::RUNTIMES, &["structure", "range", "update"]),
        "churn" => (churn::RUNTIMES, &["live-mb"]),
        "pauses" => (pauses::RUNTIMES, &[]),
        other => {
            return Err(format!(
                "unknown workload {other:?}\n\n{}",
                crate::cli::USAGE
            ))
        }
    };
    args.only_options(known)?;
    let runtimes = args.runtimes_or(available)?;
    let mut results = Vec::new();
    for runtime in &runtimes {
        for &threads in &args.threads {
            let timed = !matches!(args.workload.as_str(), "binary-trees" | "gcbench");
            let progress = crate::progress::Progress::start(
                format!("{} {runtime} x{threads}", args.workload),
                timed.then(|| std::time::Duration::from_secs_f64(args.seconds)),
            );
            let outcome = match args.workload.as_str() {
                "binary-trees" => binary_trees::run(runtime, threads, args),
                "gcbench" => gcbench::run(runtime, threads, args),
                "bank" => bank::run(runtime, threads, args),
                "intset" => intset::run(runtime, threads, args),
                "churn" => churn::run(runtime, threads, args),
                _ => pauses::run(runtime, threads, args),
            };
            drop(progress);
            match outcome? {
                Outcome::Done(r) => results.push(*r),
                Outcome::Skipped(note) => eprintln!("\r{note}"),
            }
        }
    }
    Ok(results)
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
