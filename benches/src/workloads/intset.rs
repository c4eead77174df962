//! intset (the classic STM set benchmark): a set of keys in 0..R, filled
//! with R/2 random keys; each operation is, with probability P%, an update
//! (alternately insert and remove of a random key), else a lookup. The check:
//! the set's size equals a recount and equals the initial size plus
//! successful inserts minus successful removes. ops = operations.
//!
//! Structures: `list` (one sorted linked list), `hash` (R/8 buckets of sorted
//! lists), `skiplist` and `rbtree` (`ordered.rs`: one algorithm for every
//! transactional runtime, libitm's in C). `rwlock` puts std structures behind
//! one lock: `HashSet`, a sorted `Vec`, and `BTreeSet` for both ordered ones.

use super::bank::{timed, timed_c};
use super::intset_ordered;
use super::ordered_runtimes::Shape;
use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use crate::rng::{thread_seed, Rng};
use crate::rss;
use serde_json::json;
use std::time::{Duration, Instant};

pub const RUNTIMES: &[&str] = &["strata", "libitm", "libitm-stm", "stm-core", "rwlock"];

/// What one thread did: operations and inserts minus removes.
pub struct Count {
    pub ops: u64,
    pub delta: i64,
}

/// One thread's operation loop, shared by the Rust runtimes.
pub fn drive(
    t: usize,
    stopped: &dyn Fn() -> bool,
    range: u64,
    update: u64,
    mut insert: impl FnMut(i64) -> bool,
    mut remove: impl FnMut(i64) -> bool,
    mut contains: impl FnMut(i64) -> bool,
) -> Count {
    let mut rng = Rng::new(thread_seed(t));
    let (mut ops, mut delta, mut insert_next) = (0u64, 0i64, true);
    while !stopped() {
        for _ in 0..64 {
            ops += 1;
            let roll = rng.below(100);
            let key = rng.below(range) as i64;
            if roll < update {
                if insert_next {
                    delta += i64::from(insert(key));
                } else {
                    delta -= i64::from(remove(key));
                }
                insert_next = !insert_next;
            } else {
                std::hint::black_box(contains(key));
            }
        }
    }
    Count { ops, delta }
}

/// The keys every runtime starts with.
fn initial_keys(range: u64) -> Vec<i64> {
    let mut rng = Rng::new(0x5eed);
    (0..range / 2).map(|_| rng.below(range) as i64).collect()
}

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let structure = args.text("structure", "hash").to_owned();
    let range = args.number("range", 4096)?;
    let update = args.number("update", 20)?;
    if !["rbtree", "skiplist", "hash", "list"].contains(&structure.as_str()) {
        return Err(format!(
            "--structure {structure:?}: rbtree, skiplist, hash or list"
        ));
    }
    if range < 2 || update > 100 {
        return Err("--range at least 2, --update at most 100".into());
    }
    let buckets = if structure == "hash" {
        (range / 8).max(1)
    } else {
        1
    };
    let mut result = RunResult::new(
        "intset",
        runtime,
        threads,
        json!({ "structure": structure, "range": range, "update": update }),
    );
    let duration = Duration::from_secs_f64(args.seconds);
    let sampler = rss::Sampler::start();
    let start = Instant::now();
    super::take_window();
    let keys = initial_keys(range);
    let load = Load {
        threads,
        duration,
        range,
        update,
    };
    let ordered = match structure.as_str() {
        "skiplist" => Some(Shape::Skip),
        "rbtree" => Some(Shape::Rb),
        _ => None,
    };
    let (initial, counts, size, recount) = match (runtime, ordered) {
        ("rwlock", _) => rwlock(&structure, &keys, &load),
        ("stm-core", Some(shape)) => intset_ordered::stm_core(shape, &keys, &load),
        ("libitm", Some(shape)) => intset_ordered::libitm(shape, &keys, &load),
        (_, Some(shape)) => intset_ordered::strata(shape, &keys, &load, &mut result),
        ("stm-core", None) => stm_core_set::run(buckets, &keys, &load),
        ("libitm", None) => libitm(buckets, &keys, &load),
        (_, None) => strata_set::run(buckets, &keys, &load, &mut result),
    };
    result.seconds = super::take_window().unwrap_or_else(|| start.elapsed().as_secs_f64());
    result.peak_rss_bytes = Some(sampler.finish().0 as u64);
    result.ops = counts.iter().map(|c| c.ops).sum();
    let delta: i64 = counts.iter().map(|c| c.delta).sum();
    if size != recount {
        result.fail(format!("size {size} != recount {recount}"));
    }
    if initial as i64 + delta != recount as i64 {
        result.fail(format!(
            "initial {initial} + changes {delta} != recount {recount}"
        ));
    }
    Ok(result.into())
}

/// How hard every runtime is driven.
pub struct Load {
    pub threads: usize,
    pub duration: Duration,
    pub range: u64,
    pub update: u64,
}

/// Initial size, per-thread counts, final size and recount.
pub type SetOutcome = (usize, Vec<Count>, usize, usize);

fn rwlock(structure: &str, keys: &[i64], load: &Load) -> SetOutcome {
    use std::collections::{BTreeSet, HashSet};
    use std::sync::RwLock;
    macro_rules! bench_set {
        ($set:expr, $insert:expr, $remove:expr, $contains:expr, $len:expr) => {{
            let set = RwLock::new($set);
            for &k in keys {
                $insert(&mut *set.write().unwrap(), k);
            }
            let initial = $len(&*set.read().unwrap());
            let counts = timed(load.threads, load.duration, |t, stopped| {
                drive(
                    t,
                    stopped,
                    load.range,
                    load.update,
                    |k| $insert(&mut *set.write().unwrap(), k),
                    |k| $remove(&mut *set.write().unwrap(), k),
                    |k| $contains(&*set.read().unwrap(), k),
                )
            });
            let size = $len(&*set.read().unwrap());
            (initial, counts, size, size)
        }};
    }
    match structure {
        "hash" => bench_set!(
            HashSet::<i64>::new(),
            |s: &mut HashSet<i64>, k| s.insert(k),
            |s: &mut HashSet<i64>, k| s.remove(&k),
            |s: &HashSet<i64>, k| s.contains(&k),
            |s: &HashSet<i64>| s.len()
        ),
        "list" => bench_set!(
            Vec::<i64>::new(),
            |s: &mut Vec<i64>, k| match s.binary_search(&k) {
                Ok(_) => false,
                Err(i) => {
                    s.insert(i, k);
                    true
                }
            },
            |s: &mut Vec<i64>, k| match s.binary_search(&k) {
                Ok(i) => {
                    s.remove(i);
                    true
                }
                Err(_) => false,
            },
            |s: &Vec<i64>, k| s.binary_search(&k).is_ok(),
            |s: &Vec<i64>| s.len()
        ),
        _ => bench_set!(
            BTreeSet::<i64>::new(),
            |s: &mut BTreeSet<i64>, k| s.insert(k),
            |s: &mut BTreeSet<i64>, k| s.remove(&k),
            |s: &BTreeSet<i64>, k| s.contains(&k),
            |s: &BTreeSet<i64>| s.len()
        ),
    }
}

fn libitm(buckets: u64, keys: &[i64], load: &Load) -> SetOutcome {
    use crate::ffi;
    // SAFETY: the set is made, used by the C functions only, and freed here.
    let set = unsafe { ffi::itm_set_new(buckets as usize) };
    let (initial, counts) = drive_libitm(set, ffi::itm_set_op, keys, load);
    // SAFETY: no thread uses the set any more.
    let size = unsafe { ffi::itm_set_size(set) };
    // SAFETY: as above.
    unsafe { ffi::itm_set_free(set) };
    (initial, counts, size, size)
}

/// Fills a libitm set with `keys` and runs the shared C operation loop on
/// it; returns the initial size and each thread's counts.
pub fn drive_libitm(
    set: *mut std::ffi::c_void,
    op: crate::ffi::SetOp,
    keys: &[i64],
    load: &Load,
) -> (usize, Vec<Count>) {
    let set_addr = set as usize;
    let mut initial = 0usize;
    for &k in keys {
        // SAFETY: `set` is a live set of the kind `op` works on; each
        // operation is a transaction in C.
        initial += unsafe { op(set, 0, k) } as usize;
    }
    let counts = timed_c(load.threads, load.duration, |t, stop| {
        let (mut ops, mut delta) = (0u64, 0i64);
        // SAFETY: the set outlives the threads; every shared access in C is
        // transactional; `stop` is read as a volatile int.
        unsafe {
            crate::ffi::itm_intset_drive(
                set_addr as *mut _,
                op,
                load.range as i64,
                load.update as u32,
                thread_seed(t),
                stop.as_ptr(),
                &mut ops,
                &mut delta,
            )
        };
        Count { ops, delta }
    });
    (initial, counts)
}

/// Runs the operation loop on Strata threads (the main thread blocked
/// meanwhile); `op(thread, kind, key)` is one transaction.
pub fn drive_strata(
    heap: &strata::Heap,
    main: &mut strata::Thread,
    op: &(impl Fn(&mut strata::Thread, u8, i64) -> bool + Sync),
    load: &Load,
) -> Vec<Count> {
    main.blocking(|| {
        timed(load.threads, load.duration, |t, stopped| {
            let th = std::cell::RefCell::new(heap.attach().expect("attach"));
            drive(
                t,
                stopped,
                load.range,
                load.update,
                |k| op(&mut th.borrow_mut(), 0, k),
                |k| op(&mut th.borrow_mut(), 1, k),
                |k| op(&mut th.borrow_mut(), 2, k),
            )
        })
    })
}

/// Records Strata's collector and transaction counts once every thread
/// has detached.
pub fn finish_strata(result: &mut RunResult, mut main: strata::Thread, heap: &strata::Heap) {
    result.set_gc(&main.gc_stats());
    drop(main);
    let (commits, aborts) = heap.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
}

mod stm_core_set {
    use super::*;
    use ::stm_core::{atomically, StmResult, TVar, Transaction};
    use std::sync::Arc;

    type Link = TVar<Option<Arc<Node>>>;

    struct Node {
        key: i64,
        next: Link,
    }

    /// Finds the link where `key` is or belongs in a sorted list.
    fn seek(tx: &mut Transaction, head: &Link, key: i64) -> StmResult<(Link, Option<Arc<Node>>)> {
        let mut link = head.clone();
        loop {
            let current = link.read(tx)?;
            match current {
                Some(ref node) if node.key < key => link = node.next.clone(),
                _ => return Ok((link, current)),
            }
        }
    }

    pub fn run(buckets: u64, keys: &[i64], load: &Load) -> SetOutcome {
        let table: Vec<Link> = (0..buckets).map(|_| TVar::new(None)).collect();
        let bucket = |k: i64| &table[(k as u64 % buckets) as usize];
        let insert = |k: i64| {
            atomically(|tx| {
                let (link, current) = seek(tx, bucket(k), k)?;
                if current.as_ref().is_some_and(|n| n.key == k) {
                    return Ok(false);
                }
                link.write(
                    tx,
                    Some(Arc::new(Node {
                        key: k,
                        next: TVar::new(current),
                    })),
                )?;
                Ok(true)
            })
        };
        let remove = |k: i64| {
            atomically(|tx| {
                let (link, current) = seek(tx, bucket(k), k)?;
                match current {
                    Some(n) if n.key == k => {
                        let next = n.next.read(tx)?;
                        link.write(tx, next)?;
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            })
        };
        let contains =
            |k: i64| atomically(|tx| Ok(seek(tx, bucket(k), k)?.1.is_some_and(|n| n.key == k)));
        let initial = keys.iter().filter(|&&k| insert(k)).count();
        let counts = timed(load.threads, load.duration, |t, stopped| {
            drive(
                t,
                stopped,
                load.range,
                load.update,
                insert,
                remove,
                contains,
            )
        });
        let size = table
            .iter()
            .map(|head| {
                let mut n = 0;
                let mut cur = head.read_atomic();
                while let Some(node) = cur {
                    n += 1;
                    cur = node.next.read_atomic();
                }
                n
            })
            .sum();
        (initial, counts, size, size)
    }
}

mod strata_set {
    use super::*;
    use strata::{Heap, Obj, Object, RefArray, Tx};

    #[derive(Clone, Copy)]
    struct Node {
        key: i64,
    }
    impl Object for Node {
        const REFS: usize = 1;
    }

    /// The node before where `key` is or belongs (bucket heads are
    /// sentinels with key i64::MIN), and the node after it.
    fn seek<'tx>(
        tx: &mut Tx<'tx>,
        table: Obj<'tx, RefArray>,
        buckets: u64,
        key: i64,
    ) -> (Obj<'tx, Node>, Option<Obj<'tx, Node>>) {
        let mut prev = tx
            .get::<Node>(table, (key as u64 % buckets) as usize)
            .expect("sentinel");
        loop {
            let next = tx.get_ref::<Node, Node>(prev, 0);
            match next {
                Some(n) if tx.read(n).key < key => prev = n,
                _ => return (prev, next),
            }
        }
    }

    pub fn run(buckets: u64, keys: &[i64], load: &Load, result: &mut RunResult) -> SetOutcome {
        let heap = Heap::from_env().expect("heap configuration");
        let mut main = heap.attach().expect("attach");
        let table = main
            .atomically(|tx| {
                let table = tx.alloc_array(buckets as usize);
                for b in 0..buckets as usize {
                    let sentinel = tx.alloc(Node { key: i64::MIN });
                    tx.set(table, b, Some(sentinel));
                }
                tx.root(table)
            })
            .expect("heap limit");
        let table = main.global(&table);
        let op = |th: &mut strata::Thread, kind: u8, k: i64| -> bool {
            th.atomically(|tx| {
                let t = tx.get_global(&table);
                let (prev, next) = seek(tx, t, buckets, k);
                let found = next.is_some_and(|n| tx.read(n).key == k);
                match (kind, found) {
                    (0, false) => {
                        let node = tx.alloc(Node { key: k });
                        tx.set_ref(node, 0, next);
                        tx.set_ref(prev, 0, Some(node));
                        true
                    }
                    (1, true) => {
                        let after = tx.get_ref::<Node, Node>(next.expect("found"), 0);
                        tx.set_ref(prev, 0, after);
                        true
                    }
                    (2, found) => found,
                    _ => false,
                }
            })
            .expect("heap limit")
        };
        let initial = keys.iter().filter(|&&k| op(&mut main, 0, k)).count();
        let counts = drive_strata(&heap, &mut main, &op, load);
        let (size, recount) = main
            .atomically(|tx| {
                let t = tx.get_global(&table);
                let mut n = 0usize;
                for b in 0..buckets as usize {
                    let mut cur = tx.get::<Node>(t, b).expect("sentinel");
                    while let Some(next) = tx.get_ref::<Node, Node>(cur, 0) {
                        n += 1;
                        cur = next;
                    }
                }
                (n, n)
            })
            .expect("heap limit");
        finish_strata(result, main, &heap);
        (initial, counts, size, recount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::in_process;

    #[test]
    fn every_runtime_keeps_its_set_consistent() {
        for structure in ["list", "hash", "skiplist", "rbtree"] {
            for runtime in in_process(RUNTIMES) {
                let args = crate::cli::Args::parse(
                    [
                        "intset",
                        "--structure",
                        structure,
                        "--range",
                        "64",
                        "--update",
                        "50",
                        "--seconds",
                        "0.1",
                    ]
                    .iter()
                    .map(|s| s.to_string()),
                )
                .unwrap();
                match run(runtime, 2, &args).unwrap() {
                    Outcome::Done(r) => assert_eq!(r.check, "ok", "{runtime} {structure}"),
                    Outcome::Skipped(note) => panic!("{note}"),
                }
            }
        }
    }
}
