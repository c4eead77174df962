//! The write barrier: reads and writes of the reference slots of object
//! bodies, and the remembered set that writes fill.
//!
//! A write that stores a young reference into an old object remembers the
//! old object (its `REMEMBERED` flag set, itself pushed on this thread's
//! remembered set), so that the next minor collection finds the reference
//! without scanning the old space: the crate's invariant "every old object
//! that holds a young reference is remembered". Only the minor collection
//! clears the flags and empties the set.

use crate::mutator::Mutator;
use crate::Address;
use strata_heap::header::{self, REMEMBERED};

impl Mutator {
    /// Whether `obj` is in this thread's nursery.
    #[inline(always)]
    pub fn is_young(&self, obj: Address) -> bool {
        self.nursery.contains(obj)
    }

    /// Reads the reference at byte `offset` of `obj`'s body.
    ///
    /// The read touches the body only, not the header: a traversal chases
    /// one load per object.
    ///
    /// # Safety
    /// `obj` is a live object reachable by this thread (not a version
    /// record: those are reached only through [`crate::versions`]),
    /// `offset` one of its type's reference slots, and no other thread
    /// writes it concurrently.
    #[inline(always)]
    pub unsafe fn read_ref(&self, obj: Address, offset: usize) -> Address {
        // SAFETY: caller's invariant: an ordinary object's body follows its
        // two-word header.
        unsafe {
            obj.offset(header::HEADER_BYTES + offset)
                .as_ptr::<Address>()
                .read()
        }
    }

    /// Stores `value` at byte `offset` of `obj`'s body, with the write
    /// barrier.
    ///
    /// Like [`Mutator::read_ref`], it takes the body to follow the two-word
    /// header without reading the header to find out.
    ///
    /// # Safety
    /// `obj` is a live object reachable by this thread (not a version
    /// record: writers of those use [`Mutator::write_ref_slot`]), `offset`
    /// one of its type's reference slots, and no other thread accesses it
    /// concurrently; `value` is null or a live object reachable by this
    /// thread. If `obj` is old and other threads can reach it, storing a
    /// young `value` would let them see this thread's nursery: the caller
    /// must not (the transactional layer never does).
    #[inline(always)]
    pub unsafe fn write_ref(&mut self, obj: Address, offset: usize, value: Address) {
        debug_assert!(
            // SAFETY: caller's invariant.
            !unsafe { header::has_flag(obj, header::VERSION) },
            "write_ref on a version record"
        );
        // SAFETY: caller's invariant: an ordinary object's body follows its
        // two-word header.
        unsafe { self.write_ref_slot(obj, obj.offset(header::HEADER_BYTES + offset), value) };
    }

    /// [`Mutator::write_ref`] for a caller that has the address of the
    /// reference slot already (it knows where `obj`'s body starts).
    ///
    /// # Safety
    /// As for [`Mutator::write_ref`]; `slot` is one of `obj`'s reference
    /// slots.
    #[inline(always)]
    pub unsafe fn write_ref_slot(&mut self, obj: Address, slot: Address, value: Address) {
        // SAFETY: caller's invariant.
        unsafe { slot.as_ptr::<Address>().write(value) };
        if !self.nursery.contains(obj) && self.nursery.contains(value) {
            // SAFETY: `obj` is a live old object (caller's invariant).
            unsafe { self.remember(obj) };
        }
    }

    /// Records an old object that may now hold young references.
    ///
    /// # Safety
    /// `obj` is a live old object.
    #[inline]
    pub unsafe fn remember(&mut self, obj: Address) {
        // SAFETY: caller's invariant.
        if !unsafe { header::has_flag(obj, REMEMBERED) } {
            // SAFETY: as above.
            unsafe { header::set_flag(obj, REMEMBERED) };
            self.remembered.push(obj);
        }
    }
}
