//! Trees built and dropped for thousands of cycles with a 64 KiB nursery, a
//! major collection after every minor one and the verifier on; every
//! surviving tree's checksum is verified.

mod common;
use common::*;

#[test]
fn trees_survive_thousands_of_collections() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 0;
    let first = next;
    let long_lived = build(&mut m, node, 10, &mut next);
    let long_slot = {
        // SAFETY: `long_lived` is the current address of a live tree.
        unsafe { m.root(long_lived) }
    };
    let mut kept = Vec::new();
    for cycle in 0..3000u32 {
        let start = next;
        let depth = 2 + cycle % 5;
        let tree = build(&mut m, node, depth, &mut next);
        assert_eq!(checksum(&m, tree), expected(depth, start), "cycle {cycle}");
        if cycle % 100 == 0 {
            // SAFETY: `tree` is current: nothing allocated since it was built.
            kept.push((unsafe { m.root(tree) }, depth, start));
        }
    }
    let stats = heap.stats();
    assert!(stats.minor_collections > 50, "{stats:?}");
    assert!(stats.major_collections > 50, "{stats:?}");
    m.collect_major();
    for (slot, depth, start) in kept {
        assert_eq!(checksum(&m, m.rooted(slot)), expected(depth, start));
    }
    assert_eq!(checksum(&m, m.rooted(long_slot)), expected(10, first));
}

#[test]
fn unreachable_memory_is_reused() {
    let heap = zealous_heap(256 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 0;
    // Far more garbage than the heap limit: only reuse makes this finish.
    for _ in 0..400 {
        let tree = build(&mut m, node, 12, &mut next);
        // SAFETY: keep it across one collection, then drop it.
        unsafe { m.push_root(tree) };
        m.collect_minor();
        m.pop_root();
    }
    assert!(heap.stats().bytes_allocated > 64 << 20);
    assert!(
        heap.old_bytes_in_use() < 8 << 20,
        "{}",
        heap.old_bytes_in_use()
    );
}
