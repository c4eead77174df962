//! An attached thread: the `Mutator`, which holds its nursery and
//! allocation cache, its roots, remembered set and promotion log; attaching
//! and detaching; a few accessors. The raw object API on it lives with each
//! mechanism: `allocation.rs`, `barrier.rs` (the write barrier),
//! `roots.rs`, `identity.rs`, `types.rs` (type lookup), `safepoint.rs`
//! (safepoints and blocking calls), `promotion_log.rs`, and the collections
//! in `minor.rs` and `major.rs`.
//!
//! A `Mutator` is `!Send`: it belongs to the thread that attached. The raw
//! API deals in [`Address`]es, which any allocation may invalidate (a minor
//! collection moves young objects); functions that take an address are
//! `unsafe` and state what the address must be. The safe, typed API is the
//! `strata` crate's.

use crate::error::HeapError;
use crate::heap::Heap;
use crate::pretenure::Pretenure;
use crate::roots::HandleTable;
use crate::safepoint::MutatorShared;
use crate::stats::MinorBatch;
use crate::types::private_copy;
use crate::Address;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use strata_heap::{AllocCache, Nursery, TypeInfo};

/// One thread attached to a [`Heap`].
pub struct Mutator {
    pub(crate) heap: Heap,
    pub(crate) shared: Arc<MutatorShared>,
    pub(crate) nursery: Nursery,
    pub(crate) cache: AllocCache,
    pub(crate) types: Arc<Vec<Arc<TypeInfo>>>,
    pub(crate) shadow_stack: Vec<Address>,
    pub(crate) handles: HandleTable,
    /// Whether a handle slot was set to a young object since the last
    /// minor collection (until then every handle holds an old object).
    pub(crate) young_handles: bool,
    pub(crate) client_roots: Vec<Address>,
    /// Old objects the client layer keeps alive (see [`Mutator::push_old_root`]).
    pub(crate) old_roots: Vec<Address>,
    /// Pairs of old objects the client layer keeps alive (see
    /// [`Mutator::push_old_root_pair`]).
    pub(crate) old_root_pairs: Vec<(Address, Address)>,
    /// Old objects the client layer has read, maybe tagged (see
    /// [`Mutator::push_read_root`]).
    pub(crate) read_roots: Vec<Address>,
    pub(crate) remembered: Vec<Address>,
    /// Young objects whose identity was asked for: young -> reserved slot.
    pub(crate) identities: HashMap<Address, Address>,
    pub(crate) worklist: Vec<Address>,
    pub(crate) minor_batch: MinorBatch,
    pub(crate) allocated_total: u64,
    /// Counts minor collections, to time a sample of the small ones.
    pub(crate) minor_seq: u32,
    /// While set, promoted objects get the `PRIVATE` flag and are logged.
    pub(crate) track_promotions: bool,
    pub(crate) promoted_log: Vec<Address>,
    /// Bytes the last minor collection promoted.
    pub(crate) last_promoted: usize,
    pub(crate) pretenure: Pretenure,
    /// Per size class, the old-space run pretenured and promoted objects
    /// are bumped out of, as `(next, end)` addresses (see `DESIGN.md`,
    /// "Pretenuring").
    pub(crate) runs: [(usize, usize); strata_heap::size_class::NUM_CLASSES],
    /// The heap's count of major collections when the thread last entered
    /// a blocking section (see [`Mutator::leave_blocking`]).
    pub(crate) majors_at_block: u64,
    _not_send: PhantomData<*mut ()>,
}

thread_local! {
    /// The ids of the heaps this OS thread is attached to (see `DESIGN.md`,
    /// "Safepoints": one attachment per heap and thread).
    static ATTACHED_HEAPS: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Mutator {
    pub(crate) fn new(heap: Heap) -> Result<Mutator, HeapError> {
        let id = heap.shared.id;
        if ATTACHED_HEAPS.with(|heaps| heaps.borrow().contains(&id)) {
            return Err(HeapError::AlreadyAttached);
        }
        let nursery = match heap.shared.take_idle_nursery() {
            Some(nursery) => nursery,
            None => Nursery::new(
                heap.shared.config.nursery_bytes,
                heap.shared.config.huge_pages,
            )
            .map_err(|e| HeapError::Io(e.to_string()))?,
        };
        let shared = heap
            .shared
            .world
            .attach()
            .ok_or(HeapError::TooManyThreads)?;
        let types = private_copy(&heap);
        ATTACHED_HEAPS.with(|heaps| heaps.borrow_mut().push(id));
        Ok(Mutator {
            heap,
            shared,
            nursery,
            cache: AllocCache::default(),
            types,
            shadow_stack: Vec::new(),
            handles: HandleTable::default(),
            young_handles: false,
            client_roots: Vec::new(),
            old_roots: Vec::new(),
            old_root_pairs: Vec::new(),
            read_roots: Vec::new(),
            remembered: Vec::new(),
            identities: HashMap::new(),
            worklist: Vec::new(),
            minor_batch: MinorBatch::default(),
            allocated_total: 0,
            minor_seq: 0,
            track_promotions: false,
            promoted_log: Vec::new(),
            last_promoted: 0,
            pretenure: Pretenure::default(),
            runs: [(0, 0); strata_heap::size_class::NUM_CLASSES],
            majors_at_block: 0,
            _not_send: PhantomData,
        })
    }

    /// The heap this thread is attached to.
    pub fn heap(&self) -> &Heap {
        &self.heap
    }

    /// This thread's slot number (1-based; the owner value of its
    /// transactions).
    pub fn slot(&self) -> u32 {
        self.shared.slot
    }

    /// Bytes this thread has allocated since it attached (monotonic).
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated_total + self.nursery.used_bytes() as u64
    }

    /// Gives back the spare capacity of this thread's working lists (the
    /// handle arena, old roots and pairs, promotion log, remembered set, the minor
    /// collection's work list) beyond `keep` entries each: they keep the
    /// largest size they reached, which one huge transaction or collection
    /// can make megabytes.
    pub fn shrink_buffers(&mut self, keep: usize) {
        self.client_roots.shrink_to(keep);
        self.old_roots.shrink_to(keep);
        self.old_root_pairs.shrink_to(keep);
        self.read_roots.shrink_to(keep);
        self.promoted_log.shrink_to(keep);
        self.remembered.shrink_to(keep);
        self.worklist.shrink_to(keep);
    }

    /// This heap's statistics, with this thread's batched counts included.
    pub fn stats(&mut self) -> crate::GcStats {
        self.flush_stats();
        self.heap.stats()
    }

    /// Bytes allocated in the nursery since the last minor collection.
    pub fn nursery_used_bytes(&self) -> usize {
        self.nursery.used_bytes()
    }
}

impl Drop for Mutator {
    fn drop(&mut self) {
        self.shadow_stack.clear();
        self.handles = HandleTable::default();
        self.client_roots.clear();
        self.old_roots.clear();
        self.old_root_pairs.clear();
        self.read_roots.clear();
        // Young objects still reachable from remembered old objects survive.
        self.minor_collection();
        self.flush_stats();
        self.set_snapshot(None);
        let shared = self.heap.shared.clone();
        shared.old.release_cache(&mut self.cache);
        shared.world.detach(&self.shared);
        // At thread exit the list may be gone already: nothing to remove.
        let _ = ATTACHED_HEAPS.try_with(|heaps| heaps.borrow_mut().retain(|&h| h != shared.id));
        let mut nursery = self.nursery.take();
        // SAFETY: the last minor collection above left the nursery empty,
        // and this thread allocates no more.
        unsafe { nursery.recycle() };
        shared.keep_idle_nursery(nursery);
    }
}
