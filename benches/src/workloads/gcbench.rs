//! GCBench (Hans Boehm's shape): a stretch tree of depth 18, a long-lived
//! tree of depth 16 and an array of 500,000 doubles kept alive, then for
//! d = 4, 6, ..., 16, `2 * nodes(16) / nodes(d)` iterations each building a
//! tree top-down (parent first, children filled in) and one bottom-up.
//! `--max-depth` shrinks every depth by the same amount. ops = nodes.

use super::Outcome;
use crate::cli::Args;
use crate::result::RunResult;
use crate::rss;
use crate::workloads::binary_trees::nodes;
use serde_json::json;
use std::time::Instant;

pub const RUNTIMES: &[&str] = &["strata", "strata-raw", "box", "boehm"];

const ARRAY_LEN: usize = 500_000;

/// (stretch, long-lived, [(depth, iterations)]).
pub fn plan(max_depth: u32) -> (u32, u32, Vec<(u32, u64)>) {
    let steps = (4..=max_depth)
        .step_by(2)
        .map(|d| (d, 2 * nodes(max_depth) / nodes(d)))
        .collect();
    (max_depth + 2, max_depth, steps)
}

fn expected(max_depth: u32) -> u64 {
    let (stretch, long, steps) = plan(max_depth);
    nodes(stretch) + nodes(long) + steps.iter().map(|&(d, n)| 2 * n * nodes(d)).sum::<u64>()
}

fn array_sum() -> f64 {
    (0..ARRAY_LEN).map(|i| 1.0 / (i + 1) as f64).sum()
}

pub fn run(runtime: &str, threads: usize, args: &Args) -> Result<Outcome, String> {
    let max_depth = args.number("max-depth", 16)? as u32;
    if !(4..=20).contains(&max_depth) {
        return Err("--max-depth: between 4 and 20".into());
    }
    if threads != 1 {
        return Ok(Outcome::Skipped(format!(
            "gcbench {runtime} x{threads}: skipped, GCBench is single-threaded"
        )));
    }
    if runtime == "boehm" {
        if let Some(note) = crate::ffi::boehm_missing() {
            return Ok(Outcome::Skipped(note.into()));
        }
    }
    let mut result = RunResult::new("gcbench", runtime, 1, json!({ "max_depth": max_depth }));
    let sampler = rss::Sampler::start();
    let start = Instant::now();
    let (counted, sum) = match runtime {
        "box" => boxed(max_depth),
        "boehm" => boehm(max_depth),
        "strata-raw" => strata_raw(max_depth, &mut result),
        _ => strata_tx(max_depth, &mut result),
    };
    result.seconds = start.elapsed().as_secs_f64();
    let (peak, series) = sampler.finish();
    result.peak_rss_bytes = Some(peak as u64);
    result.rss_series = series;
    result.ops = counted;
    if counted != expected(max_depth) {
        result.fail(format!("node count {counted} != {}", expected(max_depth)));
    }
    if (sum - array_sum()).abs() > 1e-9 {
        result.fail(format!("array sum {sum} != {}", array_sum()));
    }
    Ok(result.into())
}

fn boxed(max_depth: u32) -> (u64, f64) {
    #[derive(Default)]
    struct Node {
        left: Option<Box<Node>>,
        right: Option<Box<Node>>,
    }
    fn populate(d: u32, n: &mut Node) {
        if d > 0 {
            let mut l = Box::default();
            let mut r = Box::default();
            populate(d - 1, &mut l);
            populate(d - 1, &mut r);
            n.left = Some(l);
            n.right = Some(r);
        }
    }
    fn make(d: u32) -> Box<Node> {
        let mut n = Box::<Node>::default();
        if d > 0 {
            n.left = Some(make(d - 1));
            n.right = Some(make(d - 1));
        }
        n
    }
    fn check(n: &Node) -> u64 {
        1 + n.left.as_deref().map_or(0, check) + n.right.as_deref().map_or(0, check)
    }
    let (stretch, long, steps) = plan(max_depth);
    let mut total = check(&make(stretch));
    let long_lived = make(long);
    let array: Vec<f64> = (0..ARRAY_LEN).map(|i| 1.0 / (i + 1) as f64).collect();
    for (d, iterations) in steps {
        for _ in 0..iterations {
            let mut top_down = Box::<Node>::default();
            populate(d, &mut top_down);
            total += check(&top_down) + check(&make(d));
        }
    }
    (total + check(&long_lived), array.iter().sum())
}

#[cfg(strata_boehm)]
fn boehm(max_depth: u32) -> (u64, f64) {
    use crate::ffi;
    let _session = ffi::boehm_start();
    let (stretch, long, steps) = plan(max_depth);
    // SAFETY: Boehm is initialised and this thread registered; the C code walks only what it built.
    unsafe {
        let mut total = ffi::boehm_trees(stretch as i32, 1) as u64;
        let long_nodes = ffi::boehm_long_lived(long as i32) as u64;
        let sum = ffi::boehm_gcbench_array(ARRAY_LEN as i64);
        for (d, iterations) in steps {
            total += ffi::boehm_gcbench_depth(d as i32, iterations as i64) as u64;
        }
        total += ffi::boehm_check_long_lived() as u64;
        debug_assert_eq!(long_nodes, nodes(long));
        (total, sum)
    }
}

#[cfg(not(strata_boehm))]
fn boehm(_max_depth: u32) -> (u64, f64) {
    unreachable!("skipped before running")
}

fn strata_raw(max_depth: u32, result: &mut RunResult) -> (u64, f64) {
    use strata_gc::{Address, FixedType, Heap, Mutator, TypeDesc};
    fn make(m: &mut Mutator, ty: FixedType, d: u32) -> Address {
        // A node is a 16-byte header and two references.
        let node = m.alloc_fixed_sized(ty, 32).expect("heap limit");
        if d == 0 {
            return node;
        }
        // SAFETY: each reference is rooted on the shadow stack across
        // allocations and read back current.
        unsafe {
            m.push_root(node);
            let left = make(m, ty, d - 1);
            m.write_ref(m.peek_root(0).expect("pushed"), 0, left);
            let right = make(m, ty, d - 1);
            let node = m.pop_root().expect("pushed");
            m.write_ref(node, 8, right);
            node
        }
    }
    fn check(m: &Mutator, n: Address) -> u64 {
        if n.is_null() {
            return 0;
        }
        // SAFETY: `n` is a live node; nothing allocates while we walk.
        unsafe { 1 + check(m, m.read_ref(n, 0)) + check(m, m.read_ref(n, 8)) }
    }
    let heap = Heap::from_env().expect("heap configuration");
    let node_id = heap
        .register_type(TypeDesc::fixed("node", 16).with_ref_offsets(&[0, 8]))
        .expect("valid");
    let doubles = heap
        .register_type(TypeDesc::array("doubles", 0, 8))
        .expect("valid");
    let mut m = heap.attach().expect("attach");
    let ty = m.fixed_type(node_id).expect("registered");
    let (stretch, long, steps) = plan(max_depth);
    let tree = make(&mut m, ty, stretch);
    let mut total = check(&m, tree);
    let long_lived = make(&mut m, ty, long);
    // SAFETY: current.
    let long_slot = unsafe { m.root(long_lived) };
    let array = m.alloc_array(doubles, ARRAY_LEN).expect("heap limit");
    // SAFETY: a fresh array of ARRAY_LEN doubles after its length word.
    let array_slot = unsafe {
        let data = strata_gc::header::body(array).offset(8).as_ptr::<f64>();
        for i in 0..ARRAY_LEN {
            data.add(i).write(1.0 / (i + 1) as f64);
        }
        m.root(array)
    };
    // Top-down here is make() itself: parent allocated before children.
    for (d, iterations) in steps {
        for _ in 0..iterations {
            let top_down = make(&mut m, ty, d);
            total += check(&m, top_down);
            let again = make(&mut m, ty, d);
            total += check(&m, again);
        }
    }
    total += check(&m, m.rooted(long_slot));
    let array = m.rooted(array_slot);
    // SAFETY: the rooted array is live.
    let sum = unsafe {
        let data = strata_gc::header::body(array).offset(8).as_ptr::<f64>();
        (0..ARRAY_LEN).map(|i| data.add(i).read()).sum()
    };
    result.set_gc(&m.stats());
    (total, sum)
}

fn strata_tx(max_depth: u32, result: &mut RunResult) -> (u64, f64) {
    use super::tx_tree::{count as check, make, populate, Node};
    use strata::Heap;
    let heap = Heap::from_env().expect("heap configuration");
    let mut th = heap.attach().expect("attach");
    let (stretch, long, steps) = plan(max_depth);
    let mut total = th
        .atomically(|tx| {
            let t = make(tx, stretch);
            check(tx, t)
        })
        .expect("heap limit");
    let long_lived = th
        .atomically(|tx| {
            let t = make(tx, long);
            tx.root(t)
        })
        .expect("heap limit");
    let array = th
        .atomically(|tx| {
            let a = tx.alloc_data::<f64>(ARRAY_LEN);
            tx.write_data(a, |doubles| {
                for (i, d) in doubles.iter_mut().enumerate() {
                    *d = 1.0 / (i + 1) as f64;
                }
            });
            tx.root(a)
        })
        .expect("heap limit");
    for (d, iterations) in steps {
        for _ in 0..iterations {
            total += th
                .atomically(|tx| {
                    // Each tree is counted and dropped before the next is
                    // built, as in the other runtimes: a handle scope ends
                    // the top-down tree's handle.
                    let top_down = tx.scope(|tx, _| {
                        let top_down = tx.alloc(Node);
                        populate(tx, d, top_down);
                        check(tx, top_down)
                    });
                    let bottom_up = make(tx, d);
                    top_down + check(tx, bottom_up)
                })
                .expect("heap limit");
        }
    }
    let (long_nodes, sum) = th
        .atomically(|tx| {
            let t = tx.get_root(&long_lived);
            let a = tx.get_root(&array);
            let sum: f64 = tx.read_data(a, |doubles| doubles.iter().sum());
            (check(tx, t), sum)
        })
        .expect("heap limit");
    result.set_gc(&th.gc_stats());
    let (commits, aborts) = th.tx_counts();
    result.commits = Some(commits);
    result.aborts = Some(aborts);
    (total + long_nodes, sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runtime_passes_its_check_when_small() {
        let args = crate::cli::Args::parse(
            ["gcbench", "--max-depth", "6"]
                .iter()
                .map(|s| s.to_string()),
        )
        .unwrap();
        for runtime in RUNTIMES {
            match run(runtime, 1, &args).unwrap() {
                Outcome::Done(r) => assert_eq!(r.check, "ok", "{runtime}"),
                Outcome::Skipped(note) => assert!(note.contains("boehm"), "{note}"),
            }
        }
    }
}
