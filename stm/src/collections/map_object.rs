//! [`TxHashMapObject`]: [`TxHashMap`](super::hash_map::TxHashMap)'s layout
//! (buckets, immutable entry chains, a value cell per key, the size as
//! counter stripes) kept in a heap object of its own, made inside a
//! transaction, with references to objects as values. The map is a value
//! like any object: stored in other objects' reference slots, kept alive
//! by them and collected with them (see `DESIGN.md`, "Conflict-free
//! structures"). The operations take the map's handle; the untyped ones
//! (`pub(crate)`) serve the C ABI, whose values are objects of the host's
//! types.

use super::counter::{add_to, alloc_stripes, sum_of, DEFAULT_STRIPES};
use super::hash_map::{
    alloc_buckets, bucket_count, cell_of, find, for_each_cell, hash_of, push_entry,
};
use crate::manual::Untyped;
use crate::object::{HeapType, Obj, Object, RefArray};
use crate::tx::Tx;
use std::hash::Hash;
use std::marker::PhantomData;

/// The heap object of a map from `K` to references to `U`s: reference
/// slot 0 is its bucket array, slot 1 its size stripes; both are made
/// with it and never replaced, so the object itself is never written
/// after it is made (reading it conflicts with nothing).
///
/// ```
/// use strata::{Object, TxHashMapObject};
///
/// #[derive(Clone, Copy)]
/// struct Word {
///     count: u64,
/// }
/// impl Object for Word {}
///
/// #[derive(Clone, Copy)]
/// struct Index;
/// impl Object for Index {
///     const REFS: usize = 1; // the map
/// }
///
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let index = thread
///     .atomically(|tx| {
///         let index = tx.alloc(Index);
///         let map = TxHashMapObject::<u64, Word>::alloc(tx, 100);
///         tx.set_ref(index, 0, Some(map));
///         tx.root(index)
///     })
///     .unwrap();
/// thread
///     .atomically(|tx| {
///         let index = tx.get_root(&index);
///         let map = tx.get_ref::<Index, TxHashMapObject<u64, Word>>(index, 0).unwrap();
///         let word = tx.alloc(Word { count: 3 });
///         assert!(TxHashMapObject::insert(tx, map, 7, word).is_none());
///         let found = TxHashMapObject::get(tx, map, &7).unwrap();
///         assert_eq!(tx.read(found).count, 3);
///         assert_eq!(TxHashMapObject::len(tx, map), 1);
///     })
///     .unwrap();
/// ```
pub struct TxHashMapObject<K, U> {
    _types: PhantomData<fn() -> (K, U)>,
}

impl<K, U> Clone for TxHashMapObject<K, U> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, U> Copy for TxHashMapObject<K, U> {}

impl<K: 'static, U: 'static> Object for TxHashMapObject<K, U> {
    const REFS: usize = 2;
}

/// The value cell of a key: reference slot 0 is its value, null once
/// removed (the entry stays, for the key to be inserted again).
#[derive(Clone, Copy)]
struct ValueRef;
impl Object for ValueRef {
    const REFS: usize = 1;
}

impl<K: Object + Hash + Eq, U: 'static> TxHashMapObject<K, U> {
    /// A new empty map for about `capacity` keys (the buckets of
    /// [`TxHashMap::new`](super::hash_map::TxHashMap::new)), made by the
    /// running transaction: private to it until it commits.
    pub fn alloc<'tx>(tx: &mut Tx<'tx>, capacity: usize) -> Obj<'tx, Self> {
        let buckets = alloc_buckets(tx, bucket_count(capacity));
        let len = alloc_stripes(tx, DEFAULT_STRIPES);
        let map = tx.alloc(TxHashMapObject {
            _types: PhantomData,
        });
        tx.set_ref(map, 0, Some(buckets));
        tx.set_ref(map, 1, Some(len));
        map
    }

    /// How many keys have a value: reads every stripe of the size (the
    /// transaction conflicts with every insert of a new key and every
    /// removal that commits before it).
    pub fn len<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>) -> usize {
        let len = Self::stripes(tx, map);
        let n = sum_of(tx, len);
        debug_assert!(n >= 0, "strata: a map's size summed to {n}");
        n as usize
    }

    /// Whether no key has a value.
    pub fn is_empty<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>) -> bool {
        Self::len(tx, map) == 0
    }

    /// The bucket `key` falls in (the same in every thread and every run,
    /// for maps of the same capacity): inserts of new keys conflict only
    /// when their buckets are equal.
    pub fn bucket_of<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>, key: &K) -> usize {
        let buckets = Self::buckets(tx, map);
        hash_of(key) as usize & (tx.len(buckets) - 1)
    }

    /// The value of `key`, whatever its type. Reads the map object, its
    /// bucket array, the key's bucket and chain and the key's cell.
    pub(crate) fn get_untyped<'tx>(
        tx: &mut Tx<'tx>,
        map: Obj<'tx, Self>,
        key: &K,
    ) -> Option<Obj<'tx, Untyped>> {
        let cell = Self::cell(tx, map, key)?;
        tx.get_ref_untyped(cell, 0)
    }

    /// Sets the value of `key` to `value` (of any type) and returns the
    /// previous one. A key that has (or had) a value: writes only its
    /// cell; a new key: writes its bucket and the calling thread's stripe
    /// of the size.
    pub(crate) fn insert_untyped<'tx, V>(
        tx: &mut Tx<'tx>,
        map: Obj<'tx, Self>,
        key: K,
        value: Obj<'tx, V>,
    ) -> Option<Obj<'tx, Untyped>> {
        let buckets = Self::buckets(tx, map);
        let mask = tx.len(buckets) - 1;
        let (bucket, entry) = find(tx, buckets, mask, &key);
        let previous = match entry {
            Some(entry) => {
                let cell = cell_of::<K, ValueRef>(tx, entry);
                let previous = tx.get_ref_untyped(cell, 0);
                tx.set_ref_untyped(cell, 0, Some(value));
                previous
            }
            None => {
                let cell = tx.alloc(ValueRef);
                tx.set_ref_untyped(cell, 0, Some(value));
                push_entry(tx, bucket, key, cell);
                None
            }
        };
        if previous.is_none() {
            Self::add_len(tx, map, 1);
        }
        previous
    }

    /// Removes the value of `key` and returns it. Writes the key's cell (if
    /// it has a value) and the calling thread's stripe of the size, never
    /// a bucket.
    pub(crate) fn remove_untyped<'tx>(
        tx: &mut Tx<'tx>,
        map: Obj<'tx, Self>,
        key: &K,
    ) -> Option<Obj<'tx, Untyped>> {
        let cell = Self::cell(tx, map, key)?;
        let previous = tx.get_ref_untyped(cell, 0)?;
        tx.set_ref_untyped::<ValueRef, Untyped>(cell, 0, None);
        Self::add_len(tx, map, -1);
        Some(previous)
    }

    /// Calls `f` with every key that has a value and the value, bucket by
    /// bucket, each in a handle scope. Reads the whole map: a transaction
    /// that iterates conflicts with every change of it.
    pub(crate) fn for_each_untyped<'tx>(
        tx: &mut Tx<'tx>,
        map: Obj<'tx, Self>,
        mut f: impl for<'s> FnMut(&mut Tx<'s>, K, Obj<'s, Untyped>),
    ) {
        let buckets = Self::buckets(tx, map);
        for_each_cell::<K, ValueRef>(tx, buckets, |tx, key, cell| {
            if let Some(value) = tx.get_ref_untyped(cell, 0) {
                f(tx, key, value);
            }
        });
    }

    /// The value cell of `key`, if it has an entry.
    fn cell<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>, key: &K) -> Option<Obj<'tx, ValueRef>> {
        let buckets = Self::buckets(tx, map);
        let mask = tx.len(buckets) - 1;
        let (_, entry) = find(tx, buckets, mask, key);
        Some(cell_of::<K, ValueRef>(tx, entry?))
    }

    fn buckets<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>) -> Obj<'tx, RefArray> {
        tx.get_ref::<Self, RefArray>(map, 0)
            .expect("every map is made with its buckets")
    }

    fn stripes<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>) -> Obj<'tx, RefArray> {
        tx.get_ref::<Self, RefArray>(map, 1)
            .expect("every map is made with its size")
    }

    fn add_len<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>, delta: i64) {
        let len = Self::stripes(tx, map);
        add_to(tx, len, delta);
    }
}

impl<K: Object + Hash + Eq, U: HeapType> TxHashMapObject<K, U> {
    /// The value of `key`. Conflicts only with changes of `key` and
    /// inserts of new keys into its bucket.
    ///
    /// # Panics
    /// If the value is not a `U` (only an untyped insert, from the C ABI,
    /// can store one).
    pub fn get<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>, key: &K) -> Option<Obj<'tx, U>> {
        let value = Self::get_untyped(tx, map, key)?;
        Some(tx.checked_as(value))
    }

    /// Whether `key` has a value.
    pub fn contains_key<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>, key: &K) -> bool {
        Self::get_untyped(tx, map, key).is_some()
    }

    /// Sets the value of `key` and returns the previous one. A key that
    /// has (or had) a value: writes only its cell; a new key: writes its
    /// bucket and the calling thread's stripe of the size.
    pub fn insert<'tx>(
        tx: &mut Tx<'tx>,
        map: Obj<'tx, Self>,
        key: K,
        value: Obj<'tx, U>,
    ) -> Option<Obj<'tx, U>> {
        let previous = Self::insert_untyped(tx, map, key, value)?;
        Some(tx.checked_as(previous))
    }

    /// Removes the value of `key` and returns it. Writes the key's cell
    /// and the calling thread's stripe of the size, never a bucket.
    pub fn remove<'tx>(tx: &mut Tx<'tx>, map: Obj<'tx, Self>, key: &K) -> Option<Obj<'tx, U>> {
        let previous = Self::remove_untyped(tx, map, key)?;
        Some(tx.checked_as(previous))
    }

    /// Calls `f` with every key and its value, bucket by bucket, each
    /// bucket in a handle scope of its own (`f`'s handles end with it).
    /// Reads the whole map.
    pub fn for_each<'tx>(
        tx: &mut Tx<'tx>,
        map: Obj<'tx, Self>,
        mut f: impl for<'s> FnMut(&mut Tx<'s>, K, Obj<'s, U>),
    ) {
        Self::for_each_untyped(tx, map, |tx, key, value| {
            let value = tx.checked_as(value);
            f(tx, key, value);
        });
    }
}
