//! The map object ([`TxHashMapObject`]) for a host that drives attempts
//! call by call (the C ABI; see `DESIGN.md`, "Conflict-free structures"
//! and "C ABI", "Structures"): keys are `u64`, values objects of any type
//! the host registered, and the map is an object address like the host's
//! own. Every operation runs in the open attempt
//! ([`Thread::with_manual_tx`]) and checks first that the map is a map.

use crate::collections::map_object::TxHashMapObject;
use crate::manual::{ManualError, Untyped};
use crate::object::Obj;
use crate::thread::Thread;
use crate::tx::Tx;
use strata_gc::Address;

/// The map of the manual API: `u64` keys, values of any type.
pub type ManualMap = TxHashMapObject<u64, Untyped>;

impl Thread {
    /// A new empty map for about `capacity` keys, made by the open
    /// attempt. Its address is valid until the next call that may collect.
    pub fn alloc_map_manual(&mut self, capacity: usize) -> Result<Address, ManualError> {
        self.with_manual_tx(|tx| {
            let map = ManualMap::alloc(tx, capacity);
            tx.address(map)
        })
    }

    /// The value of `key` in `map` (its current address), or `None`.
    ///
    /// # Safety
    /// `map` is the current address of a live object the attempt holds.
    pub unsafe fn map_get_manual(
        &mut self,
        map: Address,
        key: u64,
    ) -> Result<Option<Address>, ManualError> {
        // SAFETY: the caller's promise.
        unsafe {
            self.on_map(map, |tx, map| {
                let value = ManualMap::get_untyped(tx, map, &key)?;
                Some(tx.address(value))
            })
        }
    }

    /// Sets the value of `key` in `map` to `value`; returns the previous
    /// value (its current address), or `None`. May collect.
    ///
    /// # Safety
    /// `map` and `value` are current addresses of live objects the attempt
    /// holds (`value` is not null).
    pub unsafe fn map_insert_manual(
        &mut self,
        map: Address,
        key: u64,
        value: Address,
    ) -> Result<Option<Address>, ManualError> {
        debug_assert!(!value.is_null(), "strata: a map's value is an object");
        // SAFETY: the caller's promise.
        unsafe {
            self.on_map(map, |tx, map| {
                let value = tx.handle::<Untyped>(value);
                let previous = ManualMap::insert_untyped(tx, map, key, value)?;
                Some(tx.address(previous))
            })
        }
    }

    /// Removes the value of `key` from `map`; returns it (its current
    /// address), or `None`. May collect.
    ///
    /// # Safety
    /// `map` is the current address of a live object the attempt holds.
    pub unsafe fn map_remove_manual(
        &mut self,
        map: Address,
        key: u64,
    ) -> Result<Option<Address>, ManualError> {
        // SAFETY: the caller's promise.
        unsafe {
            self.on_map(map, |tx, map| {
                let previous = ManualMap::remove_untyped(tx, map, &key)?;
                Some(tx.address(previous))
            })
        }
    }

    /// How many keys of `map` have a value.
    ///
    /// # Safety
    /// `map` is the current address of a live object the attempt holds.
    pub unsafe fn map_len_manual(&mut self, map: Address) -> Result<usize, ManualError> {
        // SAFETY: the caller's promise.
        unsafe { self.on_map(map, ManualMap::len) }
    }

    /// The bucket `key` falls in, in `map`.
    ///
    /// # Safety
    /// `map` is the current address of a live object the attempt holds.
    pub unsafe fn map_bucket_manual(
        &mut self,
        map: Address,
        key: u64,
    ) -> Result<usize, ManualError> {
        // SAFETY: the caller's promise.
        unsafe { self.on_map(map, |tx, map| ManualMap::bucket_of(tx, map, &key)) }
    }

    /// Calls `f` with every key of `map` that has a value, bucket by
    /// bucket. `f` runs inside the attempt's barriers: it must not call
    /// back into this thread.
    ///
    /// # Safety
    /// `map` is the current address of a live object the attempt holds.
    pub unsafe fn map_keys_manual(
        &mut self,
        map: Address,
        mut f: impl FnMut(u64),
    ) -> Result<(), ManualError> {
        // SAFETY: the caller's promise.
        unsafe {
            self.on_map(map, |tx, map| {
                ManualMap::for_each_untyped(tx, map, |_, key, _| f(key));
            })
        }
    }

    /// Runs `f` on `map` in the open attempt, after checking that it is a
    /// [`ManualMap`].
    ///
    /// # Safety
    /// `map` is the current address of a live object the attempt holds.
    unsafe fn on_map<R>(
        &mut self,
        map: Address,
        f: impl for<'tx> FnOnce(&mut Tx<'tx>, Obj<'tx, ManualMap>) -> R,
    ) -> Result<R, ManualError> {
        // SAFETY: the caller's promise.
        unsafe { self.on_structure(map, "map object", f) }
    }
}
