//! [`TxQueue`]: a bounded FIFO ring on which producers and consumers do not
//! conflict while it is neither empty nor full. Producers own the tail
//! object, consumers the head object; each side decides fullness or
//! emptiness from the one slot it takes, so the two sides touch disjoint
//! objects (see `DESIGN.md`, "Conflict-free structures").

use crate::error::Error;
use crate::object::{GlobalRoot, Obj, Object, RefArray};
use crate::thread::Thread;
use crate::tx::Tx;
use std::time::{Duration, Instant};

/// One place of the ring.
#[derive(Clone, Copy)]
struct Slot<T> {
    value: Option<T>,
}
impl<T: Object> Object for Slot<T> {}

/// A position that only one side writes: the head (consumers) or the tail
/// (producers), counting every element ever taken or put.
#[derive(Clone, Copy)]
pub(super) struct End {
    pub(super) position: u64,
}
impl Object for End {}

/// A bounded transactional FIFO queue of `T` (plain heap data), shareable
/// between threads (`Send + Sync`). Elements come out in the order of the
/// commits that put them. [`TxQueue::put`] and [`TxQueue::take`] do not
/// wait; [`TxQueue::put_or_retry`] and [`TxQueue::take_or_retry`] block the
/// transaction (`Tx::retry`) until they can go on, and
/// [`TxQueue::take_timeout`] waits at most a given time.
///
/// ```
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let queue = strata::TxQueue::<u32>::new(&mut thread, 2).unwrap();
/// thread
///     .atomically(|tx| {
///         assert_eq!(queue.put(tx, 1), Ok(()));
///         assert_eq!(queue.put(tx, 2), Ok(()));
///         assert_eq!(queue.put(tx, 3), Err(3)); // full
///         assert_eq!(queue.take(tx), Some(1));
///     })
///     .unwrap();
/// assert_eq!(thread.atomically(|tx| queue.take(tx)).unwrap(), Some(2));
/// assert_eq!(thread.atomically(|tx| queue.take(tx)).unwrap(), None);
/// ```
pub struct TxQueue<T> {
    slots: GlobalRoot<RefArray>,
    head: GlobalRoot<End>,
    tail: GlobalRoot<End>,
    capacity: u64,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T: Object> TxQueue<T> {
    /// An empty queue of `capacity` places, made in a transaction of
    /// `thread` (call it outside a transaction).
    ///
    /// # Panics
    /// If `capacity` is 0.
    pub fn new(thread: &mut Thread, capacity: usize) -> Result<Self, Error> {
        assert!(capacity > 0, "strata: a queue needs at least one place");
        let (slots, head, tail) = thread.atomically(|tx| {
            let slots = tx.alloc_array(capacity);
            for i in 0..capacity {
                let slot = tx.alloc(Slot::<T> { value: None });
                tx.set(slots, i, Some(slot));
            }
            let head = tx.alloc(End { position: 0 });
            let tail = tx.alloc(End { position: 0 });
            (tx.root(slots), tx.root(head), tx.root(tail))
        })?;
        Ok(TxQueue {
            slots: thread.global(&slots),
            head: thread.global(&head),
            tail: thread.global(&tail),
            capacity: capacity as u64,
            _type: std::marker::PhantomData,
        })
    }

    /// Whether this queue was made on `heap`.
    pub fn belongs_to(&self, heap: &crate::Heap) -> bool {
        self.slots.belongs_to(heap)
    }

    /// How many places the queue has.
    pub fn capacity(&self) -> usize {
        self.capacity as usize
    }

    /// Appends `value`, or gives it back when the queue is full. Reads and
    /// writes the tail and the place it takes, nothing a consumer writes
    /// unless that place is still full.
    pub fn put(&self, tx: &mut Tx<'_>, value: T) -> Result<(), T> {
        let tail = tx.get_global(&self.tail);
        let position = tx.read(tail).position;
        let slot = self.slot_at(tx, position);
        if tx.read(slot).value.is_some() {
            return Err(value);
        }
        tx.write(slot, Slot { value: Some(value) });
        tx.write(
            tail,
            End {
                position: position + 1,
            },
        );
        Ok(())
    }

    /// Takes the oldest element, or `None` when the queue is empty. Reads
    /// and writes the head and the place it empties, nothing a producer
    /// writes unless that place is still empty.
    pub fn take(&self, tx: &mut Tx<'_>) -> Option<T> {
        let head = tx.get_global(&self.head);
        let position = tx.read(head).position;
        let slot = self.slot_at(tx, position);
        let value = tx.read(slot).value?;
        tx.write(slot, Slot { value: None });
        tx.write(
            head,
            End {
                position: position + 1,
            },
        );
        Some(value)
    }

    /// Appends `value`, waiting (`Tx::retry`) while the queue is full.
    pub fn put_or_retry(&self, tx: &mut Tx<'_>, value: T) {
        if self.put(tx, value).is_err() {
            tx.retry();
        }
    }

    /// Takes the oldest element, waiting (`Tx::retry`) while the queue is
    /// empty.
    pub fn take_or_retry(&self, tx: &mut Tx<'_>) -> T {
        match self.take(tx) {
            Some(value) => value,
            None => tx.retry(),
        }
    }

    /// Takes the oldest element in a transaction of its own, waiting at
    /// most `timeout` for one to be put: `None` if none came meanwhile.
    /// The thread sleeps while it waits (no polling; collections do not
    /// wait for it).
    pub fn take_timeout(&self, thread: &mut Thread, timeout: Duration) -> Result<Option<T>, Error> {
        let deadline = Instant::now() + timeout;
        thread.atomically_until(deadline, |tx| self.take_or_retry(tx))
    }

    /// How many elements the queue holds. Reads both ends: the transaction
    /// conflicts with every put and take that commits before it.
    pub fn len(&self, tx: &mut Tx<'_>) -> usize {
        let head = tx.get_global(&self.head);
        let tail = tx.get_global(&self.tail);
        (tx.read(tail).position - tx.read(head).position) as usize
    }

    /// Whether the queue holds no element (reads both ends, as
    /// [`TxQueue::len`]).
    pub fn is_empty(&self, tx: &mut Tx<'_>) -> bool {
        self.len(tx) == 0
    }

    /// The place of `position`.
    fn slot_at<'tx>(&self, tx: &mut Tx<'tx>, position: u64) -> Obj<'tx, Slot<T>> {
        let slots = tx.get_global(&self.slots);
        tx.get::<Slot<T>>(slots, (position % self.capacity) as usize)
            .expect("every place is made with its queue")
    }
}
