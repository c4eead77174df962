//! What all threads of one heap share for transactions: the commit clock
//! (whose top bit is the inevitable token), and per thread slot the commit
//! word and the doomed flag (see `DESIGN.md`, "Ownership word" and
//! "Commit").

use crate::abort_counts::SharedAbortCounts;
use crate::retry::RetryWaiters;
use crate::sync::{AtomicU32, AtomicU64};
use std::any::TypeId as RustTypeId;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use strata_gc::{HeapError, TypeId};

/// Commit word value: about to take a commit time.
pub const COMMITTING: u64 = u64::MAX;

/// The clock's top bit: set while a thread runs an inevitable transaction
/// (the inevitable token). Every reader of the clock masks it off.
pub const INEVITABLE: u64 = 1 << 63;

/// Per thread slot state visible to other threads. Each on its own pair of
/// cache lines: a thread writes its commit word at every commit, and
/// neighbours must not pay for it.
#[derive(Default)]
#[repr(align(128))]
pub struct SlotState {
    /// 0, `COMMITTING`, or the commit time being published.
    pub commit: AtomicU64,
    /// 0, or the slot of an inevitable transaction that needs this slot's
    /// objects (it dooms this slot's attempt).
    pub doomed: AtomicU32,
    /// Attempts of this slot that owned anchors and have released them
    /// (`contention.rs`); written only by the slot's thread.
    pub ends: AtomicU32,
    /// The slot's thread's marker (`abort_info.rs`); written only by the
    /// slot's thread, read by threads that abort against it.
    pub marker: AtomicU64,
}

/// A value alone on its pair of cache lines (the adjacent-line prefetcher
/// pulls lines in pairs), so that writes to it do not evict its neighbours.
#[derive(Default)]
#[repr(align(128))]
pub struct Line<T>(pub T);

impl<T> std::ops::Deref for Line<T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Transactional state shared by a heap's threads.
pub struct StmShared {
    /// The commit clock: the time of the newest commit, and in its top bit
    /// the inevitable token ([`INEVITABLE`]). Alone on its line: every
    /// update commit adds to it.
    pub clock: Line<AtomicU64>,
    /// Highest slot number handed out, bounding scans of `slots`.
    pub max_slot: AtomicU32,
    slots: SlotStates,
    pub commits: AtomicU64,
    /// Aborted attempts by cause, of threads that have detached.
    pub aborts: SharedAbortCounts,
    /// Heap type ids of the Rust types registered so far.
    pub type_ids: Mutex<HashMap<RustTypeId, TypeId>>,
    /// The built-in reference array type.
    pub ref_array: TypeId,
    /// The names of marker files (`Heap::marker_file`): file `i` is entry
    /// `i - 1`.
    pub marker_files: Mutex<Vec<String>>,
    /// Threads waiting in a retry, which update commits wake.
    pub retry: RetryWaiters,
}

impl StmShared {
    pub fn new(ref_array: TypeId) -> Result<Self, HeapError> {
        Ok(StmShared {
            type_ids: Mutex::new(HashMap::new()),
            ref_array,
            clock: Line(AtomicU64::new(1)),
            max_slot: AtomicU32::new(0),
            slots: SlotStates::new()
                .map_err(|e| HeapError::Io(format!("mapping the slot states: {e}")))?,
            commits: AtomicU64::new(0),
            aborts: SharedAbortCounts::default(),
            marker_files: Mutex::new(Vec::new()),
            retry: RetryWaiters::default(),
        })
    }
}

impl StmShared {
    /// The clock's time (its token bit masked off).
    #[inline(always)]
    pub fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst) & !INEVITABLE
    }

    /// Takes the inevitable token if nobody holds it (see `DESIGN.md`,
    /// "Commit": the `fetch_or` orders the taking against every commit's
    /// add to the clock).
    pub fn take_token(&self) -> bool {
        !self.token_held() && self.clock.fetch_or(INEVITABLE, Ordering::SeqCst) & INEVITABLE == 0
    }

    /// Gives the inevitable token back (by its holder).
    pub fn release_token(&self) {
        self.clock.fetch_and(!INEVITABLE, Ordering::SeqCst);
    }

    /// Whether a thread holds the inevitable token now.
    pub fn token_held(&self) -> bool {
        self.clock.load(Ordering::Relaxed) & INEVITABLE != 0
    }

    /// The state of thread slot `slot` (1-based).
    #[inline(always)]
    pub fn slot(&self, slot: u32) -> &SlotState {
        self.slots.get(slot as usize)
    }

    /// Notes that `slot` is in use, so token holders scan it.
    pub fn register_slot(&self, slot: u32) {
        self.max_slot.fetch_max(slot, Ordering::SeqCst);
    }

    /// Whether any thread other than `me` has a commit in flight.
    pub fn commits_in_flight(&self, me: u32) -> bool {
        let max = self.max_slot.load(Ordering::SeqCst);
        (1..=max).any(|s| s != me && self.slot(s).commit.load(Ordering::SeqCst) != 0)
    }

    /// Waits until no thread other than `me` has a commit in flight (the
    /// token holder's wait: see `DESIGN.md`, "Commit", step 3). A commit
    /// lasts a few hundred nanoseconds unless its thread lost its core:
    /// after a short spin the wait yields, so that the committer can run.
    pub fn wait_for_commits_in_flight(&self, me: u32) {
        let mut spins = 0u32;
        while self.commits_in_flight(me) {
            spins += 1;
            if spins < 64 {
                crate::sync::spin();
            } else {
                crate::sync::yield_now();
            }
        }
    }
}

/// The slot states, in an anonymous mapping: the kernel hands out zeroed
/// pages on first touch, so the 65,536 slots cost memory only for the slots
/// used. (A zeroed heap allocation of this alignment is written whole: the
/// allocator's calloc shortcut stops at 16-byte alignment.)
///
/// Slot numbers come from the world (at most `MAX_MUTATORS`) or from a
/// header's owner field, whose width bounds them the same way; the table
/// has a power-of-two length above that bound, so masking an index keeps it
/// in range without a test on every commit.
///
/// Under loom the states are a boxed slice of a few entries: loom's atomics
/// must be built, not found zeroed.
struct SlotStates {
    #[cfg(not(loom))]
    map: memmap2::MmapMut,
    #[cfg(loom)]
    states: Box<[SlotState]>,
}

/// Entries of the slot table: the owner field's range (a model's few
/// threads under loom).
#[cfg(not(loom))]
const SLOTS: usize = strata_gc::MAX_MUTATORS as usize + 1;
#[cfg(loom)]
const SLOTS: usize = 8;
const _: () = assert!(SLOTS.is_power_of_two());

#[cfg(loom)]
impl SlotStates {
    fn new() -> std::io::Result<SlotStates> {
        Ok(SlotStates {
            states: (0..SLOTS).map(|_| SlotState::default()).collect(),
        })
    }

    fn get(&self, i: usize) -> &SlotState {
        &self.states[i & (SLOTS - 1)]
    }
}

#[cfg(not(loom))]
impl SlotStates {
    fn new() -> std::io::Result<SlotStates> {
        let map = memmap2::MmapMut::map_anon(SLOTS * std::mem::size_of::<SlotState>())?;
        debug_assert!((map.as_ptr() as usize).is_multiple_of(std::mem::align_of::<SlotState>()));
        Ok(SlotStates { map })
    }

    #[inline(always)]
    fn get(&self, i: usize) -> &SlotState {
        debug_assert!(i < SLOTS, "slot {i} out of range");
        // SAFETY: the mapping is page-aligned (so aligned for `SlotState`)
        // and holds `SLOTS` states, and the mask keeps the index below
        // that; all-zero bytes are a valid `SlotState` (atomics holding 0
        // and false), and the states are only reached through shared
        // references, whose atomics do all the writing.
        unsafe { &*(self.map.as_ptr() as *const SlotState).add(i & (SLOTS - 1)) }
    }
}
