//! The inline window: the part of a thread's nursery, shadow stack and
//! read log a C host's inline paths use between two calls of the manual
//! API, and the type facts they need (see `DESIGN.md`, "C ABI", "The
//! inline window" and "Inline reads of shared objects").
//!
//! The library hands the window out at the end of a call
//! ([`Thread::publish_inline_window`]) and takes it back at the start of
//! the next ([`Thread::absorb_inline_window`]): in between, the host bumps
//! the nursery's cursor, moves the shadow stack's top and logs shared
//! reads itself, and nothing else reads any of them (collections run only
//! inside the thread's calls, or while it is in a blocking section, after
//! the window was taken back).

use crate::manual::fixed_ref_mask;
use crate::thread::Thread;
use strata_gc::{header, Layout, TypeId};

/// The nursery range and shadow stack an attempt's host may use between
/// two calls, as addresses. `repr(C)`: the C ABI's thread prefix holds one
/// as it is, in the header's field order.
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct InlineWindow {
    /// The nursery's next free byte.
    pub alloc_cursor: usize,
    /// The end of the nursery's free range (the cursor while it is closed).
    pub alloc_limit: usize,
    /// Header word 0's flags of a new object.
    pub alloc_flags: u64,
    /// The nursery's first byte.
    pub nursery_start: usize,
    /// The nursery's end.
    pub nursery_end: usize,
    /// The shadow stack's first entry.
    pub roots_base: usize,
    /// The first entry the open attempt pushed (it may pop down to here).
    pub roots_floor: usize,
    /// One past the top entry.
    pub roots_top: usize,
    /// One past the last entry there is room for.
    pub roots_end: usize,
    /// The attempt's snapshot.
    pub snapshot: u64,
    /// The read log's (the attempt's read roots') first entry.
    pub reads_base: usize,
    /// One past its last entry.
    pub reads_top: usize,
    /// One past the last entry there is room for.
    pub reads_end: usize,
    /// The anchor the attempt wrote last (0: none), which it owns.
    pub owned_anchor: usize,
    /// Its private copy (a version record).
    pub owned_copy: usize,
    /// Header word 0's owner field of an object this thread owns.
    pub owner_bits: u64,
}

/// What the inline allocation and reference store need of a fixed-size
/// type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct InlineType {
    /// Bytes of one object, header included.
    pub object_bytes: u32,
    /// Bit `i`: body word `i` is a reference slot.
    pub ref_mask: u64,
}

impl Thread {
    /// Writes the window of the open attempt into `window`, with room for
    /// at least `spare` more shadow-stack entries and `spare_reads` more
    /// read-log entries, and returns `true`; outside an attempt (or in a
    /// poisoned one) returns `false` and leaves `window` alone. The host
    /// may use the window until the next call on this thread, which must
    /// first give it back ([`Thread::absorb_inline_window`]). Each field is
    /// stored as it is found (no window built aside and copied): this runs
    /// at the end of every call of the C ABI.
    #[inline(always)]
    pub fn publish_inline_window(
        &mut self,
        window: &mut InlineWindow,
        spare: usize,
        spare_reads: usize,
    ) -> bool {
        if !self.manual_attempt_live() {
            return false;
        }
        let entry = size_of::<usize>();
        let nursery = self.m.nursery_window();
        window.alloc_cursor = nursery.cursor;
        window.alloc_limit = nursery.limit;
        window.alloc_flags = nursery.flags;
        window.nursery_start = nursery.start;
        window.nursery_end = nursery.end;
        let (base, depth, capacity) = self.m.shadow_stack_raw(spare);
        let base = base as usize;
        window.roots_base = base;
        window.roots_floor = base + self.manual.depth_at_begin * entry;
        window.roots_top = base + depth * entry;
        window.roots_end = base + capacity * entry;
        window.snapshot = self.tx.snapshot;
        let (reads, depth, capacity) = self.m.read_roots_raw(spare_reads);
        let reads = reads as usize;
        window.reads_base = reads;
        window.reads_top = reads + depth * entry;
        window.reads_end = reads + capacity * entry;
        let (anchor, copy) = self.tx.last_copy;
        window.owned_anchor = anchor.as_usize();
        window.owned_copy = copy.as_usize();
        window.owner_bits = header::owner_bits(self.slot);
        true
    }

    /// Takes back the window [`Thread::publish_inline_window`] handed out
    /// last:
    /// the nursery's cursor, the shadow stack's depth (entries from
    /// `roots_base` to its top) and the read log's where the host left
    /// them.
    ///
    /// # Safety
    /// Nothing ran on this thread since that window was handed out but
    /// the host's inline paths; `alloc_cursor` is 16-aligned in
    /// `[alloc_cursor, alloc_limit]` and `roots_depth` in the window's
    /// `[roots_floor, roots_end]` as a count of entries; every object
    /// below `alloc_cursor` was made as the nursery makes one (a header of
    /// a registered type with `alloc_flags`, link 0, a zeroed body) and
    /// every entry below `roots_depth` is null or a live object this
    /// thread holds; `reads_depth` is in the window's read log, at least
    /// its depth when handed out, and every entry the host added is a
    /// committed anchor the attempt read.
    #[inline]
    pub unsafe fn absorb_inline_window(
        &mut self,
        alloc_cursor: usize,
        roots_depth: usize,
        reads_depth: usize,
    ) {
        // SAFETY: caller's invariant.
        unsafe {
            self.m.set_nursery_cursor(alloc_cursor);
            self.m.set_shadow_stack_depth(roots_depth);
            self.m.set_read_roots_len(reads_depth);
        }
    }

    /// What the inline paths need of type `ty`, if it is a registered
    /// fixed-size type whose objects' size fits a `u32`.
    pub fn inline_type(&mut self, ty: TypeId) -> Option<InlineType> {
        let info = self.m.type_ref(ty.0).ok()?;
        if !matches!(info.layout, Layout::Fixed { .. }) {
            return None;
        }
        Some(InlineType {
            object_bytes: u32::try_from(info.object_bytes(0).ok()?).ok()?,
            ref_mask: fixed_ref_mask(info).unwrap_or(0),
        })
    }
}
