//! A thread's allocation cache in the old space: its current page of each
//! size class, the inline fast path that takes a slot from it, and the runs
//! of free slots handed out whole (for pretenuring). The cache takes pages
//! from the page allocator and gives them back when full or when its
//! thread detaches.
//!
//! The page a cache holds (`cached` set in its state) is changed only by
//! the cache's thread, or by a collector while the world is stopped (crate
//! invariant "page ownership"); the fast path therefore takes no lock.

use super::{AllocCache, OldSpace};
use crate::address::Address;
use crate::error::AllocError;
use crate::header::align_up;
use crate::page::PageState;
use crate::size_class::{class_of, CLASS_BYTES, NUM_CLASSES};
use std::ptr::NonNull;

/// The `current` entry of a class for which the cache holds no page.
const NO_PAGE: u32 = u32::MAX;

impl Default for AllocCache {
    fn default() -> Self {
        AllocCache {
            current: [NO_PAGE; NUM_CLASSES],
            pages: [None; NUM_CLASSES],
            space_base: 0,
        }
    }
}

impl AllocCache {
    /// Allocates `bytes` (16-aligned) in the old space, bounded by the
    /// reservation only (callers enforce the heap limit); the memory is not
    /// zeroed for small objects (callers copy a whole object into it, or use
    /// [`AllocCache::alloc_zeroed`]).
    #[inline(always)]
    pub fn alloc(&mut self, space: &OldSpace, bytes: usize) -> Result<Address, AllocError> {
        debug_assert_eq!(bytes, align_up(bytes), "unaligned size {bytes}");
        let Some(class) = class_of(bytes) else {
            return space.alloc_large(bytes);
        };
        match self.alloc_current(space, class) {
            Some(obj) => Ok(obj),
            None => self.alloc_slow(space, class, bytes),
        }
    }

    /// The state and start address of this cache's current page of
    /// `class` in `space`, if it holds one.
    #[inline(always)]
    fn current_page(&mut self, space: &OldSpace, class: usize) -> Option<(&mut PageState, usize)> {
        let (meta, start) = self.pages[class]?;
        if self.space_base != space.reservation.base() {
            return None;
        }
        // SAFETY: `meta` is the metadata of this cache's current page of
        // `class` in `space` (same base), which lives as long as the space;
        // the cache holds the page, so this thread owns its state.
        Some((unsafe { meta.as_ref().state() }, start))
    }

    /// A slot of size class `class` from this cache's current page, or
    /// `None` when that page has none free. No page is taken, so the
    /// space's page count (what the heap limit bounds) does not change.
    #[inline(always)]
    fn alloc_current(&mut self, space: &OldSpace, class: usize) -> Option<Address> {
        let (state, start) = self.current_page(space, class)?;
        let slot = state.take_slot()?;
        Some(Address::from_usize(start + slot * CLASS_BYTES[class]))
    }

    /// The rest of the current free run of this cache's page of `class`
    /// (starting a new run when it is used up), as the address range
    /// `[start, end)` of its slots, or `None` when the page has no free slot
    /// (or the cache holds none). The page's run cursor moves to the run's
    /// end, so the cache hands out none of it; the slots are allocated in
    /// the bitmap, so those the caller does not use stay allocated until a
    /// sweep frees them. No page is taken.
    ///
    /// A sweep may hand the unused slots out again: the caller stops using
    /// the run before the next major collection (see `DESIGN.md`,
    /// "Pretenuring").
    #[inline]
    pub fn take_run(&mut self, space: &OldSpace, class: usize) -> Option<(Address, Address)> {
        let (state, start) = self.current_page(space, class)?;
        let first = state.take_slot()?;
        let end = state.run_end;
        state.cursor = end;
        let bytes = CLASS_BYTES[class];
        Some((
            Address::from_usize(start + first * bytes),
            Address::from_usize(start + end * bytes),
        ))
    }

    /// A new current page for `class` (the last one is full), then the slot.
    #[cold]
    #[inline(never)]
    fn alloc_slow(
        &mut self,
        space: &OldSpace,
        class: usize,
        bytes: usize,
    ) -> Result<Address, AllocError> {
        assert!(
            self.space_base == space.reservation.base() || self.space_base == 0,
            "an allocation cache serves one old space"
        );
        loop {
            if let Some(obj) = self.alloc_current(space, class) {
                return Ok(obj);
            }
            if self.pages[class].is_some() {
                self.drop_page(space, class);
            }
            let index = space
                .take_small_page(class)
                .ok_or(AllocError::OutOfMemory {
                    bytes,
                    limit: space.limit_bytes(),
                })?;
            let meta = space
                .reservation
                .page(index as usize)
                .expect("a page taken by a cache has metadata");
            self.current[class] = index;
            self.pages[class] = Some((
                NonNull::from(meta),
                space.page_start(index as usize).as_usize(),
            ));
            self.space_base = space.reservation.base();
        }
    }

    /// Like [`AllocCache::alloc`], with the memory zeroed.
    pub fn alloc_zeroed(&mut self, space: &OldSpace, bytes: usize) -> Result<Address, AllocError> {
        let addr = self.alloc(space, bytes)?;
        if class_of(bytes).is_some() {
            // SAFETY: the slot was just allocated to us and is `bytes` long
            // (its class holds at least `bytes`).
            unsafe { addr.as_ptr::<u8>().write_bytes(0, bytes) };
        }
        Ok(addr)
    }

    /// Gives up the current page of `class` (it is full).
    fn drop_page(&mut self, space: &OldSpace, class: usize) {
        let index = self.current[class];
        let meta = space
            .reservation
            .page(index as usize)
            .expect("cached page has metadata");
        let _lock = space.lock_allocator();
        // SAFETY: we own the page until `cached` is cleared, under the lock.
        unsafe { meta.state() }.cached = false;
        self.current[class] = NO_PAGE;
        self.pages[class] = None;
    }
}

impl OldSpace {
    /// Returns a cache's pages to the partial lists (a thread detaching).
    pub fn release_cache(&self, cache: &mut AllocCache) {
        let mut allocator = self.lock_allocator();
        for (class, slot) in cache.current.iter_mut().enumerate() {
            if *slot != NO_PAGE {
                let meta = self
                    .reservation
                    .page(*slot as usize)
                    .expect("cached page has metadata");
                // SAFETY: the cache owned the page; it gives it up under the lock.
                let state = unsafe { meta.state() };
                state.end_run();
                state.cached = false;
                allocator.partial[class].push(*slot);
                *slot = NO_PAGE;
                cache.pages[class] = None;
            }
        }
    }
}
