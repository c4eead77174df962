//! Parallel marking: a wide structure (an array of many small trees, so
//! the mark stack fills at once and markers hand chunks to each other) and
//! a deep one (a big binary tree, whose mark stack stays short) survive
//! major collections marked by several threads, with the verifier on; what
//! is dropped is reclaimed.

mod common;
use common::*;
use strata_gc::{GcOptions, Heap, HeapConfig, TypeDesc};

fn heap(gc_threads: usize, parallel_mark_always: bool) -> Heap {
    Heap::with_options(
        HeapConfig {
            nursery_bytes: 256 << 10,
            gc_threads,
            ..HeapConfig::default()
        },
        GcOptions {
            verify: true,
            major_every_minor: false,
            parallel_mark_always,
        },
    )
    .unwrap()
}

#[test]
fn a_wide_structure_survives_parallel_marking() {
    for always in [false, true] {
        let heap = heap(4, always);
        let mut m = heap.attach().unwrap();
        let node = node_type(&heap, &mut m);
        let list = heap
            .register_type(TypeDesc::array("list", 0, 8).with_element_refs())
            .unwrap();
        let n = 40_000;
        let array = m.alloc_array(list, n).unwrap();
        // SAFETY: `array` is current; the handle keeps it across allocations.
        let slot = unsafe { m.root(array) };
        let mut next = 0;
        for i in 0..n {
            let tree = build(&mut m, node, 2, &mut next);
            let array = m.rooted(slot);
            // SAFETY: element `i` of a live array of `n` references.
            unsafe { m.write_ref(array, 8 + 8 * i, tree) };
        }
        let expected: (u64, u64) = (next * (next - 1) / 2, next);
        let sum = |m: &strata_gc::Mutator| {
            let array = m.rooted(slot);
            (0..n).fold((0, 0), |(s, c), i| {
                // SAFETY: element `i` of the live array.
                let (ts, tc) = checksum(m, unsafe { m.read_ref(array, 8 + 8 * i) });
                (s + ts, c + tc)
            })
        };
        for _ in 0..3 {
            m.collect_major();
            assert_eq!(sum(&m), expected, "parallel_mark_always = {always}");
        }
        // Drop half the trees: the next collections reclaim them.
        let live_before = heap.stats().live_bytes_after_major;
        let array = m.rooted(slot);
        for i in (0..n).step_by(2) {
            // SAFETY: as above.
            unsafe { m.write_ref(array, 8 + 8 * i, strata_gc::Address::NULL) };
        }
        m.collect_major();
        let live_after = heap.stats().live_bytes_after_major;
        assert!(
            live_after < live_before * 3 / 4,
            "{live_after} live bytes after dropping half of {live_before}"
        );
    }
}

#[test]
fn a_deep_tree_is_marked_in_parallel() {
    let heap = heap(2, false);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 0;
    // 262,143 nodes: past the objects one marker scans before it shares,
    // with a mark stack of a few dozen.
    let tree = build(&mut m, node, 17, &mut next);
    // SAFETY: `tree` is current.
    let slot = unsafe { m.root(tree) };
    let before = heap.stats().parallel_majors;
    for _ in 0..3 {
        m.collect_major();
        assert_eq!(checksum(&m, m.rooted(slot)), expected(17, 0));
    }
    assert_eq!(
        heap.stats().parallel_majors - before,
        3,
        "a deep tree was marked by one thread"
    );
}
