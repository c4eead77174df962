//! A thread's nursery: a private mapping allocated by bumping a cursor.
//!
//! The fast path is inline and touches only this struct: no lock, no atomic
//! read-modify-write. Each object's body is zeroed as it is allocated (its
//! cache line is being written for the header anyway), so a reset is only a
//! cursor move: no bulk clearing, no page faults from giving pages back.
//!
//! A nursery can be *closed* (see `DESIGN.md`, "Pretenuring"): its
//! allocation limit drops to its cursor, so the fast path fails and the
//! caller's slow path allocates elsewhere; its extent, and so `contains`,
//! stays the same.

use crate::address::Address;
use crate::header;
use crate::sys::{self, MappingPurpose};
use memmap2::MmapMut;
use std::io;

/// One thread's nursery.
pub struct Nursery {
    cursor: usize,
    /// Where allocation stops: the end of the mapping, or the cursor while
    /// the nursery is closed.
    limit: usize,
    start: usize,
    /// Bytes of the mapping (the extent `contains` tests).
    size: usize,
    /// Flags every new object's header starts with.
    flags: u64,
    /// The mapping (none for [`Nursery::take`]'s empty leftover).
    _map: Option<MmapMut>,
}

impl Nursery {
    /// Maps a nursery of `bytes` (rounded down to 16), advised to use huge
    /// pages when `huge_pages`.
    pub fn new(bytes: usize, huge_pages: bool) -> io::Result<Nursery> {
        let bytes = bytes & !15;
        let mut map = sys::map_reserved(bytes, MappingPurpose::Nursery, huge_pages)?;
        let start = map.as_mut_ptr() as usize;
        Ok(Nursery {
            cursor: start,
            limit: start + bytes,
            start,
            size: bytes,
            flags: 0,
            _map: Some(map),
        })
    }

    /// Moves this nursery out (to keep it for another thread: see
    /// `DESIGN.md`, "Idle nurseries"), leaving an empty one that owns no
    /// memory, refuses every allocation and contains no address.
    pub fn take(&mut self) -> Nursery {
        std::mem::replace(
            self,
            Nursery {
                cursor: 0,
                limit: 0,
                start: 0,
                size: 0,
                flags: 0,
                _map: None,
            },
        )
    }

    /// Makes an empty nursery ready for a new thread: open, no header
    /// flags. Its old contents need no clearing (allocation zeroes each
    /// body).
    ///
    /// # Safety
    /// No live object is in the nursery (as for [`Nursery::reset`]).
    pub unsafe fn recycle(&mut self) {
        // SAFETY: caller's invariant.
        unsafe { self.reset() };
        self.open();
        self.flags = 0;
    }

    /// Allocates `bytes` (16-aligned) of zeroed memory and writes a header
    /// of `type_id`, or returns `None` when the nursery is full.
    #[inline(always)]
    pub fn try_alloc(&mut self, bytes: usize, type_id: u32) -> Option<Address> {
        debug_assert!(
            bytes >= 16 && bytes.is_multiple_of(16),
            "bad object size {bytes}"
        );
        let obj = self.cursor;
        if self.limit - obj < bytes {
            return None;
        }
        self.cursor = obj + bytes;
        let obj = Address::from_usize(obj);
        // SAFETY: `[obj, obj + bytes)` is inside our mapping, below the new
        // cursor and owned by this thread alone.
        unsafe {
            header::init(obj, type_id, self.flags);
            crate::words::zero(
                obj.offset(header::HEADER_BYTES),
                bytes - header::HEADER_BYTES,
            );
        }
        Some(obj)
    }

    /// The free range `[cursor, limit)`, for a host that bumps it itself
    /// between calls (the C ABI's inline allocation) and gives the cursor
    /// back with [`Nursery::set_cursor`].
    #[inline]
    pub fn free_range(&self) -> (usize, usize) {
        (self.cursor, self.limit)
    }

    /// The nursery's extent `[start, end)`.
    #[inline]
    pub fn extent(&self) -> (usize, usize) {
        (self.start, self.start + self.size)
    }

    /// Moves the cursor to where a host that bumped [`Nursery::free_range`]
    /// left it.
    ///
    /// # Safety
    /// `cursor` is 16-aligned in `[cursor, limit]` of the last
    /// `free_range`, and every object between the old cursor and `cursor`
    /// was made as [`Nursery::try_alloc`] makes one: a header of a
    /// registered type with these flags, a zeroed body.
    #[inline]
    pub unsafe fn set_cursor(&mut self, cursor: usize) {
        debug_assert!(
            cursor >= self.cursor && cursor <= self.limit && cursor.is_multiple_of(16),
            "nursery cursor {cursor:#x} outside [{:#x}, {:#x}]",
            self.cursor,
            self.limit
        );
        self.cursor = cursor;
    }

    /// Sets the header flags of the objects allocated from now on.
    pub fn set_header_flags(&mut self, flags: u64) {
        self.flags = flags;
    }

    /// The flags every new object's header starts with.
    #[inline]
    pub fn header_flags(&self) -> u64 {
        self.flags
    }

    /// Stops allocation: every `try_alloc` fails until [`Nursery::open`].
    /// What is allocated stays allocated.
    pub fn close(&mut self) {
        self.limit = self.cursor;
    }

    /// Allows allocation up to the end of the mapping again.
    pub fn open(&mut self) {
        self.limit = self.start + self.size;
    }

    /// Whether the nursery is closed.
    pub fn is_closed(&self) -> bool {
        self.limit != self.start + self.size
    }

    /// Whether `addr` lies in this nursery (closed or not).
    #[inline(always)]
    pub fn contains(&self, addr: Address) -> bool {
        addr.as_usize().wrapping_sub(self.start) < self.size
    }

    /// Bytes allocated since the last reset.
    #[inline]
    pub fn used_bytes(&self) -> usize {
        self.cursor - self.start
    }

    /// Total bytes.
    pub fn capacity(&self) -> usize {
        self.size
    }

    /// The allocated range `[start, cursor)`, for walking its objects.
    pub fn allocated(&self) -> (Address, Address) {
        (
            Address::from_usize(self.start),
            Address::from_usize(self.cursor),
        )
    }

    /// Empties the nursery.
    ///
    /// # Safety
    /// No live reference into the nursery remains.
    pub unsafe fn reset(&mut self) {
        if self.is_closed() {
            self.limit = self.start;
        }
        self.cursor = self.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_until_full_and_resets_zeroed() {
        let mut nursery = Nursery::new(4096, false).unwrap();
        let a = nursery.try_alloc(32, 1).unwrap();
        let b = nursery.try_alloc(48, 1).unwrap();
        assert_eq!(b.as_usize() - a.as_usize(), 32);
        assert!(nursery.contains(a) && nursery.contains(b));
        // SAFETY: `a` is a live 32-byte allocation in the nursery.
        unsafe { a.offset(16).as_ptr::<u64>().write(99) };
        while nursery.try_alloc(64, 1).is_some() {}
        assert!(nursery.used_bytes() > 4096 - 64);
        // SAFETY: the test holds no references it will use.
        unsafe { nursery.reset() };
        assert_eq!(nursery.used_bytes(), 0);
        let c = nursery.try_alloc(32, 1).unwrap();
        assert_eq!(c, a);
        // SAFETY: `c` is a live 32-byte allocation where `a` was written.
        assert_eq!(unsafe { c.offset(16).as_ptr::<u64>().read() }, 0);
    }

    #[test]
    fn a_closed_nursery_refuses_allocation_but_keeps_its_extent() {
        let mut nursery = Nursery::new(4096, false).unwrap();
        let a = nursery.try_alloc(32, 1).unwrap();
        nursery.close();
        assert!(nursery.is_closed());
        assert!(nursery.try_alloc(16, 1).is_none());
        assert!(nursery.contains(a));
        assert_eq!(nursery.capacity(), 4096);
        assert_eq!(nursery.used_bytes(), 32);
        nursery.open();
        assert!(!nursery.is_closed());
        let b = nursery.try_alloc(16, 1).unwrap();
        assert_eq!(b.as_usize() - a.as_usize(), 32);
        // SAFETY: the test holds no references it will use.
        unsafe { nursery.reset() };
        nursery.close();
        assert!(nursery.try_alloc(16, 1).is_none());
        assert_eq!(nursery.used_bytes(), 0);
    }
}
