//! hashmap: `--keys` keys (default a million) in a map; each operation
//! picks a key at random and, `--update` percent of the time (default 10),
//! adds one to its value, else looks it up. Runtimes: `strata` (a
//! `TxHashMap`, one transaction per operation), `rwlock` (a std `HashMap`
//! behind an `RwLock`), `dashmap` (the sharded concurrent map). The check:
//! the values sum to the number of updates, and every lookup found its
//! key. ops = operations.

use super::bank::timed;
use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use crate::rng::{thread_seed, Rng};
use serde_json::json;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};
use strata::{Heap, TxHashMap};

pub const RUNTIMES: &[&str] = &["strata", "rwlock", "dashmap"];

/// Keys inserted per transaction while the strata map is filled.
const FILL_BATCH: u64 = 10_000;

/// One thread's counts: operations, updates, lookups that missed.
type Counts = (u64, u64, u64);

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let keys = args.number("keys", 1_000_000)?;
    let update = args.number("update", 10)?;
    if keys == 0 || update > 100 {
        return Err("--keys must be positive and --update at most 100".into());
    }
    let mut result = RunResult::new(
        "hashmap",
        runtime,
        threads,
        json!({ "keys": keys, "update": update }),
    );
    let duration = Duration::from_secs_f64(args.seconds);
    super::take_window();
    let start = Instant::now();
    let (counts, sum) = match runtime {
        "strata" => run_strata(threads, keys, update, duration, &mut result),
        "rwlock" => {
            let map = RwLock::new((0..keys).map(|k| (k, 0u64)).collect::<HashMap<_, _>>());
            let counts = timed(threads, duration, |t, stopped| {
                operations(t, keys, update, stopped, |k, write| {
                    if write {
                        *map.write().unwrap().get_mut(&k).expect("key") += 1;
                        true
                    } else {
                        map.read().unwrap().get(&k).is_some()
                    }
                })
            });
            let sum = map.read().unwrap().values().sum();
            (counts, sum)
        }
        _ => {
            let map: dashmap::DashMap<u64, u64> = (0..keys).map(|k| (k, 0u64)).collect();
            let counts = timed(threads, duration, |t, stopped| {
                operations(t, keys, update, stopped, |k, write| {
                    if write {
                        *map.get_mut(&k).expect("key") += 1;
                        true
                    } else {
                        map.get(&k).is_some()
                    }
                })
            });
            let sum = map.iter().map(|e| *e.value()).sum();
            (counts, sum)
        }
    };
    // The timed phase, not the filling of the map.
    result.seconds = super::take_window().unwrap_or_else(|| start.elapsed().as_secs_f64());
    result.ops = counts.iter().map(|c| c.0).sum();
    let updates: u64 = counts.iter().map(|c| c.1).sum();
    let missed: u64 = counts.iter().map(|c| c.2).sum();
    if sum != updates {
        result.fail(format!("values sum to {sum}, {updates} updates"));
    }
    if missed > 0 {
        result.fail(format!("{missed} lookups missed their key"));
    }
    Ok(result.into())
}

/// One thread's loop: `op(key, is_update)` says whether the key was there.
fn operations(
    t: usize,
    keys: u64,
    update: u64,
    stopped: &dyn Fn() -> bool,
    mut op: impl FnMut(u64, bool) -> bool,
) -> Counts {
    let mut rng = Rng::new(thread_seed(t));
    let (mut ops, mut updates, mut missed) = (0, 0, 0);
    while !stopped() {
        let key = rng.below(keys);
        let write = rng.below(100) < update;
        missed += u64::from(!op(key, write));
        updates += u64::from(write);
        ops += 1;
    }
    (ops, updates, missed)
}

fn run_strata(
    threads: usize,
    keys: u64,
    update: u64,
    duration: Duration,
    result: &mut RunResult,
) -> (Vec<Counts>, u64) {
    let heap = Heap::from_env().expect("heap configuration");
    let mut main = heap.attach().expect("attach");
    let map = TxHashMap::<u64, u64>::new(&mut main, keys as usize).expect("heap limit");
    for batch in (0..keys).step_by(FILL_BATCH as usize) {
        main.atomically(|tx| {
            for k in batch..(batch + FILL_BATCH).min(keys) {
                map.insert(tx, k, 0);
            }
        })
        .expect("heap limit");
    }
    let counts = main.blocking(|| {
        timed(threads, duration, |t, stopped| {
            let mut th = heap.attach().expect("attach");
            operations(t, keys, update, stopped, |k, write| {
                th.atomically(|tx| match map.get(tx, &k) {
                    Some(v) if write => {
                        map.insert(tx, k, v + 1);
                        true
                    }
                    found => found.is_some(),
                })
                .expect("heap limit")
            })
        })
    });
    let sum = main
        .atomically(|tx| {
            let mut sum = 0;
            map.for_each(tx, |_, v| sum += v);
            sum
        })
        .expect("heap limit");
    result.set_gc(&main.gc_stats());
    drop(main);
    let (commits, aborts) = heap.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
    (counts, sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::run_checked;

    #[test]
    fn every_runtime_passes_its_check() {
        for runtime in RUNTIMES {
            run_checked(run, runtime, 2, "hashmap --keys 5000 --seconds 0.2");
        }
    }
}
