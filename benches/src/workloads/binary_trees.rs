//! binary-trees (the Benchmarks Game shape): a stretch tree of depth D+1, a
//! long-lived tree of depth D, then for d = 4, 6, ..., D, 2^(D-d+4) trees of
//! depth d built and checked; with several threads the iterations of each
//! depth are split between them. ops = tree nodes allocated.

use super::{on_threads, Outcome};
use crate::cli::Args;
use crate::result::RunResult;
use crate::rss;
use serde_json::json;
use std::time::Instant;

pub const RUNTIMES: &[&str] = &["strata", "strata-c", "strata-raw", "box", "arena", "boehm"];

/// The plan: (depth, iterations) in order, after the stretch and long-lived trees.
pub fn plan(depth: u32) -> Vec<(u32, u64)> {
    (4..=depth)
        .step_by(2)
        .map(|d| (d, 1u64 << (depth - d + 4)))
        .collect()
}

/// Nodes of a complete tree of `depth`.
pub fn nodes(depth: u32) -> u64 {
    (1u64 << (depth + 1)) - 1
}

/// Nodes allocated by the whole workload.
pub fn expected_nodes(depth: u32) -> u64 {
    nodes(depth + 1) + nodes(depth) + plan(depth).iter().map(|&(d, n)| n * nodes(d)).sum::<u64>()
}

/// Splits `iterations` between `threads`.
fn share(iterations: u64, threads: usize, t: usize) -> u64 {
    iterations / threads as u64 + u64::from((t as u64) < iterations % threads as u64)
}

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let depth = args.number("depth", 16)? as u32;
    if !(4..=24).contains(&depth) {
        return Err(format!("--depth {depth}: between 4 and 24"));
    }
    if runtime == "boehm" {
        if let Some(note) = crate::ffi::boehm_missing() {
            return Ok(Outcome::Skipped(note.into()));
        }
    }
    let mut result = RunResult::new("binary-trees", runtime, threads, json!({ "depth": depth }));
    let sampler = rss::Sampler::start();
    let start = Instant::now();
    let counted = match runtime {
        "box" => boxed::run(depth, threads),
        "arena" => arena::run(depth, threads),
        "boehm" => boehm::run(depth, threads),
        "strata-raw" => strata_raw::run(depth, threads, &mut result),
        "strata-c" => strata_c::run(depth, threads, &mut result),
        _ => strata_tx::run(depth, threads, &mut result),
    };
    result.seconds = start.elapsed().as_secs_f64();
    let (peak, series) = sampler.finish();
    result.peak_rss_bytes = Some(peak as u64);
    result.rss_series = series;
    result.ops = counted;
    let expected = expected_nodes(depth);
    if counted != expected {
        result.fail(format!("tree checksum {counted} != {expected}"));
    }
    Ok(result.into())
}

/// Rust `Box` nodes.
mod boxed {
    use super::*;

    struct Node(Option<(Box<Node>, Box<Node>)>);

    fn make(d: u32) -> Box<Node> {
        Box::new(Node((d > 0).then(|| (make(d - 1), make(d - 1)))))
    }

    fn check(n: &Node) -> u64 {
        n.0.as_ref().map_or(1, |(l, r)| 1 + check(l) + check(r))
    }

    pub fn run(depth: u32, threads: usize) -> u64 {
        let mut total = check(&make(depth + 1));
        let long_lived = make(depth);
        for (d, iterations) in plan(depth) {
            total += on_threads(threads, |t| {
                (0..share(iterations, threads, t))
                    .map(|_| check(&make(d)))
                    .sum::<u64>()
            })
            .iter()
            .sum::<u64>();
        }
        total + check(&long_lived)
    }
}

/// bumpalo: the allocation floor (a bump pointer, freed in bulk).
mod arena {
    use super::*;
    use bumpalo::Bump;

    struct Node<'a>(Option<(&'a Node<'a>, &'a Node<'a>)>);

    fn make(bump: &Bump, d: u32) -> &Node<'_> {
        bump.alloc(Node(
            (d > 0).then(|| (make(bump, d - 1), make(bump, d - 1))),
        ))
    }

    fn check(n: &Node<'_>) -> u64 {
        n.0.map_or(1, |(l, r)| 1 + check(l) + check(r))
    }

    pub fn run(depth: u32, threads: usize) -> u64 {
        let mut total = {
            let bump = Bump::new();
            check(make(&bump, depth + 1))
        };
        let long_bump = Bump::new();
        let long_lived = make(&long_bump, depth);
        for (d, iterations) in plan(depth) {
            total += on_threads(threads, |t| {
                let mut bump = Bump::new();
                let mut sum = 0;
                for _ in 0..share(iterations, threads, t) {
                    sum += check(make(&bump, d));
                    bump.reset();
                }
                sum
            })
            .iter()
            .sum::<u64>();
        }
        total + check(long_lived)
    }
}

/// Boehm GC (conservative, non-moving), through the C code in `c/boehm.c`.
mod boehm {
    #[cfg(strata_boehm)]
    pub fn run(depth: u32, threads: usize) -> u64 {
        use super::*;
        use crate::ffi;
        let _session = ffi::boehm_start();
        // SAFETY: Boehm is initialised and this thread registered; the C functions allocate with
        // GC_MALLOC and only walk what they built.
        let mut total = unsafe { ffi::boehm_trees(depth as i32 + 1, 1) as u64 };
        // SAFETY: as above; the long-lived tree is kept in a C static.
        total += unsafe { ffi::boehm_long_lived(depth as i32) } as u64 - nodes(depth);
        for (d, iterations) in plan(depth) {
            total += on_threads(threads, |t| {
                // SAFETY: each thread registers with the collector before
                // allocating and unregisters after.
                unsafe {
                    ffi::boehm_register_thread();
                    let sum = ffi::boehm_trees(d as i32, share(iterations, threads, t) as i64);
                    ffi::boehm_unregister_thread();
                    sum as u64
                }
            })
            .iter()
            .sum::<u64>();
        }
        // SAFETY: as above.
        total + unsafe { ffi::boehm_check_long_lived() } as u64
    }

    #[cfg(not(strata_boehm))]
    pub fn run(_depth: u32, _threads: usize) -> u64 {
        unreachable!("skipped before running")
    }
}

/// Strata from C (`c/strata_trees.c`): one transaction per tree, as
/// [`strata_tx`], through `strata.h`. Each depth's workers attach for it
/// while the thread holding the long-lived tree waits in a blocking section.
mod strata_c {
    use super::*;
    use crate::ffi::{self, strata_ok, StrataCounts, StrataTrees};

    pub fn run(depth: u32, threads: usize, result: &mut RunResult) -> u64 {
        let mut trees: *mut StrataTrees = std::ptr::null_mut();
        // SAFETY: `trees` is writable; it is used as `c/strata_trees.c`
        // says (its own calls on this thread, `strata_trees_work` on
        // others) and freed once, at the end.
        strata_ok(
            unsafe { ffi::strata_trees_new(&mut trees) },
            "strata_trees_new",
        );
        let mut total = 0;
        // SAFETY: on the thread that made `trees`.
        strata_ok(
            unsafe { ffi::strata_trees_one(trees, depth as i32 + 1, &mut total) },
            "strata_trees_one",
        );
        // SAFETY: as above.
        strata_ok(
            unsafe { ffi::strata_trees_keep(trees, depth as i32) },
            "strata_trees_keep",
        );
        let shared = trees as usize;
        for (d, iterations) in plan(depth) {
            // SAFETY: as above; the thread touches no object until it
            // comes back.
            strata_ok(
                unsafe { ffi::strata_trees_wait(trees, 1) },
                "strata_trees_wait",
            );
            total += on_threads(threads, |t| {
                let mut sum = 0;
                // SAFETY: `trees` lives until `strata_trees_finish`, after
                // every worker has returned; each attaches its own thread.
                let status = unsafe {
                    ffi::strata_trees_work(
                        shared as *mut StrataTrees,
                        d as i32,
                        share(iterations, threads, t),
                        &mut sum,
                    )
                };
                strata_ok(status, "strata_trees_work");
                sum
            })
            .iter()
            .sum::<u64>();
            // SAFETY: as above.
            strata_ok(
                unsafe { ffi::strata_trees_wait(trees, 0) },
                "strata_trees_wait",
            );
        }
        let (mut long_lived, mut counts) = (0, StrataCounts::default());
        // SAFETY: on the thread that made `trees`, which nothing uses now.
        let status = unsafe { ffi::strata_trees_finish(trees, &mut long_lived, &mut counts) };
        strata_ok(status, "strata_trees_finish");
        counts.record(result);
        total + long_lived
    }
}

/// Strata's raw (non-transactional) allocation path: `strata-gc` directly.
mod strata_raw {
    use super::*;
    use strata_gc::{Address, FixedType, Heap, Mutator, TypeDesc};

    /// A node: a 16-byte header and two references (a size the host knows
    /// at compile time).
    const NODE_BYTES: usize = 32;

    fn make(m: &mut Mutator, ty: FixedType, d: u32) -> Address {
        if d == 0 {
            return m.alloc_fixed_sized(ty, NODE_BYTES).expect("heap limit");
        }
        let left = make(m, ty, d - 1);
        // SAFETY: `left` is current; the shadow stack keeps it across the
        // allocations below.
        unsafe { m.push_root(left) };
        let right = make(m, ty, d - 1);
        // SAFETY: as above.
        unsafe { m.push_root(right) };
        let node = m.alloc_fixed_sized(ty, NODE_BYTES).expect("heap limit");
        let right = m.pop_root().expect("pushed");
        let left = m.pop_root().expect("pushed");
        // SAFETY: `node` is fresh; offsets 0 and 8 are its reference slots.
        unsafe {
            m.write_ref(node, 0, left);
            m.write_ref(node, 8, right);
        }
        node
    }

    fn check(m: &Mutator, n: Address) -> u64 {
        // SAFETY: `n` is a live node; nothing allocates while we walk.
        let left = unsafe { m.read_ref(n, 0) };
        if left.is_null() {
            1
        } else {
            // SAFETY: as above.
            1 + check(m, left) + check(m, unsafe { m.read_ref(n, 8) })
        }
    }

    pub fn run(depth: u32, threads: usize, result: &mut RunResult) -> u64 {
        let heap = Heap::from_env().expect("heap configuration");
        let id = heap
            .register_type(TypeDesc::fixed("node", 16).with_ref_offsets(&[0, 8]))
            .expect("valid type");
        let mut m = heap.attach().expect("attach");
        let ty = m.fixed_type(id).expect("registered");
        let stretch = make(&mut m, ty, depth + 1);
        let mut total = check(&m, stretch);
        let long_lived = make(&mut m, ty, depth);
        // SAFETY: `long_lived` is current.
        let slot = unsafe { m.root(long_lived) };
        for (d, iterations) in plan(depth) {
            let heap = &heap;
            total += m
                .blocking(|| {
                    on_threads(threads, |t| {
                        let mut m = heap.attach().expect("attach");
                        (0..share(iterations, threads, t))
                            .map(|_| {
                                let tree = make(&mut m, ty, d);
                                check(&m, tree)
                            })
                            .sum::<u64>()
                    })
                })
                .iter()
                .sum::<u64>();
        }
        total += check(&m, m.rooted(slot));
        result.set_gc(&m.stats());
        total
    }
}

/// Strata with one transaction per tree (the path an interpreter uses).
mod strata_tx {
    use super::*;
    use crate::workloads::tx_tree::{count as check, make};
    use strata::Heap;

    pub fn run(depth: u32, threads: usize, result: &mut RunResult) -> u64 {
        let heap = Heap::from_env().expect("heap configuration");
        let mut main = heap.attach().expect("attach");
        let mut total = main
            .atomically(|tx| {
                let tree = make(tx, depth + 1);
                check(tx, tree)
            })
            .expect("heap limit");
        let long_lived = main
            .atomically(|tx| {
                let tree = make(tx, depth);
                tx.root(tree)
            })
            .expect("heap limit");
        for (d, iterations) in plan(depth) {
            let heap = &heap;
            total += main
                .blocking(|| {
                    on_threads(threads, |t| {
                        let mut th = heap.attach().expect("attach");
                        (0..share(iterations, threads, t))
                            .map(|_| {
                                th.atomically(|tx| {
                                    let tree = make(tx, d);
                                    check(tx, tree)
                                })
                                .expect("heap limit")
                            })
                            .sum::<u64>()
                    })
                })
                .iter()
                .sum::<u64>();
        }
        total += main
            .atomically(|tx| {
                let tree = tx.get_root(&long_lived);
                check(tx, tree)
            })
            .expect("heap limit");
        drop(long_lived);
        result.set_gc(&main.gc_stats());
        drop(main);
        let (commits, aborts) = heap.tx_counts();
        result.commits = Some(commits);
        result.aborts = Some(aborts);
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_passes_its_check_at_a_small_depth() {
        for runtime in RUNTIMES {
            let args = crate::cli::Args::parse(
                ["binary-trees", "--depth", "6"]
                    .iter()
                    .map(|s| s.to_string()),
            )
            .unwrap();
            for threads in [1, 2] {
                match run(runtime, threads, &args).unwrap() {
                    Outcome::Done(r) => assert_eq!(r.check, "ok", "{runtime} x{threads}"),
                    Outcome::Skipped(note) => assert!(note.contains("boehm"), "{note}"),
                }
            }
        }
    }

    #[test]
    fn the_expected_count_follows_the_plan() {
        // depth 4: stretch 5 (63) + long-lived 4 (31) + 16 trees of 31.
        assert_eq!(expected_nodes(4), 63 + 31 + 16 * 31);
    }
}
