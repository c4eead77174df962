//! The bank: threads move money between random accounts while readers sum
//! all accounts; every sum a reader sees is the invariant total and the
//! final total is exact. Also with a tiny nursery, a collection at every
//! commit and the verifier on.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use strata::{GcOptions, Heap, HeapConfig};

fn heap_majors(heap: &Heap) -> u64 {
    heap.gc_stats().major_collections
}

fn run_bank(heap: Heap, writers: usize, transfers: usize, accounts: usize) {
    let mut main = heap.attach().unwrap();
    let bank = Arc::new(make_bank(&mut main, accounts, 1000));
    let expected = accounts as i64 * 1000;
    let done = Arc::new(AtomicBool::new(false));
    // One reader reads account by account, the other scans.
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (heap, bank, done) = (heap.clone(), bank.clone(), done.clone());
            std::thread::spawn(move || {
                let mut t = heap.attach().unwrap();
                // At least one sum each, however short the writers' run
                // (STRATA_STRESS_SCALE can make it a few transfers).
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let sum = if r == 0 {
                        total(&mut t, &bank)
                    } else {
                        scanned_total(&mut t, &bank)
                    };
                    assert_eq!(sum, expected, "a reader saw a torn state");
                    if finished {
                        break;
                    }
                }
                assert_eq!(t.tx_counts().1, 0, "a read-only transaction aborted");
            })
        })
        .collect();
    let writer_count = writers;
    let writers: Vec<_> = (0..writers)
        .map(|w| {
            let (heap, bank) = (heap.clone(), bank.clone());
            std::thread::spawn(move || {
                let mut t = heap.attach().unwrap();
                let mut rng = Rng(0x9e37_79b9 + w as u64 * 7919);
                for _ in 0..transfers {
                    let from = rng.below(accounts);
                    let to = (from + 1 + rng.below(accounts - 1)) % accounts;
                    let amount = rng.below(100) as i64;
                    t.atomically(|tx| {
                        let array = tx.get_global(&bank);
                        // Half the writers fetch the accounts with the
                        // hint that they are about to write them.
                        let (a, b) = if w % 2 == 0 {
                            (tx.get::<Account>(array, from), tx.get::<Account>(array, to))
                        } else {
                            (
                                tx.get_for_update::<Account>(array, from),
                                tx.get_for_update::<Account>(array, to),
                            )
                        };
                        let (a, b) = (a.unwrap(), b.unwrap());
                        tx.update(a, |a| a.balance -= amount);
                        tx.update(b, |b| b.balance += amount);
                    })
                    .unwrap();
                }
                t.tx_counts()
            })
        })
        .collect();
    let mut commits = 0;
    for w in writers {
        commits += main.blocking(|| w.join().unwrap()).0;
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        main.blocking(|| r.join().unwrap());
    }
    assert_eq!(commits, (writer_count * transfers) as u64);
    assert_eq!(total(&mut main, &bank), expected);
}

#[test]
fn bank_total_is_invariant() {
    run_bank(plain_heap(), 8, scaled(100_000), 1000);
}

#[test]
fn bank_with_tiny_nursery_and_collection_at_every_commit() {
    run_bank(zealous_heap(), 4, scaled(300), 64);
}

#[test]
fn bank_with_wide_majors_marked_by_four_threads() {
    // 20,000 accounts put more objects on the mark stack than the parallel
    // threshold, so growth-triggered majors (every MiB) go parallel by
    // themselves; the verifier checks each.
    let heap = Heap::with_options(
        HeapConfig {
            min_major_bytes: 1 << 20,
            gc_threads: 4,
            ..HeapConfig::default()
        },
        GcOptions {
            verify: true,
            major_every_minor: false,
            parallel_mark_always: false,
        },
    )
    .unwrap();
    run_bank(heap.clone(), 4, scaled(20_000), 20_000);
    assert!(heap_majors(&heap) > 0, "no major collection ran");
}

#[test]
fn bank_with_parallel_marking_at_every_commit() {
    run_bank(parallel_marking_heap(), 4, scaled(300), 4096);
}
