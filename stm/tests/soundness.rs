//! Safe programs that used to reach freed memory or commit what they should
//! not: an aborted `set_root` after a collection, validation of an anchor no
//! handle holds any more, a conflict swallowed by `catch_unwind`, and a
//! global root received in the middle of a transaction. Each heap runs the
//! verifier, which fills freed memory with poison, so a use after free shows
//! as a wrong type or a wrong value instead of passing by luck.

mod common;
use common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use strata::{Error, GcOptions, GlobalRoot, Heap, HeapConfig, RefArray};

fn verified_heap(max_heap_bytes: usize) -> Heap {
    Heap::with_options(
        HeapConfig {
            nursery_bytes: 64 << 10,
            max_heap_bytes,
            ..HeapConfig::default()
        },
        GcOptions {
            verify: true,
            ..GcOptions::default()
        },
    )
    .unwrap()
}

/// A thread that, each time it is told, runs a major collection (with the
/// telling thread waiting in `blocking`).
struct Collector {
    go: mpsc::Sender<()>,
    done: mpsc::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Collector {
    fn start(heap: &Heap) -> Collector {
        let (go, wait_go) = mpsc::channel::<()>();
        let (done, wait_done) = mpsc::channel();
        let heap = heap.clone();
        let thread = std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            while t.blocking(|| wait_go.recv()).is_ok() {
                t.collect();
                done.send(()).unwrap();
            }
        });
        Collector {
            go,
            done: wait_done,
            thread,
        }
    }

    /// Runs a collection now; call it inside `blocking`.
    fn collect(&self) {
        self.go.send(()).unwrap();
        self.done.recv().unwrap();
    }

    fn stop(self, t: &mut strata::Thread) {
        drop(self.go);
        t.blocking(|| self.thread.join().unwrap());
    }
}

#[test]
fn an_aborted_set_root_restores_an_object_the_attempts_collections_kept() {
    let heap = verified_heap(64 << 20);
    let mut t = heap.attach().unwrap();
    let root = t
        .atomically(|tx| {
            let account = tx.alloc(Account { balance: 7 });
            tx.root(account)
        })
        .unwrap();
    let outcome = t.atomically(|tx| {
        let replacement = tx.alloc(Account { balance: 1 });
        tx.set_root(&root, replacement);
        // Past the heap limit: each failing allocation runs a major
        // collection first, while only the undo log knows the old object.
        let mut held = Vec::new();
        loop {
            held.push(tx.alloc_array(128 << 10));
        }
    });
    assert!(
        matches!(outcome, Err(Error::Alloc(_))),
        "{:?}",
        outcome.err()
    );
    let balance = t
        .atomically(|tx| {
            let account = tx.get_root(&root);
            tx.read(account).balance
        })
        .unwrap();
    assert_eq!(balance, 7, "the root holds its committed object again");
}

#[test]
fn validation_reads_anchors_that_no_handle_holds_any_more() {
    let heap = verified_heap(1 << 30);
    let mut t = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut t, 4, 100));
    let interloper = Interloper::start_with(&heap, &bank, |tx, array| {
        // Another account, so that the commit below must validate.
        let account = tx.get::<Account>(array, 3).unwrap();
        tx.update(account, |a| a.balance += 1);
    });
    let collector = Collector::start(&heap);
    // The only root of an array that only the read set will know.
    let others = make_bank(&mut t, 8, 5);
    let others = Arc::new(Mutex::new(Some(others)));
    let mut attempts = 0;
    t.atomically(|tx| {
        attempts += 1;
        if let Some(root) = others.lock().unwrap().take() {
            // Read every account of it, in a scope: no handle outlives it.
            tx.scope(|tx, _| {
                let array = tx.get_global(&root);
                for i in 0..8 {
                    let account = tx.get::<Account>(array, i).unwrap();
                    assert_eq!(tx.read(account).balance, 5);
                }
            });
            drop(root);
            tx.blocking(|| {
                interloper.commit_now();
                collector.collect();
            });
        }
        let array = tx.get_global(&bank);
        let account = tx.get::<Account>(array, 0).unwrap();
        tx.update(account, |a| a.balance -= 1);
    })
    .unwrap();
    assert_eq!(
        attempts, 1,
        "nothing the transaction read changed: validation found freed anchors"
    );
    assert_eq!(total(&mut t, &bank), 400);
    collector.stop(&mut t);
    interloper.join(&mut t);
}

#[test]
fn a_conflict_caught_by_the_closure_still_aborts_the_attempt() {
    let heap = verified_heap(1 << 30);
    let mut t = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut t, 2, 100));
    let interloper = Interloper::start(&heap, &bank, 0, 50);
    let mut attempts = 0;
    t.atomically(|tx| {
        attempts += 1;
        let array = tx.get_global(&bank);
        let a = tx.get::<Account>(array, 0).unwrap();
        let seen = tx.read(a).balance;
        if attempts == 1 {
            tx.blocking(|| interloper.commit_now());
            // The token is taken, then the snapshot cannot be extended past
            // the interloper's commit: the attempt must abort. The closure
            // swallows the unwinding and goes on.
            let swallowed = catch_unwind(AssertUnwindSafe(|| tx.become_inevitable()));
            assert!(swallowed.is_err());
        }
        // Account 1 := what account 0 held, as read.
        let b = tx.get::<Account>(array, 1).unwrap();
        tx.update(b, |b| b.balance = seen);
    })
    .unwrap();
    assert!(attempts >= 2, "the poisoned attempt did not commit");
    let balances = t
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            let a = tx.get::<Account>(array, 0).unwrap();
            let b = tx.get::<Account>(array, 1).unwrap();
            (tx.read(a).balance, tx.read(b).balance)
        })
        .unwrap();
    assert_eq!(
        balances,
        (150, 150),
        "account 1 copies the committed account 0"
    );
    interloper.join(&mut t);
}

#[test]
fn a_global_root_received_mid_transaction_is_read_in_a_snapshot_that_has_it() {
    let heap = verified_heap(1 << 30);
    let mut t = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut t, 1, 100));
    // Another thread moves half of the money into a new account, commits,
    // and sends the new account over as a global root.
    let (send, receive) = mpsc::channel::<GlobalRoot<RefArray>>();
    let (go, wait_go) = mpsc::channel::<()>();
    let mover = {
        let (heap, bank) = (heap.clone(), bank.clone());
        std::thread::spawn(move || {
            let mut m = heap.attach().unwrap();
            m.blocking(|| wait_go.recv().unwrap());
            let new = m
                .atomically(|tx| {
                    let array = tx.get_global(&bank);
                    let old = tx.get::<Account>(array, 0).unwrap();
                    tx.update(old, |a| a.balance -= 50);
                    let holder = tx.alloc_array(1);
                    let account = tx.alloc(Account { balance: 50 });
                    tx.set(holder, 0, Some(account));
                    tx.root(holder)
                })
                .unwrap();
            let new = m.global(&new);
            send.send(new).unwrap();
        })
    };
    let mut received: Option<GlobalRoot<RefArray>> = None;
    let mut attempts = 0;
    let total = t
        .atomically(|tx| {
            attempts += 1;
            let array = tx.get_global(&bank);
            let old = tx.get::<Account>(array, 0).unwrap();
            let before = tx.read(old).balance;
            if received.is_none() {
                received = Some(tx.blocking(|| {
                    go.send(()).unwrap();
                    receive.recv().unwrap()
                }));
            }
            let holder = tx.get_global(received.as_ref().unwrap());
            let new = tx.get::<Account>(holder, 0).unwrap();
            before + tx.read(new).balance
        })
        .unwrap();
    assert_eq!(
        total, 100,
        "one snapshot: the money is in one place or the other"
    );
    assert_eq!(
        attempts, 2,
        "the snapshot could not be extended past the move"
    );
    t.blocking(|| mover.join().unwrap());
}
