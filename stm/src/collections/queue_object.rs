//! [`TxQueueObject`]: [`TxQueue`](super::queue::TxQueue)'s layout (a ring
//! of places, a head only consumers write, a tail only producers write)
//! kept in a heap object of its own, made inside a transaction, with
//! references to objects as elements; stored in other objects and
//! collected with them, as [`TxHashMapObject`](super::map_object) is (see
//! `DESIGN.md`, "Conflict-free structures"). The untyped operations
//! (`pub(crate)`) serve the C ABI.

use super::queue::End;
use crate::manual::Untyped;
use crate::object::{HeapType, Obj, Object, RefArray};
use crate::tx::Tx;
use std::marker::PhantomData;

/// The heap object of a bounded FIFO queue of references to `U`s:
/// reference slot 0 is its ring of places, slot 1 its head, slot 2 its
/// tail; all three are made with it and never replaced, so the object
/// itself is never written after it is made.
///
/// ```
/// use strata::{Object, TxQueueObject};
///
/// #[derive(Clone, Copy)]
/// struct Job {
///     id: u64,
/// }
/// impl Object for Job {}
///
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// thread
///     .atomically(|tx| {
///         let queue = TxQueueObject::<Job>::alloc(tx, 2);
///         for id in 1..=2 {
///             let job = tx.alloc(Job { id });
///             assert!(TxQueueObject::put(tx, queue, job).is_ok());
///         }
///         let third = tx.alloc(Job { id: 3 });
///         assert!(TxQueueObject::put(tx, queue, third).is_err()); // full
///         let first = TxQueueObject::take(tx, queue).unwrap();
///         assert_eq!(tx.read(first).id, 1);
///         assert_eq!(TxQueueObject::len(tx, queue), 1);
///     })
///     .unwrap();
/// ```
pub struct TxQueueObject<U> {
    _type: PhantomData<fn() -> U>,
}

impl<U> Clone for TxQueueObject<U> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<U> Copy for TxQueueObject<U> {}

impl<U: 'static> Object for TxQueueObject<U> {
    const REFS: usize = 3;
}

/// One place of the ring: reference slot 0 holds its element, null when
/// empty.
#[derive(Clone, Copy)]
struct Place;
impl Object for Place {
    const REFS: usize = 1;
}

const RING: usize = 0;
const HEAD: usize = 1;
const TAIL: usize = 2;

impl<U: 'static> TxQueueObject<U> {
    /// A new empty queue of `capacity` places, made by the running
    /// transaction: private to it until it commits.
    ///
    /// # Panics
    /// If `capacity` is 0.
    pub fn alloc<'tx>(tx: &mut Tx<'tx>, capacity: usize) -> Obj<'tx, Self> {
        assert!(capacity > 0, "strata: a queue needs at least one place");
        let ring = tx.alloc_array(capacity);
        for i in 0..capacity {
            let place = tx.alloc(Place);
            tx.set(ring, i, Some(place));
        }
        let head = tx.alloc(End { position: 0 });
        let tail = tx.alloc(End { position: 0 });
        let queue = tx.alloc(TxQueueObject { _type: PhantomData });
        tx.set_ref(queue, RING, Some(ring));
        tx.set_ref(queue, HEAD, Some(head));
        tx.set_ref(queue, TAIL, Some(tail));
        queue
    }

    /// How many elements the queue holds. Reads both ends: the transaction
    /// conflicts with every put and take that commits before it.
    pub fn len<'tx>(tx: &mut Tx<'tx>, queue: Obj<'tx, Self>) -> usize {
        let head = Self::end(tx, queue, HEAD);
        let tail = Self::end(tx, queue, TAIL);
        (tx.read(tail).position - tx.read(head).position) as usize
    }

    /// Whether the queue holds no element (reads both ends).
    pub fn is_empty<'tx>(tx: &mut Tx<'tx>, queue: Obj<'tx, Self>) -> bool {
        Self::len(tx, queue) == 0
    }

    /// Appends `value` (of any type); `false` when the queue is full. Reads
    /// and writes the tail and the place it fills, nothing a consumer
    /// writes unless that place is still full.
    pub(crate) fn put_untyped<'tx, V>(
        tx: &mut Tx<'tx>,
        queue: Obj<'tx, Self>,
        value: Obj<'tx, V>,
    ) -> bool {
        let tail = Self::end(tx, queue, TAIL);
        let position = tx.read(tail).position;
        let place = Self::place_at(tx, queue, position);
        if tx.get_ref_untyped(place, 0).is_some() {
            return false;
        }
        tx.set_ref_untyped(place, 0, Some(value));
        tx.write(
            tail,
            End {
                position: position + 1,
            },
        );
        true
    }

    /// Takes the oldest element, whatever its type, or `None` when the
    /// queue is empty. Reads and writes the head and the place it empties,
    /// nothing a producer writes unless that place is still empty.
    pub(crate) fn take_untyped<'tx>(
        tx: &mut Tx<'tx>,
        queue: Obj<'tx, Self>,
    ) -> Option<Obj<'tx, Untyped>> {
        let head = Self::end(tx, queue, HEAD);
        let position = tx.read(head).position;
        let place = Self::place_at(tx, queue, position);
        let value = tx.get_ref_untyped(place, 0)?;
        tx.set_ref_untyped::<Place, Untyped>(place, 0, None);
        tx.write(
            head,
            End {
                position: position + 1,
            },
        );
        Some(value)
    }

    fn end<'tx>(tx: &mut Tx<'tx>, queue: Obj<'tx, Self>, which: usize) -> Obj<'tx, End> {
        tx.get_ref::<Self, End>(queue, which)
            .expect("every queue is made with its ends")
    }

    /// The place of `position`.
    fn place_at<'tx>(tx: &mut Tx<'tx>, queue: Obj<'tx, Self>, position: u64) -> Obj<'tx, Place> {
        let ring = tx
            .get_ref::<Self, RefArray>(queue, RING)
            .expect("every queue is made with its ring");
        let capacity = tx.len(ring) as u64;
        tx.get::<Place>(ring, (position % capacity) as usize)
            .expect("every place is made with its queue")
    }
}

impl<U: HeapType> TxQueueObject<U> {
    /// Appends `value`, or gives it back when the queue is full. Reads and
    /// writes the tail and the place it fills.
    pub fn put<'tx>(
        tx: &mut Tx<'tx>,
        queue: Obj<'tx, Self>,
        value: Obj<'tx, U>,
    ) -> Result<(), Obj<'tx, U>> {
        match Self::put_untyped(tx, queue, value) {
            true => Ok(()),
            false => Err(value),
        }
    }

    /// Takes the oldest element, or `None` when the queue is empty. Reads
    /// and writes the head and the place it empties.
    ///
    /// # Panics
    /// If the element is not a `U` (only an untyped put, from the C ABI,
    /// can store one).
    pub fn take<'tx>(tx: &mut Tx<'tx>, queue: Obj<'tx, Self>) -> Option<Obj<'tx, U>> {
        let value = Self::take_untyped(tx, queue)?;
        Some(tx.checked_as(value))
    }
}
