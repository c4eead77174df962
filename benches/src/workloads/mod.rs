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
