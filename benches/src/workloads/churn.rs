//! churn: `--live-mb` of objects updated over and over by the writer threads
//! while long readers come and go (each reads every object in one
//! transaction, slowly). Old versions must be reclaimed: the check is that
//! live bytes after a final major collection stay within twice the initial
//! live data (plus a page of slack per size class), and that every reader
//! saw each object's two fields agree. ops = updates committed.

use super::bank::timed;
use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use crate::rng::{thread_seed, Rng};
use crate::rss;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use strata::{Heap, Object};

pub const RUNTIMES: &[&str] = &["strata"];

#[derive(Clone, Copy)]
struct Item {
    value: u64,
    mirror: u64,
    _payload: [u64; 6],
}
impl Object for Item {}

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let live_mb = args.number("live-mb", 64)?;
    if live_mb == 0 {
        return Err("--live-mb must be positive".into());
    }
    let count = (live_mb as usize) << 20 >> 7; // ~128 bytes per item with its slot
    let mut result = RunResult::new("churn", runtime, threads, json!({ "live_mb": live_mb }));
    let heap = Heap::from_env().expect("heap configuration");
    let mut main = heap.attach().expect("attach");
    let items = main
        .atomically(|tx| {
            let array = tx.alloc_array(count);
            for i in 0..count {
                let item = tx.alloc(Item {
                    value: 0,
                    mirror: 0,
                    _payload: [i as u64; 6],
                });
                tx.set(array, i, Some(item));
            }
            tx.root(array)
        })
        .expect("heap limit");
    let items = main.global(&items);
    main.collect();
    let live_before = main.gc_stats().live_bytes_after_major;
    let sampler = rss::Sampler::start();
    let start = Instant::now();
    let torn = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let updates = std::thread::scope(|s| {
        s.spawn(|| {
            let mut reader = heap.attach().expect("attach");
            while !done.load(Ordering::Relaxed) {
                let bad = reader
                    .atomically(|tx| {
                        let array = tx.get_global(&items);
                        let mut bad = 0;
                        for i in 0..count {
                            let item = tx.get::<Item>(array, i).expect("item");
                            let v = tx.read(item);
                            bad += u64::from(v.value != v.mirror);
                        }
                        bad
                    })
                    .expect("heap limit");
                torn.fetch_add(bad, Ordering::Relaxed);
                reader.blocking(|| std::thread::sleep(Duration::from_millis(20)));
            }
        });
        let updates = main.blocking(|| {
            timed(
                threads,
                Duration::from_secs_f64(args.seconds),
                |t, stopped| {
                    let mut th = heap.attach().expect("attach");
                    let mut rng = Rng::new(thread_seed(t));
                    let mut n = 0u64;
                    while !stopped() {
                        let i = rng.below(count as u64) as usize;
                        th.atomically(|tx| {
                            let array = tx.get_global(&items);
                            let item = tx.get::<Item>(array, i).expect("item");
                            tx.update(item, |v| {
                                v.value += 1;
                                v.mirror = v.value;
                            });
                        })
                        .expect("heap limit");
                        n += 1;
                    }
                    n
                },
            )
        });
        done.store(true, Ordering::Relaxed);
        updates
    });
    result.seconds = start.elapsed().as_secs_f64();
    main.collect();
    let (peak, series) = sampler.finish();
    result.peak_rss_bytes = Some(peak as u64);
    result.rss_series = series;
    result.ops = updates.iter().sum();
    let stats = main.gc_stats();
    result.set_gc(&stats);
    let live_after = stats.live_bytes_after_major;
    let allowed = 2 * live_before + (4 << 20);
    if live_after > allowed {
        result.fail(format!(
            "old versions not reclaimed: {live_after} live bytes after, {live_before} before"
        ));
    }
    if torn.load(Ordering::Relaxed) > 0 {
        result.fail(format!("{} torn reads", torn.load(Ordering::Relaxed)));
    }
    drop(main);
    let (commits, aborts) = heap.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
    Ok(result.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::run_checked;

    #[test]
    fn churn_reclaims_versions() {
        run_checked(run, "strata", 2, "churn --live-mb 2 --seconds 0.3");
    }
}
