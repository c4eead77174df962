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
