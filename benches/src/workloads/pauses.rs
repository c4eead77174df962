//! pauses: a steady allocating load (every thread keeps a window of 64
//! trees of depth 10 and replaces one per step, each in a transaction) while
//! collections run; reports the distribution of minor and major pauses.
//! ops = trees built; every replaced tree's node count is checked.

use super::bank::timed;
use super::tx_tree::{count, make, Node};
use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use crate::rss;
use serde_json::json;
use std::time::{Duration, Instant};
use strata::Heap;

pub const RUNTIMES: &[&str] = &["strata"];

const WINDOW: usize = 64;
const DEPTH: u32 = 10;

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let mut result = RunResult::new(
        "pauses",
        runtime,
        threads,
        json!({ "window": WINDOW, "depth": DEPTH }),
    );
    let heap = Heap::from_env().expect("heap configuration");
    let sampler = rss::Sampler::start();
    let start = Instant::now();
    let per_thread = timed(
        threads,
        Duration::from_secs_f64(args.seconds),
        |_, stopped| {
            let mut th = heap.attach().expect("attach");
            let window = th
                .atomically(|tx| {
                    let w = tx.alloc_array(WINDOW);
                    tx.root(w)
                })
                .expect("heap limit");
            let (mut built, mut wrong) = (0u64, 0u64);
            while !stopped() {
                let slot = (built % WINDOW as u64) as usize;
                let old = th
                    .atomically(|tx| {
                        let w = tx.get_root(&window);
                        let old = tx.get::<Node>(w, slot).map_or(0, |t| count(tx, t));
                        let tree = make(tx, DEPTH);
                        tx.set(w, slot, Some(tree));
                        old
                    })
                    .expect("heap limit");
                if built >= WINDOW as u64 && old != (1 << (DEPTH + 1)) - 1 {
                    wrong += 1;
                }
                built += 1;
            }
            (built, wrong)
        },
    );
    result.seconds = start.elapsed().as_secs_f64();
    let (peak, series) = sampler.finish();
    result.peak_rss_bytes = Some(peak as u64);
    result.rss_series = series;
    result.ops = per_thread.iter().map(|p| p.0).sum();
    let wrong: u64 = per_thread.iter().map(|p| p.1).sum();
    if wrong > 0 {
        result.fail(format!("{wrong} trees lost nodes"));
    }
    result.set_gc(&heap.gc_stats());
    let (commits, aborts) = heap.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
    Ok(result.into())
}
