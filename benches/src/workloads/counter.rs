//! counter: threads (two by default in the README's runs) add one to a
//! single `TxCounter`, one transaction per add: the refcount case. The
//! check: the counter equals the adds, and no transaction aborted
//! (concurrent adds must never conflict). ops = adds.

use super::bank::timed;
use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use serde_json::json;
use std::time::{Duration, Instant};
use strata::{Heap, TxCounter};

pub const RUNTIMES: &[&str] = &["strata"];

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let mut result = RunResult::new("counter", runtime, threads, json!({}));
    let heap = Heap::from_env().expect("heap configuration");
    let mut main = heap.attach().expect("attach");
    let counter = TxCounter::new(&mut main).expect("heap limit");
    let start = Instant::now();
    let adds = main.blocking(|| {
        timed(
            threads,
            Duration::from_secs_f64(args.seconds),
            |_, stopped| {
                let mut th = heap.attach().expect("attach");
                let mut n = 0u64;
                while !stopped() {
                    th.atomically(|tx| counter.add(tx, 1)).expect("heap limit");
                    n += 1;
                }
                n
            },
        )
    });
    result.seconds = start.elapsed().as_secs_f64();
    result.ops = adds.iter().sum();
    let value = main.atomically(|tx| counter.get(tx)).expect("heap limit");
    result.set_gc(&main.gc_stats());
    drop(main);
    let (commits, aborts) = heap.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
    if value != result.ops as i64 {
        result.fail(format!("counter {value} after {} adds", result.ops));
    }
    if aborts > 0 {
        result.fail(format!("{aborts} aborted adds: {:?}", heap.abort_counts()));
    }
    Ok(result.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::run_checked;

    #[test]
    fn two_adders_never_abort() {
        let r = run_checked(run, "strata", 2, "counter --seconds 0.2");
        assert_eq!(r.aborts, Some(0));
    }
}
