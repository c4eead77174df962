//! The conflict-free structures: a counter whose concurrent adds never
//! abort, a hash map whose writes of keys in distinct buckets never abort
//! each other and that behaves as a sequential map, and a queue whose
//! producers and consumers do not conflict while it is neither empty nor
//! full and that loses, duplicates and reorders nothing.

mod common;
use common::*;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use strata::{AbortCounts, Heap, TxCounter, TxHashMap, TxQueue};

/// Runs `work(thread_index, thread)` on `threads` attached threads while
/// the caller's thread waits outside the heap; returns their abort counts.
fn on_threads(
    heap: &Heap,
    main: &mut strata::Thread,
    threads: usize,
    work: impl Fn(usize, &mut strata::Thread) + Sync,
) -> Vec<AbortCounts> {
    main.blocking(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let work = &work;
                    s.spawn(move || {
                        let mut t = heap.attach().unwrap();
                        work(i, &mut t);
                        t.abort_counts()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    })
}

fn counter_loses_nothing_and_never_aborts(heap: Heap, adds: usize) {
    let mut main = heap.attach().unwrap();
    let counter = TxCounter::new(&mut main).unwrap();
    let counts = on_threads(&heap, &mut main, 8, |i, t| {
        for _ in 0..adds {
            t.atomically(|tx| counter.add(tx, i as i64 + 1)).unwrap();
        }
    });
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(*c, AbortCounts::default(), "thread {i} aborted");
    }
    let total = main.atomically(|tx| counter.get(tx)).unwrap();
    assert_eq!(total, (1..=8).sum::<i64>() * adds as i64);
    assert_eq!(heap.abort_counts(), AbortCounts::default());
}

#[test]
fn eight_threads_adding_to_one_counter_lose_nothing_and_never_abort() {
    counter_loses_nothing_and_never_aborts(plain_heap(), scaled(20_000));
}

#[test]
fn a_counter_with_a_collection_at_every_commit_never_aborts() {
    counter_loses_nothing_and_never_aborts(zealous_heap(), scaled(200));
}

#[test]
fn readers_of_two_counters_added_together_always_see_them_equal() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let (a, b) = (
        TxCounter::new(&mut main).unwrap(),
        TxCounter::new(&mut main).unwrap(),
    );
    let done = AtomicBool::new(false);
    let adds = scaled(5_000);
    let counts = on_threads(&heap, &mut main, 4, |i, t| {
        if i == 0 {
            // The reader: both sums in one snapshot.
            loop {
                let finished = done.load(Ordering::SeqCst);
                let (x, y) = t.atomically(|tx| (a.get(tx), b.get(tx))).unwrap();
                assert_eq!(x, y, "a reader saw one add without the other");
                if finished {
                    break;
                }
            }
            return;
        }
        for _ in 0..adds {
            t.atomically(|tx| {
                a.add(tx, 1);
                b.add(tx, 1);
            })
            .unwrap();
        }
        if i == 1 {
            done.store(true, Ordering::SeqCst);
        }
    });
    assert_eq!(counts, vec![AbortCounts::default(); 4]);
    let totals = main.atomically(|tx| (a.get(tx), b.get(tx))).unwrap();
    assert_eq!(totals, (3 * adds as i64, 3 * adds as i64));
}

#[test]
fn a_counter_read_in_a_transaction_sees_its_own_adds() {
    let heap = plain_heap();
    let mut t = heap.attach().unwrap();
    let counter = TxCounter::with_stripes(&mut t, 3).unwrap();
    let seen = t
        .atomically(|tx| {
            counter.add(tx, 4);
            counter.add(tx, -1);
            counter.get(tx)
        })
        .unwrap();
    assert_eq!(seen, 3);
}

/// Keys of thread `i` of `n`: the first `per_thread` keys whose buckets are
/// `i` modulo `n`, so that no two threads share a bucket.
fn keys_in_own_buckets(
    map: &TxHashMap<u64, u64>,
    i: usize,
    n: usize,
    per_thread: usize,
) -> Vec<u64> {
    (0u64..)
        .filter(|k| map.bucket_of(k) % n == i)
        .take(per_thread)
        .collect()
}

fn distinct_bucket_writers_never_abort(heap: Heap, threads: usize, rounds: usize) {
    let mut main = heap.attach().unwrap();
    let map = TxHashMap::<u64, u64>::new(&mut main, 1024).unwrap();
    let per_thread = 16;
    let counts = on_threads(&heap, &mut main, threads, |i, t| {
        let keys = keys_in_own_buckets(&map, i, threads, per_thread);
        // New keys (bucket writes), then updates (cell writes), removals
        // and inserts again (tombstones), all in the thread's own buckets.
        t.atomically(|tx| {
            for &k in &keys {
                assert_eq!(map.insert(tx, k, 0), None);
            }
        })
        .unwrap();
        for round in 0..rounds {
            let k = keys[round % per_thread];
            t.atomically(|tx| {
                let v = map.get(tx, &k).expect("the thread's key is present");
                map.insert(tx, k, v + 1);
                if round % 5 == 0 {
                    let other = keys[(round + 1) % per_thread];
                    let w = map.remove(tx, &other).expect("present");
                    map.insert(tx, other, w);
                }
            })
            .unwrap();
        }
    });
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(
            (c.write_write, c.validation, c.total()),
            (0, 0, 0),
            "thread {i} of {threads} aborted: {c:?}"
        );
    }
    let (len, sum) = main
        .atomically(|tx| {
            let mut sum = 0;
            map.for_each(tx, |_, v| sum += v);
            (map.len(tx), sum)
        })
        .unwrap();
    assert_eq!(len, threads * per_thread);
    assert_eq!(sum, (threads * rounds) as u64);
}

#[test]
fn writers_of_keys_in_distinct_buckets_never_abort_each_other() {
    for threads in [2, 4, 8] {
        distinct_bucket_writers_never_abort(plain_heap(), threads, scaled(5_000));
    }
}

#[test]
fn distinct_bucket_writers_with_a_collection_at_every_commit() {
    distinct_bucket_writers_never_abort(zealous_heap(), 4, scaled(100));
}

#[test]
fn map_moves_keep_the_sum_and_the_size_for_concurrent_readers() {
    for heap in [plain_heap(), zealous_heap()] {
        let mut main = heap.attach().unwrap();
        // 16 buckets for 128 keys: long chains, shared buckets, conflicts.
        let map = TxHashMap::<u64, i64>::new(&mut main, 16).unwrap();
        main.atomically(|tx| {
            for k in 0..64 {
                map.insert(tx, k, 10);
            }
        })
        .unwrap();
        let done = AtomicBool::new(false);
        let moves = scaled(2_000);
        main.blocking(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut t = heap.attach().unwrap();
                    loop {
                        let finished = done.load(Ordering::SeqCst);
                        let (len, count, sum) = t
                            .atomically(|tx| {
                                let (mut count, mut sum) = (0, 0);
                                map.for_each(tx, |_, v| {
                                    count += 1;
                                    sum += v;
                                });
                                (map.len(tx), count, sum)
                            })
                            .unwrap();
                        assert_eq!((len, count, sum), (64, 64, 640), "a torn map");
                        if finished {
                            break;
                        }
                    }
                });
                let movers: Vec<_> = (0..3)
                    .map(|w| {
                        let (heap, map) = (&heap, &map);
                        s.spawn(move || {
                            let mut t = heap.attach().unwrap();
                            let mut rng = Rng(0x1234_5678 + w * 77);
                            for _ in 0..moves {
                                let (from, to) = (rng.below(128) as u64, rng.below(128) as u64);
                                let amount = rng.below(5) as i64;
                                t.atomically(|tx| {
                                    // Move key `from` to key `to`, or move
                                    // value between them when both exist.
                                    match (map.get(tx, &from), map.get(tx, &to)) {
                                        (Some(v), None) => {
                                            assert_eq!(map.remove(tx, &from), Some(v));
                                            assert_eq!(map.insert(tx, to, v), None);
                                        }
                                        (Some(v), Some(u)) if from != to => {
                                            map.insert(tx, from, v - amount);
                                            map.insert(tx, to, u + amount);
                                        }
                                        _ => {}
                                    }
                                })
                                .unwrap();
                            }
                        })
                    })
                    .collect();
                for m in movers {
                    m.join().unwrap();
                }
                done.store(true, Ordering::SeqCst);
            })
        });
        assert_eq!(main.atomically(|tx| map.len(tx)).unwrap(), 64);
    }
}

#[test]
fn a_lookup_of_an_absent_key_conflicts_only_with_an_insert_into_its_bucket() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let map = Arc::new(TxHashMap::<u64, u64>::new(&mut main, 64).unwrap());
    let own = TxCounter::new(&mut main).unwrap();
    let absent = 1000u64;
    let bucket = map.bucket_of(&absent);
    let elsewhere = (0u64..).find(|k| map.bucket_of(k) != bucket).unwrap();
    let beside = (0u64..)
        .find(|k| *k != absent && map.bucket_of(k) == bucket)
        .unwrap();
    for (key, conflicts) in [(elsewhere, false), (beside, true), (absent, true)] {
        let (go, wait_go) = std::sync::mpsc::channel::<()>();
        let (done, wait_done) = std::sync::mpsc::channel::<()>();
        let inserter = {
            let (heap, map) = (heap.clone(), map.clone());
            std::thread::spawn(move || {
                let mut t = heap.attach().unwrap();
                t.blocking(|| wait_go.recv().unwrap());
                t.atomically(|tx| map.insert(tx, key, 1)).unwrap();
                done.send(()).unwrap();
            })
        };
        let mut attempts = 0;
        main.atomically(|tx| {
            attempts += 1;
            let found = map.get(tx, &absent);
            if attempts == 1 {
                // Another thread inserts `key` and commits meanwhile.
                tx.blocking(|| {
                    go.send(()).unwrap();
                    wait_done.recv().unwrap();
                });
            }
            // A write of its own, so that the commit validates the lookup.
            own.add(tx, 1);
            found
        })
        .unwrap();
        main.blocking(|| inserter.join().unwrap());
        assert_eq!(
            attempts,
            1 + usize::from(conflicts),
            "an insert of key {key}"
        );
        main.atomically(|tx| map.remove(tx, &key)).unwrap();
    }
}

#[derive(Debug, Clone)]
enum MapOp {
    Insert(u8, u32),
    Remove(u8),
    Get(u8),
    Len,
}

fn map_op() -> impl Strategy<Value = MapOp> {
    prop_oneof![
        (0u8..40, any::<u32>()).prop_map(|(k, v)| MapOp::Insert(k, v)),
        (0u8..40).prop_map(MapOp::Remove),
        (0u8..40).prop_map(MapOp::Get),
        Just(MapOp::Len),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Transactions of a few operations each, against `std::collections::
    /// HashMap`: every result and the final contents agree.
    #[test]
    fn the_map_agrees_with_a_sequential_model(
        transactions in prop::collection::vec(prop::collection::vec(map_op(), 1..6), 1..40)
    ) {
        let heap = plain_heap();
        let mut t = heap.attach().unwrap();
        let map = TxHashMap::<u8, u32>::new(&mut t, 4).unwrap();
        let mut model = HashMap::new();
        for ops in &transactions {
            let results = t.atomically(|tx| {
                ops.iter().map(|op| match *op {
                    MapOp::Insert(k, v) => map.insert(tx, k, v).map(u64::from),
                    MapOp::Remove(k) => map.remove(tx, &k).map(u64::from),
                    MapOp::Get(k) => map.get(tx, &k).map(u64::from),
                    MapOp::Len => Some(map.len(tx) as u64),
                }).collect::<Vec<_>>()
            }).unwrap();
            let expected: Vec<_> = ops.iter().map(|op| match *op {
                MapOp::Insert(k, v) => model.insert(k, v).map(u64::from),
                MapOp::Remove(k) => model.remove(&k).map(u64::from),
                MapOp::Get(k) => model.get(&k).copied().map(u64::from),
                MapOp::Len => Some(model.len() as u64),
            }).collect();
            prop_assert_eq!(results, expected);
        }
        let mut contents = t.atomically(|tx| {
            let mut all = Vec::new();
            map.for_each(tx, |k, v| all.push((k, v)));
            all
        }).unwrap();
        contents.sort();
        let mut expected: Vec<_> = model.into_iter().collect();
        expected.sort();
        prop_assert_eq!(contents, expected);
    }
}

#[test]
fn a_producer_and_a_consumer_of_a_queue_neither_empty_nor_full_never_conflict() {
    let heap = plain_heap();
    let mut main = heap.attach().unwrap();
    let m = scaled(5_000) as u64;
    // `m + 1` elements to begin with and room for `2m + 2`: whatever the
    // two threads' speeds, the queue holds between 1 and `2m + 1`.
    let queue = TxQueue::<u64>::new(&mut main, 2 * m as usize + 2).unwrap();
    main.atomically(|tx| {
        for i in 0..=m {
            queue.put(tx, i).unwrap();
        }
    })
    .unwrap();
    let counts = on_threads(&heap, &mut main, 2, |i, t| {
        for n in 0..m {
            if i == 0 {
                t.atomically(|tx| queue.put(tx, m + 1 + n).unwrap())
                    .unwrap();
            } else {
                let taken = t.atomically(|tx| queue.take(tx)).unwrap();
                assert_eq!(taken, Some(n), "out of order");
            }
        }
    });
    assert_eq!(counts, vec![AbortCounts::default(); 2]);
    let rest: Vec<u64> = main
        .atomically(|tx| std::iter::from_fn(|| queue.take(tx)).collect())
        .unwrap();
    assert_eq!(rest, (m..2 * m + 1).collect::<Vec<_>>());
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Tagged {
    producer: u32,
    seq: u32,
}
impl strata::Object for Tagged {}

fn many_producers_and_consumers(heap: Heap, per_producer: u32) {
    let mut main = heap.attach().unwrap();
    let queue = TxQueue::<Tagged>::new(&mut main, 8).unwrap();
    let (producers, consumers) = (3u32, 2u32);
    let per_consumer = (producers * per_producer / consumers) as usize;
    let taken = Arc::new(std::sync::Mutex::new(Vec::new()));
    on_threads(
        &heap,
        &mut main,
        (producers + consumers) as usize,
        |i, t| {
            let i = i as u32;
            if i < producers {
                for seq in 0..per_producer {
                    t.atomically(|tx| queue.put_or_retry(tx, Tagged { producer: i, seq }))
                        .unwrap();
                }
            } else {
                let mut mine = Vec::new();
                for _ in 0..per_consumer {
                    mine.push(t.atomically(|tx| queue.take_or_retry(tx)).unwrap());
                }
                // Each consumer sees each producer's elements in order.
                for p in 0..producers {
                    let seqs: Vec<u32> = mine
                        .iter()
                        .filter(|e| e.producer == p)
                        .map(|e| e.seq)
                        .collect();
                    assert!(
                        seqs.windows(2).all(|w| w[0] < w[1]),
                        "producer {p} reordered"
                    );
                }
                taken.lock().unwrap().extend(mine);
            }
        },
    );
    let mut all = taken.lock().unwrap().clone();
    all.sort_by_key(|e| (e.producer, e.seq));
    let expected: Vec<_> = (0..producers)
        .flat_map(|producer| (0..per_producer).map(move |seq| Tagged { producer, seq }))
        .collect();
    assert_eq!(all, expected, "an element was lost or duplicated");
    assert!(main.atomically(|tx| queue.is_empty(tx)).unwrap());
}

#[test]
fn a_queue_of_many_producers_and_consumers_loses_duplicates_and_reorders_nothing() {
    many_producers_and_consumers(plain_heap(), scaled(2_000) as u32 * 2);
}

#[test]
fn a_queue_with_a_collection_at_every_commit() {
    many_producers_and_consumers(zealous_heap(), scaled(50) as u32 * 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Puts and takes in transactions of a few each, against a bounded
    /// `VecDeque`: every result and the final contents agree.
    #[test]
    fn the_queue_agrees_with_a_sequential_model(
        capacity in 1usize..6,
        transactions in prop::collection::vec(prop::collection::vec(prop::option::of(any::<u16>()), 1..6), 1..40)
    ) {
        let heap = plain_heap();
        let mut t = heap.attach().unwrap();
        let queue = TxQueue::<u16>::new(&mut t, capacity).unwrap();
        let mut model = std::collections::VecDeque::new();
        for ops in &transactions {
            // `Some(v)` puts `v`, `None` takes.
            let results = t.atomically(|tx| {
                ops.iter().map(|op| match *op {
                    Some(v) => queue.put(tx, v).err(),
                    None => queue.take(tx),
                }).collect::<Vec<_>>()
            }).unwrap();
            let expected: Vec<_> = ops.iter().map(|op| match *op {
                Some(v) if model.len() < capacity => {
                    model.push_back(v);
                    None
                }
                Some(v) => Some(v),
                None => model.pop_front(),
            }).collect();
            prop_assert_eq!(results, expected);
            prop_assert_eq!(t.atomically(|tx| queue.len(tx)).unwrap(), model.len());
        }
    }
}
