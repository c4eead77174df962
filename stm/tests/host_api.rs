//! The parts of the API for hosts that cannot use Rust types and closures
//! (the C ABI): types registered at run time, the count of attached
//! threads, blocking sections entered and left by two calls.

mod common;

use common::plain_heap;
use strata::{Heap, TypeDesc};

#[test]
fn run_time_types_get_distinct_ids_and_bad_ones_are_refused() {
    let heap = plain_heap();
    let pair = heap
        .register_type(TypeDesc::fixed("pair", 16).with_ref_offsets(&[0, 8]))
        .unwrap();
    let bytes = heap.register_type(TypeDesc::array("bytes", 0, 1)).unwrap();
    assert_ne!(pair, bytes);
    assert_ne!(pair.0, 0);
    let outside = TypeDesc::fixed("bad", 16).with_ref_offsets(&[16]);
    assert!(heap.register_type(outside).is_err());
}

#[test]
fn attached_threads_are_counted() {
    let heap = plain_heap();
    assert_eq!(heap.attached_threads(), 0);
    let thread = heap.attach().unwrap();
    assert_eq!(heap.attached_threads(), 1);
    std::thread::scope(|s| {
        s.spawn(|| {
            let _other = heap.attach().unwrap();
            assert_eq!(heap.attached_threads(), 2);
        });
    });
    assert_eq!(heap.attached_threads(), 1);
    drop(thread);
    assert_eq!(heap.attached_threads(), 0);
}

/// While one thread is in a section entered with `enter_blocking`, another
/// thread's major collections do not wait for it.
#[test]
fn a_thread_between_enter_and_leave_blocking_holds_no_collection_up() {
    let heap: Heap = plain_heap();
    let mut thread = heap.attach().unwrap();
    // SAFETY: the thread does not use the heap until `leave_blocking`.
    unsafe { thread.enter_blocking() };
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut other = heap.attach().unwrap();
            for _ in 0..3 {
                other.collect();
            }
        });
    });
    // SAFETY: the thread entered the blocking section above.
    unsafe { thread.leave_blocking() };
    thread.collect();
    assert_eq!(thread.atomically(|_| 7).unwrap(), 7);
}
