//! The semantics of `DESIGN.md`, one test each: aborted work never shows,
//! panics abort and propagate, callbacks, nesting, roots of aborted
//! transactions, inevitable transactions, long transactions, breaking.

mod common;
use common::*;
use std::cell::Cell as StdCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use strata::{Error, Heap, HeapConfig, Object, TxConfig};

#[derive(Clone, Copy, Debug, PartialEq)]
struct Node {
    value: u64,
}
impl Object for Node {
    const REFS: usize = 1;
}

#[test]
fn a_panic_aborts_the_transaction_and_propagates() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let bank = make_bank(&mut t, 4, 10);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.atomically(|tx| {
            let array = tx.get_global(&bank);
            let a = tx.get::<Account>(array, 0).unwrap();
            tx.update(a, |a| a.balance = 999);
            panic!("boom");
        })
    }));
    assert!(result.is_err());
    assert_eq!(total(&mut t, &bank), 40, "the aborted write showed");
    // The heap is usable and the object writable afterwards.
    t.atomically(|tx| {
        let array = tx.get_global(&bank);
        let a = tx.get::<Account>(array, 0).unwrap();
        tx.update(a, |a| a.balance += 1);
    })
    .unwrap();
    assert_eq!(total(&mut t, &bank), 41);
    let panics = strata::AbortCounts {
        panic: 1,
        ..Default::default()
    };
    assert_eq!(t.abort_counts(), panics, "the abort is counted as a panic");
    assert_eq!(t.tx_counts().1, 1);
    assert_eq!(heap.abort_counts(), Default::default(), "added at detach");
    drop(t);
    assert_eq!(heap.abort_counts(), panics);
    assert_eq!(heap.tx_counts().1, 1);
}

/// `Tx::update` writes without reading first (see `DESIGN.md`, "Barriers"):
/// an object another transaction changed after our snapshot is copied at
/// its newest version (the snapshot extends, nothing read having changed),
/// so the update commits at the first attempt and adds to the newer value.
/// A read before the write would have recorded the older version and
/// failed the extension.
#[test]
fn an_update_after_a_concurrent_commit_extends_instead_of_aborting() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let bank = std::sync::Arc::new(make_bank(&mut main, 4, 10));
    let interloper = Interloper::start(&heap, &bank, 1, 1000);
    let mut attempts = 0;
    main.atomically(|tx| {
        attempts += 1;
        let array = tx.get_global(&bank);
        let account = tx.get::<Account>(array, 1).unwrap();
        if attempts == 1 {
            tx.blocking(|| interloper.commit_now());
        }
        tx.update(account, |a| a.balance += 1);
    })
    .unwrap();
    interloper.join(&mut main);
    assert_eq!(attempts, 1, "the update aborted instead of extending");
    assert_eq!(total(&mut main, &bank), 40 + 1000 + 1);
}

/// A closure given to `Tx::update` that panics after changing its value
/// writes nothing, even when the panic is caught inside the transaction.
/// Two references, then three words of data.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Wide {
    a: u64,
    b: u64,
    c: u64,
}
impl Object for Wide {
    const REFS: usize = 2;
}

#[test]
fn a_first_write_copies_the_whole_object_from_its_newest_version() {
    let heap = Heap::new(HeapConfig::default()).unwrap();
    let mut t = heap.attach().unwrap();
    let wide = t
        .atomically(|tx| {
            let w = tx.alloc(Wide { a: 1, b: 2, c: 3 });
            for (field, value) in [(0, 10), (1, 20)] {
                let n = tx.alloc(Node { value });
                tx.set_ref(w, field, Some(n));
            }
            tx.root(w)
        })
        .unwrap();
    let seen = |t: &mut strata::Thread| {
        t.atomically(|tx| {
            let w = tx.get_root(&wide);
            let refs = [0, 1].map(|field| {
                let n = tx.get_ref::<Wide, Node>(w, field).unwrap();
                tx.read(n).value
            });
            (tx.read(w), refs)
        })
        .unwrap()
    };
    // The first update copies the inline body, the second the record the
    // first published: every reference and word survives both, and the
    // second keeps what the first wrote.
    t.atomically(|tx| {
        let w = tx.get_root(&wide);
        tx.update(w, |w| w.b = 5);
    })
    .unwrap();
    assert_eq!(seen(&mut t), (Wide { a: 1, b: 5, c: 3 }, [10, 20]));
    t.atomically(|tx| {
        let w = tx.get_root(&wide);
        tx.update(w, |w| w.c = 7);
    })
    .unwrap();
    assert_eq!(seen(&mut t), (Wide { a: 1, b: 5, c: 7 }, [10, 20]));
}

#[test]
fn an_update_whose_closure_panics_writes_nothing() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    let bank = make_bank(&mut t, 2, 10);
    let seen = t
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            let a = tx.get::<Account>(array, 0).unwrap();
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tx.update(a, |a| {
                    a.balance = 999;
                    panic!("half-way");
                })
            }));
            assert!(caught.is_err());
            tx.read(a).balance
        })
        .unwrap();
    assert_eq!(seen, 10, "the panicking update wrote");
    assert_eq!(total(&mut t, &bank), 20);
}

/// A thread holds one `Thread` of a heap at a time: a second would deadlock
/// (a transaction of one running a transaction of the other hangs at its
/// first major collection), so `attach` refuses it with an error.
#[test]
fn a_second_thread_handle_of_one_heap_on_one_thread_is_refused() {
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    match heap.attach() {
        Err(Error::Heap(strata::HeapError::AlreadyAttached)) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("two handles of one heap on one thread"),
    }
    // The first handle is unharmed.
    let bank = make_bank(&mut t, 2, 5);
    assert_eq!(total(&mut t, &bank), 10);
    drop(bank);
    drop(t);
    assert!(heap.attach().is_ok(), "attaching after detaching failed");
}

#[test]
fn callbacks_run_on_the_outcome() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    let committed = Rc::new(StdCell::new(0));
    let aborted = Rc::new(StdCell::new(0));
    let register = |tx: &mut strata::Tx<'_>| {
        let (c, a) = (committed.clone(), aborted.clone());
        tx.on_commit(move || c.set(c.get() + 1));
        tx.on_abort(move || a.set(a.get() + 1));
    };
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.atomically(|tx| {
            register(tx);
            panic!("abort this attempt");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!((committed.get(), aborted.get()), (0, 1));
    t.atomically(|tx| register(tx)).unwrap();
    assert_eq!((committed.get(), aborted.get()), (1, 1));
}

#[test]
fn nested_blocks_flatten_and_roots_of_aborted_transactions_die() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    let root = t
        .atomically(|tx| {
            let outer = tx.alloc(Node { value: 1 });
            tx.atomically(|tx| {
                let inner = tx.alloc(Node { value: 2 });
                tx.set_ref(outer, 0, Some(inner));
            });
            tx.root(outer)
        })
        .unwrap();
    let values = t
        .atomically(|tx| {
            let outer = tx.get_root(&root);
            let inner = tx.get_ref::<Node, Node>(outer, 0).unwrap();
            (tx.read(outer).value, tx.read(inner).value)
        })
        .unwrap();
    assert_eq!(values, (1, 2));

    let leaked = std::cell::RefCell::new(None);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.atomically(|tx| {
            let node = tx.alloc(Node { value: 3 });
            *leaked.borrow_mut() = Some(tx.root(node));
            panic!("abort it");
        })
    }));
    let leaked = leaked.into_inner().unwrap();
    let use_dead = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.atomically(|tx| {
            tx.get_root(&leaked);
        })
    }));
    assert!(
        use_dead.is_err(),
        "a root of an aborted transaction was usable"
    );
}

#[test]
fn an_inevitable_transaction_commits_while_others_contend() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut main, 8, 100));
    let stop = Arc::new(AtomicBool::new(false));
    let contenders: Vec<_> = (0..3)
        .map(|w| {
            let (heap, bank, stop) = (heap.clone(), bank.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut t = heap.attach().unwrap();
                let mut rng = Rng(w + 11);
                while !stop.load(Ordering::Relaxed) {
                    let (from, to) = (rng.below(8), rng.below(8));
                    t.atomically(|tx| {
                        let array = tx.get_global(&bank);
                        let a = tx.get::<Account>(array, from).unwrap();
                        let b = tx.get::<Account>(array, to).unwrap();
                        tx.update(a, |a| a.balance -= 1);
                        tx.update(b, |b| b.balance += 1);
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    let side_effects = AtomicUsize::new(0);
    for _ in 0..scaled(200) {
        main.atomically(|tx| {
            tx.become_inevitable();
            assert!(tx.is_inevitable());
            // Irreversible work: must happen exactly once per commit.
            side_effects.fetch_add(1, Ordering::SeqCst);
            let array = tx.get_global(&bank);
            for i in 0..8 {
                let a = tx.get::<Account>(array, i).unwrap();
                tx.update(a, |a| a.balance += 0);
            }
        })
        .unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for c in contenders {
        main.blocking(|| c.join().unwrap());
    }
    assert_eq!(side_effects.load(Ordering::SeqCst), scaled(200));
    assert_eq!(total(&mut main, &bank), 800);
}

/// Several threads move money, and each makes every eighth transfer
/// inevitable half-way (after its reads), so that threads compete for the
/// token while others commit (see `DESIGN.md`, "Commit": the token is the
/// clock's top bit). An inevitable transaction sees the newest state, so
/// its audit of every account always finds the exact total, and the final
/// total is exact.
#[test]
fn inevitable_transactions_compete_with_each_other_and_with_committers() {
    let heap = zealous_heap();
    let mut main = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut main, 16, 100));
    let inevitable_commits = Arc::new(AtomicUsize::new(0));
    // Work done after `become_inevitable`: exactly once per such commit.
    let inevitable_runs = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4u64)
        .map(|w| {
            let (heap, bank, count) = (heap.clone(), bank.clone(), inevitable_commits.clone());
            let runs = inevitable_runs.clone();
            std::thread::spawn(move || {
                let mut t = heap.attach().unwrap();
                let mut rng = Rng(w * 7 + 3);
                for k in 0..scaled(400) {
                    let (from, to) = (rng.below(16), rng.below(16));
                    let inevitable = k % 8 == 0;
                    let audited = t
                        .atomically(|tx| {
                            let array = tx.get_global(&bank);
                            let a = tx.get::<Account>(array, from).unwrap();
                            let b = tx.get::<Account>(array, to).unwrap();
                            let _ = (tx.read(a).balance, tx.read(b).balance);
                            if !inevitable {
                                tx.update(a, |a| a.balance -= 1);
                                tx.update(b, |b| b.balance += 1);
                                return None;
                            }
                            tx.become_inevitable();
                            runs.fetch_add(1, Ordering::SeqCst);
                            let mut sum = 0;
                            tx.for_each_value::<Account>(array, |_, x| sum += x.unwrap().balance);
                            tx.update(a, |a| a.balance -= 2);
                            tx.update(b, |b| b.balance += 2);
                            Some(sum)
                        })
                        .unwrap();
                    if let Some(sum) = audited {
                        assert_eq!(sum, 1600, "an inevitable transaction saw a torn total");
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        main.blocking(|| w.join().unwrap());
    }
    let commits = inevitable_commits.load(Ordering::SeqCst);
    assert_eq!(commits, 4 * scaled(400).div_ceil(8));
    assert_eq!(
        inevitable_runs.load(Ordering::SeqCst),
        commits,
        "an inevitable transaction ran again after becoming inevitable"
    );
    assert_eq!(total(&mut main, &bank), 1600);
}

/// A committer waiting for an inevitable transaction's token no longer
/// holds its handles; it answers the safepoints of major collections while
/// it waits and then commits: what its validation and publication touch is
/// rooted (see `DESIGN.md`, "Commit"). The verifier poisons freed memory, so
/// a read of a freed anchor would show as a failed validation (a retry) or
/// a wrong balance.
#[test]
fn a_committer_waiting_for_the_token_takes_part_in_collections_and_commits() {
    let heap = Heap::with_options(
        HeapConfig {
            nursery_bytes: 64 << 10,
            ..HeapConfig::default()
        },
        strata::GcOptions {
            verify: true,
            ..strata::GcOptions::default()
        },
    )
    .unwrap();
    let mut main = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut main, 4, 100));
    let done = Arc::new(AtomicBool::new(false));
    let (ready, wait_ready) = std::sync::mpsc::channel::<()>();
    let inevitable = {
        let (heap, done) = (heap.clone(), done.clone());
        std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            t.atomically(|tx| {
                tx.become_inevitable();
                ready.send(()).unwrap();
                // Allocate now and then: a full nursery polls the safepoint,
                // so the collections below do not wait for us forever.
                while !done.load(Ordering::SeqCst) {
                    tx.alloc_array(1000);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
            .unwrap();
        })
    };
    main.blocking(|| wait_ready.recv().unwrap());
    let attempts = Arc::new(AtomicUsize::new(0));
    let (closed, wait_closed) = std::sync::mpsc::channel::<()>();
    let committer = {
        let (heap, bank, attempts) = (heap.clone(), bank.clone(), attempts.clone());
        std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            t.atomically(|tx| {
                attempts.fetch_add(1, Ordering::SeqCst);
                // Read and write the accounts through handles of a scope
                // only: at commit nothing but the roots keeps them.
                tx.scope(|tx, _| {
                    let array = tx.get_global(&bank);
                    let from = tx.get::<Account>(array, 0).unwrap();
                    let to = tx.get::<Account>(array, 1).unwrap();
                    let amount = tx.read(from).balance / 2;
                    tx.update(from, |a| a.balance -= amount);
                    tx.update(to, |a| a.balance += amount);
                });
                let _ = closed.send(());
            })
            .unwrap()
        })
    };
    main.blocking(|| wait_closed.recv().unwrap());
    // The committer now waits for the token (it cannot commit while the
    // token is held); every collection needs it at a safepoint.
    for _ in 0..20 {
        main.blocking(|| std::thread::sleep(std::time::Duration::from_millis(2)));
        main.collect();
    }
    done.store(true, Ordering::SeqCst);
    main.blocking(|| inevitable.join().unwrap());
    main.blocking(|| committer.join().unwrap());
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "the committer waited through the collections and committed"
    );
    let balances = main
        .atomically(|tx| {
            let array = tx.get_global(&bank);
            let a = tx.get::<Account>(array, 0).unwrap();
            let b = tx.get::<Account>(array, 1).unwrap();
            (tx.read(a).balance, tx.read(b).balance)
        })
        .unwrap();
    assert_eq!(balances, (50, 150));
    assert_eq!(total(&mut main, &bank), 400);
}

#[test]
fn hot_spot_contention_makes_progress() {
    // Every transaction writes the same account; max_retries 4 forces the
    // inevitable fallback often.
    let heap = plain_heap().with_tx_config(TxConfig {
        max_retries: 4,
        break_bytes: 1 << 20,
        reports: strata::ReportConfig::default(),
    });
    let mut main = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut main, 1, 0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (heap, bank) = (heap.clone(), bank.clone());
            std::thread::spawn(move || {
                let mut t = heap.attach().unwrap();
                for _ in 0..scaled(2000) {
                    t.atomically(|tx| {
                        let array = tx.get_global(&bank);
                        let a = tx.get::<Account>(array, 0).unwrap();
                        tx.update(a, |a| a.balance += 1);
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        main.blocking(|| t.join().unwrap());
    }
    assert_eq!(total(&mut main, &bank), 4 * scaled(2000) as i64);
}

#[test]
fn a_long_transaction_survives_minor_collections_in_the_middle() {
    let stats = long_transaction(false);
    assert!(stats.minor_collections > 10);
    assert_eq!(stats.pretenured_bytes, 0);
}

#[test]
fn a_long_transaction_that_pretenures_keeps_its_objects_private_until_commit() {
    let stats = long_transaction(true);
    assert!(stats.pretenured_bytes > 1 << 20);
}

/// Builds a list bigger than the nursery in one transaction, doubles every
/// value in another and checks the sum in a third; returns the statistics
/// after the first.
fn long_transaction(pretenure: bool) -> strata::GcStats {
    let heap = Heap::new(HeapConfig {
        nursery_bytes: 256 << 10,
        pretenure,
        ..HeapConfig::default()
    })
    .unwrap();
    let mut t = heap.attach().unwrap();
    // Never scaled down: the list must outgrow the nursery.
    let n = scaled(200_000).max(200_000);
    let head = t
        .atomically(|tx| {
            let mut head = tx.alloc(Node { value: 0 });
            for i in 1..n as u64 {
                let node = tx.alloc(Node { value: i });
                tx.set_ref(node, 0, Some(head));
                head = node;
            }
            assert!(tx.should_break());
            tx.root(head)
        })
        .unwrap();
    let stats = t.gc_stats();
    // An aborted update of every node leaves nothing behind: the objects
    // the first transaction made are shared now (written through copies),
    // not private ones written in place.
    let abandoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.atomically(|tx| {
            let mut cursor = Some(tx.get_root(&head));
            while let Some(node) = cursor {
                tx.update(node, |v| v.value += 1_000_000);
                cursor = tx.get_ref::<Node, Node>(node, 0);
            }
            panic!("abandon the update");
        })
    }));
    assert!(abandoned.is_err());
    // Then update every node in one transaction (a write per object).
    t.atomically(|tx| {
        let mut cursor = Some(tx.get_root(&head));
        while let Some(node) = cursor {
            tx.update(node, |v| v.value *= 2);
            cursor = tx.get_ref::<Node, Node>(node, 0);
        }
    })
    .unwrap();
    let sum = t
        .atomically(|tx| {
            let mut sum = 0u64;
            let mut cursor = Some(tx.get_root(&head));
            while let Some(node) = cursor {
                sum += tx.read(node).value;
                cursor = tx.get_ref::<Node, Node>(node, 0);
            }
            sum
        })
        .unwrap();
    let n = n as u64;
    assert_eq!(sum, n * (n - 1));
    stats
}

#[test]
fn out_of_memory_in_a_transaction_is_an_error_and_nothing_shows() {
    let heap = Heap::new(HeapConfig {
        nursery_bytes: 64 << 10,
        max_heap_bytes: 4 << 20,
        ..HeapConfig::default()
    })
    .unwrap();
    let mut t = heap.attach().unwrap();
    let bank = make_bank(&mut t, 4, 10);
    let result = t.atomically(|tx| {
        let array = tx.get_global(&bank);
        let a = tx.get::<Account>(array, 0).unwrap();
        tx.update(a, |a| a.balance = 0);
        let mut keep = Vec::new();
        loop {
            keep.push(tx.alloc_array(10_000));
        }
    });
    assert!(matches!(result, Err(Error::Alloc(_))), "{:?}", result.err());
    assert_eq!(total(&mut t, &bank), 40);
}

#[test]
fn a_transaction_waiting_outside_the_heap_lets_a_major_collection_run() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut main, 4, 10));
    let (go, wait_go) = std::sync::mpsc::channel::<()>();
    let (collected, wait_collected) = std::sync::mpsc::channel::<u64>();
    let collector = {
        let heap = heap.clone();
        std::thread::spawn(move || {
            let mut t = heap.attach().unwrap();
            t.blocking(|| wait_go.recv().unwrap());
            // Stops the world: it would wait for `main` forever if `main`
            // waited inside its transaction without leaving the heap.
            t.collect();
            collected.send(t.gc_stats().major_collections).unwrap();
        })
    };
    let majors_before = main.gc_stats().major_collections;
    let (seen, majors) = main
        .atomically(|tx| {
            let young = tx.alloc(Node { value: 77 });
            let array = tx.get_global(&bank);
            let a = tx.get::<Account>(array, 0).unwrap();
            tx.update(a, |a| a.balance += 5);
            let majors = tx.blocking(|| {
                go.send(()).unwrap();
                wait_collected.recv().unwrap()
            });
            // The young object was promoted (privately) and the private
            // copy kept through the collection.
            (tx.read(young).value as i64 + tx.read(a).balance, majors)
        })
        .unwrap();
    assert!(majors > majors_before, "{majors} after {majors_before}");
    assert_eq!(seen, 77 + 15);
    main.blocking(|| collector.join().unwrap());
    assert_eq!(total(&mut main, &bank), 45);
}

#[test]
fn a_large_object_made_by_a_transaction_is_private_until_it_commits() {
    // Arrays over a quarter of the nursery are made straight in the old
    // space; they must be private (written in place, invisible to others)
    // like young objects, and published whole at commit.
    let heap = Heap::new(HeapConfig {
        nursery_bytes: 64 << 10,
        ..HeapConfig::default()
    })
    .unwrap();
    let mut t = heap.attach().unwrap();
    let n = 10_000;
    let bank = make_bank(&mut t, 1, 5);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.atomically(|tx| {
            let big = tx.alloc_array(n);
            let array = tx.get_global(&bank);
            let a = tx.get::<Account>(array, 0).unwrap();
            tx.set(big, 0, Some(a));
            tx.update(a, |a| a.balance = 999);
            panic!("abandon the first big array");
        })
    }));
    assert!(result.is_err());
    assert_eq!(total(&mut t, &bank), 5, "the abandoned write showed");
    let big = t
        .atomically(|tx| {
            let big = tx.alloc_array(n);
            for i in 0..n {
                let a = tx.alloc(Account { balance: 1 });
                tx.set(big, i, Some(a));
            }
            for i in (0..n).step_by(3) {
                let a = tx.get::<Account>(big, i).unwrap();
                tx.update(a, |a| a.balance += 1);
            }
            tx.root(big)
        })
        .unwrap();
    let big = t.global(&big);
    let expected = (n + n.div_ceil(3)) as i64;
    // `t` waits for the other thread outside the heap: a major collection
    // that thread starts (STRATA_GC_ZEAL) must not wait for `t`.
    t.blocking(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut other = heap.attach().unwrap();
                let sum = other
                    .atomically(|tx| {
                        let big = tx.get_global(&big);
                        let len = tx.len(big);
                        (0..len)
                            .map(|i| {
                                let a = tx.get::<Account>(big, i).unwrap();
                                tx.read(a).balance
                            })
                            .sum::<i64>()
                    })
                    .unwrap();
                assert_eq!(sum, expected);
                // Published, so no longer private: another thread's aborted
                // write to it must not show.
                let aborted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    other.atomically(|tx| {
                        let big = tx.get_global(&big);
                        tx.set::<Account>(big, 1, None);
                        panic!("abort the write");
                    })
                }));
                assert!(aborted.is_err());
                let first = other
                    .atomically(|tx| {
                        let big = tx.get_global(&big);
                        tx.get::<Account>(big, 1).map(|a| tx.read(a).balance)
                    })
                    .unwrap();
                assert_eq!(
                    first,
                    Some(1),
                    "an aborted write to a published object showed"
                );
            });
        })
    });
}

#[test]
fn private_copies_survive_major_collections_in_the_middle_of_their_transaction() {
    // Copies are rooted only as the thread's old roots: a major collection
    // that missed them would free them, and the copies made after it would
    // take their slots.
    let heap = zealous_heap();
    let mut t = heap.attach().unwrap();
    let n = 400;
    let bank = make_bank(&mut t, n, 0);
    let before = t.gc_stats().major_collections;
    t.atomically(|tx| {
        let array = tx.get_global(&bank);
        for i in 0..n / 2 {
            let a = tx.get::<Account>(array, i).unwrap();
            tx.write(a, Account { balance: i as i64 });
        }
        // Fill the tiny nursery several times: a major collection at each.
        for _ in 0..20_000 {
            tx.scope(|tx, _| {
                tx.alloc(Account { balance: -1 });
            });
        }
        for i in n / 2..n {
            let a = tx.get::<Account>(array, i).unwrap();
            tx.write(a, Account { balance: i as i64 });
        }
    })
    .unwrap();
    assert!(t.gc_stats().major_collections > before + 2);
    t.atomically(|tx| {
        let array = tx.get_global(&bank);
        for i in 0..n {
            let a = tx.get::<Account>(array, i).unwrap();
            assert_eq!(tx.read(a).balance, i as i64, "account {i}");
        }
    })
    .unwrap();
}
