//! The page allocator: which pages of the reservation are free, retained or
//! partly used, and the hand-out of pages to allocation caches (one page of
//! a size class) and to large objects (a run of pages).
//!
//! Its state sits behind the old space's one mutex, which only slow paths
//! take. A page it hands out belongs to the cache or large object that took
//! it until a sweep gives it back; the allocator changes a page's state only
//! while no cache holds it (crate invariant "page ownership").
//!
//! Empty pages found by a sweep are *retained* (still committed) up to a
//! budget the collector sets, so that a steady allocation rate does not
//! fault the same pages in again after every major collection; the rest, and
//! retained pages that a whole cycle did not reuse, are released to the OS.

use super::reservation::Reservation;
use super::OldSpace;
use crate::address::Address;
use crate::error::AllocError;
use crate::page::{PageKind, PAGE_BYTES};
use crate::size_class::NUM_CLASSES;
use crate::sys;
use bitvec::vec::BitVec;
use std::sync::atomic::Ordering;

/// Free pages and partially used pages, behind the allocator lock.
pub(super) struct PageAllocator {
    /// One bit per page below `high_water`: the page is free.
    free: BitVec,
    /// Pages at or above this index have never been used.
    pub(super) high_water: usize,
    /// Pages of each class with free slots that no cache holds.
    pub(super) partial: Vec<Vec<u32>>,
    /// Empty pages still committed (not in `free`), newest last: taken
    /// before `free` pages so that reuse finds them already faulted in.
    retained: Vec<u32>,
}

impl PageAllocator {
    /// An allocator with no page used yet.
    pub(super) fn new() -> PageAllocator {
        PageAllocator {
            free: BitVec::new(),
            high_water: 0,
            partial: vec![Vec::new(); NUM_CLASSES],
            retained: Vec::new(),
        }
    }

    /// Takes `pages` contiguous free pages of `reservation`: the first one,
    /// and whether it is a retained page (still holding old bytes) rather
    /// than released memory.
    fn take_pages(&mut self, reservation: &Reservation, pages: usize) -> Option<(usize, bool)> {
        if pages == 1 {
            if let Some(index) = self.retained.pop() {
                return Some((index as usize, true));
            }
            if let Some(index) = self.free.first_one() {
                self.free.set(index, false);
                return Some((index, false));
            }
        } else {
            let mut run = 0;
            for index in self.free.iter_ones() {
                run = if index > 0 && run > 0 && self.free[index - 1] {
                    run + 1
                } else {
                    1
                };
                if run == pages {
                    let first = index + 1 - pages;
                    self.free[first..=index].fill(false);
                    return Some((first, false));
                }
            }
        }
        if self.high_water + pages > reservation.max_pages() {
            if self.retained.is_empty() {
                return None;
            }
            // Retained pages may be what a run needs: release them into
            // the free set and look again.
            self.release_retained(reservation, 0);
            return self.take_pages(reservation, pages);
        }
        let first = self.high_water;
        self.high_water += pages;
        self.free.resize(self.high_water, false);
        Some((first, false))
    }

    /// Releases to the OS the retained pages beyond the `keep` newest.
    pub(super) fn release_retained(&mut self, reservation: &Reservation, keep: usize) {
        if self.retained.len() <= keep {
            return;
        }
        let excess = self.retained.len() - keep;
        let mut released: Vec<u32> = self.retained.drain(..excess).collect();
        released.sort_unstable();
        let mut i = 0;
        while i < released.len() {
            let first = released[i] as usize;
            let mut end = i + 1;
            while end < released.len() && released[end] as usize == first + (end - i) {
                end += 1;
            }
            let pages = end - i;
            // SAFETY: the pages are inside our reservation, empty and in no
            // cache or list; nothing refers to them.
            unsafe { sys::release(reservation.page_start(first).as_ptr(), pages * PAGE_BYTES) };
            self.free[first..first + pages].fill(true);
            i = end;
        }
    }
}

impl OldSpace {
    /// Allocates a large object of `bytes` (zeroed) on its own run of pages.
    /// Only the reservation bounds it: callers enforce the heap limit.
    pub fn alloc_large(&self, bytes: usize) -> Result<Address, AllocError> {
        let pages = bytes.div_ceil(PAGE_BYTES);
        if pages > self.limit_pages {
            return Err(AllocError::TooLarge {
                bytes,
                limit: self.limit_bytes(),
            });
        }
        let mut allocator = self.lock_allocator();
        let (first, retained) =
            allocator
                .take_pages(&self.reservation, pages)
                .ok_or(AllocError::OutOfMemory {
                    bytes,
                    limit: self.limit_bytes(),
                })?;
        for index in first..first + pages {
            // SAFETY: the pages were free, so no cache or collector holds
            // them; we hold the allocator lock.
            let state = unsafe { self.reservation.page_or_create(index).state() };
            state.kind = if index == first {
                PageKind::LargeHead {
                    pages: pages as u32,
                }
            } else {
                PageKind::LargeTail { head: first as u32 }
            };
        }
        self.pages_in_use.fetch_add(pages, Ordering::Relaxed);
        if retained {
            // SAFETY: the page is ours now and holds no object.
            unsafe {
                self.page_start(first)
                    .as_ptr::<u8>()
                    .write_bytes(0, PAGE_BYTES)
            };
        }
        // Released (or never touched) pages read as zero.
        Ok(self.page_start(first))
    }

    /// Gives a cache a page of `class` with free slots, or `None` at the limit.
    pub(super) fn take_small_page(&self, class: usize) -> Option<u32> {
        let mut allocator = self.lock_allocator();
        while let Some(index) = allocator.partial[class].pop() {
            let meta = self
                .reservation
                .page(index as usize)
                .expect("partial page has metadata");
            // SAFETY: partial pages are held by no cache; we hold the lock.
            let state = unsafe { meta.state() };
            if state.kind == (PageKind::Small { class: class as u8 }) && state.has_free_slot() {
                state.cached = true;
                return Some(index);
            }
        }
        let (index, _) = allocator.take_pages(&self.reservation, 1)?;
        // SAFETY: a free page is held by no cache; we hold the lock.
        let state = unsafe { self.reservation.page_or_create(index).state() };
        state.format_small(class);
        state.cached = true;
        self.pages_in_use.fetch_add(1, Ordering::Relaxed);
        Some(index as u32)
    }

    /// Frees `pages` pages from `first` into the retained set.
    pub(super) fn free_pages(&self, allocator: &mut PageAllocator, first: usize, pages: usize) {
        for index in first..first + pages {
            if let Some(meta) = self.reservation.page(index) {
                // SAFETY: called by the sweep with the world stopped.
                unsafe { meta.state() }.kind = PageKind::Free;
            }
            allocator.retained.push(index as u32);
        }
        self.pages_in_use.fetch_sub(pages, Ordering::Relaxed);
    }

    /// Releases to the OS the retained pages beyond the `keep` newest.
    /// Called by the collector after a sweep with the room it expects the
    /// next cycle to allocate (0 for a requested collection, which gives
    /// back everything empty).
    pub fn trim_retained(&self, keep: usize) {
        self.lock_allocator()
            .release_retained(&self.reservation, keep);
    }

    /// Bytes of the empty pages retained (committed, not in use).
    pub fn retained_bytes(&self) -> usize {
        self.lock_allocator().retained.len() * PAGE_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::small_space;
    use super::*;
    use crate::old_space::AllocCache;

    #[test]
    fn emptied_pages_are_retained_reused_first_and_released_after_a_cycle() {
        let space = small_space(4 << 20);
        let mut cache = AllocCache::default();
        let first = cache.alloc(&space, 8192).unwrap();
        let _big = space.alloc_large(3 * PAGE_BYTES).unwrap();
        space.release_cache(&mut cache);
        // SAFETY: single-threaded test acting as the collector; nothing is
        // marked, so all four pages empty.
        unsafe { space.sweep(false) };
        assert_eq!(space.stats().pages_in_use, 0);
        assert_eq!(space.retained_bytes(), 4 * PAGE_BYTES);
        space.trim_retained(3);
        assert_eq!(space.retained_bytes(), 3 * PAGE_BYTES);
        // The newest retained page is taken before any released one.
        let again = cache.alloc(&space, 8192).unwrap();
        assert_ne!(again.as_usize() / PAGE_BYTES, first.as_usize() / PAGE_BYTES);
        assert_eq!(space.retained_bytes(), 2 * PAGE_BYTES);
        // The next sweep releases what the cycle did not reuse.
        // SAFETY: as above; the cached page stays in use.
        unsafe { space.sweep(false) };
        assert_eq!(space.retained_bytes(), 0);
        assert_eq!(space.stats().pages_in_use, 1);
    }

    #[test]
    fn a_large_object_on_a_retained_page_reads_zero() {
        let space = small_space(4 << 20);
        let big = space.alloc_large(PAGE_BYTES).unwrap();
        // SAFETY: the object is ours and PAGE_BYTES long.
        unsafe { big.as_ptr::<u8>().write_bytes(0xab, PAGE_BYTES) };
        // SAFETY: single-threaded test acting as the collector; unmarked,
        // so the page is emptied and retained.
        unsafe { space.sweep(false) };
        assert_eq!(space.retained_bytes(), PAGE_BYTES);
        let again = space.alloc_large(PAGE_BYTES).unwrap();
        assert_eq!(again, big, "the retained page is reused");
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(again.as_ptr::<u8>(), PAGE_BYTES) };
        assert!(bytes.iter().all(|&b| b == 0));
    }
}
