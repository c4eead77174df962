//! Data arrays: zeroed at birth, read and written by element and by slice,
//! versioned like any object (readers never see a half-written array, an
//! aborted write leaves nothing), referenced from objects and reference
//! arrays with their element type checked.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use strata::{DataArray, Heap, Object, RefArray};

#[derive(Clone, Copy, Debug)]
struct Holder {
    _tag: u64,
}
impl Object for Holder {
    const REFS: usize = 1;
}

#[test]
fn made_zeroed_then_read_and_written() {
    let heap = zealous_heap();
    let mut th = heap.attach().unwrap();
    let (sum, len, zeros) = th
        .atomically(|tx| {
            // Big enough for the large-object space: 3000 * 8 bytes.
            let big = tx.alloc_data::<u64>(3000);
            let zeros = tx.read_data(big, |e| e.iter().all(|&x| x == 0));
            tx.write_data(big, |e| {
                for (i, x) in e.iter_mut().enumerate() {
                    *x = i as u64;
                }
            });
            tx.set_data(big, 0, 1000);
            let sum = tx.read_data(big, |e| e.iter().sum::<u64>());
            (sum, tx.data_len(big), zeros)
        })
        .unwrap();
    assert!(zeros, "a fresh data array was not zero");
    assert_eq!(len, 3000);
    assert_eq!(sum, 2999 * 3000 / 2 + 1000);
}

#[test]
fn out_of_bounds_panics_and_aborts() {
    let heap = plain_heap();
    let mut th = heap.attach().unwrap();
    let root = th
        .atomically(|tx| {
            let a = tx.alloc_data::<i32>(4);
            tx.root(a)
        })
        .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        th.atomically(|tx| {
            let a = tx.get_root(&root);
            tx.set_data(a, 0, 7);
            tx.set_data(a, 4, 1);
        })
    }));
    assert!(result.is_err(), "index 4 of 4 did not panic");
    let first = th
        .atomically(|tx| {
            let a = tx.get_root(&root);
            tx.get_data(a, 0)
        })
        .unwrap();
    assert_eq!(first, 0, "the aborted write showed");
}

#[test]
fn referenced_from_objects_and_arrays_with_types_checked() {
    let heap = zealous_heap();
    let mut th = heap.attach().unwrap();
    let (through_object, through_array, through_view) = th
        .atomically(|tx| {
            let bytes = tx.alloc_data::<u8>(5);
            tx.write_data(bytes, |b| b.copy_from_slice(b"hello"));
            let holder = tx.alloc(Holder { _tag: 1 });
            tx.set_ref(holder, 0, Some(bytes));
            let list: strata::Obj<'_, RefArray> = tx.alloc_array(1);
            tx.set(list, 0, Some(bytes));
            // Allocate enough to move everything a few times.
            for _ in 0..5000 {
                tx.alloc(Holder { _tag: 2 });
            }
            let a = tx.get_ref::<Holder, DataArray<u8>>(holder, 0).unwrap();
            let b = tx.get::<DataArray<u8>>(list, 0).unwrap();
            let from_view = tx.view(|v| {
                let holder = v.enter(holder);
                let bytes = v.get_ref::<Holder, DataArray<u8>>(holder, 0).unwrap();
                v.read_data(bytes).to_vec()
            });
            (
                tx.read_data(a, |e| e.to_vec()),
                tx.read_data(b, |e| e.to_vec()),
                from_view,
            )
        })
        .unwrap();
    assert_eq!(through_object, b"hello");
    assert_eq!(through_array, b"hello");
    assert_eq!(through_view, b"hello");

    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        th.atomically(|tx| {
            let bytes = tx.alloc_data::<u8>(5);
            let holder = tx.alloc(Holder { _tag: 1 });
            tx.set_ref(holder, 0, Some(bytes));
            // The slot holds bytes: reading them as u64s must panic.
            let _ = tx.get_ref::<Holder, DataArray<u64>>(holder, 0);
        })
    }));
    assert!(
        wrong.is_err(),
        "a DataArray<u8> was taken for a DataArray<u64>"
    );
}

/// A writer keeps every element of a shared array equal, rewriting them all
/// in each transaction; readers (by slice, by element and through views)
/// must always see them equal, with a collection at every commit.
fn readers_never_see_a_half_written_array(heap: Heap, len: usize) {
    let mut main = heap.attach().unwrap();
    let root = main
        .atomically(|tx| {
            let a = tx.alloc_data::<u64>(len);
            tx.root(a)
        })
        .unwrap();
    let shared = Arc::new(main.global(&root));
    let stop = Arc::new(AtomicBool::new(false));
    let writes = scaled(100) as u64;
    let mut threads = Vec::new();
    {
        let (heap, shared) = (heap.clone(), shared.clone());
        threads.push(std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            for n in 1..=writes {
                t.atomically(|tx| {
                    let a = tx.get_global(&shared);
                    tx.write_data(a, |e| {
                        // Half, a pause, the other half: a reader that could
                        // see writes in flight would see them here.
                        let half = e.len() / 2;
                        e[..half].fill(n);
                        std::thread::sleep(std::time::Duration::from_micros(100));
                        e[half..].fill(n);
                    });
                })
                .unwrap();
            }
        }));
    }
    for which in 0..3 {
        let (heap, shared, stop) = (heap.clone(), shared.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) || reads < 10 {
                let (first, all_equal) = t
                    .atomically(|tx| {
                        let a = tx.get_global(&shared);
                        match which {
                            0 => tx.read_data(a, |e| (e[0], e.iter().all(|&x| x == e[0]))),
                            1 => {
                                let first = tx.get_data(a, 0);
                                let last = tx.get_data(a, len - 1);
                                (first, first == last)
                            }
                            _ => tx.view(|v| {
                                let a = v.enter(a);
                                let e = v.read_data(a);
                                (e[0], e.iter().all(|&x| x == e[0]))
                            }),
                        }
                    })
                    .unwrap();
                assert!(all_equal, "reader {which} saw a half-written array");
                assert!(first <= writes);
                reads += 1;
                // Leave the writer room: every commit here is a collection.
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        }));
    }
    let writer = threads.remove(0);
    main.blocking(|| writer.join().unwrap());
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        main.blocking(|| t.join().unwrap());
    }
    let last = main
        .atomically(|tx| {
            let a = tx.get_root(&root);
            tx.read_data(a, |e| (e[0], e[len - 1]))
        })
        .unwrap();
    assert_eq!(last, (writes, writes));
}

#[test]
fn readers_never_see_a_half_written_small_array() {
    readers_never_see_a_half_written_array(zealous_heap(), 64);
}

#[test]
fn readers_never_see_a_half_written_large_array() {
    readers_never_see_a_half_written_array(zealous_heap(), 4096);
}

/// Reference arrays can be held in reference slots too (any `HeapType`),
/// and a slot read as the wrong kind of array panics.
#[test]
fn reference_arrays_in_slots() {
    let heap = zealous_heap();
    let mut th = heap.attach().unwrap();
    let balance = th
        .atomically(|tx| {
            let accounts = tx.alloc_array(2);
            let a = tx.alloc(Account { balance: 7 });
            tx.set(accounts, 1, Some(a));
            let holder = tx.alloc(Holder { _tag: 0 });
            tx.set_ref(holder, 0, Some(accounts));
            for _ in 0..5000 {
                tx.alloc(Holder { _tag: 2 });
            }
            let accounts = tx.get_ref::<Holder, RefArray>(holder, 0).unwrap();
            let a = tx.get::<Account>(accounts, 1).unwrap();
            tx.read(a).balance
        })
        .unwrap();
    assert_eq!(balance, 7);
    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        th.atomically(|tx| {
            let accounts = tx.alloc_array(2);
            let holder = tx.alloc(Holder { _tag: 0 });
            tx.set_ref(holder, 0, Some(accounts));
            let _ = tx.get_ref::<Holder, DataArray<u64>>(holder, 0);
        })
    }));
    assert!(wrong.is_err(), "a RefArray was taken for a DataArray");
}
