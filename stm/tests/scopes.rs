//! Handle scopes (see `DESIGN.md`, "Object handles in a transaction"): a long
//! transaction's arena stays small, writes made in a scope stay the
//! transaction's (read back, written again, committed or aborted), and
//! minor collections in the middle keep everything in place.

mod common;
use common::*;
use strata::Object;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Node {
    value: u64,
}
impl Object for Node {}

#[test]
fn a_long_transaction_in_scopes_keeps_few_handles() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let bank = make_bank(&mut t, 2000, 10);
    let (sum, grown) = t
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            let before = tx.handle_count();
            let mut sum = 0;
            for i in 0..2000 {
                sum += tx.scope(|tx, lift| {
                    let account = tx.get::<Account>(lift.lift(array), i).unwrap();
                    // Young garbage fills the tiny nursery: collections run
                    // in the middle of the transaction.
                    for _ in 0..8 {
                        tx.alloc(Node { value: i as u64 });
                    }
                    tx.read(account).balance
                });
            }
            (sum, tx.handle_count() - before)
        })
        .unwrap();
    assert_eq!(sum, 20_000);
    assert_eq!(grown, 0, "handles made in scopes outlived them");
}

#[test]
fn writes_in_a_scope_are_the_transactions() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let bank = make_bank(&mut t, 16, 100);
    t.atomically(|tx| {
        let array = tx.get_global(&bank);
        for i in 0..16 {
            tx.scope(|tx, lift| {
                let account = tx.get::<Account>(lift.lift(array), i).unwrap();
                tx.update(account, |a| a.balance += i as i64);
            });
        }
        // New handles reuse the arena positions the scopes gave back; the
        // copies made in the scopes must not be among them.
        let fresh: Vec<_> = (0..64).map(|v| tx.alloc(Node { value: v })).collect();
        for i in 0..16 {
            let account = tx.get::<Account>(array, i).unwrap();
            assert_eq!(tx.read(account).balance, 100 + i as i64, "account {i}");
            // A repeated write after the scope goes to the same copy.
            tx.update(account, |a| a.balance += 1000);
        }
        for (v, node) in fresh.into_iter().enumerate() {
            assert_eq!(tx.read(node).value, v as u64);
        }
    })
    .unwrap();
    let balances: Vec<i64> = t
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            (0..16)
                .map(|i| {
                    let account = tx.get::<Account>(array, i).unwrap();
                    tx.read(account).balance
                })
                .collect()
        })
        .unwrap();
    assert_eq!(balances, (0..16).map(|i| 1100 + i).collect::<Vec<i64>>());
    // An aborted transaction's scoped writes do not show.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.atomically(|tx| {
            let array = tx.get_global(&bank);
            tx.scope(|tx, lift| {
                let account = tx.get::<Account>(lift.lift(array), 0).unwrap();
                tx.update(account, |a| a.balance = -1);
            });
            panic!("abort");
        })
    }));
    assert_eq!(total(&mut t, &bank), (0..16).map(|i| 1100 + i).sum::<i64>());
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Pair {
    value: u64,
}
impl Object for Pair {
    const REFS: usize = 2;
}

/// A tree of `depth` built bottom-up, a scope per level that returns its
/// node; values number the nodes in the order made.
fn bottom_up<'tx>(tx: &mut strata::Tx<'tx>, depth: u32, next: &mut u64) -> strata::Obj<'tx, Pair> {
    if depth == 0 {
        *next += 1;
        return tx.alloc(Pair { value: *next });
    }
    tx.scope_returning(|tx, _| {
        let left = bottom_up(tx, depth - 1, next);
        let right = bottom_up(tx, depth - 1, next);
        *next += 1;
        let node = tx.alloc(Pair { value: *next });
        tx.set_ref(node, 0, Some(left));
        tx.set_ref(node, 1, Some(right));
        node
    })
}

/// Sum and count of the tree's values, read through handles.
fn tree_sum<'tx>(tx: &mut strata::Tx<'tx>, node: strata::Obj<'tx, Pair>) -> (u64, u64) {
    let value = tx.read(node).value;
    match (
        tx.get_ref::<Pair, Pair>(node, 0),
        tx.get_ref::<Pair, Pair>(node, 1),
    ) {
        (Some(l), Some(r)) => {
            let ((ls, lc), (rs, rc)) = (tree_sum(tx, l), tree_sum(tx, r));
            (value + ls + rs, 1 + lc + rc)
        }
        _ => (value, 1),
    }
}

#[test]
fn a_scope_returning_a_handle_keeps_it_and_drops_the_rest() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let kept = t
        .atomically(|tx| {
            let before = tx.handle_count();
            let mut next = 0;
            // Big enough to fill the tiny nursery many times: the returned
            // handles are moved by the collections in the middle.
            let tree = bottom_up(tx, 12, &mut next);
            assert_eq!(tx.handle_count(), before + 1);
            let outer = tx.alloc(Pair { value: 0 });
            // A handle lifted into the scope can be the one returned.
            let same = tx.scope_returning(|tx, lift| {
                tx.alloc(Pair { value: 99 });
                lift.lift(outer)
            });
            tx.update(same, |p| p.value = 7);
            assert_eq!(tx.read(outer).value, 7);
            let root = tx.root(tree);
            (root, next)
        })
        .unwrap();
    let (root, made) = kept;
    let (sum, count) = t
        .atomically(|tx| {
            let tree = tx.get_root(&root);
            tree_sum(tx, tree)
        })
        .unwrap();
    assert_eq!(count, (1 << 13) - 1);
    assert_eq!((count, sum), (made, made * (made + 1) / 2));
}
