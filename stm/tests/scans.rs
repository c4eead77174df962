//! Scans of arrays (`Tx::for_each_value`): every element once, in order,
//! with its index, at every length around the scan's prefetch distance (16
//! elements: a steady loop, then a tail), whether the elements are the
//! transaction's own, committed, newer than a snapshot, or written by the
//! scanning transaction.

mod common;
use common::*;
use std::sync::Arc;
use strata::{Heap, Obj, RefArray, Root, Thread, Tx};

/// Lengths on both sides of the prefetch distance and of half of it.
const LENGTHS: [usize; 15] = [0, 1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 64, 100];

/// Element `i` of a test array: null when `i % 5 == 3`, else an account
/// holding `i`.
fn initial(i: usize) -> Option<i64> {
    (i % 5 != 3).then_some(i as i64)
}

/// What a scan of `array` hands to its callback, in order.
fn scan<'tx>(tx: &mut Tx<'tx>, array: Obj<'tx, RefArray>) -> Vec<(usize, Option<i64>)> {
    let mut seen = Vec::new();
    tx.for_each_value::<Account>(array, |i, account| {
        seen.push((i, account.map(|a| a.balance)))
    });
    seen
}

fn expected(len: usize, value: impl Fn(usize) -> Option<i64>) -> Vec<(usize, Option<i64>)> {
    (0..len).map(|i| (i, value(i))).collect()
}

/// Makes an array of `len` per [`initial`] and checks a scan of it in the
/// transaction that made it.
fn make_array(t: &mut Thread, len: usize) -> Root<RefArray> {
    t.atomically(|tx| {
        let array = tx.alloc_array(len);
        for i in 0..len {
            if let Some(balance) = initial(i) {
                let account = tx.alloc(Account { balance });
                tx.set(array, i, Some(account));
            }
        }
        assert_eq!(
            scan(tx, array),
            expected(len, initial),
            "private, length {len}"
        );
        tx.root(array)
    })
    .unwrap()
}

/// Adds 1000 to the even accounts of `array`.
fn update_even<'tx>(tx: &mut Tx<'tx>, array: Obj<'tx, RefArray>, len: usize) {
    for i in (0..len).step_by(2) {
        if let Some(account) = tx.get::<Account>(array, i) {
            tx.update(account, |a| a.balance += 1000);
        }
    }
}

fn updated(i: usize) -> Option<i64> {
    initial(i).map(|b| if i.is_multiple_of(2) { b + 1000 } else { b })
}

/// Checks, in a transaction of its own, that a scan of the array at
/// `root` sees `value` of each element.
fn assert_scan(
    t: &mut Thread,
    root: &Root<RefArray>,
    len: usize,
    value: fn(usize) -> Option<i64>,
    what: &str,
) {
    t.atomically(|tx| {
        let array = tx.get_root(root);
        assert_eq!(
            scan(tx, array),
            expected(len, value),
            "{what}, length {len}"
        );
    })
    .unwrap();
}

fn scans_see_what_they_should(heap: Heap) {
    let mut t = heap.attach().unwrap();
    for len in LENGTHS {
        let root = make_array(&mut t, len);
        assert_scan(&mut t, &root, len, initial, "committed");
        // The scanning transaction's own writes (private copies).
        t.atomically(|tx| {
            let array = tx.get_root(&root);
            update_even(tx, array, len);
            assert_eq!(
                scan(tx, array),
                expected(len, updated),
                "own writes, length {len}"
            );
        })
        .unwrap();
        // Newest versions in records.
        assert_scan(&mut t, &root, len, updated, "records");
    }
}

#[test]
fn scans_visit_every_element_in_order_at_every_length() {
    scans_see_what_they_should(plain_heap());
}

#[test]
fn scans_visit_every_element_with_a_collection_at_every_commit() {
    scans_see_what_they_should(zealous_heap());
}

/// A scan reads its snapshot: where another thread committed newer
/// versions after the snapshot was taken, it reads the older ones.
#[test]
fn scans_read_the_snapshot_under_newer_versions() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    for len in LENGTHS {
        let root = make_array(&mut t, len);
        let global = Arc::new(t.global(&root));
        let interloper =
            Interloper::start_with(&heap, &global, move |tx, array| update_even(tx, array, len));
        let mut first = true;
        let (before, after) = t
            .atomically(|tx| {
                let array = tx.get_root(&root);
                let before = scan(tx, array);
                if first {
                    first = false;
                    tx.blocking(|| interloper.commit_now());
                }
                (before, scan(tx, array))
            })
            .unwrap();
        interloper.join(&mut t);
        assert_eq!(before, expected(len, initial), "before, length {len}");
        assert_eq!(
            after,
            expected(len, initial),
            "after a newer commit, length {len}"
        );
        assert_scan(&mut t, &root, len, updated, "newest");
    }
}
