//! Memory comes back: RSS falls after a large structure is dropped and a
//! major collection runs; bad sizes and types are errors; the heap limit
//! gives an out-of-memory error after a major collection, and the heap stays
//! usable.

mod common;
use common::*;
use strata_gc::{AllocError, GcOptions, Heap, HeapConfig, TypeDesc, TypeId};

#[test]
fn rss_falls_after_a_large_structure_is_dropped() {
    let heap = Heap::with_options(
        HeapConfig {
            max_heap_bytes: 1 << 30,
            ..HeapConfig::default()
        },
        GcOptions::default(),
    )
    .unwrap();
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let before = rss_bytes();
    let mut next = 0;
    let tree = build(&mut m, node, 20, &mut next);
    // SAFETY: `tree` is current.
    let slot = unsafe { m.root(tree) };
    m.collect_major();
    let live = heap.stats().live_bytes_after_major;
    assert!(live >= 60 << 20, "tree of 2M nodes: {live} live bytes");
    let peak = rss_bytes();
    assert!(peak > before + (60 << 20), "peak {peak} before {before}");
    m.unroot(slot);
    m.collect_major();
    let after = rss_bytes();
    assert!(heap.stats().live_bytes_after_major < 1 << 20);
    assert!(
        after < peak - (50 << 20),
        "RSS did not fall: before {before}, peak {peak}, after {after}"
    );
}

/// Big objects go straight to the old space; their growth triggers major
/// collections like any other (it did not: a program making only big
/// objects grew to the heap limit before its first major collection).
#[test]
fn big_objects_alone_trigger_collections_by_growth() {
    let heap = Heap::with_options(
        HeapConfig {
            nursery_bytes: 256 << 10,
            min_major_bytes: 4 << 20,
            max_heap_bytes: 1 << 30,
            ..HeapConfig::default()
        },
        GcOptions::default(),
    )
    .unwrap();
    let mut m = heap.attach().unwrap();
    let bytes = heap.register_type(TypeDesc::array("bytes", 0, 8)).unwrap();
    let mut most = 0;
    // 200 garbage arrays of 256 KiB: 50 MiB in all.
    for _ in 0..200 {
        m.alloc_array(bytes, 32 << 10).unwrap();
        most = most.max(heap.old_bytes_in_use());
    }
    assert!(heap.stats().major_collections >= 3, "{:?}", heap.stats());
    assert!(most < 16 << 20, "the old space grew to {most} bytes");
}

#[test]
fn bad_requests_are_errors() {
    let heap = zealous_heap(64 << 10, 4 << 20);
    let mut m = heap.attach().unwrap();
    assert_eq!(m.alloc(TypeId(0)), Err(AllocError::UnknownType(0)));
    assert_eq!(m.alloc(TypeId(77)), Err(AllocError::UnknownType(77)));
    let bytes = heap.register_type(TypeDesc::array("bytes", 0, 1)).unwrap();
    let fixed = heap.register_type(TypeDesc::fixed("f", 8)).unwrap();
    assert!(matches!(
        m.alloc_array(bytes, usize::MAX),
        Err(AllocError::BadSize { .. })
    ));
    assert!(matches!(
        m.alloc_array(fixed, 3),
        Err(AllocError::BadSize { .. })
    ));
    assert!(matches!(
        m.alloc_array(bytes, 64 << 20),
        Err(AllocError::TooLarge { .. })
    ));
    assert!(m.fixed_type(bytes).is_err());
    let ok = m.alloc_array(bytes, 100).unwrap();
    // SAFETY: `ok` is a fresh array; its body starts with its length.
    let len = unsafe { strata_gc::header::body(ok).as_ptr::<u64>().read() };
    assert_eq!(len, 100);
}

#[test]
fn a_size_known_at_compile_time_must_be_the_types() {
    let heap = zealous_heap(64 << 10, 16 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    assert_eq!(node.object_bytes(), 48);
    // Through the nursery, then (nursery full) a minor collection and on.
    for _ in 0..10_000 {
        let obj = m.alloc_fixed_sized(node, 48).unwrap();
        // SAFETY: `obj` is a fresh node of 48 bytes: a 32-byte body.
        let body = unsafe { strata_gc::header::body(obj).as_ptr::<[u64; 4]>().read() };
        assert_eq!(body, [0; 4]);
    }
    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.alloc_fixed_sized(node, 32)
    }));
    let message = wrong.unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(message.contains("48 bytes, not 32"), "{message}");
}

#[test]
fn out_of_memory_after_a_major_collection_and_the_heap_stays_usable() {
    let heap = zealous_heap(64 << 10, 4 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let list = heap
        .register_type(TypeDesc::array("chunk", 8, 1).with_ref_offsets(&[8]))
        .unwrap();
    // A linked list of 100 KiB chunks, all rooted: it must run out.
    let mut head = strata_gc::Address::NULL;
    let mut chunks = 0;
    let error = loop {
        // SAFETY: `head` is current (null or the last chunk).
        unsafe { m.push_root(head) };
        match m.alloc_array(list, 100 << 10) {
            Ok(chunk) => {
                let previous = m.pop_root().unwrap();
                // SAFETY: `chunk` is fresh; offset 8 is its reference slot.
                unsafe { m.write_ref(chunk, 8, previous) };
                head = chunk;
                chunks += 1;
            }
            Err(e) => break e,
        }
    };
    assert!(matches!(error, AllocError::OutOfMemory { .. }), "{error}");
    assert!(chunks >= 20, "only {chunks} chunks fit");
    // The list is intact, and once it is dropped the heap is usable again.
    let mut count = 0;
    let mut cursor = m.pop_root().unwrap();
    while !cursor.is_null() {
        count += 1;
        // SAFETY: `cursor` is a live chunk; no allocation in this loop.
        cursor = unsafe { m.read_ref(cursor, 8) };
    }
    assert_eq!(count, chunks);
    m.collect_major();
    let mut next = 0;
    let tree = build(&mut m, node, 10, &mut next);
    assert_eq!(checksum(&m, tree), expected(10, 0));
}

#[test]
fn identity_survives_promotion() {
    let heap = zealous_heap(64 << 10, 16 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 5;
    let tree = build(&mut m, node, 3, &mut next);
    assert!(m.is_young(tree));
    // SAFETY: `tree` is current.
    let (id, hash) = unsafe { (m.identity(tree).unwrap(), m.identity_hash(tree).unwrap()) };
    // SAFETY: as above.
    unsafe { m.push_root(tree) };
    m.collect_minor();
    let moved = m.pop_root().unwrap();
    assert_eq!(moved.as_usize() as u64, id);
    // SAFETY: `moved` is current.
    assert_eq!(unsafe { m.identity_hash(moved).unwrap() }, hash);
    assert_eq!(checksum(&m, moved), expected(3, 5));
}
