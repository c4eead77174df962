//! Old-space pages: what a page holds and its allocation and mark bitmaps.
//!
//! A page's state sits in an `UnsafeCell`: it is changed only by the thread
//! whose allocation cache holds the page, by the page allocator under its
//! lock while no cache holds the page, or by a collector while the world is
//! stopped (crate invariant "page ownership"). The mark bits sit beside it in
//! atomics: the markers of a parallel major collection set them at once,
//! while they only read the state.

use crate::size_class::CLASS_BYTES;
use bitvec::vec::BitVec;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Words of a page's mark bitmap: one bit per slot of the smallest class.
const MARK_WORDS: usize = PAGE_BYTES / CLASS_BYTES[0] / 64;

// `take_marks` moves mark words into the alloc bitmap's `usize` words.
const _: () = assert!(usize::BITS == 64, "strata needs a 64-bit target");

/// Bytes of one old-space page.
pub const PAGE_BYTES: usize = 64 << 10;

/// What a page holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// Not in use; its memory has been given back.
    Free,
    /// Slots of one size class.
    Small { class: u8 },
    /// The first page of a large object of `pages` pages.
    LargeHead { pages: u32 },
    /// A following page of the large object that starts at page `head`.
    LargeTail { head: u32 },
}

/// The mutable state of a page.
pub struct PageState {
    pub kind: PageKind,
    /// One bit per slot: the slot holds an object.
    pub alloc: BitVec,
    /// The next slot of the current free run (its alloc bits are already
    /// set, so taking a slot is a bump).
    pub cursor: usize,
    /// End of the current free run.
    pub run_end: usize,
    /// Some thread's allocation cache holds this page.
    pub cached: bool,
}

/// Metadata of one page; lives as long as its `OldSpace`.
pub struct PageMeta {
    state: UnsafeCell<PageState>,
    /// One bit per slot (small pages), set by the running major collection
    /// and taken by its sweep; all clear outside a collection.
    marks: [AtomicU64; MARK_WORDS],
    /// A large object's mark (head page).
    large_mark: AtomicBool,
}

// SAFETY: access to `state` follows the page ownership invariant above, which
// serialises every mutation and excludes readers during one.
unsafe impl Sync for PageMeta {}

impl PageMeta {
    pub(crate) fn new() -> PageMeta {
        PageMeta {
            state: UnsafeCell::new(PageState {
                kind: PageKind::Free,
                alloc: BitVec::new(),
                cursor: 0,
                run_end: 0,
                cached: false,
            }),
            marks: std::array::from_fn(|_| AtomicU64::new(0)),
            large_mark: AtomicBool::new(false),
        }
    }

    /// The page's state, to read while nobody changes it.
    ///
    /// # Safety
    /// No thread mutates the state while the reference lives (the world is
    /// stopped and the collectors only read it).
    #[inline(always)]
    pub unsafe fn state_ref(&self) -> &PageState {
        // SAFETY: no concurrent mutation is the caller's promise.
        unsafe { &*self.state.get() }
    }

    /// Sets the mark of `slot`; true if it was clear (this caller marked it).
    #[inline(always)]
    pub fn mark_slot(&self, slot: usize) -> bool {
        let word = &self.marks[slot / 64];
        let bit = 1u64 << (slot % 64);
        // Most marks of a busy object find it marked: test before the
        // read-modify-write.
        word.load(Ordering::Relaxed) & bit == 0 && word.fetch_or(bit, Ordering::Relaxed) & bit == 0
    }

    /// Sets the large-object mark; true if it was clear.
    #[inline]
    pub fn mark_large(&self) -> bool {
        !self.large_mark.load(Ordering::Relaxed) && !self.large_mark.swap(true, Ordering::Relaxed)
    }

    /// Moves the slot marks into `alloc` (the sweep's `alloc := mark`),
    /// clearing them.
    pub(crate) fn take_marks(&self, alloc: &mut BitVec) {
        for (i, word) in alloc.as_raw_mut_slice().iter_mut().enumerate() {
            *word = self.marks[i].swap(0, Ordering::Relaxed) as usize;
        }
    }

    /// Takes and clears the large-object mark.
    pub(crate) fn take_large_mark(&self) -> bool {
        self.large_mark.swap(false, Ordering::Relaxed)
    }

    /// The page's state.
    ///
    /// # Safety
    /// The caller is the page's owner under the page ownership invariant and
    /// holds no other reference to this state.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn state(&self) -> &mut PageState {
        // SAFETY: exclusive access is the caller's promise.
        unsafe { &mut *self.state.get() }
    }
}

impl PageState {
    /// Makes a free page hold slots of `class`, all empty.
    pub fn format_small(&mut self, class: usize) {
        let slots = PAGE_BYTES / CLASS_BYTES[class];
        self.kind = PageKind::Small { class: class as u8 };
        self.alloc.clear();
        self.alloc.resize(slots, false);
        self.forget_run();
    }

    /// Drops the current run without touching the bitmap: the next
    /// [`PageState::take_slot`] searches from the first slot.
    pub fn forget_run(&mut self) {
        self.cursor = 0;
        self.run_end = 0;
    }

    /// The slot size, for a small page.
    #[inline(always)]
    pub fn slot_bytes(&self) -> usize {
        match self.kind {
            PageKind::Small { class } => CLASS_BYTES[class as usize],
            _ => 0,
        }
    }

    /// Takes the next free slot: a bump within the current free run, else
    /// the start of the next run (whose alloc bits are all set at once).
    #[inline(always)]
    pub fn take_slot(&mut self) -> Option<usize> {
        if self.cursor < self.run_end {
            self.cursor += 1;
            return Some(self.cursor - 1);
        }
        self.next_run()
    }

    #[cold]
    fn next_run(&mut self) -> Option<usize> {
        let start = self.alloc[self.run_end..].first_zero()? + self.run_end;
        let end = self.alloc[start..]
            .first_one()
            .map_or(self.alloc.len(), |n| start + n);
        self.alloc[start..end].fill(true);
        self.cursor = start + 1;
        self.run_end = end;
        Some(start)
    }

    /// Whether `slot` holds an object: allocated, and not in the part of the
    /// current run that has not been handed out yet.
    #[inline]
    pub fn holds_object(&self, slot: usize) -> bool {
        slot < self.alloc.len() && self.alloc[slot] && !(self.cursor..self.run_end).contains(&slot)
    }

    /// Gives up the rest of the current run: its slots are free again.
    pub fn end_run(&mut self) {
        let (cursor, end) = (self.cursor, self.run_end);
        self.alloc[cursor..end].fill(false);
        self.cursor = end;
    }

    /// After a sweep made `alloc := mark`: the rest of the current run stays
    /// reserved for the cache that holds this page.
    pub fn keep_run(&mut self) {
        let (cursor, end) = (self.cursor, self.run_end);
        self.alloc[cursor..end].fill(true);
    }

    /// Whether any slot is free.
    pub fn has_free_slot(&self) -> bool {
        self.alloc.not_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_taken_in_order_and_reused_after_sweep() {
        let meta = PageMeta::new();
        // SAFETY: the page is local to this test.
        let state = unsafe { meta.state() };
        state.format_small(CLASS_BYTES.len() - 1);
        let slots = PAGE_BYTES / 8192;
        for i in 0..slots {
            assert_eq!(state.take_slot(), Some(i));
        }
        assert_eq!(state.take_slot(), None);
        assert!(!state.has_free_slot());
        assert!(meta.mark_slot(1));
        assert!(!meta.mark_slot(1));
        meta.take_marks(&mut state.alloc);
        assert!(meta.mark_slot(1), "take_marks clears the marks");
        meta.take_marks(&mut state.alloc);
        state.forget_run();
        assert_eq!(state.take_slot(), Some(0));
        assert_eq!(state.take_slot(), Some(2));
    }
}
