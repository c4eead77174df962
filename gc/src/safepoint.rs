//! Safepoints: the registry of attached threads and the stop-the-world
//! protocol of major collections (see `DESIGN.md`, "Safepoints"), and a
//! thread's side of it: polling for a stop request, parking and blocking
//! calls (each with its nursery emptied and its roots published first, so
//! that the collector may run while the thread waits), and the snapshot
//! time it publishes for the collector's horizon.
//!
//! One mutex guards the list of attached threads and the `collecting` flag;
//! `stop_requested` mirrors `collecting` in an atomic so that threads poll it
//! without the lock. A thread's state changes only under the mutex, and every
//! change is announced on the condition variable. Under `--cfg loom` the
//! locks and atomics are loom's (`sync.rs`), for the model in
//! `loom_model.rs`.

use crate::mutator::Mutator;
use crate::sync::{AtomicBool, AtomicU64, AtomicU8, Condvar, Mutex, MutexGuard};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_heap::Address;

/// The thread runs heap code and will reach a safepoint.
pub const RUNNING: u8 = 0;
/// The thread waits at a safepoint for the collection to end.
pub const PARKED: u8 = 1;
/// The thread is outside the heap (blocking call) and holds nothing up.
pub const BLOCKED: u8 = 2;

/// No transaction running on this thread.
pub const NO_SNAPSHOT: u64 = u64::MAX;

/// What the collector may see of an attached thread. Each sits alone on
/// its cache lines: a transaction writes `snapshot` when it begins and ends,
/// and two threads' records allocated side by side would share a line.
#[repr(align(128))]
pub struct MutatorShared {
    /// `RUNNING`, `PARKED` or `BLOCKED`; changed under the world lock.
    pub state: AtomicU8,
    /// Roots published when the thread last parked or blocked.
    pub published_roots: Mutex<Vec<crate::Address>>,
    /// The snapshot time of the transaction running on this thread, or
    /// `NO_SNAPSHOT`: the input of a major collection's horizon.
    pub snapshot: AtomicU64,
    /// This thread's slot (1-based, reused after detach): the owner value
    /// transactions write into headers.
    pub slot: u32,
}

struct WorldState {
    mutators: Vec<Arc<MutatorShared>>,
    collecting: bool,
    free_slots: Vec<u32>,
    next_slot: u32,
}

/// The attached threads and the stop-the-world handshake.
pub struct World {
    state: Mutex<WorldState>,
    changed: Condvar,
    stop_requested: AtomicBool,
}

/// The largest number of threads attached at once (the header's owner field).
pub const MAX_MUTATORS: u32 = strata_heap::header::MAX_OWNER as u32;

impl Default for World {
    fn default() -> Self {
        World {
            state: Mutex::new(WorldState {
                mutators: Vec::new(),
                collecting: false,
                free_slots: Vec::new(),
                next_slot: 1,
            }),
            changed: Condvar::new(),
            stop_requested: AtomicBool::new(false),
        }
    }
}

/// The threads of `mutators`, other than `me`, that have not stopped.
fn still_running<'a>(
    mutators: &'a [Arc<MutatorShared>],
    me: &'a MutatorShared,
) -> impl Iterator<Item = &'a Arc<MutatorShared>> + 'a {
    mutators
        .iter()
        .filter(move |m| !std::ptr::eq(&***m, me) && m.state.load(Ordering::Relaxed) == RUNNING)
}

impl World {
    fn lock(&self) -> MutexGuard<'_, WorldState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits, holding `state` between wake-ups, until no collection runs.
    fn wait_for_collection<'a>(
        &'a self,
        mut state: MutexGuard<'a, WorldState>,
    ) -> MutexGuard<'a, WorldState> {
        while state.collecting {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state
    }

    /// The world lock, taken when no collection runs.
    fn lock_between_collections(&self) -> MutexGuard<'_, WorldState> {
        self.wait_for_collection(self.lock())
    }

    /// Whether a collector asked threads to stop.
    #[inline(always)]
    pub fn stop_requested(&self) -> bool {
        self.stop_requested.load(Ordering::Relaxed)
    }

    /// Registers a new thread once no collection runs; `None` when every
    /// owner slot is taken.
    pub fn attach(&self) -> Option<Arc<MutatorShared>> {
        let mut state = self.lock_between_collections();
        let slot = match state.free_slots.pop() {
            Some(slot) => slot,
            None if state.next_slot <= MAX_MUTATORS => {
                state.next_slot += 1;
                state.next_slot - 1
            }
            None => return None,
        };
        let shared = Arc::new(MutatorShared {
            state: AtomicU8::new(RUNNING),
            published_roots: Mutex::new(Vec::new()),
            snapshot: AtomicU64::new(NO_SNAPSHOT),
            slot,
        });
        state.mutators.push(shared.clone());
        Some(shared)
    }

    /// Removes a thread (it did its last minor collection).
    pub fn detach(&self, me: &Arc<MutatorShared>) {
        let mut state = self.lock();
        state.mutators.retain(|m| !Arc::ptr_eq(m, me));
        state.free_slots.push(me.slot);
        self.changed.notify_all();
    }

    /// Parks `me` until the running collection ends. Its roots must be
    /// published and its nursery empty.
    pub fn park(&self, me: &MutatorShared) {
        let state = self.lock();
        me.state.store(PARKED, Ordering::Relaxed);
        self.changed.notify_all();
        let _state = self.wait_for_collection(state);
        me.state.store(RUNNING, Ordering::Relaxed);
    }

    /// Marks `me` blocked: collections run without waiting for it.
    pub fn block(&self, me: &MutatorShared) {
        let _state = self.lock();
        me.state.store(BLOCKED, Ordering::Relaxed);
        self.changed.notify_all();
    }

    /// Returns `me` to running, after any collection in progress.
    pub fn unblock(&self, me: &MutatorShared) {
        let _state = self.lock_between_collections();
        me.state.store(RUNNING, Ordering::Relaxed);
    }

    /// Tries to become the collector. On success every other thread is
    /// stopped when this returns, and the list of threads is returned; on
    /// failure another collection is running (the caller parks instead).
    ///
    /// After waiting `stall_warning`, `on_stall` is called once with the
    /// slots of the threads still running (see `DESIGN.md`, "Safepoints").
    pub fn stop_the_world(
        &self,
        me: &MutatorShared,
        stall_warning: Option<Duration>,
        on_stall: impl FnOnce(&[u32]),
    ) -> Option<Vec<Arc<MutatorShared>>> {
        let mut state = self.lock();
        if state.collecting {
            return None;
        }
        state.collecting = true;
        self.stop_requested.store(true, Ordering::SeqCst);
        let deadline = stall_warning.map(|after| Instant::now() + after);
        let mut on_stall = Some(on_stall);
        loop {
            if still_running(&state.mutators, me).next().is_none() {
                return Some(state.mutators.clone());
            }
            match deadline.filter(|_| on_stall.is_some()) {
                None => state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        if let Some(report) = on_stall.take() {
                            let slots: Vec<u32> =
                                still_running(&state.mutators, me).map(|m| m.slot).collect();
                            report(&slots);
                        }
                    } else {
                        state = self
                            .changed
                            .wait_timeout(state, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                }
            }
        }
    }

    /// Ends a collection and wakes every parked thread.
    pub fn resume(&self) {
        let mut state = self.lock();
        state.collecting = false;
        self.stop_requested.store(false, Ordering::SeqCst);
        self.changed.notify_all();
    }

    /// How many threads are attached.
    pub fn attached(&self) -> usize {
        self.lock().mutators.len()
    }
}

/// A published root list, for the collector.
pub fn published(m: &MutatorShared) -> Vec<Address> {
    m.published_roots
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

impl Mutator {
    /// Checks for a stop request and parks until the collection ends.
    #[inline(always)]
    pub fn safepoint(&mut self) {
        if self.stop_requested() {
            self.park();
        }
    }

    /// Whether a collection is waiting for this thread at its next
    /// safepoint.
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.heap.shared.world.stop_requested()
    }

    #[cold]
    fn park(&mut self) {
        self.minor_collection();
        self.drop_runs();
        self.publish_roots();
        self.heap.shared.world.park(&self.shared);
    }

    /// Leaves the heap for a blocking call: collections no longer wait for
    /// this thread until [`Mutator::leave_blocking`]. Young objects are
    /// promoted first. Prefer [`Mutator::blocking`].
    pub fn enter_blocking(&mut self) {
        self.minor_collection();
        self.publish_roots();
        self.majors_at_block = self.heap.shared.stats.major_count();
        self.heap.shared.world.block(&self.shared);
    }

    /// Returns from a blocking call, waiting for a collection in progress.
    /// The pretenuring runs stay unless a major collection ran meanwhile
    /// (its sweep freed their unused slots): the collection counts itself
    /// before it resumes the world, and `unblock` takes the world's lock
    /// after that.
    pub fn leave_blocking(&mut self) {
        self.heap.shared.world.unblock(&self.shared);
        if self.heap.shared.stats.major_count() != self.majors_at_block {
            self.drop_runs();
        }
    }

    /// Runs `f` outside the heap (it must not touch heap objects). If `f`
    /// panics, the thread is back in the heap before the panic goes on:
    /// a thread left blocked would run on while collections no longer wait
    /// for it.
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        /// Leaves the blocking state when dropped, also on unwind.
        struct Unblock<'a>(&'a mut Mutator);
        impl Drop for Unblock<'_> {
            fn drop(&mut self) {
                self.0.leave_blocking();
            }
        }
        self.enter_blocking();
        let _unblock = Unblock(self);
        f()
    }

    /// Publishes the snapshot time of this thread's running transaction
    /// (`None`: no transaction), an input of the collector's horizon.
    #[inline]
    pub fn set_snapshot(&mut self, snapshot: Option<u64>) {
        self.shared
            .snapshot
            // The collector reads it only after this thread parks or blocks,
            // both under the world lock: relaxed is enough.
            .store(snapshot.unwrap_or(NO_SNAPSHOT), Ordering::Relaxed);
    }
}
