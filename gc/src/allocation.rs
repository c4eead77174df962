//! Allocation: the inlined nursery fast path and the slow paths behind it
//! (a pretenuring run, a new page, a big object, a full nursery), and the
//! objects made straight in the old space (big objects, version copies).
//!
//! The nursery bumps; pretenured and promoted objects come from this
//! thread's runs of its allocation cache's pages (see `DESIGN.md`,
//! "Pretenuring"). The slow path is where allocation starts collections: a
//! full nursery runs a minor collection, a slow path that may add pages
//! polls the safepoint and the major-collection trigger, and near the heap
//! limit a major collection runs before an allocation is refused
//! ([`Mutator::make_room`]).

use crate::mutator::Mutator;
use crate::Address;
use std::sync::atomic::Ordering;
use strata_heap::header;
use strata_heap::{AllocError, Layout, TypeId};

/// A fixed-size type checked once, for the inlined allocation fast path.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FixedType {
    pub(crate) id: u32,
    pub(crate) bytes: usize,
}

impl FixedType {
    /// The heap's type id.
    pub fn type_id(self) -> u32 {
        self.id
    }

    /// Total bytes of one object, header included.
    pub fn object_bytes(self) -> usize {
        self.bytes
    }
}

/// A nursery's state for a host's inline allocation
/// ([`Mutator::nursery_window`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NurseryWindow {
    /// The next free byte.
    pub cursor: usize,
    /// Where the free range ends (the cursor while the nursery is closed).
    pub limit: usize,
    /// Header word 0's flags of a new object.
    pub flags: u64,
    /// The first byte of the nursery.
    pub start: usize,
    /// The end of the nursery.
    pub end: usize,
}

/// How far ahead of a version copy's or a promoted object's slot its
/// allocation prefetches.
pub(crate) const ALLOC_PREFETCH_BYTES: usize = 256;

impl Mutator {
    /// Checks that `ty` is a registered fixed-size type, for
    /// [`Mutator::alloc_fixed`].
    pub fn fixed_type(&mut self, ty: TypeId) -> Result<FixedType, AllocError> {
        let info = self.type_ref(ty.0)?;
        match info.layout {
            Layout::Fixed { .. } => Ok(FixedType {
                id: ty.0,
                bytes: info.object_bytes(0)?,
            }),
            Layout::Array { .. } => Err(AllocError::BadSize { bytes: 0 }),
        }
    }

    /// Allocates a zeroed object of a fixed-size type: the inlined fast path.
    #[inline(always)]
    pub fn alloc_fixed(&mut self, ty: FixedType) -> Result<Address, AllocError> {
        self.alloc_fixed_sized(ty, ty.bytes)
    }

    /// [`Mutator::alloc_fixed`] for a caller that knows the object size
    /// (header included) at compile time, such as a host allocating its
    /// own structs: with `bytes` a constant, the inlined fast path bumps and
    /// zeroes by constants instead of dispatching on the size.
    ///
    /// # Panics
    /// If `bytes` is not `ty`'s [`FixedType::object_bytes`].
    #[inline(always)]
    pub fn alloc_fixed_sized(
        &mut self,
        ty: FixedType,
        bytes: usize,
    ) -> Result<Address, AllocError> {
        if ty.bytes != bytes {
            wrong_size(ty, bytes);
        }
        match self.nursery.try_alloc(bytes, ty.id) {
            Some(obj) => Ok(obj),
            None => self.alloc_slow(ty.id, bytes),
        }
    }

    /// The nursery's part of [`Mutator::alloc_fixed_sized`], for a caller
    /// that checked the size when it obtained `ty`: `None` when the nursery
    /// refuses (full, or closed while the thread pretenures), for the
    /// caller to go on with [`Mutator::alloc_fixed_slow`]. A caller that
    /// makes many objects keeps the error path (and its result in memory)
    /// out of the inlined one.
    ///
    /// # Safety
    /// `bytes` is `ty`'s [`FixedType::object_bytes`].
    #[inline(always)]
    pub unsafe fn try_alloc_young(&mut self, ty: FixedType, bytes: usize) -> Option<Address> {
        debug_assert_eq!(
            ty.bytes, bytes,
            "type {} has objects of {} bytes",
            ty.id, ty.bytes
        );
        self.nursery.try_alloc(bytes, ty.id)
    }

    /// The rest of [`Mutator::alloc_fixed_sized`] after the nursery refused
    /// in [`Mutator::try_alloc_young`]: pretenuring, a minor collection,
    /// the heap limit.
    ///
    /// # Panics
    /// If `bytes` is not `ty`'s [`FixedType::object_bytes`].
    #[inline]
    pub fn alloc_fixed_slow(&mut self, ty: FixedType, bytes: usize) -> Result<Address, AllocError> {
        if ty.bytes != bytes {
            wrong_size(ty, bytes);
        }
        self.alloc_slow(ty.id, bytes)
    }

    /// The nursery as a host that bumps it itself between calls needs it
    /// (the C ABI's inline allocation): its free range, the header flags
    /// of new objects and its extent.
    #[inline]
    pub fn nursery_window(&self) -> NurseryWindow {
        let (cursor, limit) = self.nursery.free_range();
        let (start, end) = self.nursery.extent();
        NurseryWindow {
            cursor,
            limit,
            flags: self.nursery.header_flags(),
            start,
            end,
        }
    }

    /// Takes back the nursery cursor from a host that bumped
    /// [`Mutator::nursery_window`]'s range.
    ///
    /// # Safety
    /// As for `Nursery::set_cursor`: `cursor` is 16-aligned in that range,
    /// and the objects below it were made as the nursery makes them (a
    /// registered type's header with the window's flags, a zeroed body).
    #[inline]
    pub unsafe fn set_nursery_cursor(&mut self, cursor: usize) {
        // SAFETY: caller's invariant.
        unsafe { self.nursery.set_cursor(cursor) };
    }

    /// Allocates a zeroed object of type `ty` (an array type gets length 0).
    pub fn alloc(&mut self, ty: TypeId) -> Result<Address, AllocError> {
        self.alloc_array(ty, 0)
    }

    /// Allocates a zeroed array of `len` elements (for a fixed-size type,
    /// `len` must be 0).
    pub fn alloc_array(&mut self, ty: TypeId, len: usize) -> Result<Address, AllocError> {
        let info = self.type_ref(ty.0)?;
        let is_array = matches!(info.layout, Layout::Array { .. });
        if !is_array && len != 0 {
            return Err(AllocError::BadSize { bytes: len as u128 });
        }
        let bytes = info.object_bytes(len)?;
        let obj = self.alloc_raw(ty.0, bytes)?;
        if is_array {
            // SAFETY: `obj` is a fresh array object; its body starts with
            // the element count.
            unsafe { header::body(obj).as_ptr::<u64>().write(len as u64) };
        }
        Ok(obj)
    }

    /// Allocates `bytes` (16-aligned, header included) with a header of
    /// `type_id`; the caller fills in the rest.
    pub(crate) fn alloc_raw(&mut self, type_id: u32, bytes: usize) -> Result<Address, AllocError> {
        match self.nursery.try_alloc(bytes, type_id) {
            Some(obj) => Ok(obj),
            None => self.alloc_slow(type_id, bytes),
        }
    }

    /// The nursery refused `bytes`: while the thread pretenures, the next
    /// slot of its run for the size class (the common case, kept small so
    /// that it costs a call and a few tests more than the nursery), else
    /// [`Mutator::alloc_refill`].
    #[inline(never)]
    fn alloc_slow(&mut self, type_id: u32, bytes: usize) -> Result<Address, AllocError> {
        if self.pretenure.active() {
            if let Some(obj) = self.bump_old(bytes) {
                obj.offset(ALLOC_PREFETCH_BYTES).prefetch();
                // SAFETY: the slot was just allocated to this thread, is at
                // least `bytes` long and unreachable by anyone else.
                unsafe {
                    header::init(obj, type_id, self.nursery.header_flags());
                    strata_heap::words::zero(
                        obj.offset(header::HEADER_BYTES),
                        bytes - header::HEADER_BYTES,
                    );
                }
                if self.track_promotions {
                    self.promoted_log.push(obj);
                }
                self.allocated_total += bytes as u64;
                self.minor_batch.bytes_allocated += bytes as u64;
                self.pretenured(bytes);
                return Ok(obj);
            }
        }
        self.alloc_refill(type_id, bytes)
    }

    /// The next old-space slot of this thread's run for `bytes`' size
    /// class (pretenuring, promotion), taking the rest of its cache page's
    /// free run when the run is used up; `None` when that page has no free
    /// slot (or `bytes` is large).
    #[inline(always)]
    pub(crate) fn bump_old(&mut self, bytes: usize) -> Option<Address> {
        if let Some(obj) = self.bump_run(bytes) {
            return Some(obj);
        }
        let class = strata_heap::size_class::class_of(bytes)?;
        let slot = strata_heap::size_class::CLASS_BYTES[class];
        let (start, end) = self.cache.take_run(&self.heap.shared.old, class)?;
        self.runs[class] = (start.as_usize() + slot, end.as_usize());
        Some(start)
    }

    /// The next slot of this thread's run for `bytes`' size class, or
    /// `None` when the run is used up (or `bytes` is large): the part of
    /// [`Mutator::bump_old`] that touches nothing but the run.
    #[inline(always)]
    fn bump_run(&mut self, bytes: usize) -> Option<Address> {
        let class = strata_heap::size_class::class_of(bytes)?;
        let (next, end) = self.runs[class];
        if next == end {
            return None;
        }
        self.runs[class].0 = next + strata_heap::size_class::CLASS_BYTES[class];
        Some(Address::from_usize(next))
    }

    /// Counts `bytes` allocated by pretenuring; opens the nursery again when
    /// the window is used up.
    #[inline(always)]
    fn pretenured(&mut self, bytes: usize) {
        self.minor_batch.pretenured_bytes += bytes as u64;
        if self.pretenure.consume(bytes) {
            self.nursery.open();
        }
    }

    /// The rest of the slow path: a pretenured object on a new page, a big
    /// object, or a full nursery (a minor collection, then the nursery or,
    /// when most of it survived, pretenuring).
    #[cold]
    #[inline(never)]
    fn alloc_refill(&mut self, type_id: u32, bytes: usize) -> Result<Address, AllocError> {
        let shared = self.heap.shared.clone();
        if bytes > shared.old.limit_bytes() {
            return Err(AllocError::TooLarge {
                bytes,
                limit: shared.old.limit_bytes(),
            });
        }
        if self.pretenure.active() {
            // A new page: the checks a minor collection's end makes.
            self.safepoint();
            self.collect_major_if_grown();
            let obj = self.alloc_old(type_id, bytes)?;
            self.pretenured(bytes);
            return Ok(obj);
        }
        if bytes > self.nursery.capacity() / 4 {
            // A big object adds pages to the old space like a pretenured
            // one: the same checks. (Without the growth trigger here, a
            // program making only big objects grew to the heap limit before
            // its first major collection.)
            self.safepoint();
            self.collect_major_if_grown();
            return self.alloc_old(type_id, bytes);
        }
        self.minor_collection();
        // Read before the safepoint and a major collection run their own
        // (empty) minor collections.
        let promoted = self.last_promoted;
        self.safepoint();
        self.collect_major_if_grown();
        self.make_room(self.nursery.capacity(), bytes)?;
        if shared.config.pretenure
            && self
                .pretenure
                .after_full_nursery(promoted, self.nursery.capacity())
        {
            // Most of the full nursery was alive: what comes next likely
            // belongs to the same structure (DESIGN, "Pretenuring").
            self.nursery.close();
            return self.alloc_slow(type_id, bytes);
        }
        Ok(self
            .nursery
            .try_alloc(bytes, type_id)
            .expect("an empty nursery fits an object of a quarter of it"))
    }

    /// A big object goes straight to the old space, within the heap limit.
    fn alloc_old(&mut self, type_id: u32, bytes: usize) -> Result<Address, AllocError> {
        let shared = self.heap.shared.clone();
        self.safepoint();
        self.make_room(bytes, bytes)?;
        let obj = self.cache.alloc_zeroed(&shared.old, bytes)?;
        let mut flags = if strata_heap::size_class::class_of(bytes).is_none() {
            header::LARGE
        } else {
            0
        };
        if self.track_promotions {
            // Made by the running transaction: private like its young
            // objects, and logged so that commit clears the flag.
            flags |= header::PRIVATE;
            self.promoted_log.push(obj);
        }
        // SAFETY: the slot was just allocated to this thread, zeroed, and is
        // unreachable by anyone else.
        unsafe { header::init(obj, type_id, flags) };
        self.allocated_total += bytes as u64;
        shared
            .stats
            .bytes_allocated
            .fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(obj)
    }

    /// Makes sure the old space can grow by `room` bytes within the heap
    /// limit, with a major collection when it cannot now; `OutOfMemory`
    /// for the allocation of `bytes` that asked when it still cannot.
    fn make_room(&mut self, room: usize, bytes: usize) -> Result<(), AllocError> {
        if self.heap.shared.old.within_limit(room) {
            return Ok(());
        }
        self.collect_major();
        let old = &self.heap.shared.old;
        if old.within_limit(room) {
            Ok(())
        } else {
            Err(AllocError::OutOfMemory {
                bytes,
                limit: old.limit_bytes(),
            })
        }
    }

    /// Allocates `bytes` for an object of `type_id` straight in the old
    /// space with header `flags`, its body left uninitialised (version
    /// copies, which the caller fills whole). A slot of a page this thread
    /// already holds needs no limit check (no page is added); otherwise,
    /// within the heap limit, no lock, no safepoint and no shared write;
    /// near the limit it goes through [`Mutator::alloc_old`], which collects
    /// first. The next slot of the class's run is the inline fast path
    /// (every first write of a transaction allocates here); the rest is a
    /// call.
    #[inline(always)]
    pub(crate) fn alloc_old_uninit(
        &mut self,
        type_id: u32,
        bytes: usize,
        flags: u64,
    ) -> Result<Address, AllocError> {
        match self.bump_run(bytes) {
            Some(obj) => {
                self.init_old_uninit(obj, type_id, bytes, flags);
                Ok(obj)
            }
            None => self.alloc_old_uninit_slow(type_id, bytes, flags),
        }
    }

    /// [`Mutator::alloc_old_uninit`] when the class's run is used up (or
    /// `bytes` is large).
    #[cold]
    #[inline(never)]
    fn alloc_old_uninit_slow(
        &mut self,
        type_id: u32,
        bytes: usize,
        flags: u64,
    ) -> Result<Address, AllocError> {
        // A slot of a page this thread already holds (its run for the
        // class) adds no page: no limit check. Otherwise a page may be
        // taken, within the limit.
        let current = self.bump_old(bytes);
        let shared = &self.heap.shared;
        let obj = match current {
            Some(obj) => obj,
            None if strata_heap::size_class::class_of(bytes).is_none()
                || !shared.old.within_limit(bytes + strata_heap::PAGE_BYTES) =>
            {
                let obj = self.alloc_old(type_id, bytes)?;
                // SAFETY: `obj` is fresh and unreachable by anyone else.
                unsafe {
                    header::clear_flag_unshared(obj, header::PRIVATE);
                    header::set_flag(obj, flags);
                }
                return Ok(obj);
            }
            None => self.cache.alloc(&shared.old, bytes)?,
        };
        self.init_old_uninit(obj, type_id, bytes, flags);
        Ok(obj)
    }

    /// The header and the counts of an old slot of `bytes` that
    /// [`Mutator::alloc_old_uninit`] hands out.
    #[inline(always)]
    fn init_old_uninit(&mut self, obj: Address, type_id: u32, bytes: usize, flags: u64) {
        // Slots of a run are handed out in address order: fetch the line a
        // few allocations ahead, so that writing it later does not wait.
        obj.offset(ALLOC_PREFETCH_BYTES).prefetch();
        // SAFETY: the slot was just allocated to this thread and is
        // unreachable by anyone else; the caller writes the body.
        unsafe { header::init(obj, type_id, flags) };
        self.allocated_total += bytes as u64;
        self.minor_batch.bytes_allocated += bytes as u64;
    }
}

#[cold]
#[inline(never)]
fn wrong_size(ty: FixedType, bytes: usize) -> ! {
    panic!(
        "strata: type {} has objects of {} bytes, not {bytes}",
        ty.id, ty.bytes
    )
}
