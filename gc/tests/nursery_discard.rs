//! A minor collection that no root can reach the nursery from resets it
//! unscanned (`DESIGN.md`, "Minor collection"). With the verifier on, the
//! discarded nursery is poisoned, so a live object the test missed would
//! read as garbage here: these tests hold young trees only through the
//! roots the test must not miss.

mod common;
use common::*;

#[test]
fn a_tree_held_only_by_a_handle_made_since_the_last_collection_survives() {
    let heap = zealous_heap(256 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 0;
    let tree = build(&mut m, node, 6, &mut next);
    // SAFETY: `tree` is the current address of a live tree.
    let slot = unsafe { m.root(tree) };
    m.collect_minor();
    assert!(!m.is_young(m.rooted(slot)));
    assert_eq!(checksum(&m, m.rooted(slot)), expected(6, 0));
}

#[test]
fn a_tree_held_only_by_a_handle_set_since_the_last_collection_survives() {
    let heap = zealous_heap(256 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 0;
    let first = build(&mut m, node, 2, &mut next);
    // SAFETY: `first` is current.
    let slot = unsafe { m.root(first) };
    m.collect_minor();
    let start = next;
    let second = build(&mut m, node, 6, &mut next);
    // SAFETY: `second` is current.
    unsafe { m.set_rooted(slot, second) };
    m.collect_minor();
    assert_eq!(checksum(&m, m.rooted(slot)), expected(6, start));
}

#[test]
fn garbage_alone_is_discarded_without_promotion() {
    let heap = zealous_heap(256 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 0;
    let kept = build(&mut m, node, 4, &mut next);
    // SAFETY: `kept` is current.
    let slot = unsafe { m.root(kept) };
    m.collect_minor();
    let before = m.stats();
    for _ in 0..10 {
        build(&mut m, node, 8, &mut next);
        m.collect_minor();
    }
    let after = m.stats();
    assert_eq!(after.promoted_bytes, before.promoted_bytes);
    assert_eq!(after.minor_collections, before.minor_collections + 10);
    assert_eq!(checksum(&m, m.rooted(slot)), expected(4, 0));
}
