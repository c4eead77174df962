//! Blocking retry: a transaction that retries sleeps until another thread
//! commits a write to something it read, and runs once more then (not in
//! a loop); `or_else` takes its second branch with none of the first's
//! effects; a wait with a deadline gives up.

mod common;
use common::*;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use strata::{Heap, Object, TxQueue};

#[derive(Clone, Copy)]
struct Cell {
    n: u64,
}
impl Object for Cell {}

fn cells(main: &mut strata::Thread, n: usize) -> strata::GlobalRoot<strata::RefArray> {
    let root = main
        .atomically(|tx| {
            let array = tx.alloc_array(n);
            for i in 0..n {
                let cell = tx.alloc(Cell { n: 0 });
                tx.set(array, i, Some(cell));
            }
            tx.root(array)
        })
        .unwrap();
    main.global(&root)
}

fn write_cell(
    t: &mut strata::Thread,
    cells: &strata::GlobalRoot<strata::RefArray>,
    i: usize,
    n: u64,
) {
    t.atomically(|tx| {
        let array = tx.get_global(cells);
        let cell = tx.get::<Cell>(array, i).unwrap();
        tx.write(cell, Cell { n });
    })
    .unwrap();
}

fn retry_wakes_on_a_write_to_what_it_read(heap: Heap) {
    let mut main = heap.attach().unwrap();
    let cells = cells(&mut main, 2);
    let (waiting, told) = mpsc::channel();
    let (seen, retries) = main.blocking(|| {
        std::thread::scope(|s| {
            let (heap, cells) = (&heap, &cells);
            let waiter = s.spawn(move || {
                let mut t = heap.attach().unwrap();
                let seen = t
                    .atomically(|tx| {
                        let array = tx.get_global(cells);
                        let cell = tx.get::<Cell>(array, 0).unwrap();
                        let n = tx.read(cell).n;
                        if n == 0 {
                            tx.blocking(|| waiting.send(()).unwrap());
                            tx.retry();
                        }
                        n
                    })
                    .unwrap();
                (seen, t.abort_counts().retry)
            });
            s.spawn(move || {
                let mut t = heap.attach().unwrap();
                t.blocking(|| told.recv().unwrap());
                // A commit to something the waiter did not read wakes it
                // at most to look again; it does not run the transaction
                // again.
                write_cell(&mut t, cells, 1, 3);
                write_cell(&mut t, cells, 0, 5);
            });
            waiter.join().unwrap()
        })
    });
    assert_eq!(seen, 5);
    assert_eq!(retries, 1, "the transaction ran again without a change");
}

#[test]
fn retry_sleeps_until_another_thread_writes_what_it_read() {
    retry_wakes_on_a_write_to_what_it_read(plain_heap());
}

#[test]
fn retry_with_a_collection_at_every_commit() {
    retry_wakes_on_a_write_to_what_it_read(zealous_heap());
}

#[test]
fn or_else_runs_the_second_branch_with_none_of_the_firsts_effects() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    let cells = cells(&mut t, 1);
    let (shared, private) = t
        .atomically(|tx| {
            let array = tx.get_global(&cells);
            let cell = tx.get::<Cell>(array, 0).unwrap();
            let mine = tx.alloc(Cell { n: 1 });
            tx.write(cell, Cell { n: 10 });
            tx.or_else(
                |tx| {
                    tx.write(cell, Cell { n: 100 });
                    tx.write(mine, Cell { n: 100 });
                    tx.retry()
                },
                |tx| (tx.read(cell).n, tx.read(mine).n),
            )
        })
        .unwrap();
    assert_eq!((shared, private), (10, 1));
    assert_eq!(t.abort_counts().retry, 1);
    let after = t
        .atomically(|tx| {
            let array = tx.get_global(&cells);
            let cell = tx.get::<Cell>(array, 0).unwrap();
            tx.read(cell).n
        })
        .unwrap();
    assert_eq!(after, 10);
}

#[test]
fn nested_or_else_takes_the_first_branch_that_does_not_retry() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    let taken = t
        .atomically(|tx| {
            tx.or_else(
                |tx| tx.or_else(|tx| tx.retry(), |tx| tx.retry()),
                |tx| tx.or_else(|tx| tx.retry(), |_| 3),
            )
        })
        .unwrap();
    assert_eq!(taken, 3);
    assert_eq!(t.abort_counts().retry, 3);
}

#[test]
fn when_both_branches_retry_a_write_to_what_the_first_read_wakes_it() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let cells = cells(&mut main, 2);
    let (waiting, told) = mpsc::channel();
    let seen = main.blocking(|| {
        std::thread::scope(|s| {
            let (heap, cells) = (&heap, &cells);
            let waiter = s.spawn(move || {
                let mut t = heap.attach().unwrap();
                t.atomically(|tx| {
                    let array = tx.get_global(cells);
                    let (a, b) = (
                        tx.get::<Cell>(array, 0).unwrap(),
                        tx.get::<Cell>(array, 1).unwrap(),
                    );
                    tx.or_else(
                        |tx| match tx.read(a).n {
                            0 => tx.retry(),
                            n => n,
                        },
                        |tx| match tx.read(b).n {
                            0 => {
                                tx.blocking(|| waiting.send(()).unwrap());
                                tx.retry()
                            }
                            n => n + 1000,
                        },
                    )
                })
                .unwrap()
            });
            s.spawn(move || {
                let mut t = heap.attach().unwrap();
                t.blocking(|| told.recv().unwrap());
                write_cell(&mut t, cells, 0, 7);
            });
            waiter.join().unwrap()
        })
    });
    assert_eq!(seen, 7);
}

#[test]
#[should_panic(expected = "retry in a transaction that called become_inevitable")]
fn an_inevitable_transaction_cannot_retry() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    t.atomically(|tx| {
        tx.become_inevitable();
        tx.retry()
    })
    .unwrap();
}

#[test]
fn take_with_a_timeout_gives_up_on_an_empty_queue() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    let queue = TxQueue::<u64>::new(&mut t, 4).unwrap();
    let timeout = Duration::from_millis(30);
    let start = Instant::now();
    assert_eq!(queue.take_timeout(&mut t, timeout).unwrap(), None);
    assert!(start.elapsed() >= timeout, "gave up before the timeout");
    // The thread is usable afterwards, and a present element is taken at
    // once.
    t.atomically(|tx| queue.put(tx, 8).unwrap()).unwrap();
    assert_eq!(queue.take_timeout(&mut t, timeout).unwrap(), Some(8));
}

#[test]
fn take_with_a_timeout_gets_what_another_thread_puts_meanwhile() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let queue = TxQueue::<u64>::new(&mut main, 4).unwrap();
    let (started, told) = mpsc::channel();
    let got = main.blocking(|| {
        std::thread::scope(|s| {
            let (heap, queue) = (&heap, &queue);
            let consumer = s.spawn(move || {
                let mut t = heap.attach().unwrap();
                started.send(()).unwrap();
                queue
                    .take_timeout(&mut t, Duration::from_secs(600))
                    .unwrap()
            });
            s.spawn(move || {
                let mut t = heap.attach().unwrap();
                t.blocking(|| told.recv().unwrap());
                t.atomically(|tx| queue.put(tx, 11).unwrap()).unwrap();
            });
            consumer.join().unwrap()
        })
    });
    assert_eq!(got, Some(11));
}
