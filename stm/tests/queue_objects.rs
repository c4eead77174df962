//! The queue object (`TxQueueObject`): a bounded queue made inside a
//! transaction and kept in another object's reference slot, whose
//! elements are objects. A producer and a consumer pass every element
//! through it in order, also with a collection at every commit (the queue
//! alone keeps the elements it holds); while it is neither empty nor full
//! a producer and a consumer never abort each other; it refuses a put when
//! full and gives nothing when empty.

mod common;
use common::*;
use strata::{AbortCounts, Heap, Object, TxQueueObject};

#[derive(Clone, Copy)]
struct Item {
    value: u64,
}
impl Object for Item {}

/// An object whose reference slot 0 holds the queue.
#[derive(Clone, Copy)]
struct Holder;
impl Object for Holder {
    const REFS: usize = 1;
}

type Queue = TxQueueObject<Item>;

fn everything_passes_in_order(heap: Heap, items: u64) {
    let mut main = heap.attach().unwrap();
    let holder = main
        .atomically(|tx| {
            let holder = tx.alloc(Holder);
            let queue = Queue::alloc(tx, 8);
            tx.set_ref(holder, 0, Some(queue));
            tx.root(holder)
        })
        .unwrap();
    let holder = main.global(&holder);
    let taken = main.blocking(|| {
        std::thread::scope(|s| {
            let (heap, holder) = (&heap, &holder);
            s.spawn(move || {
                let mut t = heap.attach().unwrap();
                let mut next = 1;
                while next <= items {
                    let put = t
                        .atomically(|tx| {
                            let item = tx.alloc(Item { value: next });
                            let holder = tx.get_global(holder);
                            let queue = tx.get_ref::<Holder, Queue>(holder, 0).unwrap();
                            Queue::put(tx, queue, item).is_ok()
                        })
                        .unwrap();
                    if put {
                        next += 1;
                    } else {
                        std::thread::yield_now();
                    }
                }
            });
            let consumer = s.spawn(move || {
                let mut t = heap.attach().unwrap();
                let mut taken = Vec::new();
                while taken.len() < items as usize {
                    let value = t
                        .atomically(|tx| {
                            let holder = tx.get_global(holder);
                            let queue = tx.get_ref::<Holder, Queue>(holder, 0).unwrap();
                            let item = Queue::take(tx, queue)?;
                            Some(tx.read(item).value)
                        })
                        .unwrap();
                    match value {
                        Some(v) => taken.push(v),
                        None => std::thread::yield_now(),
                    }
                }
                taken
            });
            consumer.join().unwrap()
        })
    });
    assert_eq!(taken, (1..=items).collect::<Vec<_>>());
    let len = main
        .atomically(|tx| {
            let holder = tx.get_global(&holder);
            let queue = tx.get_ref::<Holder, Queue>(holder, 0).unwrap();
            Queue::len(tx, queue)
        })
        .unwrap();
    assert_eq!(len, 0);
}

#[test]
fn a_producer_and_a_consumer_pass_everything_in_order() {
    everything_passes_in_order(plain_heap(), scaled(5_000) as u64);
}

#[test]
fn everything_passes_in_order_with_a_collection_at_every_commit() {
    everything_passes_in_order(zealous_heap(), scaled(200) as u64);
}

#[test]
fn a_full_queue_refuses_and_an_empty_one_gives_nothing() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    t.atomically(|tx| {
        let queue = Queue::alloc(tx, 2);
        assert!(Queue::is_empty(tx, queue));
        assert!(Queue::take(tx, queue).is_none());
        for value in 1..=2 {
            let item = tx.alloc(Item { value });
            assert!(Queue::put(tx, queue, item).is_ok());
        }
        let third = tx.alloc(Item { value: 3 });
        let refused = Queue::put(tx, queue, third).unwrap_err();
        assert_eq!(tx.read(refused).value, 3);
        assert_eq!(Queue::len(tx, queue), 2);
        let first = Queue::take(tx, queue).unwrap();
        assert_eq!(tx.read(first).value, 1);
        assert!(Queue::put(tx, queue, third).is_ok());
        let second = Queue::take(tx, queue).unwrap();
        assert_eq!(tx.read(second).value, 2);
        let last = Queue::take(tx, queue).unwrap();
        assert_eq!(tx.read(last).value, 3);
        assert!(Queue::take(tx, queue).is_none());
    })
    .unwrap();
}

/// A queue of `4 * rounds` places holding `2 * rounds` elements, then
/// `rounds` puts on one thread and `rounds` takes on another (20,000 at
/// full scale), started together, one a transaction: it is never empty
/// nor full, so the two sides touch disjoint objects and never abort.
#[test]
fn a_producer_and_a_consumer_never_abort_while_the_queue_is_neither_empty_nor_full() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let rounds = scaled(20_000) as u64;
    let holder = main
        .atomically(|tx| {
            let holder = tx.alloc(Holder);
            let queue = Queue::alloc(tx, 4 * rounds as usize);
            for value in 0..2 * rounds {
                let item = tx.alloc(Item { value });
                Queue::put(tx, queue, item).unwrap();
            }
            tx.set_ref(holder, 0, Some(queue));
            tx.root(holder)
        })
        .unwrap();
    let holder = main.global(&holder);
    let start = std::sync::Barrier::new(2);
    let counts = main.blocking(|| {
        std::thread::scope(|s| {
            let sides: Vec<_> = [true, false]
                .into_iter()
                .map(|producer| {
                    let (heap, holder, start) = (&heap, &holder, &start);
                    s.spawn(move || {
                        let mut t = heap.attach().unwrap();
                        t.blocking(|| start.wait());
                        for value in 0..rounds {
                            t.atomically(|tx| {
                                let holder = tx.get_global(holder);
                                let queue = tx.get_ref::<Holder, Queue>(holder, 0).unwrap();
                                if producer {
                                    let item = tx.alloc(Item { value });
                                    assert!(Queue::put(tx, queue, item).is_ok());
                                } else {
                                    assert!(Queue::take(tx, queue).is_some());
                                }
                            })
                            .unwrap();
                        }
                        t.abort_counts()
                    })
                })
                .collect();
            sides
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        })
    });
    assert_eq!(counts, vec![AbortCounts::default(); 2]);
}
