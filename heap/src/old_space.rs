//! The old space: one reservation cut into 64 KiB pages, size-classed small
//! pages with per-thread allocation caches, and large objects on runs of
//! pages. Objects here never move, so their address is their identity.
//!
//! Page state follows the crate's page ownership invariant; the page
//! allocator (free pages, partial pages per class) is behind one mutex that
//! only slow paths take.
//!
//! Empty pages found by a sweep are *retained* (still committed) up to a
//! budget the collector sets, so that a steady allocation rate does not
//! fault the same pages in again after every major collection; the rest, and
//! retained pages that a whole cycle did not reuse, are released to the OS.

use crate::address::Address;
use crate::config::HeapConfig;
use crate::error::AllocError;
use crate::header::align_up;
use crate::page::{PageKind, PageMeta, PageState, PAGE_BYTES};
use crate::size_class::{class_of, slot_at, CLASS_BYTES, NUM_CLASSES};
use crate::sys::{self, MappingPurpose};
use bitvec::vec::BitVec;
use memmap2::MmapMut;
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;

const NO_PAGE: u32 = u32::MAX;

/// The byte a sweep with poisoning writes over freed memory (see
/// [`OldSpace::sweep`]).
pub const POISON: u8 = 0xFB;

/// Free pages and partially used pages, behind the allocator lock.
struct PageAllocator {
    /// One bit per page below `high_water`: the page is free.
    free: BitVec,
    /// Pages at or above this index have never been used.
    high_water: usize,
    /// Pages of each class with free slots that no cache holds.
    partial: Vec<Vec<u32>>,
    /// Empty pages still committed (not in `free`), newest last: taken
    /// before `free` pages so that reuse finds them already faulted in.
    retained: Vec<u32>,
}

/// Counts describing the old space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OldSpaceStats {
    /// Pages holding objects (small or large).
    pub pages_in_use: usize,
    /// The most pages ever in use at once.
    pub high_water_pages: usize,
}

/// A large object found by [`OldSpace::for_each_object`].
#[derive(Debug, Clone, Copy)]
pub struct LargeObject {
    pub address: Address,
    pub pages: usize,
}

/// The old space of one heap.
pub struct OldSpace {
    _map: MmapMut,
    base: usize,
    /// Pages of the reservation: twice the limit, so that promotion, which
    /// cannot fail half way, has room past the limit (see `DESIGN.md`).
    max_pages: usize,
    limit_pages: usize,
    table: Box<[AtomicPtr<PageMeta>]>,
    allocator: Mutex<PageAllocator>,
    pages_in_use: AtomicUsize,
}

impl OldSpace {
    /// Reserves address space for the configured heap limit.
    pub fn new(config: &HeapConfig) -> io::Result<OldSpace> {
        let limit_pages = config.max_pages();
        let max_pages = 2 * limit_pages;
        // An extra huge page of address space lets the base be aligned to a
        // huge-page boundary (hence to a page boundary too).
        let mut map = sys::map_reserved(
            max_pages * PAGE_BYTES + sys::HUGE_PAGE_BYTES,
            MappingPurpose::OldSpace,
            config.huge_pages,
        )?;
        let raw = map.as_mut_ptr() as usize;
        let base = raw.next_multiple_of(sys::HUGE_PAGE_BYTES);
        let table = (0..max_pages)
            .map(|_| AtomicPtr::new(std::ptr::null_mut()))
            .collect();
        Ok(OldSpace {
            _map: map,
            base,
            max_pages,
            limit_pages,
            table,
            allocator: Mutex::new(PageAllocator {
                free: BitVec::new(),
                high_water: 0,
                partial: vec![Vec::new(); NUM_CLASSES],
                retained: Vec::new(),
            }),
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
        addr.as_usize().wrapping_sub(self.base) < self.max_pages * PAGE_BYTES
    }

    /// Start address of page `index`.
    #[inline(always)]
    pub fn page_start(&self, index: usize) -> Address {
        Address::from_usize(self.base + index * PAGE_BYTES)
    }

    /// The metadata of the page holding `addr`, if that page was ever used.
    #[inline]
    pub fn page_of(&self, addr: Address) -> Option<(usize, &PageMeta)> {
        if !self.contains(addr) {
            return None;
        }
        let index = (addr.as_usize() - self.base) / PAGE_BYTES;
        self.page(index).map(|meta| (index, meta))
    }

    #[inline(always)]
    fn page(&self, index: usize) -> Option<&PageMeta> {
        let ptr = self.table[index].load(Ordering::Acquire);
        // SAFETY: a published page meta is never freed before the OldSpace.
        unsafe { ptr.as_ref() }
    }

    fn page_or_create(&self, index: usize) -> &PageMeta {
        if let Some(meta) = self.page(index) {
            return meta;
        }
        // Called under the allocator lock, so no other thread races here.
        let meta = Box::into_raw(Box::new(PageMeta::new()));
        self.table[index].store(meta, Ordering::Release);
        // SAFETY: just published, lives until drop.
        unsafe { &*meta }
    }

    /// Current counts.
    pub fn stats(&self) -> OldSpaceStats {
        let allocator = self.allocator.lock().unwrap_or_else(|e| e.into_inner());
        OldSpaceStats {
            pages_in_use: self.pages_in_use.load(Ordering::Relaxed),
            high_water_pages: allocator.high_water,
        }
    }

    /// Bytes of the pages now in use.
    #[inline]
    pub fn bytes_in_use(&self) -> usize {
        self.pages_in_use.load(Ordering::Relaxed) * PAGE_BYTES
    }

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
        let mut allocator = self.allocator.lock().unwrap_or_else(|e| e.into_inner());
        let (first, retained) =
            self.take_run(&mut allocator, pages)
                .ok_or(AllocError::OutOfMemory {
                    bytes,
                    limit: self.limit_bytes(),
                })?;
        for index in first..first + pages {
            // SAFETY: the pages were free, so no cache or collector holds
            // them; we hold the allocator lock.
            let state = unsafe { self.page_or_create(index).state() };
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

    /// Takes a run of `pages` free pages: its first page, and whether it is a
    /// retained page (still holding old bytes) rather than released memory.
    fn take_run(&self, allocator: &mut PageAllocator, pages: usize) -> Option<(usize, bool)> {
        if pages == 1 {
            if let Some(index) = allocator.retained.pop() {
                return Some((index as usize, true));
            }
            if let Some(index) = allocator.free.first_one() {
                allocator.free.set(index, false);
                return Some((index, false));
            }
        } else {
            let mut run = 0;
            for index in allocator.free.iter_ones() {
                run = if index > 0 && run > 0 && allocator.free[index - 1] {
                    run + 1
                } else {
                    1
                };
                if run == pages {
                    let first = index + 1 - pages;
                    allocator.free[first..=index].fill(false);
                    return Some((first, false));
                }
            }
        }
        if allocator.high_water + pages > self.max_pages {
            if allocator.retained.is_empty() {
                return None;
            }
            // Retained pages may be what a run needs: release them into
            // the free set and look again.
            self.release_retained(allocator, 0);
            return self.take_run(allocator, pages);
        }
        let first = allocator.high_water;
        allocator.high_water += pages;
        allocator.free.resize(allocator.high_water, false);
        Some((first, false))
    }

    /// Gives a cache a page of `class` with free slots, or `None` at the limit.
    fn take_small_page(&self, class: usize) -> Option<u32> {
        let mut allocator = self.allocator.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(index) = allocator.partial[class].pop() {
            let meta = self
                .page(index as usize)
                .expect("partial page has metadata");
            // SAFETY: partial pages are held by no cache; we hold the lock.
            let state = unsafe { meta.state() };
            if state.kind == (PageKind::Small { class: class as u8 }) && state.has_free_slot() {
                state.cached = true;
                return Some(index);
            }
        }
        let (index, _) = self.take_run(&mut allocator, 1)?;
        // SAFETY: a free page is held by no cache; we hold the lock.
        let state = unsafe { self.page_or_create(index).state() };
        state.format_small(class);
        state.cached = true;
        self.pages_in_use.fetch_add(1, Ordering::Relaxed);
        Some(index as u32)
    }

    /// Returns a cache's pages to the partial lists (a thread detaching).
    pub fn release_cache(&self, cache: &mut AllocCache) {
        let mut allocator = self.allocator.lock().unwrap_or_else(|e| e.into_inner());
        for (class, slot) in cache.current.iter_mut().enumerate() {
            if *slot != NO_PAGE {
                let meta = self.page(*slot as usize).expect("cached page has metadata");
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

    /// Marks the object at `obj`; returns true if it was not marked before
    /// (exactly one of several markers racing on it gets true). Returns
    /// `None` when `obj` is not the start of an allocated old object.
    ///
    /// # Safety
    /// The world is stopped and the callers are the collection's markers:
    /// nothing changes page states until the sweep.
    pub unsafe fn mark(&self, obj: Address) -> Option<bool> {
        let (index, meta) = self.page_of(obj)?;
        // SAFETY: the world is stopped; markers only read page states.
        let state = unsafe { meta.state_ref() };
        match state.kind {
            PageKind::Small { class } => {
                let offset = obj.as_usize() - self.page_start(index).as_usize();
                let slot = slot_at(class as usize, offset)?;
                if slot >= state.alloc.len() || !state.alloc[slot] {
                    return None;
                }
                Some(meta.mark_slot(slot))
            }
            PageKind::LargeHead { .. } if obj == self.page_start(index) => Some(meta.mark_large()),
            _ => None,
        }
    }

    /// Whether `obj` is the start of an allocated old object.
    ///
    /// # Safety
    /// The world is stopped (or the caller owns every page it may touch).
    pub unsafe fn is_object(&self, obj: Address) -> bool {
        let Some((index, meta)) = self.page_of(obj) else {
            return false;
        };
        // SAFETY: caller's promise; read only.
        let state = unsafe { meta.state() };
        match state.kind {
            PageKind::Small { class } => {
                let offset = obj.as_usize() - self.page_start(index).as_usize();
                slot_at(class as usize, offset).is_some_and(|slot| state.holds_object(slot))
            }
            PageKind::LargeHead { .. } => obj == self.page_start(index),
            _ => false,
        }
    }

    /// Calls `f(address, slot_bytes)` for every allocated object.
    ///
    /// # Safety
    /// The world is stopped and the caller is the collector.
    pub unsafe fn for_each_object(&self, mut f: impl FnMut(Address, usize)) {
        let high_water = self.stats().high_water_pages;
        for index in 0..high_water {
            let Some(meta) = self.page(index) else {
                continue;
            };
            // SAFETY: the world is stopped; read only.
            let state = unsafe { meta.state() };
            match state.kind {
                PageKind::Small { .. } => {
                    let slot_bytes = state.slot_bytes();
                    for slot in state.alloc.iter_ones() {
                        if !state.holds_object(slot) {
                            continue;
                        }
                        f(self.page_start(index).offset(slot * slot_bytes), slot_bytes);
                    }
                }
                PageKind::LargeHead { pages } => {
                    f(self.page_start(index), pages as usize * PAGE_BYTES)
                }
                _ => {}
            }
        }
    }

    /// Frees every unmarked object, clears the marks and rebuilds the partial
    /// lists. Pages retained at the last sweep and not reused since are
    /// released to the OS; the pages this sweep empties are retained until
    /// [`OldSpace::trim_retained`]. Returns the live bytes (slot sizes of
    /// marked small objects plus marked large objects' pages). With
    /// `poison`, every freed small slot and every freed large object's
    /// header is filled with [`POISON`], so that a use after free reads a
    /// header of no registered type and references that point nowhere.
    ///
    /// # Safety
    /// The world is stopped, the caller is the collector, and every live
    /// object was marked.
    pub unsafe fn sweep(&self, poison: bool) -> usize {
        let mut allocator = self.allocator.lock().unwrap_or_else(|e| e.into_inner());
        self.release_retained(&mut allocator, 0);
        let mut live = 0;
        for list in &mut allocator.partial {
            list.clear();
        }
        for index in 0..allocator.high_water {
            let Some(meta) = self.page(index) else {
                continue;
            };
            // SAFETY: the world is stopped; the collector owns every page.
            let state = unsafe { meta.state() };
            match state.kind {
                PageKind::Small { class } => {
                    let before = poison.then(|| state.alloc.clone());
                    meta.take_marks(&mut state.alloc);
                    if let Some(before) = before {
                        let (start, bytes) = (self.page_start(index), state.slot_bytes());
                        for slot in before.iter_ones().filter(|&slot| !state.alloc[slot]) {
                            // SAFETY: an unmarked slot holds no live object
                            // and the world is stopped: nobody reads it.
                            unsafe {
                                start
                                    .offset(slot * bytes)
                                    .as_ptr::<u8>()
                                    .write_bytes(POISON, bytes)
                            };
                        }
                    }
                    let marked = state.alloc.count_ones();
                    if state.cached {
                        state.keep_run();
                    } else {
                        state.cursor = 0;
                        state.run_end = 0;
                    }
                    live += marked * state.slot_bytes();
                    if marked == 0 && !state.cached {
                        self.free_pages(&mut allocator, index, 1);
                    } else if !state.cached && state.has_free_slot() {
                        allocator.partial[class as usize].push(index as u32);
                    }
                }
                PageKind::LargeHead { pages } => {
                    if meta.take_large_mark() {
                        live += pages as usize * PAGE_BYTES;
                    } else {
                        if poison {
                            // SAFETY: as above, for a dead large object.
                            unsafe {
                                self.page_start(index)
                                    .as_ptr::<u8>()
                                    .write_bytes(POISON, crate::header::HEADER_BYTES)
                            };
                        }
                        self.free_pages(&mut allocator, index, pages as usize);
                    }
                }
                PageKind::LargeTail { .. } | PageKind::Free => {}
            }
        }
        live
    }

    /// Frees `pages` pages from `first` into the retained set.
    fn free_pages(&self, allocator: &mut PageAllocator, first: usize, pages: usize) {
        for index in first..first + pages {
            if let Some(meta) = self.page(index) {
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
        let mut allocator = self.allocator.lock().unwrap_or_else(|e| e.into_inner());
        self.release_retained(&mut allocator, keep);
    }

    /// Bytes of the empty pages retained (committed, not in use).
    pub fn retained_bytes(&self) -> usize {
        let allocator = self.allocator.lock().unwrap_or_else(|e| e.into_inner());
        allocator.retained.len() * PAGE_BYTES
    }

    fn release_retained(&self, allocator: &mut PageAllocator, keep: usize) {
        if allocator.retained.len() <= keep {
            return;
        }
        let excess = allocator.retained.len() - keep;
        let mut released: Vec<u32> = allocator.retained.drain(..excess).collect();
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
            unsafe { sys::release(self.page_start(first).as_ptr(), pages * PAGE_BYTES) };
            allocator.free[first..first + pages].fill(true);
            i = end;
        }
    }
}

impl Drop for OldSpace {
    fn drop(&mut self) {
        // Only pages below the high-water mark were ever used: the rest of
        // the table (one entry per page of the reservation, 1 MiB for the
        // default 8 GiB) was never touched, and reading it would fault it in.
        let used = self
            .allocator
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .high_water;
        for entry in self.table[..used].iter() {
            let ptr = entry.load(Ordering::Relaxed);
            if !ptr.is_null() {
                // SAFETY: created by `Box::into_raw` in `page_or_create`.
                drop(unsafe { Box::from_raw(ptr) });
            }
        }
    }
}

/// One thread's allocation cache: its current page of each size class.
pub struct AllocCache {
    current: [u32; NUM_CLASSES],
    /// For each class with a current page: its metadata and start address,
    /// so that the fast path skips the page-table lookup. Set and cleared
    /// with `current`; valid for the space whose base is `space`.
    pages: [Option<(NonNull<PageMeta>, usize)>; NUM_CLASSES],
    /// Base address of the old space the cache took its pages from (0
    /// before the first): the cached pages belong to it alone.
    space: usize,
}

impl Default for AllocCache {
    fn default() -> Self {
        AllocCache {
            current: [NO_PAGE; NUM_CLASSES],
            pages: [None; NUM_CLASSES],
            space: 0,
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
        if self.space != space.base {
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
            self.space == space.base || self.space == 0,
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
                .page(index as usize)
                .expect("a page taken by a cache has metadata");
            self.current[class] = index;
            self.pages[class] = Some((
                NonNull::from(meta),
                space.page_start(index as usize).as_usize(),
            ));
            self.space = space.base;
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
            .page(index as usize)
            .expect("cached page has metadata");
        let _lock = space.allocator.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: we own the page until `cached` is cleared, under the lock.
        unsafe { meta.state() }.cached = false;
        self.current[class] = NO_PAGE;
        self.pages[class] = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_space(limit: usize) -> OldSpace {
        OldSpace::new(&HeapConfig {
            max_heap_bytes: limit,
            ..HeapConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn allocates_distinct_slots_and_frees_on_sweep() {
        let space = small_space(4 << 20);
        let mut cache = AllocCache::default();
        let a = cache.alloc_zeroed(&space, 32).unwrap();
        let b = cache.alloc_zeroed(&space, 32).unwrap();
        assert_ne!(a, b);
        assert_eq!(b.as_usize() - a.as_usize(), 32);
        let big = space.alloc_large(100_000).unwrap();
        assert_eq!(space.stats().pages_in_use, 3);
        // SAFETY: single-threaded test acting as the collector.
        unsafe {
            assert!(space.is_object(a));
            assert!(!space.is_object(a.offset(16)));
            assert_eq!(space.mark(b), Some(true));
            assert_eq!(space.mark(b), Some(false));
            assert!(space.mark(a.offset(16)).is_none());
            let live = space.sweep(true);
            assert_eq!(live, 32);
            assert!(!space.is_object(a));
            assert!(space.is_object(b));
            // Poisoned: the freed slot, not the live one.
            assert_eq!(a.as_ptr::<[u8; 32]>().read(), [POISON; 32]);
            assert_eq!(b.as_ptr::<[u8; 32]>().read(), [0; 32]);
            assert!(!space.is_object(big));
        }
        assert_eq!(space.stats().pages_in_use, 1);
        space.release_cache(&mut cache);
        // SAFETY: as above; nothing is marked, so everything is freed.
        unsafe { space.sweep(false) };
        assert_eq!(space.stats().pages_in_use, 0);
    }

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
