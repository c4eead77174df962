//! Four threads on two cores allocate while major collections run: all
//! reach the safepoint, nothing reachable is lost; blocked threads do not
//! hold collections up; global roots are shared across threads; nurseries
//! pass from detaching threads to attaching ones.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use strata_gc::{GcOptions, Heap, HeapConfig};

#[test]
fn four_threads_allocate_through_major_collections() {
    let heap = zealous_heap(64 << 10, 256 << 20);
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let heap = heap.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut m = heap.attach().unwrap();
                let node = node_type(&heap, &mut m);
                barrier.wait();
                let mut next = t << 40;
                let first = next;
                let keep = build(&mut m, node, 8, &mut next);
                // SAFETY: `keep` is current.
                let slot = unsafe { m.root(keep) };
                for round in 0..600u32 {
                    let start = next;
                    let tree = build(&mut m, node, 5, &mut next);
                    assert_eq!(checksum(&m, tree), expected(5, start));
                    if round % 10 == t as u32 {
                        m.collect_major();
                    }
                }
                assert_eq!(checksum(&m, m.rooted(slot)), expected(8, first));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Requests that meet a running collection join it instead of repeating it.
    assert!(heap.stats().major_collections >= 15);
    assert_eq!(heap.attached_threads(), 0);
}

#[test]
fn a_blocked_thread_does_not_hold_up_a_collection() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let entered = Arc::new(Barrier::new(2));
    let release = Arc::new(AtomicBool::new(false));
    let blocked = {
        let (heap, entered, release) = (heap.clone(), entered.clone(), release.clone());
        std::thread::spawn(move || {
            let mut m = heap.attach().unwrap();
            let node = node_type(&heap, &mut m);
            let mut next = 0;
            let tree = build(&mut m, node, 6, &mut next);
            // SAFETY: `tree` is current.
            unsafe { m.push_root(tree) };
            m.blocking(|| {
                entered.wait();
                while !release.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
            let tree = m.pop_root().unwrap();
            assert_eq!(checksum(&m, tree), expected(6, 0));
        })
    };
    entered.wait();
    let mut m = heap.attach().unwrap();
    for _ in 0..5 {
        m.collect_major();
    }
    release.store(true, Ordering::SeqCst);
    blocked.join().unwrap();
}

#[test]
fn a_panic_inside_blocking_brings_the_thread_back_into_the_heap() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let (ready, wait_ready) = std::sync::mpsc::channel::<()>();
    let (collected, wait_collected) = std::sync::mpsc::channel::<std::time::Instant>();
    let collector = {
        let heap = heap.clone();
        std::thread::spawn(move || {
            let mut m = heap.attach().unwrap();
            m.blocking(|| wait_ready.recv().unwrap());
            m.collect_major();
            collected.send(std::time::Instant::now()).unwrap();
        })
    };
    let mut m = heap.attach().unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.blocking(|| panic!("inside blocking"));
    }));
    assert!(caught.is_err());
    // Running again: the collection the other thread starts now must wait
    // for this thread's next safepoint.
    ready.send(()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let at_safepoint = std::time::Instant::now();
    m.safepoint();
    let collected_at = m.blocking(|| wait_collected.recv().unwrap());
    assert!(
        collected_at >= at_safepoint,
        "the collection ran while this thread was running, {:?} before its safepoint",
        at_safepoint - collected_at
    );
    m.blocking(|| collector.join().unwrap());
}

#[test]
fn global_roots_are_shared_between_threads() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let mut next = 100;
    let tree = build(&mut m, node, 7, &mut next);
    assert!(m.is_young(tree));
    // SAFETY: `tree` is current.
    let root = Arc::new(unsafe { m.global_root(tree) });
    assert!(!m.is_young(root.get()));
    let reader = {
        let (heap, root) = (heap.clone(), root.clone());
        std::thread::spawn(move || {
            let mut m = heap.attach().unwrap();
            let node = node_type(&heap, &mut m);
            let mut junk = 0;
            for _ in 0..20 {
                build(&mut m, node, 6, &mut junk);
                m.collect_major();
                assert_eq!(checksum(&m, root.get()), expected(7, 100));
            }
        })
    };
    // An attached thread that waits must say so, or collections wait for it.
    m.blocking(|| reader.join()).unwrap();
    drop(root);
    m.collect_major();
    assert!(heap.stats().live_bytes_after_major < 4096);
}

#[test]
fn four_threads_pretenure_through_major_collections() {
    // Trees of depth 11 (128 KiB) outgrow the 64 KiB nurseries, so each
    // thread pretenures while the others ask for major collections.
    let heap = zealous_heap(64 << 10, 256 << 20);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let heap = heap.clone();
            std::thread::spawn(move || {
                let mut m = heap.attach().unwrap();
                let node = node_type(&heap, &mut m);
                let mut next = t << 40;
                let mut kept = Vec::new();
                for round in 0..12u32 {
                    let start = next;
                    let tree = build(&mut m, node, 11, &mut next);
                    assert_eq!(checksum(&m, tree), expected(11, start));
                    if round % 4 == t as u32 {
                        // SAFETY: `tree` is current.
                        kept.push((unsafe { m.root(tree) }, start));
                        m.collect_major();
                    }
                }
                for (slot, start) in kept {
                    assert_eq!(checksum(&m, m.rooted(slot)), expected(11, start));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(heap.stats().pretenured_bytes > 1 << 20);
}

#[test]
fn a_detached_threads_nursery_serves_the_next_thread_open_and_clean() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let first_young = std::thread::scope(|s| {
        s.spawn(|| {
            let mut m = heap.attach().unwrap();
            let node = node_type(&heap, &mut m);
            let first = m.alloc_fixed(node).unwrap();
            // New objects would be private (a transaction running).
            m.track_promotions(true);
            let mut next = 0;
            // A tree of 128 KiB outgrows the 64 KiB nursery: the thread
            // pretenures, its nursery closed, when it detaches.
            let tree = build(&mut m, node, 11, &mut next);
            assert_eq!(checksum(&m, tree), expected(11, 0));
            assert!(heap.stats().pretenured_bytes > 0);
            first.as_usize()
        })
        .join()
        .unwrap()
    });
    let mut m = heap.attach().unwrap();
    let node = node_type(&heap, &mut m);
    let obj = m.alloc_fixed(node).unwrap();
    assert_eq!(obj.as_usize(), first_young, "the nursery was not reused");
    assert!(m.is_young(obj), "the reused nursery is closed");
    // SAFETY: `obj` is a fresh node: its body is zeroed.
    let body = unsafe { strata_gc::header::body(obj).as_ptr::<[u64; 3]>().read() };
    assert_eq!(body, [0; 3]);
    // SAFETY: as above.
    assert!(!unsafe { strata_gc::header::has_flag(obj, strata_gc::header::PRIVATE) });
}

#[test]
fn threads_attach_and_detach_while_collections_run() {
    // Nurseries pass from detaching threads to attaching ones while others
    // allocate and collect; every tree a thread builds stays whole.
    let heap = zealous_heap(64 << 10, 256 << 20);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let heap = &heap;
            s.spawn(move || {
                for round in 0..40u64 {
                    let mut m = heap.attach().unwrap();
                    let node = node_type(heap, &mut m);
                    let mut next = (t << 40) | (round << 20);
                    let start = next;
                    let tree = build(&mut m, node, 6 + (round % 4) as u32, &mut next);
                    assert_eq!(checksum(&m, tree), expected(6 + (round % 4) as u32, start));
                    if round % 8 == t {
                        m.collect_major();
                    }
                }
            });
        }
    });
    assert_eq!(heap.attached_threads(), 0);
    assert!(heap.stats().major_collections > 10);
}

/// A second handle of one heap on one thread would deadlock the first
/// collection that needs both stopped (see `DESIGN.md`, "Safepoints"), so
/// attaching twice fails; detaching frees the thread to attach again, and
/// other heaps and other threads are unaffected.
#[test]
fn a_thread_attaches_to_a_heap_once_at_a_time() {
    let heap = zealous_heap(64 << 10, 64 << 20);
    let other_heap = zealous_heap(64 << 10, 64 << 20);
    let first = heap.attach().unwrap();
    match heap.attach() {
        Err(strata_gc::HeapError::AlreadyAttached) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a second handle of one heap on one thread"),
    }
    let message = strata_gc::HeapError::AlreadyAttached.to_string();
    assert!(message.contains("already attached"), "{message}");
    // Another heap, and another thread of this heap, attach as usual.
    let elsewhere = other_heap.attach().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| drop(heap.attach().unwrap()));
    });
    assert_eq!(heap.attached_threads(), 1);
    drop(first);
    let again = heap.attach().unwrap();
    drop((again, elsewhere));
    assert_eq!(heap.attached_threads(), 0);
}

/// A thread that waits while attached (not in `blocking`) holds every major
/// collection up; past `stall_warning` the collector reports it once (see
/// `DESIGN.md`, "Safepoints") and goes on waiting until the thread comes.
#[test]
fn a_collection_held_up_by_a_waiting_thread_reports_it_and_goes_on() {
    let heap = Heap::with_options(
        HeapConfig {
            stall_warning: Some(Duration::from_millis(50)),
            ..HeapConfig::default()
        },
        GcOptions::default(),
    )
    .unwrap();
    let (attached, is_attached) = std::sync::mpsc::channel();
    let idle = {
        let heap = heap.clone();
        std::thread::spawn(move || {
            let m = heap.attach().unwrap();
            attached.send(()).unwrap();
            // The mistake: waiting while attached, outside `blocking`.
            std::thread::sleep(Duration::from_millis(400));
            drop(m);
        })
    };
    let mut m = heap.attach().unwrap();
    m.blocking(|| is_attached.recv().unwrap());
    m.collect_major();
    m.blocking(|| idle.join().unwrap());
    let stats = heap.stats();
    assert_eq!(stats.stalled_collections, 1, "{stats:?}");
    assert_eq!(stats.major_collections, 1);
    // Without a stall there is nothing to report.
    m.collect_major();
    assert_eq!(heap.stats().stalled_collections, 1);
}
