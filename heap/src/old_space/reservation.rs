//! The old space's reservation: the one mapping its pages are cut from, the
//! tests of whether an address lies in it, the arithmetic between addresses
//! and page indices, and the table of page metadata (one entry per page).
//!
//! The reservation knows nothing of which pages are free or what they hold:
//! that is the page allocator's and the pages' own state. It only hands out
//! a page's start and its metadata, which once created lives as long as the
//! reservation.

use crate::address::Address;
use crate::page::{PageMeta, PAGE_BYTES};
use crate::sys::{self, MappingPurpose};
use memmap2::MmapMut;
use std::io;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The mapping of an old space and its page table.
pub(super) struct Reservation {
    _map: MmapMut,
    base: usize,
    /// Pages of the reservation: twice the limit, so that promotion, which
    /// cannot fail half way, has room past the limit (see `DESIGN.md`).
    max_pages: usize,
    table: Box<[AtomicPtr<PageMeta>]>,
}

impl Reservation {
    /// Reserves address space for `max_pages` pages, advised to use huge
    /// pages when `huge_pages`.
    pub(super) fn new(max_pages: usize, huge_pages: bool) -> io::Result<Reservation> {
        // An extra huge page of address space lets the base be aligned to a
        // huge-page boundary (hence to a page boundary too).
        let mut map = sys::map_reserved(
            max_pages * PAGE_BYTES + sys::HUGE_PAGE_BYTES,
            MappingPurpose::OldSpace,
            huge_pages,
        )?;
        let raw = map.as_mut_ptr() as usize;
        let base = raw.next_multiple_of(sys::HUGE_PAGE_BYTES);
        // A zeroed allocation, so that the table's untouched entries stay
        // untouched memory (see `free_page_metas`) rather than being
        // written out by a fill.
        let table = Box::<[AtomicPtr<PageMeta>]>::new_zeroed_slice(max_pages);
        // SAFETY: an `AtomicPtr` of all zero bytes is a null pointer.
        let table = unsafe { table.assume_init() };
        Ok(Reservation {
            _map: map,
            base,
            max_pages,
            table,
        })
    }

    /// The address of page 0, which tells one reservation from another.
    #[inline(always)]
    pub(super) fn base(&self) -> usize {
        self.base
    }

    /// How many pages the reservation holds.
    #[inline(always)]
    pub(super) fn max_pages(&self) -> usize {
        self.max_pages
    }

    /// Whether `addr` lies in the reservation.
    #[inline(always)]
    pub(super) fn contains(&self, addr: Address) -> bool {
        addr.as_usize().wrapping_sub(self.base) < self.max_pages * PAGE_BYTES
    }

    /// Start address of page `index`.
    #[inline(always)]
    pub(super) fn page_start(&self, index: usize) -> Address {
        Address::from_usize(self.base + index * PAGE_BYTES)
    }

    /// The metadata of the page holding `addr`, if that page was ever used.
    #[inline]
    pub(super) fn page_of(&self, addr: Address) -> Option<(usize, &PageMeta)> {
        if !self.contains(addr) {
            return None;
        }
        let index = (addr.as_usize() - self.base) / PAGE_BYTES;
        self.page(index).map(|meta| (index, meta))
    }

    /// The metadata of page `index`, if that page was ever used.
    #[inline(always)]
    pub(super) fn page(&self, index: usize) -> Option<&PageMeta> {
        let ptr = self.table[index].load(Ordering::Acquire);
        // SAFETY: a published page meta is never freed before the reservation.
        unsafe { ptr.as_ref() }
    }

    /// The metadata of page `index`, created on the page's first use.
    pub(super) fn page_or_create(&self, index: usize) -> &PageMeta {
        if let Some(meta) = self.page(index) {
            return meta;
        }
        // Called under the allocator lock, so no other thread races here.
        let meta = Box::into_raw(Box::new(PageMeta::new()));
        self.table[index].store(meta, Ordering::Release);
        // SAFETY: just published, lives until drop.
        unsafe { &*meta }
    }

    /// Frees the metadata of the pages below `used`, the only ones that
    /// were ever used: the rest of the table (one entry per page of the
    /// reservation, 1 MiB for the default 8 GiB) was never touched, and
    /// reading it would fault it in.
    pub(super) fn free_page_metas(&mut self, used: usize) {
        for entry in self.table[..used].iter_mut() {
            let ptr = std::mem::replace(entry.get_mut(), std::ptr::null_mut());
            if !ptr.is_null() {
                // SAFETY: created by `Box::into_raw` in `page_or_create`; the
                // entry is cleared, so it is freed once.
                drop(unsafe { Box::from_raw(ptr) });
            }
        }
    }
}
