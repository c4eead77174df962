//! A handle is only ever made for an object of its type: every way of
//! reaching an object through a reference (a slot of the same type or of
//! another, an array element, a scan of an array) panics on a mismatch, the
//! transaction aborts, and nothing it did shows.

mod common;
use common::*;
use strata::{Object, Thread};

#[derive(Clone, Copy, Debug, PartialEq)]
struct Node {
    value: u64,
}
impl Object for Node {
    const REFS: usize = 1;
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Leaf {
    weight: u64,
}
impl Object for Leaf {}

/// Runs `f` in a transaction that must panic with a type error; returns the
/// panic message.
fn type_error(t: &mut Thread, f: impl Fn(&mut strata::Tx<'_>)) -> String {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.atomically(&f)));
    let payload = outcome.expect_err("the transaction did not panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| "(not a string)".into())
}

/// A node whose reference slot holds a leaf (a slot may hold any object).
fn node_pointing_at_a_leaf(t: &mut Thread) -> strata::Root<Node> {
    t.atomically(|tx| {
        let node = tx.alloc(Node { value: 1 });
        let leaf = tx.alloc(Leaf { weight: 7 });
        tx.set_ref(node, 0, Some(leaf));
        tx.root(node)
    })
    .unwrap()
}

#[test]
fn a_slot_read_as_its_own_type_checks_the_target() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let root = node_pointing_at_a_leaf(&mut t);
    let message = type_error(&mut t, |tx| {
        let node = tx.get_root(&root);
        tx.update(node, |n| n.value = 99);
        let _ = tx.get_ref::<Node, Node>(node, 0);
    });
    assert!(
        message.contains("is not a") && message.contains("Node"),
        "{message}"
    );
    // The aborted write did not show; the right type reads.
    let (value, weight) = t
        .atomically(|tx| {
            let node = tx.get_root(&root);
            let leaf = tx.get_ref::<Node, Leaf>(node, 0).unwrap();
            (tx.read(node).value, tx.read(leaf).weight)
        })
        .unwrap();
    assert_eq!((value, weight), (1, 7));
}

#[test]
fn a_slot_read_as_another_type_checks_the_target() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let root = t
        .atomically(|tx| {
            let a = tx.alloc(Node { value: 1 });
            let b = tx.alloc(Node { value: 2 });
            tx.set_ref(a, 0, Some(b));
            tx.root(a)
        })
        .unwrap();
    let message = type_error(&mut t, |tx| {
        let a = tx.get_root(&root);
        let _ = tx.get_ref::<Node, Leaf>(a, 0);
    });
    assert!(
        message.contains("is not a") && message.contains("Leaf"),
        "{message}"
    );
}

#[test]
fn array_elements_are_checked_when_got_and_when_scanned() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let bank = make_bank(&mut t, 3, 10);
    let message = type_error(&mut t, |tx| {
        let array = tx.get_global(&bank);
        let _ = tx.get::<Leaf>(array, 1);
    });
    assert!(message.contains("is not a"), "{message}");
    let message = type_error(&mut t, |tx| {
        let array = tx.get_global(&bank);
        let _ = tx.get_for_update::<Leaf>(array, 1);
    });
    assert!(message.contains("is not a"), "{message}");
    let message = type_error(&mut t, |tx| {
        let array = tx.get_global(&bank);
        tx.for_each_value::<Leaf>(array, |_, _| {});
    });
    assert!(message.contains("element 0 is not a"), "{message}");
    assert_eq!(total(&mut t, &bank), 30);
}

#[test]
fn get_for_update_is_get_with_a_hint() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let bank = make_bank(&mut t, 3, 10);
    let (same, empty) = t
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            let got = tx.get::<Account>(array, 1).unwrap();
            let fetched = tx.get_for_update::<Account>(array, 1).unwrap();
            tx.update(fetched, |a| a.balance += 5);
            // Both handles name one object: the read through `get`'s
            // handle sees the write through the other.
            let same = tx.read(got).balance == 15;
            let nulls = tx.alloc_array(1);
            (same, tx.get_for_update::<Account>(nulls, 0).is_none())
        })
        .unwrap();
    assert!(same, "get and get_for_update gave different objects");
    assert!(empty, "a null element was not None");
    let message = type_error(&mut t, |tx| {
        let array = tx.get_global(&bank);
        let _ = tx.get_for_update::<Account>(array, 3);
    });
    assert!(
        message.contains("index 3 out of bounds of an array of 3"),
        "{message}"
    );
    assert_eq!(total(&mut t, &bank), 35);
}
