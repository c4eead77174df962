//! The old space: one reservation cut into 64 KiB pages, size-classed small
//! pages with per-thread allocation caches, and large objects on runs of
//! pages. Objects here never move, so their address is their identity.
//!
//! This module owns the [`OldSpace`] type (its limit and counts) and ties
//! its mechanisms together, one per file:
//!
//! - `reservation.rs`: the one mapping, address tests, page index math and
//!   the page metadata table;
//! - `page_allocator.rs`: free, retained and partial pages, pages for
//!   caches and runs of pages for large objects, behind one mutex that only
//!   slow paths take;
//! - `mark_sweep.rs`: marking, sweeping and the object walks of a collector;
//! - `alloc_cache.rs`: a thread's allocation cache and its fast path.
//!
//! Page state follows the crate's page ownership invariant.

mod alloc_cache;
mod mark_sweep;
mod page_allocator;
mod reservation;

pub use mark_sweep::POISON;

use crate::address::Address;
use crate::config::HeapConfig;
use crate::page::{PageMeta, PAGE_BYTES};
use crate::size_class::NUM_CLASSES;
use page_allocator::PageAllocator;
use reservation::Reservation;
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Counts describing the old space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OldSpaceStats {
    /// Pages holding objects (small or large).
    pub pages_in_use: usize,
    /// The most pages ever in use at once.
    pub high_water_pages: usize,
}

/// One thread's allocation cache: its current page of each size class.
/// Its code is in `alloc_cache.rs`.
// Defined here, not beside its code, because the expected output of stm's
// compile-fail test `thread_is_not_send` names this module and this file.
pub struct AllocCache {
    current: [u32; NUM_CLASSES],
    /// For each class with a current page: its metadata and start address,
    /// so that the fast path skips the page-table lookup. Set and cleared
    /// with `current`; valid for the space whose base is `space_base`.
    pages: [Option<(NonNull<PageMeta>, usize)>; NUM_CLASSES],
    /// Base address of the old space the cache took its pages from (0
    /// before the first): the cached pages belong to it alone.
    space_base: usize,
}

/// The old space of one heap.
pub struct OldSpace {
    reservation: Reservation,
    limit_pages: usize,
    allocator: Mutex<PageAllocator>,
    pages_in_use: AtomicUsize,
}

impl OldSpace {
    /// Reserves address space for the configured heap limit.
    pub fn new(config: &HeapConfig) -> io::Result<OldSpace> {
        let limit_pages = config.max_pages();
        // Twice the limit, so that promotion, which cannot fail half way,
        // has room past the limit (see `DESIGN.md`).
        let reservation = Reservation::new(2 * limit_pages, config.huge_pages)?;
        Ok(OldSpace {
            reservation,
            limit_pages,
            allocator: Mutex::new(PageAllocator::new()),
            pages_in_use: AtomicUsize::new(0),
        })
    }

    /// The heap limit in bytes.
    pub fn limit_bytes(&self) -> usize {
        self.limit_pages * PAGE_BYTES
    }

    /// Whether `bytes` more of old space can be handed to a mutator without
    /// passing the heap limit.
    #[inline]
    pub fn within_limit(&self, bytes: usize) -> bool {
        self.bytes_in_use().saturating_add(bytes) <= self.limit_bytes()
    }

    /// Whether `addr` lies in the old space.
    #[inline(always)]
    pub fn contains(&self, addr: Address) -> bool {
        self.reservation.contains(addr)
    }

    /// Start address of page `index`.
    #[inline(always)]
    pub fn page_start(&self, index: usize) -> Address {
        self.reservation.page_start(index)
    }

    /// The metadata of the page holding `addr`, if that page was ever used.
    #[inline]
    pub fn page_of(&self, addr: Address) -> Option<(usize, &PageMeta)> {
        self.reservation.page_of(addr)
    }

    /// Current counts.
    pub fn stats(&self) -> OldSpaceStats {
        OldSpaceStats {
            pages_in_use: self.pages_in_use.load(Ordering::Relaxed),
            high_water_pages: self.lock_allocator().high_water,
        }
    }

    /// Bytes of the pages now in use.
    #[inline]
    pub fn bytes_in_use(&self) -> usize {
        self.pages_in_use.load(Ordering::Relaxed) * PAGE_BYTES
    }

    /// The page allocator, locked (a lock poisoned by a panic is taken all
    /// the same).
    fn lock_allocator(&self) -> MutexGuard<'_, PageAllocator> {
        self.allocator.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for OldSpace {
    fn drop(&mut self) {
        let used = self
            .allocator
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .high_water;
        self.reservation.free_page_metas(used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AllocError;

    /// An old space with a heap limit of `limit` bytes.
    pub(super) fn small_space(limit: usize) -> OldSpace {
        OldSpace::new(&HeapConfig {
            max_heap_bytes: limit,
            ..HeapConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn reports_out_of_memory_and_recovers() {
        let space = small_space(1 << 20);
        let mut cache = AllocCache::default();
        let mut count = 0;
        while cache.alloc(&space, 8192).is_ok() {
            count += 1;
        }
        assert!(!space.within_limit(0));
        assert_eq!(count, 2 * (1 << 20) / 8192);
        assert!(matches!(
            space.alloc_large(1 << 21),
            Err(AllocError::TooLarge { .. })
        ));
        assert!(matches!(
            cache.alloc(&space, 8192),
            Err(AllocError::OutOfMemory { .. })
        ));
        space.release_cache(&mut cache);
        // SAFETY: single-threaded test acting as the collector.
        unsafe { space.sweep(false) };
        assert!(cache.alloc(&space, 8192).is_ok());
        assert!(space.alloc_large(200_000).is_ok());
    }
}
