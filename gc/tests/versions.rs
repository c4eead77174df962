//! Version chains: a reader sees the newest version no younger than its
//! snapshot; a major collection keeps what snapshots at or after the horizon
//! can see and drops the rest, with the horizon given as an input.

mod common;
use common::*;
use strata_gc::versions::{publish_version, visible_version};
use strata_gc::{header, Address, Mutator, TypeDesc};

fn value(obj: Address) -> u64 {
    // SAFETY: test objects are live cells whose body is one u64.
    unsafe { header::body(obj).as_ptr::<u64>().read() }
}

fn set_value(obj: Address, v: u64) {
    // SAFETY: as above, and private to this thread.
    unsafe { header::body(obj).as_ptr::<u64>().write(v) }
}

fn new_version(m: &mut Mutator, anchor: Address, v: u64, stamp: u64) {
    // SAFETY: `anchor` is an old rooted cell.
    unsafe {
        let record = m.alloc_version_copy(anchor).unwrap();
        set_value(record, v);
        let record = m.promote(record);
        publish_version(anchor, record, stamp);
    }
}

#[test]
fn trimming_keeps_what_the_horizon_can_see() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let cell = heap.register_type(TypeDesc::fixed("cell", 8)).unwrap();
    let anchor = m.alloc(cell).unwrap();
    set_value(anchor, 0);
    // SAFETY: `anchor` is current.
    let anchor = unsafe { m.promote(anchor) };
    // SAFETY: as above.
    let slot = unsafe { m.root(anchor) };
    // A reader at snapshot 0 keeps every version through the collections
    // that the zealous heap runs while we publish.
    m.set_snapshot(Some(0));
    for (v, stamp) in [(1, 10), (2, 20), (3, 30)] {
        new_version(&mut m, anchor, v, stamp);
    }
    // SAFETY: `anchor` is rooted and the world is ours.
    let seen = |snapshot| value(unsafe { visible_version(anchor, snapshot) });
    assert_eq!(
        (seen(5), seen(10), seen(15), seen(25), seen(99)),
        (0, 1, 1, 2, 3)
    );

    // SAFETY: this thread is the heap's only one and reads no snapshot below
    // 25 afterwards.
    unsafe { m.collect_major_with_horizon(25) };
    assert_eq!(m.rooted(slot), anchor, "old objects never move");
    assert_eq!(value(anchor), 2, "version 20 was folded into the anchor");
    assert_eq!((seen(25), seen(29), seen(30)), (2, 2, 3));

    // SAFETY: as above, for the newest versions only.
    unsafe { m.collect_major_with_horizon(u64::MAX) };
    assert_eq!(value(anchor), 3);
    // SAFETY: `anchor` is live.
    let link = unsafe { header::link(anchor) }.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(link, 0);
}

#[test]
fn many_updates_leave_bounded_memory() {
    let heap = zealous_heap(256 << 10, 256 << 20);
    let mut m = heap.attach().unwrap();
    let cell = heap.register_type(TypeDesc::fixed("cell", 64)).unwrap();
    let anchor = m.alloc(cell).unwrap();
    // SAFETY: `anchor` is current.
    let anchor = unsafe { m.promote(anchor) };
    // SAFETY: as above.
    let _slot = unsafe { m.root(anchor) };
    // A long reader at snapshot 4,000 keeps that version alive.
    m.set_snapshot(Some(1_000));
    for i in 1..=2_000u64 {
        new_version(&mut m, anchor, i, i);
        if i == 1_500 {
            m.collect_major();
            // SAFETY: `anchor` is rooted.
            assert_eq!(value(unsafe { visible_version(anchor, 1_000) }), 1_000);
            // SAFETY: as above.
            assert_eq!(value(unsafe { visible_version(anchor, 1_200) }), 1_200);
        }
    }
    m.set_snapshot(None);
    m.collect_major();
    assert_eq!(value(anchor), 2_000);
    let live = heap.stats().live_bytes_after_major;
    assert!(
        live < 4096,
        "old versions were not reclaimed: {live} live bytes"
    );
}

#[test]
fn a_version_copy_holds_the_newest_version() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let cell = heap.register_type(TypeDesc::fixed("cell", 8)).unwrap();
    let anchor = m.alloc(cell).unwrap();
    set_value(anchor, 7);
    // SAFETY: `anchor` is current.
    let anchor = unsafe { m.promote(anchor) };
    // SAFETY: as above.
    let _slot = unsafe { m.root(anchor) };
    // SAFETY: `anchor` is an old rooted cell, and nobody else publishes.
    let copy = |m: &mut Mutator| value(unsafe { m.alloc_version_copy(anchor) }.unwrap());
    assert_eq!(copy(&mut m), 7, "no records: the inline body");
    // A reader at snapshot 0 keeps every record, newest first.
    m.set_snapshot(Some(0));
    for (v, stamp) in [(1, 10), (2, 20)] {
        new_version(&mut m, anchor, v, stamp);
    }
    assert_eq!(copy(&mut m), 2, "the head record, not an older one");
    m.set_snapshot(None);
    // SAFETY: this thread is the heap's only one and reads the newest
    // version only.
    unsafe { m.collect_major_with_horizon(u64::MAX) };
    assert_eq!(copy(&mut m), 2, "folded into the inline body");
}
