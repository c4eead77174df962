//! Pretenuring: a thread whose full nursery was mostly alive allocates
//! straight in the old space for a while (DESIGN, "Pretenuring"). What it
//! makes there must be whole, zeroed and collected like any old object, and
//! the nursery must come back.

mod common;

use common::{build, checksum, expected, node_type, zealous_heap};
use strata_gc::{Address, GcOptions, Heap, HeapConfig, TypeDesc};

fn heap(pretenure: bool) -> Heap {
    Heap::with_options(
        HeapConfig {
            nursery_bytes: 64 << 10,
            min_major_bytes: 1 << 20,
            pretenure,
            ..HeapConfig::default()
        },
        GcOptions {
            verify: true,
            ..GcOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn trees_bigger_than_the_nursery_are_pretenured_and_stay_whole() {
    for zealous in [false, true] {
        let heap = if zealous {
            zealous_heap(64 << 10, 256 << 20)
        } else {
            heap(true)
        };
        let mut m = heap.attach().unwrap();
        let node = node_type(&heap, &mut m);
        // Depth 13: 16,383 nodes of 32 bytes, eight nurseries. Parents are
        // made before their children, so a window that ends in the middle
        // of a tree leaves pretenured parents of young children.
        let mut kept = Vec::new();
        let mut next = 0;
        for round in 0..12u64 {
            let first = next;
            let tree = build(&mut m, node, 13, &mut next);
            assert_eq!(checksum(&m, tree), expected(13, first), "round {round}");
            if round % 3 == 0 {
                // SAFETY: `tree` is current.
                kept.push((unsafe { m.root(tree) }, first));
            }
        }
        m.collect_major();
        for &(slot, first) in &kept {
            assert_eq!(checksum(&m, m.rooted(slot)), expected(13, first));
        }
        m.flush_stats();
        let stats = m.stats();
        assert!(
            stats.pretenured_bytes > 1 << 20,
            "zealous {zealous}: {stats:?}"
        );
        assert!(stats.bytes_allocated >= stats.pretenured_bytes);
    }
}

#[test]
fn short_lived_objects_are_not_pretenured_and_off_means_off() {
    for pretenure in [true, false] {
        let heap = heap(pretenure);
        let mut m = heap.attach().unwrap();
        let node = node_type(&heap, &mut m);
        let mut next = 0;
        // Small trees, dead before the next: full nurseries are mostly dead.
        for _ in 0..2_000 {
            let first = next;
            let tree = build(&mut m, node, 4, &mut next);
            assert_eq!(checksum(&m, tree), expected(4, first));
        }
        // A big one: pretenured only when allowed.
        let first = next;
        let tree = build(&mut m, node, 14, &mut next);
        assert_eq!(checksum(&m, tree), expected(14, first));
        m.flush_stats();
        let pretenured = m.stats().pretenured_bytes;
        assert_eq!(pretenured > 0, pretenure, "pretenured {pretenured} bytes");
    }
}

#[test]
fn the_nursery_opens_again_after_the_window() {
    let heap = heap(true);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 0;
    let tree = build(&mut m, node, 13, &mut next);
    // SAFETY: `tree` is current.
    let slot = unsafe { m.root(tree) };
    // The window is at most eight nurseries: garbage beyond that comes from
    // the nursery again.
    let mut young = false;
    for _ in 0..(16 * (64 << 10) / 32) {
        let obj = m.alloc_fixed(node).unwrap();
        young |= m.is_young(obj);
    }
    assert!(
        young,
        "no allocation came from the nursery after the window"
    );
    assert_eq!(checksum(&m, m.rooted(slot)), expected(13, 0));
}

#[test]
fn pretenured_objects_come_zeroed_from_reused_slots() {
    let heap = heap(true);
    let mut m = heap.attach().unwrap();
    let id = heap
        .register_type(TypeDesc::fixed("cell", 16).with_ref_offsets(&[0]))
        .unwrap();
    let cell = m.fixed_type(id).unwrap();
    let fill = |m: &mut strata_gc::Mutator, n: usize, check_zeroed: bool| {
        // A chain, each cell pointing at the previous one (so all survive
        // while the head is held), its second word set to a non-zero mark.
        let mut head = Address::NULL;
        for _ in 0..n {
            // SAFETY: `head` is current (rooted across the allocation).
            unsafe { m.push_root(head) };
            let obj = m.alloc_fixed(cell).unwrap();
            head = m.pop_root().unwrap();
            // SAFETY: `obj` is a fresh cell; its body is two words.
            unsafe {
                let body = strata_gc::header::body(obj);
                if check_zeroed {
                    assert_eq!(body.as_ptr::<[u64; 2]>().read(), [0, 0], "dirty body");
                }
                m.write_ref(obj, 0, head);
                body.offset(8).as_ptr::<u64>().write(0xdead_beef);
            }
            head = obj;
        }
    };
    // Fill old pages with marked cells (pretenured or promoted), drop them,
    // reclaim them, then make cells in the same slots.
    fill(&mut m, 40_000, false);
    m.collect_major();
    fill(&mut m, 40_000, true);
    m.flush_stats();
    assert!(m.stats().pretenured_bytes > 0);
}

/// One node promoted now: its old-space address (the thread's run for its
/// size class is where promotion bumps).
fn promote_one(m: &mut strata_gc::Mutator, node: strata_gc::FixedType) -> usize {
    let obj = m.alloc_fixed(node).unwrap();
    // SAFETY: `obj` is a fresh young node, held by nothing else.
    unsafe { m.promote(obj) }.as_usize()
}

/// A blocking section with no major collection in it keeps the thread's
/// runs: nodes promoted before and after it are consecutive slots of one
/// run. One during which another thread ran a major collection drops them,
/// since that collection's sweep freed their unused slots.
#[test]
fn a_blocking_section_keeps_the_runs_unless_a_major_collection_ran() {
    let heap = heap(false);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let first = promote_one(&mut m, node);
    let second = promote_one(&mut m, node);
    let step = second - first;
    m.blocking(|| {});
    let third = promote_one(&mut m, node);
    assert_eq!(
        third - second,
        step,
        "the run survives a section with no collection"
    );
    m.blocking(|| {
        let other = heap.clone();
        std::thread::spawn(move || other.attach().unwrap().collect_major())
            .join()
            .unwrap();
    });
    let fourth = promote_one(&mut m, node);
    assert_ne!(
        fourth.wrapping_sub(third),
        step,
        "a run kept through a major collection hands out slots its sweep freed"
    );
}
