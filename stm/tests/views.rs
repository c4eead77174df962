//! Views: reads through bare references see the transaction's snapshot and
//! its own writes, make no handles, check types, and hand out handles that
//! survive the collections after the view.

mod common;
use common::*;
use strata::{Heap, Object, Ref, View};

#[derive(Clone, Copy, Debug)]
struct Node {
    value: u64,
}
impl Object for Node {
    const REFS: usize = 2;
}

#[derive(Clone, Copy, Debug)]
struct Other {
    _value: u64,
}
impl Object for Other {}

/// Builds a complete tree of `depth` whose nodes hold 1.
fn make<'tx>(tx: &mut strata::Tx<'tx>, depth: u32) -> strata::Obj<'tx, Node> {
    let node = tx.alloc(Node { value: 1 });
    if depth > 0 {
        let left = make(tx, depth - 1);
        let right = make(tx, depth - 1);
        tx.set_ref(node, 0, Some(left));
        tx.set_ref(node, 1, Some(right));
    }
    node
}

fn sum<'v>(v: &mut View<'v, '_>, node: Ref<'v, Node>) -> u64 {
    let left = v.get_ref::<Node, Node>(node, 0);
    let right = v.get_ref::<Node, Node>(node, 1);
    v.read(node).value + left.map_or(0, |l| sum(v, l)) + right.map_or(0, |r| sum(v, r))
}

fn views_count_trees_without_handles(heap: &Heap) {
    let mut th = heap.attach().unwrap();
    let tree = th
        .atomically(|tx| {
            let tree = make(tx, 12);
            tx.root(tree)
        })
        .unwrap();
    for round in 0..3u64 {
        let (total, handles_before, handles_after) = th
            .atomically(|tx| {
                let root = tx.get_root(&tree);
                // Change the root's value: the view must see this
                // transaction's own copy.
                tx.update(root, |n| n.value += round);
                // A private tree made in the same transaction, big enough
                // to fill the tiny nursery several times.
                let fresh = make(tx, 10);
                let before = tx.handle_count();
                let total = tx.view(|v| {
                    let (root, fresh) = (v.enter(root), v.enter(fresh));
                    sum(v, root) + sum(v, fresh)
                });
                (total, before, tx.handle_count())
            })
            .unwrap();
        assert_eq!(handles_before, handles_after, "a view made handles");
        let expected = (1 << 13) - 1 + (1 << 11) - 1 + round * (round + 1) / 2;
        assert_eq!(total, expected, "round {round}");
    }
}

#[test]
fn views_count_trees_without_handles_plain() {
    views_count_trees_without_handles(&plain_heap());
}

#[test]
fn views_count_trees_without_handles_zealous() {
    views_count_trees_without_handles(&zealous_heap());
}

/// A reader's view sees its snapshot while another thread commits.
#[test]
fn a_view_reads_its_snapshot() {
    // The reader waits for the writer inside its transaction, so the
    // writer must not start a major collection (it would wait for the
    // reader to park): options fixed here, not taken from the environment
    // (STRATA_GC_ZEAL), and far below the growth trigger.
    let heap = Heap::with_options(
        strata::HeapConfig::default(),
        strata::GcOptions {
            verify: true,
            major_every_minor: false,
            parallel_mark_always: false,
        },
    )
    .unwrap();
    let mut main = heap.attach().unwrap();
    let bank = std::sync::Arc::new(make_bank(&mut main, 4, 10));
    let mut first = true;
    let seen = main
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            let before = tx.view(|v| {
                let array = v.enter(array);
                let account = v.get::<Account>(array, 0).unwrap();
                v.read(account).balance
            });
            if first {
                first = false;
                // Another thread moves money while this transaction runs.
                let (heap, bank) = (heap.clone(), bank.clone());
                std::thread::spawn(move || {
                    let mut t = heap.attach().unwrap();
                    t.atomically(|tx| {
                        let array = tx.get_global(&bank);
                        let a = tx.get::<Account>(array, 0).unwrap();
                        tx.update(a, |a| a.balance += 1000);
                    })
                    .unwrap();
                })
                .join()
                .unwrap();
            }
            let after = tx.view(|v| {
                let array = v.enter(array);
                let account = v.get::<Account>(array, 0).unwrap();
                v.read(account).balance
            });
            (before, after)
        })
        .unwrap();
    assert_eq!(
        seen,
        (10, 10),
        "a view saw a commit younger than its snapshot"
    );
    assert_eq!(scanned_total(&mut main, &bank), 4 * 10 + 1000);
}

/// A handle made from a view survives the allocations (and collections)
/// after it; a reference of the wrong type panics and aborts.
#[test]
fn handles_from_views_survive_collections_and_types_are_checked() {
    let heap = zealous_heap();
    let mut th = heap.attach().unwrap();
    let value = th
        .atomically(|tx| {
            let tree = make(tx, 3);
            tx.update(tree, |n| n.value = 7);
            let holder = tx.alloc(Node { value: 0 });
            tx.set_ref(holder, 0, Some(tree));
            let kept = tx.view(|v| {
                let holder = v.enter(holder);
                let tree = v.get_ref::<Node, Node>(holder, 0).unwrap();
                v.handle(tree)
            });
            // Fill the tiny nursery many times: minor and major collections
            // move and mark what the handle names.
            for _ in 0..20_000 {
                tx.alloc(Node { value: 3 });
            }
            tx.read(kept).value
        })
        .unwrap();
    assert_eq!(value, 7);

    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        th.atomically(|tx| {
            let other = tx.alloc(Other { _value: 1 });
            // An element holding an Other: reading it as a Node panics.
            let array = tx.alloc_array(1);
            tx.set(array, 0, Some(other));
            tx.view(|v| {
                let array = v.enter(array);
                let _ = v.get::<Node>(array, 0);
            });
        })
    }));
    assert!(wrong.is_err(), "reading an Other as a Node did not panic");
    // The heap is still usable after the panic.
    let five = th
        .atomically(|tx| {
            let node = tx.alloc(Node { value: 5 });
            tx.view(|v| {
                let node = v.enter(node);
                v.read(node).value
            })
        })
        .unwrap();
    assert_eq!(five, 5);
}
