//! The queue object ([`TxQueueObject`]) for a host that drives attempts
//! call by call (the C ABI; see `DESIGN.md`, "Conflict-free structures"
//! and "C ABI", "Structures"): elements are objects of any type the host
//! registered, and the queue is an object address like the host's own.
//! Every operation runs in the open attempt and checks first that the
//! queue is a queue object.

use crate::collections::queue_object::TxQueueObject;
use crate::manual::{ManualError, Untyped};
use crate::object::Obj;
use crate::thread::Thread;
use crate::tx::Tx;
use strata_gc::Address;

/// The queue of the manual API: elements of any type.
pub type ManualQueue = TxQueueObject<Untyped>;

impl Thread {
    /// A new empty queue of `capacity` places (at least 1), made by the
    /// open attempt. Its address is valid until the next call that may
    /// collect.
    pub fn alloc_queue_manual(&mut self, capacity: usize) -> Result<Address, ManualError> {
        self.with_manual_tx(|tx| {
            let queue = ManualQueue::alloc(tx, capacity);
            tx.address(queue)
        })
    }

    /// Appends `value` to `queue`; `false` when it is full. May collect.
    ///
    /// # Safety
    /// `queue` and `value` are current addresses of live objects the
    /// attempt holds (`value` is not null).
    pub unsafe fn queue_put_manual(
        &mut self,
        queue: Address,
        value: Address,
    ) -> Result<bool, ManualError> {
        debug_assert!(!value.is_null(), "strata: a queue's element is an object");
        // SAFETY: the caller's promise.
        unsafe {
            self.on_queue(queue, |tx, queue| {
                let value = tx.handle::<Untyped>(value);
                ManualQueue::put_untyped(tx, queue, value)
            })
        }
    }

    /// Takes the oldest element of `queue` (its current address), or
    /// `None` when it is empty. May collect.
    ///
    /// # Safety
    /// `queue` is the current address of a live object the attempt holds.
    pub unsafe fn queue_take_manual(
        &mut self,
        queue: Address,
    ) -> Result<Option<Address>, ManualError> {
        // SAFETY: the caller's promise.
        unsafe {
            self.on_queue(queue, |tx, queue| {
                let value = ManualQueue::take_untyped(tx, queue)?;
                Some(tx.address(value))
            })
        }
    }

    /// How many elements `queue` holds.
    ///
    /// # Safety
    /// `queue` is the current address of a live object the attempt holds.
    pub unsafe fn queue_len_manual(&mut self, queue: Address) -> Result<usize, ManualError> {
        // SAFETY: the caller's promise.
        unsafe { self.on_queue(queue, ManualQueue::len) }
    }

    /// Runs `f` on `queue` in the open attempt, after checking that it is
    /// a [`ManualQueue`].
    ///
    /// # Safety
    /// `queue` is the current address of a live object the attempt holds.
    unsafe fn on_queue<R>(
        &mut self,
        queue: Address,
        f: impl for<'tx> FnOnce(&mut Tx<'tx>, Obj<'tx, ManualQueue>) -> R,
    ) -> Result<R, ManualError> {
        // SAFETY: the caller's promise.
        unsafe { self.on_structure(queue, "queue object", f) }
    }
}
