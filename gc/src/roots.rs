//! Roots: what collections start from and update in place. A thread has
//! its shadow stack, handle slots and client roots (any object: minor
//! collections trace and update them), and its old roots and read roots
//! (old objects only: major collections mark them, minor collections leave
//! them alone). The heap has the global roots (old objects only, read from
//! any thread without a lock).
//!
//! A thread's roots are its own while it runs; when it parks or blocks,
//! [`Mutator::publish_roots`] copies them for the major collection, which
//! marks from every thread's published roots and the global roots.
//!
//! A handle table is a vector of references with a free list threaded
//! through the empty slots' indices; collections visit the occupied slots
//! and update them in place.

use crate::heap::HeapShared;
use crate::mutator::Mutator;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use strata_heap::Address;

/// A rooted handle slot of a thread (see [`Mutator::root`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HandleSlot(pub(crate) u32);

/// The low bits of a read root that may carry a client's tag (objects are
/// 16-byte aligned).
pub const READ_ROOT_TAG_BITS: usize = 0xF;

impl Mutator {
    /// Pushes a reference on the shadow stack; collections update it.
    ///
    /// # Safety
    /// `obj` is null or a live object reachable by this thread.
    #[inline]
    pub unsafe fn push_root(&mut self, obj: Address) {
        self.shadow_stack.push(obj);
    }

    /// Pops the top of the shadow stack (its current address), or `None`
    /// when the stack is empty.
    #[inline]
    pub fn pop_root(&mut self) -> Option<Address> {
        self.shadow_stack.pop()
    }

    /// How many entries the shadow stack holds.
    #[inline]
    pub fn shadow_stack_depth(&self) -> usize {
        self.shadow_stack.len()
    }

    /// The shadow stack's memory: its first entry, its length and its
    /// capacity, with at least `spare` free entries, for a host that
    /// pushes and pops in it itself between calls (the C ABI's inline
    /// shadow stack) and gives the length back with
    /// [`Mutator::set_shadow_stack_depth`].
    #[inline]
    pub fn shadow_stack_raw(&mut self, spare: usize) -> (*mut Address, usize, usize) {
        raw_with_spare(&mut self.shadow_stack, spare)
    }

    /// Sets the shadow stack's length to where a host that pushed and
    /// popped in [`Mutator::shadow_stack_raw`]'s memory left it.
    ///
    /// # Safety
    /// `depth` is at most the capacity `shadow_stack_raw` returned last,
    /// the stack was not touched since but through that memory, and every
    /// entry below `depth` is null or a live object this thread holds.
    #[inline]
    pub unsafe fn set_shadow_stack_depth(&mut self, depth: usize) {
        // SAFETY: caller's invariant.
        unsafe { set_len_within(&mut self.shadow_stack, depth) };
    }

    /// The shadow stack entry `depth` from the top (0 = top).
    pub fn peek_root(&self, depth: usize) -> Option<Address> {
        let len = self.shadow_stack.len();
        len.checked_sub(depth + 1).map(|i| self.shadow_stack[i])
    }

    /// Roots `obj` in a handle slot until [`Mutator::unroot`].
    ///
    /// # Safety
    /// `obj` is null or a live object reachable by this thread.
    pub unsafe fn root(&mut self, obj: Address) -> HandleSlot {
        self.note_young_handle(obj);
        HandleSlot(self.handles.insert(obj))
    }

    /// The current address of a rooted object.
    pub fn rooted(&self, slot: HandleSlot) -> Address {
        self.handles.get(slot.0)
    }

    /// Replaces a rooted object.
    ///
    /// # Safety
    /// As for [`Mutator::root`].
    pub unsafe fn set_rooted(&mut self, slot: HandleSlot, obj: Address) {
        self.note_young_handle(obj);
        self.handles.set(slot.0, obj)
    }

    /// Notes that a handle slot may hold a young object until the next
    /// minor collection, which then cannot skip the handles (see
    /// [`Mutator::nursery_unreachable`]).
    #[inline]
    fn note_young_handle(&mut self, obj: Address) {
        if self.nursery.contains(obj) {
            self.young_handles = true;
        }
    }

    /// Frees a handle slot.
    pub fn unroot(&mut self, slot: HandleSlot) {
        self.handles.remove(slot.0)
    }

    /// Adds `obj` to the client roots (references the client layer, the
    /// transactions' handle arena, keeps; traced and updated like the
    /// shadow stack) and returns its index.
    ///
    /// # Safety
    /// `obj` is null or a live object reachable by this thread.
    #[inline(always)]
    pub unsafe fn push_client_root(&mut self, obj: Address) -> usize {
        self.client_roots.push(obj);
        self.client_roots.len() - 1
    }

    /// Drops every client root from index `len` on.
    #[inline]
    pub fn truncate_client_roots(&mut self, len: usize) {
        self.client_roots.truncate(len);
    }

    /// How many client roots there are.
    #[inline]
    pub fn client_roots_len(&self) -> usize {
        self.client_roots.len()
    }

    /// Capacity of the client-root list (see [`Mutator::shrink_buffers`]).
    pub fn client_roots_capacity(&self) -> usize {
        self.client_roots.capacity()
    }

    /// Client root `index`, without the bounds check (the barriers' path).
    ///
    /// # Safety
    /// `index` is below the number of client roots.
    #[inline(always)]
    pub unsafe fn client_root_unchecked(&self, index: usize) -> Address {
        debug_assert!(
            index < self.client_roots.len(),
            "client root {index} out of bounds"
        );
        // SAFETY: the caller keeps `index` in bounds.
        unsafe { *self.client_roots.get_unchecked(index) }
    }

    /// Keeps the old object `obj` alive until [`Mutator::clear_old_roots`]:
    /// major collections mark it; minor collections leave it alone (it
    /// does not move, and a young reference stored into it is recorded by
    /// the write barrier). Transactions keep their private copies this way.
    ///
    /// # Safety
    /// `obj` is a live old object.
    #[inline(always)]
    pub unsafe fn push_old_root(&mut self, obj: Address) {
        debug_assert!(
            !obj.is_null() && !self.is_young(obj),
            "old root {obj:?} is not an old object"
        );
        self.old_roots.push(obj);
    }

    /// Keeps the old objects `a` and `b` alive until
    /// [`Mutator::clear_old_roots`], like two old roots, and keeps them as a
    /// pair: [`Mutator::old_root_pairs`] gives the pairs back in the order
    /// they were pushed. A transaction's write set (each anchor it owns
    /// with its private copy) lives here, stored once.
    ///
    /// # Safety
    /// `a` and `b` are live old objects.
    #[inline(always)]
    pub unsafe fn push_old_root_pair(&mut self, a: Address, b: Address) {
        debug_assert!(
            !a.is_null() && !self.is_young(a) && !b.is_null() && !self.is_young(b),
            "old root pair ({a:?}, {b:?}) is not two old objects"
        );
        self.old_root_pairs.push((a, b));
    }

    /// The pairs pushed by [`Mutator::push_old_root_pair`] since the last
    /// [`Mutator::clear_old_roots`], in order.
    #[inline(always)]
    pub fn old_root_pairs(&self) -> &[(Address, Address)] {
        &self.old_root_pairs
    }

    /// Drops every old root and old root pair.
    #[inline]
    pub fn clear_old_roots(&mut self) {
        self.old_roots.clear();
        self.old_root_pairs.clear();
    }

    /// Keeps the old object `obj` alive until
    /// [`Mutator::clear_read_roots`], like an old root. Its low
    /// [`READ_ROOT_TAG_BITS`] bits may carry a tag of the client's (objects
    /// are 16-byte aligned), which collections ignore. Transactions keep
    /// their read sets here: validation looks at every anchor read, so
    /// none may be freed while the transaction runs, even when no handle
    /// holds it any more.
    ///
    /// # Safety
    /// `obj`, its tag masked off, is a live old object.
    #[inline(always)]
    pub unsafe fn push_read_root(&mut self, obj: Address) {
        debug_assert!(
            {
                let untagged = Address::from_usize(obj.as_usize() & !READ_ROOT_TAG_BITS);
                !untagged.is_null() && !self.is_young(untagged)
            },
            "read root {obj:?} is not an old object"
        );
        self.read_roots.push(obj);
    }

    /// The read root pushed last, tag included.
    #[inline(always)]
    pub fn last_read_root(&self) -> Option<Address> {
        self.read_roots.last().copied()
    }

    /// The read roots in the order pushed, tags included.
    #[inline]
    pub fn read_roots(&self) -> &[Address] {
        &self.read_roots
    }

    /// Drops every read root.
    #[inline]
    pub fn clear_read_roots(&mut self) {
        self.read_roots.clear();
    }

    /// The read-root list's memory: its first entry, its length and its
    /// capacity, with at least `spare` free entries, for a host that
    /// pushes read roots itself between calls (the C ABI's inline shared
    /// read) and gives the length back with [`Mutator::set_read_roots_len`].
    #[inline]
    pub fn read_roots_raw(&mut self, spare: usize) -> (*mut Address, usize, usize) {
        raw_with_spare(&mut self.read_roots, spare)
    }

    /// Sets the read-root list's length to where a host that pushed in
    /// [`Mutator::read_roots_raw`]'s memory left it.
    ///
    /// # Safety
    /// `len` is at least the length and at most the capacity
    /// `read_roots_raw` returned last, the list was not touched since but
    /// through that memory, and every entry the host pushed is a live old
    /// object (as for [`Mutator::push_read_root`]).
    #[inline]
    pub unsafe fn set_read_roots_len(&mut self, len: usize) {
        // SAFETY: caller's invariant.
        unsafe { set_len_within(&mut self.read_roots, len) };
    }

    /// Capacity of the read-root list (see [`Mutator::shrink_buffers`]).
    pub fn read_roots_capacity(&self) -> usize {
        self.read_roots.capacity()
    }

    /// Makes `obj` a global root, promoting it first if it is young.
    ///
    /// # Safety
    /// As for [`Mutator::root`].
    pub unsafe fn global_root(&mut self, obj: Address) -> GlobalRoot {
        // SAFETY: caller's invariant.
        let old = unsafe { self.promote(obj) };
        GlobalRoot::new(self.heap.shared.clone(), old)
    }

    /// Drops the pretenuring runs: a major collection's sweep frees their
    /// unused slots (see `DESIGN.md`, "Pretenuring").
    pub(crate) fn drop_runs(&mut self) {
        self.runs = [(0, 0); strata_heap::size_class::NUM_CLASSES];
    }

    /// Publishes this thread's roots (every kind above, tags masked off)
    /// for a major collection that runs while the thread is parked or
    /// blocked.
    pub(crate) fn publish_roots(&mut self) {
        let mut published = self
            .shared
            .published_roots
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        published.clear();
        published.extend(self.shadow_stack.iter().copied().filter(|a| !a.is_null()));
        published.extend(self.handles.values());
        published.extend(self.client_roots.iter().copied().filter(|a| !a.is_null()));
        published.extend_from_slice(&self.old_roots);
        published.extend(self.old_root_pairs.iter().flat_map(|&(a, b)| [a, b]));
        // A transaction clears `PRIVATE` on what it promoted at commit, so
        // none of it may be freed before then, even if unreachable.
        published.extend_from_slice(&self.promoted_log);
        published.extend(
            self.read_roots
                .iter()
                .map(|a| Address::from_usize(a.as_usize() & !READ_ROOT_TAG_BITS)),
        );
    }
}

/// The memory of a list a C host pushes in itself between calls: its
/// first entry, its length and its capacity, with at least `spare` free
/// entries (the shadow stack, the read roots).
#[inline(always)]
fn raw_with_spare(list: &mut Vec<Address>, spare: usize) -> (*mut Address, usize, usize) {
    if list.capacity() - list.len() < spare {
        grow(list, spare);
    }
    (list.as_mut_ptr(), list.len(), list.capacity())
}

#[cold]
#[inline(never)]
fn grow(list: &mut Vec<Address>, spare: usize) {
    list.reserve(spare);
}

/// Sets the length of a list a host pushed in (and popped, for the shadow
/// stack) through [`raw_with_spare`]'s memory.
///
/// # Safety
/// `len` is at most the capacity `raw_with_spare` returned last, the list
/// was not touched since but through that memory, and its entries below
/// `len` are initialised.
#[inline(always)]
unsafe fn set_len_within(list: &mut Vec<Address>, len: usize) {
    debug_assert!(
        len <= list.capacity(),
        "length {len} over the capacity {}",
        list.capacity()
    );
    // SAFETY: caller's invariant.
    unsafe { list.set_len(len) };
}

/// Slots holding references, reused through a free list.
#[derive(Default)]
pub struct HandleTable {
    slots: Vec<Address>,
    occupied: Vec<bool>,
    free: Vec<u32>,
}

impl HandleTable {
    /// Stores `value` in a free slot and returns its index.
    pub fn insert(&mut self, value: Address) -> u32 {
        if let Some(index) = self.free.pop() {
            self.slots[index as usize] = value;
            self.occupied[index as usize] = true;
            index
        } else {
            self.slots.push(value);
            self.occupied.push(true);
            (self.slots.len() - 1) as u32
        }
    }

    /// The reference in slot `index`.
    pub fn get(&self, index: u32) -> Address {
        debug_assert!(self.occupied[index as usize], "slot {index} is free");
        self.slots[index as usize]
    }

    /// Replaces the reference in slot `index`.
    pub fn set(&mut self, index: u32, value: Address) {
        debug_assert!(self.occupied[index as usize], "slot {index} is free");
        self.slots[index as usize] = value;
    }

    /// Empties slot `index`.
    pub fn remove(&mut self, index: u32) {
        debug_assert!(self.occupied[index as usize], "slot {index} is free");
        self.slots[index as usize] = Address::NULL;
        self.occupied[index as usize] = false;
        self.free.push(index);
    }

    /// Calls `f` on every occupied slot (free slots hold null and are
    /// skipped by the collectors' null test, so all slots are visited).
    pub fn for_each_mut(&mut self, f: impl FnMut(&mut Address)) {
        self.slots.iter_mut().for_each(f);
    }

    /// Every reference held.
    pub fn values(&self) -> impl Iterator<Item = Address> + '_ {
        self.slots.iter().copied().filter(|a| !a.is_null())
    }
}

/// A global root: keeps an old object alive and can be read from any thread
/// without a lock. Made by [`Mutator::global_root`], which promotes a young
/// object first.
pub struct GlobalRoot {
    heap: Arc<HeapShared>,
    cell: Arc<AtomicUsize>,
}

impl GlobalRoot {
    pub(crate) fn new(heap: Arc<HeapShared>, value: Address) -> GlobalRoot {
        debug_assert!(value.is_null() || heap.old.contains(value));
        let cell = Arc::new(AtomicUsize::new(value.as_usize()));
        heap.globals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(cell.clone());
        GlobalRoot { heap, cell }
    }

    /// The object held (an old-space address, never moved).
    #[inline]
    pub fn get(&self) -> Address {
        Address::from_usize(self.cell.load(Ordering::Acquire))
    }
}

impl Drop for GlobalRoot {
    fn drop(&mut self) {
        self.heap
            .globals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|cell| !Arc::ptr_eq(cell, &self.cell));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused() {
        let mut table = HandleTable::default();
        let a = table.insert(Address::from_usize(16));
        let b = table.insert(Address::from_usize(32));
        table.remove(a);
        assert_eq!(table.values().count(), 1);
        let c = table.insert(Address::from_usize(48));
        assert_eq!(c, a);
        assert_eq!(table.get(b), Address::from_usize(32));
        table.for_each_mut(|slot| {
            if !slot.is_null() {
                *slot = slot.offset(1)
            }
        });
        assert_eq!(table.get(c), Address::from_usize(49));
        assert_eq!(table.values().count(), 2);
    }
}
