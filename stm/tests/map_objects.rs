//! The map object (`TxHashMapObject`): a map made inside a transaction and
//! kept in another object's reference slot, whose values are objects.
//! Writers of keys in distinct buckets never abort each other; the map,
//! reachable only through its holder, survives collections with every
//! value; it behaves as a map (insert, replace, remove, insert again, len,
//! iteration).

mod common;
use common::*;
use strata::{AbortCounts, Heap, Object, Root, TxHashMapObject};

#[derive(Clone, Copy)]
struct Boxed {
    value: u64,
}
impl Object for Boxed {}

/// An object whose reference slot 0 holds the map.
#[derive(Clone, Copy)]
struct Holder;
impl Object for Holder {
    const REFS: usize = 1;
}

type Map = TxHashMapObject<u64, Boxed>;

/// A holder of a new map for `capacity` keys.
fn holder_of_a_new_map(thread: &mut strata::Thread, capacity: usize) -> Root<Holder> {
    thread
        .atomically(|tx| {
            let holder = tx.alloc(Holder);
            let map = Map::alloc(tx, capacity);
            tx.set_ref(holder, 0, Some(map));
            tx.root(holder)
        })
        .unwrap()
}

fn map_of<'tx>(tx: &mut strata::Tx<'tx>, holder: &Root<Holder>) -> strata::Obj<'tx, Map> {
    let holder = tx.get_root(holder);
    tx.get_ref::<Holder, Map>(holder, 0).unwrap()
}

fn distinct_bucket_inserters_never_abort(heap: Heap, threads: usize, per_thread: usize) {
    let mut main = heap.attach().unwrap();
    let holder = holder_of_a_new_map(&mut main, 4096);
    let holder = main.global(&holder);
    let counts = main.blocking(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (heap, holder) = (&heap, &holder);
                    s.spawn(move || {
                        let mut t = heap.attach().unwrap();
                        let keys: Vec<u64> = t
                            .atomically(|tx| {
                                let map = tx.get_global(holder);
                                let map = tx.get_ref::<Holder, Map>(map, 0).unwrap();
                                (0u64..)
                                    .filter(|k| Map::bucket_of(tx, map, k) % threads == i)
                                    .take(per_thread)
                                    .collect()
                            })
                            .unwrap();
                        // One new key a transaction: a bucket write each.
                        for &k in &keys {
                            t.atomically(|tx| {
                                let value = tx.alloc(Boxed { value: k * 3 });
                                let map = tx.get_global(holder);
                                let map = tx.get_ref::<Holder, Map>(map, 0).unwrap();
                                assert!(Map::insert(tx, map, k, value).is_none());
                            })
                            .unwrap();
                        }
                        t.abort_counts()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        })
    });
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(
            *c,
            AbortCounts::default(),
            "thread {i} of {threads} aborted"
        );
    }
    let (len, sum, iterated) = main
        .atomically(|tx| {
            let holder = tx.get_global(&holder);
            let map = tx.get_ref::<Holder, Map>(holder, 0).unwrap();
            let mut sum = 0;
            let mut iterated = 0;
            Map::for_each(tx, map, |tx, key, value| {
                assert_eq!(tx.read(value).value, key * 3);
                sum += key;
                iterated += 1;
            });
            (Map::len(tx, map), sum, iterated)
        })
        .unwrap();
    assert_eq!(
        (len, iterated),
        (threads * per_thread, threads * per_thread)
    );
    assert!(sum > 0);
}

#[test]
fn inserters_of_new_keys_in_distinct_buckets_never_abort_each_other() {
    for threads in [2, 4, 8] {
        distinct_bucket_inserters_never_abort(plain_heap(), threads, scaled(200));
    }
}

#[test]
fn distinct_bucket_inserters_with_a_collection_at_every_commit() {
    distinct_bucket_inserters_never_abort(zealous_heap(), 4, scaled(50));
}

#[test]
fn a_map_object_behaves_as_a_map_and_keeps_its_values_through_collections() {
    for heap in [plain_heap(), zealous_heap()] {
        let mut t = heap.attach().unwrap();
        // 16 buckets for 200 keys: long chains.
        let holder = holder_of_a_new_map(&mut t, 16);
        for k in 0..200u64 {
            t.atomically(|tx| {
                let value = tx.alloc(Boxed { value: k });
                let map = map_of(tx, &holder);
                assert!(Map::insert(tx, map, k, value).is_none());
            })
            .unwrap();
        }
        t.atomically(|tx| {
            let map = map_of(tx, &holder);
            assert_eq!(Map::len(tx, map), 200);
            for k in 0..200u64 {
                let value = Map::get(tx, map, &k).expect("inserted");
                assert_eq!(tx.read(value).value, k);
            }
            assert!(Map::get(tx, map, &200).is_none());
            let replacement = tx.alloc(Boxed { value: 1000 });
            let previous = Map::insert(tx, map, 7, replacement).unwrap();
            assert_eq!(tx.read(previous).value, 7);
            let removed = Map::remove(tx, map, &8).unwrap();
            assert_eq!(tx.read(removed).value, 8);
            assert!(Map::remove(tx, map, &8).is_none());
            assert!(!Map::contains_key(tx, map, &8));
            assert_eq!(Map::len(tx, map), 199);
            let again = tx.alloc(Boxed { value: 88 });
            assert!(Map::insert(tx, map, 8, again).is_none());
            assert_eq!(Map::len(tx, map), 200);
        })
        .unwrap();
        t.atomically(|tx| {
            let map = map_of(tx, &holder);
            let seven = Map::get(tx, map, &7).unwrap();
            assert_eq!(tx.read(seven).value, 1000);
            let eight = Map::get(tx, map, &8).unwrap();
            assert_eq!(tx.read(eight).value, 88);
            let mut keys = 0;
            Map::for_each(tx, map, |_, _, _| keys += 1);
            assert_eq!(keys, 200);
        })
        .unwrap();
    }
}
