//! Minor collection: one thread copies the live objects of its nursery into
//! the old space, without stopping any other thread (young objects are
//! reachable only from their own thread; see `DESIGN.md`).

use crate::allocation::ALLOC_PREFETCH_BYTES;
use crate::mutator::Mutator;
use crate::stats::MINOR_BATCH;
use crate::Address;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use strata_heap::header::{self, FORWARDED, HAS_ID, LARGE, PRIVATE, REMEMBERED};
use strata_heap::{lookup_type, TypeInfo};

impl Mutator {
    /// Runs a minor collection, then answers a pending stop request and
    /// starts a major collection if the old space has grown enough.
    pub fn collect_minor(&mut self) {
        self.minor_collection();
        self.safepoint();
        self.collect_major_if_grown();
    }

    /// A minor collection and nothing else: no safepoint poll, no major
    /// collection (for commit, which must not stop in the middle).
    #[inline]
    pub fn collect_minor_only(&mut self) {
        self.minor_collection();
    }

    /// Promotes every young object reachable from this thread's roots and
    /// remembered set; afterwards the nursery is empty.
    #[inline]
    pub(crate) fn minor_collection(&mut self) {
        if self.nursery.used_bytes() == 0 && self.remembered.is_empty() {
            // Nothing young and nothing remembered (a commit that wrote only
            // shared objects): nothing to do, and no call.
            self.last_promoted = 0;
            return;
        }
        if self.nursery_unreachable() {
            self.discard_nursery();
            return;
        }
        self.promote_young();
    }

    /// Whether no root can reach a young object: an empty shadow stack,
    /// client-root list and remembered set, and no handle set to a young
    /// object since the last minor collection. Old roots, read roots, the
    /// promotion log and global roots hold old objects only, and an old
    /// object that holds a young reference is remembered, so then nothing
    /// in the nursery is live (a transaction's commit after it built only
    /// garbage: its handles are dropped before).
    #[inline]
    fn nursery_unreachable(&self) -> bool {
        self.shadow_stack.is_empty()
            && self.client_roots.is_empty()
            && self.remembered.is_empty()
            && !self.young_handles
    }

    /// A minor collection that found nothing live
    /// ([`Mutator::nursery_unreachable`]): the nursery is reset unscanned,
    /// and the collection counted (untimed, like the small ones).
    #[inline(never)]
    fn discard_nursery(&mut self) {
        let used = self.nursery.used_bytes();
        // Reserved identity slots of dead young objects stay garbage for
        // the next major collection, as after any minor collection.
        if !self.identities.is_empty() {
            self.identities.clear();
        }
        if self.heap.shared.options.verify {
            // A reference the test above missed then reads poison (no
            // registered type), as a use after a sweep does.
            let (start, end) = self.nursery.allocated();
            // SAFETY: `[start, end)` is the used part of this thread's
            // nursery, which nothing live refers into.
            unsafe {
                start
                    .as_ptr::<u8>()
                    .write_bytes(strata_heap::POISON, end.as_usize() - start.as_usize())
            };
        }
        // SAFETY: no root reaches the nursery, so nothing refers into it.
        unsafe { self.nursery.reset() };
        self.minor_batch.bytes_allocated += used as u64;
        self.allocated_total += used as u64;
        self.last_promoted = 0;
        self.minor_batch.untimed += 1;
        if self.minor_batch.pauses.len() + self.minor_batch.untimed as usize >= MINOR_BATCH {
            self.flush_stats();
        }
    }

    /// The work of [`Mutator::minor_collection`] when there is some.
    #[inline(never)]
    fn promote_young(&mut self) {
        let used = self.nursery.used_bytes();
        // Reading the clock costs as much as a small collection (a commit
        // runs one), so collections of a few KiB are timed one in 16: their
        // pauses are sampled, every collection is counted.
        self.minor_seq = self.minor_seq.wrapping_add(1);
        let timed = used > SMALL_MINOR_BYTES || self.minor_seq.is_multiple_of(16);
        let start = timed.then(Instant::now);
        let types = self.types.clone();
        let mut promoted = 0usize;

        let mut roots = std::mem::take(&mut self.shadow_stack);
        for slot in roots.iter_mut() {
            *slot = self.forward(&types, *slot, &mut promoted);
        }
        self.shadow_stack = roots;
        let mut handles = std::mem::take(&mut self.handles);
        handles.for_each_mut(|slot| *slot = self.forward(&types, *slot, &mut promoted));
        self.handles = handles;
        self.young_handles = false;
        let mut client = std::mem::take(&mut self.client_roots);
        for slot in client.iter_mut() {
            *slot = self.forward(&types, *slot, &mut promoted);
        }
        self.client_roots = client;

        let mut pending = PendingSlots::new();
        let remembered = std::mem::take(&mut self.remembered);
        for &obj in &remembered {
            // SAFETY: remembered objects are live old objects.
            unsafe { header::clear_flag(obj, REMEMBERED) };
            self.scan(&types, obj, &mut pending, &mut promoted);
        }
        self.remembered = remembered;
        self.remembered.clear();

        loop {
            while let Some(obj) = self.worklist.pop() {
                self.scan(&types, obj, &mut pending, &mut promoted);
            }
            let Some(slot) = pending.pop() else { break };
            // SAFETY: `slot` is a reference slot of a live old object that
            // this collection scanned; only this thread writes it.
            unsafe { self.forward_slot(&types, slot, &mut promoted) };
        }

        if self.heap.shared.options.verify {
            self.verify_after_minor();
        }
        self.identities.clear();
        // SAFETY: every reference into the nursery was forwarded above.
        unsafe { self.nursery.reset() };

        self.minor_batch.bytes_allocated += used as u64;
        self.allocated_total += used as u64;
        self.minor_batch.promoted_bytes += promoted as u64;
        self.last_promoted = promoted;
        match start {
            Some(start) => self
                .minor_batch
                .pauses
                .push(start.elapsed().as_nanos() as u64),
            None => self.minor_batch.untimed += 1,
        }
        if self.minor_batch.pauses.len() + self.minor_batch.untimed as usize >= MINOR_BATCH {
            self.flush_stats();
        }
    }

    /// Adds this thread's batched minor collections to the heap's
    /// statistics (done every 256 collections, at major collections and at
    /// detach).
    pub fn flush_stats(&mut self) {
        self.heap.shared.stats.merge_minor(&mut self.minor_batch);
    }

    /// Queues every young reference slot of the (old) object `obj` for
    /// forwarding, prefetching its target; slots queued
    /// [`PREFETCH_DISTANCE`] earlier are forwarded meanwhile, by when their
    /// targets' headers have arrived in the cache.
    fn scan(
        &mut self,
        types: &[Arc<TypeInfo>],
        obj: Address,
        pending: &mut PendingSlots,
        promoted: &mut usize,
    ) {
        // SAFETY: `obj` is a live old object of a registered type.
        let info = type_of(types, unsafe { header::type_id(obj) });
        // SAFETY: as above; only this thread writes it while it is young-
        // reachable (the mutator invariant), and it stays where it is for
        // the whole collection, so its slot addresses stay valid.
        unsafe {
            info.for_each_ref(obj, |slot| {
                let value = Address::from_usize(*slot);
                if self.nursery.contains(value) {
                    value.prefetch();
                    if let Some(ready) = pending.push(slot) {
                        self.forward_slot(types, ready, promoted);
                    }
                }
            })
        };
    }

    /// Forwards the reference in `slot`.
    ///
    /// # Safety
    /// `slot` is a reference slot of a live old object that no other thread
    /// writes during the collection.
    #[inline]
    unsafe fn forward_slot(
        &mut self,
        types: &[Arc<TypeInfo>],
        slot: *mut usize,
        promoted: &mut usize,
    ) {
        // SAFETY: caller's invariant.
        unsafe {
            *slot = self
                .forward(types, Address::from_usize(*slot), promoted)
                .as_usize()
        };
    }

    /// The old-space address of `obj`, copying it there if it is young.
    fn forward(&mut self, types: &[Arc<TypeInfo>], obj: Address, promoted: &mut usize) -> Address {
        if !self.nursery.contains(obj) {
            return obj;
        }
        // SAFETY: a young reference reachable from this thread's roots
        // points at a live object of its nursery.
        let word = unsafe { header::word0(obj) }.load(Ordering::Relaxed);
        if word & FORWARDED != 0 {
            // SAFETY: as above.
            return Address::from_usize(unsafe { header::link(obj) }.load(Ordering::Relaxed));
        }
        let info = type_of(types, header::type_id_of_word(word));
        // SAFETY: as above.
        let bytes = unsafe { info.size_of(obj) };
        let new = if word & HAS_ID != 0 {
            self.identities[&obj]
        } else {
            match self.bump_old(bytes) {
                Some(slot) => slot,
                None => self
                    .cache
                    .alloc(&self.heap.shared.old, bytes)
                    .unwrap_or_else(|e| promotion_failed(e)),
            }
        };
        // Slots are handed out in address order: fetch the line a few
        // promotions ahead, so that writing it then does not wait.
        new.offset(ALLOC_PREFETCH_BYTES).prefetch();
        // SAFETY: `new` is a slot of at least `bytes` that only this thread
        // owns; `obj` is live and `bytes` long.
        unsafe {
            strata_heap::words::copy(obj, new, bytes);
            let mut flags = word & !(HAS_ID | FORWARDED | PRIVATE);
            if bytes > strata_heap::size_class::LARGE_THRESHOLD {
                flags |= LARGE;
            }
            if self.track_promotions {
                flags |= PRIVATE;
                self.promoted_log.push(new);
            }
            header::word0(new).store(flags, Ordering::Relaxed);
            header::word0(obj).store(word | FORWARDED, Ordering::Relaxed);
            header::link(obj).store(new.as_usize(), Ordering::Relaxed);
        }
        *promoted += bytes;
        if info.has_refs() {
            self.worklist.push(new);
        }
        new
    }

    fn verify_after_minor(&self) {
        let young = |a: &Address| self.nursery.contains(*a) && !a.is_null();
        assert!(
            !self.shadow_stack.iter().any(young)
                && !self.handles.values().any(|a| young(&a))
                && !self.client_roots.iter().any(young),
            "verifier: a root still points into the nursery after a minor collection"
        );
    }
}

/// How many young reference slots wait, their targets prefetched, before
/// they are forwarded.
const PREFETCH_DISTANCE: usize = 8;

/// A FIFO of reference slots whose young targets were prefetched.
struct PendingSlots {
    slots: [*mut usize; PREFETCH_DISTANCE],
    head: usize,
    len: usize,
}

impl PendingSlots {
    fn new() -> PendingSlots {
        PendingSlots {
            slots: [std::ptr::null_mut(); PREFETCH_DISTANCE],
            head: 0,
            len: 0,
        }
    }

    /// Queues `slot`; when the FIFO was full, returns the oldest slot.
    #[inline(always)]
    fn push(&mut self, slot: *mut usize) -> Option<*mut usize> {
        if self.len < PREFETCH_DISTANCE {
            self.slots[(self.head + self.len) % PREFETCH_DISTANCE] = slot;
            self.len += 1;
            return None;
        }
        let oldest = std::mem::replace(&mut self.slots[self.head], slot);
        self.head = (self.head + 1) % PREFETCH_DISTANCE;
        Some(oldest)
    }

    /// Takes the oldest slot.
    fn pop(&mut self) -> Option<*mut usize> {
        if self.len == 0 {
            return None;
        }
        let oldest = self.slots[self.head];
        self.head = (self.head + 1) % PREFETCH_DISTANCE;
        self.len -= 1;
        Some(oldest)
    }
}

/// Minor collections with at most this much nursery in use are timed one
/// in 16.
const SMALL_MINOR_BYTES: usize = 16 << 10;

/// The type of a live object: allocation checked it against this thread's
/// registry copy, which only grows.
#[inline(always)]
fn type_of(types: &[Arc<TypeInfo>], id: u32) -> &TypeInfo {
    match lookup_type(types, id) {
        Some(info) => info,
        None => panic!("heap corruption: object with unregistered type id {id}"),
    }
}

#[cold]
fn promotion_failed(e: strata_heap::AllocError) -> ! {
    // The reservation is twice the heap limit and allocation refuses to pass
    // the limit, so this means memory the OS will not give us.
    eprintln!("strata: promotion failed, the old-space reservation is exhausted: {e}");
    std::process::abort()
}
