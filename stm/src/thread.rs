//! An attached thread: its collector mutator, its registered types, and the
//! state of the transaction it runs. `atomically` is the retry loop.

use crate::abort_counts::AbortCounts;
use crate::abort_info::{AbortRecord, Culprit};
use crate::contention::Contended;
use crate::error::Error;
use crate::event_log::Event;
use crate::heap::Heap;
use crate::manual::ManualState;
use crate::object::{FreedRoots, GlobalRoot, Obj, Root};
use crate::recorder::Recorder;
use crate::shared::SlotState;
use crate::tx::{Conflict, Tx};
use crate::type_cache::TypeCache;
use crate::write_set::WriteSet;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use strata_gc::{Address, FixedType, HandleSlot, Mutator, TypeId};

/// The state of the running transaction.
#[derive(Default)]
pub(crate) struct TxState {
    pub active: bool,
    pub snapshot: u64,
    pub inevitable: bool,
    /// Why the attempt must abort, once it has been told so: it never
    /// commits then, whatever the closure does with the unwinding.
    pub poisoned: Option<Conflict>,
    /// Anchor -> client-root index of its private copy.
    pub write_set: WriteSet,
    /// The last write-set entry looked up, as (anchor, copy address), or
    /// nulls. Copies live in the old space and never move, so their
    /// address can be kept.
    pub last_copy: (Address, Address),
    /// An anchor this transaction owns that is not in the write set yet
    /// (its first write is under way), or null. The anchors it owns are
    /// the write set's and this one.
    pub acquiring: Address,
    pub roots_made: Vec<HandleSlot>,
    /// Roots changed by this transaction and what they held before.
    pub root_undo: Vec<(HandleSlot, Address)>,
    pub promoted: Vec<Address>,
    pub on_commit: Vec<Box<dyn FnOnce()>>,
    pub on_abort: Vec<Box<dyn FnOnce()>>,
    pub allocated_at_start: u64,
    pub commits: u64,
    pub aborts: AbortCounts,
    /// Attempts ended since the working lists were last trimmed.
    pub since_trim: u32,
    /// The attempt this one lost an anchor to, which the back-off before
    /// the next attempt waits for (`contention.rs`).
    pub contended: Option<Contended>,
    /// What the attempt's conflict was found on, noted when it was found
    /// (`abort_info.rs`); taken by the abort.
    pub culprit: Culprit,
    /// What aborted the last aborted attempt.
    pub last_abort: Option<AbortRecord>,
    /// Whether the attempt called `Tx::become_inevitable` (it may not
    /// retry then).
    pub promised: bool,
    /// Whether the transactions run now are ordered tasks of a
    /// `TaskRunner`, which may not retry (nothing would wake them).
    pub ordered_task: bool,
    /// Per `or_else` call of an attempt, in call order: whether it takes
    /// its second branch (its first retried in an earlier attempt).
    pub or_else_choices: Vec<bool>,
    /// The number the attempt's next `or_else` call gets.
    pub or_else_next: usize,
    /// The `or_else` calls running their first branch, innermost last.
    pub or_else_open: Vec<usize>,
    /// The snapshot the next attempt keeps (with the read set), after a
    /// first branch of an `or_else` retried.
    pub kept_snapshot: Option<u64>,
    /// When a retrying transaction gives up (`Thread::atomically_until`).
    pub deadline: Option<std::time::Instant>,
    /// Whether the last wait of a retry passed the deadline.
    pub timed_out: bool,
}

static NEXT_THREAD_ID: AtomicU64 = AtomicU64::new(1);

/// A thread attached to a [`Heap`]; it runs transactions. Not `Send`.
///
/// ```
/// #[derive(Clone, Copy)]
/// struct Counter {
///     n: u64,
/// }
/// impl strata::Object for Counter {}
///
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let counter = thread
///     .atomically(|tx| {
///         let c = tx.alloc(Counter { n: 0 });
///         tx.root(c)
///     })
///     .unwrap();
/// for _ in 0..10 {
///     thread
///         .atomically(|tx| {
///             let c = tx.get_root(&counter);
///             tx.update(c, |c| c.n += 1);
///         })
///         .unwrap();
/// }
/// let n = thread
///     .atomically(|tx| {
///         let c = tx.get_root(&counter);
///         tx.read(c).n
///     })
///     .unwrap();
/// assert_eq!(n, 10);
/// ```
pub struct Thread {
    pub(crate) heap: Heap,
    pub(crate) m: Mutator,
    pub(crate) tx: TxState,
    pub(crate) slot: u32,
    /// `heap.stm.slot(slot)`, which every begin, first write and commit
    /// reaches: kept as a pointer instead of found through the heap at
    /// each use (see [`Thread::own_slot`]).
    pub(crate) own_slot: NonNull<SlotState>,
    pub(crate) id: u64,
    pub(crate) types: TypeCache,
    pub(crate) ref_array: TypeId,
    pub(crate) freed_roots: FreedRoots,
    /// The state of attempts driven call by call (`manual.rs`).
    pub(crate) manual: ManualState,
    /// What this thread records, when the heap records (`recorder.rs`).
    pub(crate) recorder: Option<Box<Recorder>>,
    seed: u64,
}

/// The payload a conflict unwinds the transaction's closure with.
pub(crate) struct AbortSignal;

impl Thread {
    pub(crate) fn new(heap: Heap) -> Result<Thread, Error> {
        let mut m = heap.gc.attach()?;
        let slot = m.slot();
        heap.stm.register_slot(slot);
        let ref_array = heap.stm.ref_array;
        m.type_info(ref_array.0)?;
        let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
        let recorder = heap
            .reports
            .config()
            .records()
            .then(|| Box::new(Recorder::new(heap.reports.clone(), id)));
        let own_slot = NonNull::from(heap.stm.slot(slot));
        Ok(Thread {
            own_slot,
            recorder,
            heap,
            m,
            tx: TxState::default(),
            slot,
            id,
            types: TypeCache::default(),
            ref_array,
            freed_roots: FreedRoots::default(),
            manual: ManualState::default(),
            seed: id.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        })
    }

    /// This thread's slot state: its commit word, doomed flag and
    /// attempt-end counter.
    #[inline(always)]
    pub(crate) fn own_slot(&self) -> &SlotState {
        // SAFETY: the pointer was made from `self.heap.stm.slot(self.slot)`;
        // the slot states live in `StmShared` (behind the `Arc` this
        // thread's `heap` holds) and never move, and are only reached
        // through shared references.
        unsafe { self.own_slot.as_ref() }
    }

    /// The heap this thread is attached to.
    pub fn heap(&self) -> &Heap {
        &self.heap
    }

    /// A new handle (next entry of the handle arena) to `obj`, a live
    /// object the running transaction holds, with the caller's brand.
    #[inline(always)]
    pub(crate) fn handle<'tx, T>(&mut self, obj: Address) -> Obj<'tx, T> {
        // SAFETY: `obj` is a live object the transaction holds.
        let index = unsafe { self.m.push_client_root(obj) };
        Obj::new(index as u32)
    }

    /// Ends the running attempt for `conflict`: poisons it (it will not
    /// commit, even if the closure catches the unwinding) and unwinds the
    /// closure to [`Thread::atomically`].
    #[cold]
    #[inline(never)]
    pub(crate) fn abort_attempt(&mut self, conflict: Conflict) -> ! {
        self.tx.poisoned = Some(conflict);
        panic::resume_unwind(Box::new(AbortSignal))
    }

    /// An allocation the nursery refused (`Tx::alloc`): the collector's
    /// slow path, which pretenures or collects; an error aborts the
    /// attempt. Out of line, so that the inlined allocation carries no
    /// error value.
    #[inline(never)]
    pub(crate) fn alloc_fixed_slow(&mut self, ty: FixedType, bytes: usize) -> Address {
        match self.m.alloc_fixed_slow(ty, bytes) {
            Ok(obj) => obj,
            Err(e) => self.abort_attempt(Conflict::Alloc(e)),
        }
    }

    /// Runs `f` as a transaction until it commits, and returns its result.
    ///
    /// `f` may run several times (each conflict aborts and re-runs it); only
    /// the run that commits has effects on the heap. A panic in `f` aborts
    /// the transaction and is propagated. An allocation failure aborts it and
    /// is returned as [`Error::Alloc`]. A [`Tx::retry`] in `f` ends the
    /// attempt and sleeps until something it read changes, then runs `f`
    /// again ([`Thread::atomically_until`] bounds the sleep).
    pub fn atomically<R>(&mut self, f: impl for<'tx> FnMut(&mut Tx<'tx>) -> R) -> Result<R, Error> {
        debug_assert!(
            self.tx.deadline.is_none(),
            "a deadline outside atomically_until"
        );
        let result = self.run_transaction(f)?;
        Ok(result.expect("a transaction without a deadline waits until it commits"))
    }

    /// The retry loop of [`Thread::atomically`] and
    /// [`Thread::atomically_until`]: `None` when a retry's wait passed the
    /// deadline.
    pub(crate) fn run_transaction<R>(
        &mut self,
        mut f: impl for<'tx> FnMut(&mut Tx<'tx>) -> R,
    ) -> Result<Option<R>, Error> {
        let mut attempts = 0u32;
        let mut inevitable = false;
        loop {
            self.begin(inevitable);
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                let mut tx = Tx::new(self);
                f(&mut tx)
            }));
            // An attempt told to abort stays aborted even if the closure
            // caught the unwinding and returned (or panicked otherwise).
            let conflict = match outcome {
                Err(payload) if !payload.is::<AbortSignal>() => {
                    self.tx.poisoned = None;
                    self.abort(Conflict::Panic);
                    panic::resume_unwind(payload);
                }
                Ok(result) if self.tx.poisoned.is_none() => match self.commit() {
                    Ok(()) => return Ok(Some(result)),
                    Err(conflict) => conflict,
                },
                _ => self
                    .tx
                    .poisoned
                    .take()
                    .expect("an attempt told to abort is poisoned"),
            };
            match conflict {
                Conflict::Alloc(e) => {
                    self.abort(Conflict::Alloc(e.clone()));
                    return Err(Error::Alloc(e));
                }
                Conflict::Inevitable => {
                    self.abort(Conflict::Inevitable);
                    inevitable = true;
                    continue;
                }
                // Not conflicts: no back-off, and no step towards
                // inevitability.
                Conflict::Retry => {
                    self.abort(Conflict::Retry);
                    if std::mem::take(&mut self.tx.timed_out) {
                        return Ok(None);
                    }
                    continue;
                }
                Conflict::OrElse => {
                    self.abort(Conflict::OrElse);
                    continue;
                }
                other => self.abort(other),
            }
            attempts += 1;
            if attempts >= self.heap.tx_config.max_retries {
                inevitable = true;
            } else {
                self.backoff(attempts);
            }
        }
    }

    /// The next value of the thread's random sequence (xorshift), for
    /// back-off lengths.
    pub(crate) fn next_random(&mut self) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    /// Whether the running transaction has allocated `break_bytes`.
    pub(crate) fn allocated_past_break(&self) -> bool {
        self.m.allocated_bytes() - self.tx.allocated_at_start
            >= self.heap.tx_config.break_bytes as u64
    }

    /// Makes a global root of `root`'s object, shareable with other threads.
    /// Call it outside a transaction (the object is committed then).
    pub fn global<T>(&mut self, root: &Root<T>) -> GlobalRoot<T> {
        self.check_root(root);
        let obj = self.m.rooted(root.slot);
        // SAFETY: a live root holds a live, committed object of this thread.
        unsafe { self.global_of(obj) }
    }

    /// A global root of `obj`, stamped with the time it was made at (see
    /// [`Tx::get_global`]).
    ///
    /// # Safety
    /// `obj` is a live, committed object this thread holds.
    pub(crate) unsafe fn global_of<T>(&mut self, obj: Address) -> GlobalRoot<T> {
        // SAFETY: caller's invariant.
        let global = unsafe { self.m.global_root(obj) };
        GlobalRoot::new(global, self.heap.gc.id(), self.heap.stm.now())
    }

    pub(crate) fn check_root<T>(&self, root: &Root<T>) {
        assert_eq!(
            root.thread_id, self.id,
            "strata: a Root used on a thread that did not make it"
        );
        assert!(
            !self.m.rooted(root.slot).is_null(),
            "strata: a Root made by a transaction that aborted"
        );
    }

    /// Frees the slots of roots dropped since the last call (every begin
    /// asks; most find none, and pay only the test).
    #[inline(always)]
    pub(crate) fn free_dropped_roots(&mut self) {
        if !self.freed_roots.borrow().is_empty() {
            self.free_dropped_roots_now();
        }
    }

    #[cold]
    #[inline(never)]
    fn free_dropped_roots_now(&mut self) {
        let freed = std::mem::take(&mut *self.freed_roots.borrow_mut());
        for slot in freed {
            self.m.unroot(slot);
        }
    }

    /// Leaves the heap while `f` runs (it must not use heap objects), so
    /// that collections do not wait for this thread: use it around blocking
    /// calls, sleeps and joins.
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.log_event(Event::WaitStart);
        let result = self.m.blocking(f);
        self.log_event(Event::WaitEnd);
        result
    }

    /// Leaves the heap until [`Thread::leave_blocking`], as
    /// [`Thread::blocking`] does around its closure, for hosts that cannot
    /// pass one (the C ABI). Prefer [`Thread::blocking`].
    ///
    /// # Safety
    /// Until `leave_blocking`, the thread must not use the heap: no
    /// transaction, safepoint or collection, and the `Thread` is not
    /// dropped (collections no longer wait for it).
    pub unsafe fn enter_blocking(&mut self) {
        self.log_event(Event::WaitStart);
        self.m.enter_blocking()
    }

    /// Returns to the heap after [`Thread::enter_blocking`], waiting for a
    /// collection in progress.
    ///
    /// # Safety
    /// The thread is in a blocking section entered by `enter_blocking`.
    pub unsafe fn leave_blocking(&mut self) {
        self.m.leave_blocking();
        self.log_event(Event::WaitEnd);
    }

    /// Answers a pending stop-the-world request (threads that run no
    /// transaction for a long time should call it now and then).
    pub fn safepoint(&mut self) {
        self.m.safepoint()
    }

    /// Runs a major collection now.
    pub fn collect(&mut self) {
        self.m.collect_major()
    }

    /// Runs a minor collection now (then answers a pending stop request):
    /// the nursery's survivors move to the old space, an open attempt's
    /// staying its own. Only an attempt driven call by call can have young
    /// objects here (between transactions the nursery is empty).
    pub fn collect_minor(&mut self) {
        self.m.collect_minor()
    }

    /// Commits and aborts of this thread's transactions so far.
    pub fn tx_counts(&self) -> (u64, u64) {
        (self.tx.commits, self.tx.aborts.total())
    }

    /// This thread's aborted attempts so far, by cause.
    pub fn abort_counts(&self) -> AbortCounts {
        self.tx.aborts
    }

    /// The collector's statistics, including this thread's recent counts.
    pub fn gc_stats(&mut self) -> strata_gc::GcStats {
        self.m.stats()
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        // An attempt driven call by call may be open: its ownerships must
        // not outlive the thread (see `manual.rs`).
        if self.tx.active {
            self.abort_open_attempt();
        }
        self.heap
            .stm
            .commits
            .fetch_add(self.tx.commits, Ordering::Relaxed);
        self.heap.stm.aborts.add(&self.tx.aborts);
    }
}
