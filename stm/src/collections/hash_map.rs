//! [`TxHashMap`]: a transactional hash map with per-key conflicts. A fixed
//! array of bucket objects, each the head of a chain of immutable entries
//! (key and hash), each entry with a value cell of its own: a change of a
//! key's value writes only its cell, an insert of a new key writes its
//! bucket, and the size is a [`TxCounter`](super::counter::TxCounter)'s
//! stripes (see `DESIGN.md`, "Conflict-free structures"). The layout's
//! helpers here are shared with [`TxHashMapObject`](super::map_object),
//! the same map kept in a heap object of its own.

use super::counter::{add_to, alloc_stripes, sum_of, DEFAULT_STRIPES};
use crate::error::Error;
use crate::object::{GlobalRoot, Obj, Object, RefArray};
use crate::thread::Thread;
use crate::tx::Tx;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::marker::PhantomData;

/// The fewest buckets a map has.
const MIN_BUCKETS: usize = 16;

/// A bucket: reference slot 0 is the head of its chain (no data).
#[derive(Clone, Copy)]
pub(super) struct Bucket;
impl Object for Bucket {
    const REFS: usize = 1;
}

/// An entry of a chain, never written after it is made: reference slot 0
/// is the next entry, slot 1 the value cell.
#[derive(Clone, Copy)]
pub(super) struct Entry<K> {
    hash: u64,
    key: K,
}
impl<K: Object> Object for Entry<K> {
    const REFS: usize = 2;
}

/// The value of one key: `None` once removed (the entry stays, for the key
/// to be inserted again).
#[derive(Clone, Copy)]
struct Cell<V> {
    value: Option<V>,
}
impl<V: Object> Object for Cell<V> {}

/// A transactional hash map from `K` to `V` (plain heap data) on which
/// transactions that touch different keys do not conflict, except inserts
/// of new keys that fall in the same bucket (probability `1/buckets` for
/// two keys). Shareable between threads (`Send + Sync`); every operation
/// runs in the caller's transaction.
///
/// ```
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let map = strata::TxHashMap::<u64, i64>::new(&mut thread, 100).unwrap();
/// thread
///     .atomically(|tx| {
///         assert_eq!(map.insert(tx, 7, 70), None);
///         assert_eq!(map.insert(tx, 7, 71), Some(70));
///         assert_eq!(map.get(tx, &7), Some(71));
///         assert_eq!(map.remove(tx, &7), Some(71));
///         assert_eq!(map.len(tx), 0);
///     })
///     .unwrap();
/// ```
pub struct TxHashMap<K, V> {
    buckets: GlobalRoot<RefArray>,
    len: GlobalRoot<RefArray>,
    mask: usize,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Object + Hash + Eq, V: Object> TxHashMap<K, V> {
    /// An empty map for about `capacity` keys: the next power of two at or
    /// above `capacity` buckets (at least 16), made in a transaction of
    /// `thread` (call it outside a transaction). The map does not resize;
    /// past its capacity its chains grow.
    pub fn new(thread: &mut Thread, capacity: usize) -> Result<Self, Error> {
        let buckets = bucket_count(capacity);
        let (array, len) = thread.atomically(|tx| {
            let array = alloc_buckets(tx, buckets);
            let len = alloc_stripes(tx, DEFAULT_STRIPES);
            (tx.root(array), tx.root(len))
        })?;
        Ok(TxHashMap {
            buckets: thread.global(&array),
            len: thread.global(&len),
            mask: buckets - 1,
            _types: PhantomData,
        })
    }

    /// Whether this map was made on `heap`.
    pub fn belongs_to(&self, heap: &crate::Heap) -> bool {
        self.buckets.belongs_to(heap)
    }

    /// How many buckets the map has.
    pub fn buckets(&self) -> usize {
        self.mask + 1
    }

    /// The bucket `key` falls in (the same in every thread and every run):
    /// inserts of new keys conflict only when their buckets are equal.
    pub fn bucket_of(&self, key: &K) -> usize {
        hash_of(key) as usize & self.mask
    }

    /// The value of `key`. Reads its bucket, the bucket's chain and the
    /// key's cell: conflicts only with changes of `key` and inserts of new
    /// keys into its bucket.
    pub fn get(&self, tx: &mut Tx<'_>, key: &K) -> Option<V> {
        let (_, entry) = self.find(tx, key);
        let cell = cell_of::<K, Cell<V>>(tx, entry?);
        tx.read(cell).value
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, tx: &mut Tx<'_>, key: &K) -> bool {
        self.get(tx, key).is_some()
    }

    /// Sets the value of `key`, and returns its previous value. A key that
    /// has (or had) a value: writes only its cell. A new key: writes its
    /// bucket and the calling thread's stripe of the size.
    pub fn insert(&self, tx: &mut Tx<'_>, key: K, value: V) -> Option<V> {
        let (bucket, entry) = self.find(tx, &key);
        if let Some(entry) = entry {
            let cell = cell_of::<K, Cell<V>>(tx, entry);
            let previous = tx.update(cell, |c| c.value.replace(value));
            if previous.is_none() {
                self.add_len(tx, 1);
            }
            return previous;
        }
        let cell = tx.alloc(Cell { value: Some(value) });
        push_entry(tx, bucket, key, cell);
        self.add_len(tx, 1);
        None
    }

    /// Removes the value of `key`, and returns it. Writes the key's cell
    /// (if it has a value) and the calling thread's stripe of the size,
    /// never a bucket.
    pub fn remove(&self, tx: &mut Tx<'_>, key: &K) -> Option<V> {
        let (_, entry) = self.find(tx, key);
        let cell = cell_of::<K, Cell<V>>(tx, entry?);
        let previous = tx.read(cell).value?;
        tx.write(cell, Cell { value: None });
        self.add_len(tx, -1);
        Some(previous)
    }

    /// How many keys have a value. Reads every stripe of the size: the
    /// transaction conflicts with every insert of a new key and every
    /// removal that commits before it.
    pub fn len(&self, tx: &mut Tx<'_>) -> usize {
        let len = tx.get_global(&self.len);
        let n = sum_of(tx, len);
        debug_assert!(n >= 0, "strata: a map's size summed to {n}");
        n as usize
    }

    /// Whether no key has a value.
    pub fn is_empty(&self, tx: &mut Tx<'_>) -> bool {
        self.len(tx) == 0
    }

    /// Calls `f` with every key and its value, bucket by bucket. Reads the
    /// whole map (a transaction that iterates conflicts with every change
    /// of it); makes no handles that outlive a bucket.
    pub fn for_each(&self, tx: &mut Tx<'_>, mut f: impl FnMut(K, V)) {
        let buckets = tx.get_global(&self.buckets);
        for_each_cell::<K, Cell<V>>(tx, buckets, |tx, key, cell| {
            if let Some(value) = tx.read(cell).value {
                f(key, value);
            }
        });
    }

    /// The bucket of `key`, and the entry of `key` in its chain.
    fn find<'tx>(
        &self,
        tx: &mut Tx<'tx>,
        key: &K,
    ) -> (Obj<'tx, Bucket>, Option<Obj<'tx, Entry<K>>>) {
        let buckets = tx.get_global(&self.buckets);
        find(tx, buckets, self.mask, key)
    }

    fn add_len(&self, tx: &mut Tx<'_>, delta: i64) {
        let len = tx.get_global(&self.len);
        add_to(tx, len, delta);
    }
}

/// The buckets of a map for about `capacity` keys: the next power of two
/// at or above it, at least [`MIN_BUCKETS`].
pub(super) fn bucket_count(capacity: usize) -> usize {
    capacity.max(MIN_BUCKETS).next_power_of_two()
}

/// A fresh array of `buckets` empty buckets.
pub(super) fn alloc_buckets<'tx>(tx: &mut Tx<'tx>, buckets: usize) -> Obj<'tx, RefArray> {
    let array = tx.alloc_array(buckets);
    for i in 0..buckets {
        let bucket = tx.alloc(Bucket);
        tx.set(array, i, Some(bucket));
    }
    array
}

/// The bucket of `key` in `buckets` (`mask` + 1 of them), and the entry of
/// `key` in its chain.
pub(super) fn find<'tx, K: Object + Hash + Eq>(
    tx: &mut Tx<'tx>,
    buckets: Obj<'tx, RefArray>,
    mask: usize,
    key: &K,
) -> (Obj<'tx, Bucket>, Option<Obj<'tx, Entry<K>>>) {
    let hash = hash_of(key);
    let bucket = bucket_at(tx, buckets, hash as usize & mask);
    let mut next = tx.get_ref::<Bucket, Entry<K>>(bucket, 0);
    while let Some(entry) = next {
        let e = tx.read(entry);
        if e.hash == hash && e.key == *key {
            return (bucket, Some(entry));
        }
        next = tx.get_ref::<Entry<K>, Entry<K>>(entry, 0);
    }
    (bucket, None)
}

/// Makes the entry of `key` (a key `bucket` does not hold), with `cell`
/// as its value cell, the new head of `bucket`'s chain: the one write of
/// a shared object an insert of a new key makes, besides its size stripe.
pub(super) fn push_entry<'tx, K: Object + Hash, C: Object>(
    tx: &mut Tx<'tx>,
    bucket: Obj<'tx, Bucket>,
    key: K,
    cell: Obj<'tx, C>,
) {
    let hash = hash_of(&key);
    let entry = tx.alloc(Entry { hash, key });
    let head = tx.get_ref::<Bucket, Entry<K>>(bucket, 0);
    tx.set_ref(entry, 0, head);
    tx.set_ref(entry, 1, Some(cell));
    tx.set_ref(bucket, 0, Some(entry));
}

/// Calls `f` with every key of `buckets` and its value cell (of type `C`),
/// bucket by bucket, in a handle scope per bucket.
pub(super) fn for_each_cell<'tx, K: Object, C: Object>(
    tx: &mut Tx<'tx>,
    buckets: Obj<'tx, RefArray>,
    mut f: impl for<'s> FnMut(&mut Tx<'s>, K, Obj<'s, C>),
) {
    let count = tx.len(buckets);
    for i in 0..count {
        tx.scope(|tx, lift| {
            let bucket = bucket_at(tx, lift.lift(buckets), i);
            let mut next = tx.get_ref::<Bucket, Entry<K>>(bucket, 0);
            while let Some(entry) = next {
                let key = tx.read(entry).key;
                let cell = cell_of::<K, C>(tx, entry);
                f(tx, key, cell);
                next = tx.get_ref::<Entry<K>, Entry<K>>(entry, 0);
            }
        });
    }
}

/// Bucket `i` of `buckets`.
fn bucket_at<'tx>(tx: &mut Tx<'tx>, buckets: Obj<'tx, RefArray>, i: usize) -> Obj<'tx, Bucket> {
    tx.get::<Bucket>(buckets, i)
        .expect("every bucket is made with its map")
}

/// The value cell (a `C`) of `entry`.
pub(super) fn cell_of<'tx, K: Object, C: Object>(
    tx: &mut Tx<'tx>,
    entry: Obj<'tx, Entry<K>>,
) -> Obj<'tx, C> {
    tx.get_ref::<Entry<K>, C>(entry, 1)
        .expect("every entry has a value cell")
}

/// The hash of `key`: SipHash with fixed keys, the same in every run.
pub(super) fn hash_of<K: Hash>(key: &K) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}
