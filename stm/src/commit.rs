//! Beginning, committing and aborting transactions, and the validation of
//! read sets at commit and when the snapshot is extended (see `DESIGN.md`,
//! "Commit", "Abort and retry").

use crate::abort_info::Culprit;
use crate::barrier::visible_body;
use crate::scan::SCAN_ENTRY;
use crate::shared::{SlotState, StmShared, COMMITTING, INEVITABLE};
use crate::thread::Thread;
use crate::tx::Conflict;
use std::sync::atomic::Ordering;
use strata_gc::header::{self, OWNER_MASK, PRIVATE};
use strata_gc::versions::{newest_stamp, publish_version};
use strata_gc::Address;

/// Every this many attempts a thread trims its working lists.
const TRIM_EVERY: u32 = 256;

/// Entries each working list keeps when trimmed (32 KiB of addresses).
pub(crate) const KEEP_ENTRIES: usize = 4096;

impl Thread {
    /// Starts an attempt: snapshot, cleared sets, promotion tracking on.
    #[inline]
    pub(crate) fn begin(&mut self, inevitable: bool) {
        // Recording (`recorder.rs`) times the same steps.
        if self.recorder.is_some() {
            return self.begin_recorded(inevitable);
        }
        self.reach_begin();
        self.start_attempt(inevitable);
    }

    /// What comes before an attempt: dropped roots freed, a pending
    /// collection answered, a major collection if the old space has grown.
    #[inline]
    pub(crate) fn reach_begin(&mut self) {
        self.free_dropped_roots();
        self.m.safepoint();
        self.m.collect_major_if_grown();
    }

    /// The attempt's own start (see [`Thread::begin`]).
    #[inline]
    pub(crate) fn start_attempt(&mut self, inevitable: bool) {
        debug_assert_eq!(self.m.nursery_used_bytes(), 0, "nursery not empty at begin");
        // A doom left from the last attempt is cleared before this attempt
        // owns anything (ownership CASes order it before any new doom);
        // most attempts find it clear and leave its line alone.
        let doomed = &self.own_slot().doomed;
        if doomed.load(Ordering::Relaxed) != 0 {
            doomed.store(0, Ordering::Release);
        }
        self.tx.active = true;
        self.tx.inevitable = false;
        self.tx.contended = None;
        self.tx.allocated_at_start = self.m.allocated_bytes();
        self.tx.promised = false;
        self.tx.or_else_next = 0;
        self.tx.or_else_open.clear();
        self.m.track_promotions(true);
        if inevitable {
            self.acquire_token();
        }
        // A rerun for an `or_else` keeps the snapshot and read set of the
        // attempt whose first branch retried; an inevitable one extends
        // them to now, or forgets them if they went stale.
        if let Some(kept) = self.tx.kept_snapshot.take() {
            self.tx.snapshot = kept;
            if !inevitable || self.extend() {
                return;
            }
            self.forget_kept_reads();
        }
        let snapshot = self.heap.stm.now();
        self.tx.snapshot = snapshot;
        self.m.set_snapshot(Some(snapshot));
    }

    /// Drops what a rerun for an `or_else` keeps of earlier attempts: the
    /// choices of branches and the read set.
    fn forget_kept_reads(&mut self) {
        self.tx.or_else_choices.clear();
        self.m.clear_read_roots();
    }

    /// Tries to commit the running transaction.
    pub(crate) fn commit(&mut self) -> Result<(), Conflict> {
        // Handles died with the closure: only the private copies (old
        // roots) stay rooted, so the minor collection promotes what the
        // commit publishes (and what roots made by this transaction hold),
        // not every object the transaction touched.
        self.truncate_handles(0);
        // Promote what the transaction made (still marked PRIVATE).
        self.m.collect_minor_only();
        if self.m.old_root_pairs().is_empty() {
            // Read-only (nothing written): serialised at its snapshot,
            // nothing to validate. A doom cannot concern it (it owns
            // nothing; a doom aimed at an earlier attempt of this slot may
            // land late) and is ignored.
            self.clear_private();
        } else {
            self.publish_writes()?;
        }
        self.finish_commit();
        Ok(())
    }

    /// Steps 2 to 6 of an update transaction's commit: the commit time,
    /// validation, publication and release (see `DESIGN.md`, "Commit").
    #[inline(always)]
    fn publish_writes(&mut self) -> Result<(), Conflict> {
        if self.is_doomed() {
            self.note_doomer();
            return Err(Conflict::Doomed);
        }
        // SAFETY: as in `Thread::own_slot`; `own` is used only in this
        // call, while `self` (and its heap) is borrowed. Not borrowed from
        // `self`, so that the wait below can use the mutator.
        let own = unsafe { self.own_slot.as_ref() };
        let m = &mut self.m;
        let taken = take_commit_time(&self.heap.stm, own, self.tx.inevitable, || {
            crate::sync::yield_now();
            // The handles are gone, but what validation and publication
            // touch is rooted (read roots, and old roots for the copies,
            // their anchors and the roots' previous objects): a major
            // collection may run while we wait.
            m.safepoint();
            match own.doomed.load(Ordering::Relaxed) {
                0 => Ok(()),
                _ => Err(Conflict::Doomed),
            }
        });
        let commit_time = match taken {
            Ok(time) => time,
            Err(conflict) => {
                self.note_doomer();
                return Err(conflict);
            }
        };
        // An inevitable transaction needs no validation: nobody has
        // published since its snapshot (it took the token, waited for the
        // commits in flight, then extended). It must not try: committers
        // waiting for the token own anchors it may have read, which
        // validation takes for conflicts, and their wasted ticks make
        // `commit_time` pass `snapshot + 1`.
        if !self.tx.inevitable && commit_time != self.tx.snapshot + 1 && !self.read_set_valid() {
            abandon_commit(own);
            return Err(Conflict::Validation);
        }
        self.clear_private();
        let write_set = self.m.old_root_pairs().iter().copied();
        // SAFETY: we own every anchor of the write set, each copy is its
        // old, fully written private record, and `commit_time` is above
        // every published stamp.
        unsafe { publish_and_release(&self.heap.stm, own, commit_time, write_set) };
        Ok(())
    }

    /// Cuts the handle arena back to its first `mark` handles (the end of
    /// a handle scope; 0 at commit). Private copies are old roots, not
    /// handles, so they stay.
    #[inline]
    pub(crate) fn truncate_handles(&mut self, mark: usize) {
        self.m.truncate_client_roots(mark);
    }

    /// What follows a commit's publication (or a read-only commit's
    /// `PRIVATE` clearing): the attempt's state reset, the callbacks run.
    #[inline(always)]
    fn finish_commit(&mut self) {
        debug_assert_eq!(
            self.tx.culprit,
            Culprit::default(),
            "a conflict noted in an attempt that commits"
        );
        if self.recorder.is_some() {
            self.record_commit();
        }
        self.release_token();
        self.end_attempt();
        self.tx.roots_made.clear();
        self.tx.root_undo.clear();
        // Most transactions register no callbacks: leave the empty vectors
        // alone (taking and dropping them costs more than the test).
        if !self.tx.on_abort.is_empty() {
            self.tx.on_abort.clear();
        }
        if !self.tx.or_else_choices.is_empty() {
            self.tx.or_else_choices.clear();
        }
        self.tx.commits += 1;
        if !self.tx.on_commit.is_empty() {
            for callback in std::mem::take(&mut self.tx.on_commit) {
                callback();
            }
        }
    }

    /// Ends a failed attempt: nothing it did remains visible. What aborted
    /// it is kept for [`Thread::last_abort_info`].
    pub(crate) fn abort(&mut self, why: Conflict) {
        let mut record = self.abort_record(&why);
        if self.recorder.is_some() {
            self.record_abort(&mut record);
        }
        self.tx.last_abort = Some(record);
        self.release_owned();
        self.release_token();
        for (slot, previous) in std::mem::take(&mut self.tx.root_undo).into_iter().rev() {
            // SAFETY: `previous` is the committed object the root held.
            unsafe { self.m.set_rooted(slot, previous) };
        }
        for slot in std::mem::take(&mut self.tx.roots_made) {
            // SAFETY: null marks the root dead.
            unsafe { self.m.set_rooted(slot, strata_gc::Address::NULL) };
        }
        self.m.truncate_client_roots(0);
        // The nursery holds only this attempt's garbage now; empty it so the
        // next attempt starts with an empty nursery.
        self.m.collect_minor_only();
        match why {
            // The read set and snapshot stay for the rerun.
            Conflict::OrElse => self.tx.kept_snapshot = Some(self.tx.snapshot),
            Conflict::Retry => {
                self.wait_for_change();
                self.forget_kept_reads();
            }
            _ => self.forget_kept_reads(),
        }
        self.end_attempt();
        self.tx.on_commit.clear();
        self.tx.aborts.count(&why);
        for callback in std::mem::take(&mut self.tx.on_abort) {
            callback();
        }
    }

    /// What commit and abort both do last. Both have cut the handle arena
    /// back (before their minor collections) and released what the attempt
    /// owned.
    #[inline]
    fn end_attempt(&mut self) {
        debug_assert_eq!(self.m.client_roots_len(), 0, "handles left at the end");
        debug_assert!(self.tx.acquiring.is_null(), "an acquisition left");
        self.m.track_promotions(false);
        if self.m.has_promoted() {
            let mut promoted = std::mem::take(&mut self.tx.promoted);
            self.m.take_promoted(&mut promoted);
            promoted.clear();
            self.tx.promoted = promoted;
        }
        if self.tx.kept_snapshot.is_none() {
            self.m.clear_read_roots();
            self.m.set_snapshot(None);
        }
        self.tx.write_set.clear();
        self.tx.last_copy = (Address::NULL, Address::NULL);
        self.m.clear_old_roots();
        self.tx.active = false;
        self.tx.inevitable = false;
        self.tx.since_trim += 1;
        if self.tx.since_trim == TRIM_EVERY {
            self.trim_buffers();
        }
    }

    /// Gives back what the working lists of a large transaction left them
    /// beyond [`KEEP_ENTRIES`] each (see `DESIGN.md`, "Working lists").
    #[cold]
    #[inline(never)]
    pub(crate) fn trim_buffers(&mut self) {
        self.tx.since_trim = 0;
        self.tx.write_set.shrink_to(KEEP_ENTRIES);
        self.tx.roots_made.shrink_to(KEEP_ENTRIES);
        self.tx.root_undo.shrink_to(KEEP_ENTRIES);
        self.tx.promoted.shrink_to(KEEP_ENTRIES);
        self.m.shrink_buffers(KEEP_ENTRIES);
    }

    /// Clears `PRIVATE` on the objects promoted during the transaction: they
    /// are about to be published.
    fn clear_private(&mut self) {
        if !self.m.has_promoted() {
            return;
        }
        let mut promoted = std::mem::take(&mut self.tx.promoted);
        self.m.take_promoted(&mut promoted);
        for &obj in &promoted {
            // SAFETY: promoted objects are live old objects that only this
            // thread reaches until publication.
            unsafe { header::clear_flag_unshared(obj, PRIVATE) };
        }
        promoted.clear();
        self.tx.promoted = promoted;
    }

    /// Releases every anchor the transaction owns (see [`release_owner`]):
    /// the write set's, and one whose first write did not finish.
    fn release_owned(&mut self) {
        let owned = !self.m.old_root_pairs().is_empty() || !self.tx.acquiring.is_null();
        for &(anchor, _) in self.m.old_root_pairs() {
            // SAFETY: we own `anchor`, a live old anchor.
            unsafe { release_owner(anchor) };
        }
        if !self.tx.acquiring.is_null() {
            // SAFETY: as above.
            unsafe { release_owner(self.tx.acquiring) };
            self.tx.acquiring = Address::NULL;
        }
        if owned {
            self.own_slot().note_attempt_end();
        }
    }
}

impl Thread {
    /// Moves the snapshot to now, or aborts the attempt if something read
    /// has changed since it.
    #[cold]
    #[inline(never)]
    pub(crate) fn extend_or_abort(&mut self) {
        if !self.extend() {
            self.abort_attempt(Conflict::Validation);
        }
    }

    /// Moves the snapshot to now if nothing read has changed since it.
    pub(crate) fn extend(&mut self) -> bool {
        let now = self.heap.stm.now();
        if !self.read_set_valid() {
            return false;
        }
        self.tx.snapshot = now;
        self.m.set_snapshot(Some(now));
        true
    }

    /// Every anchor read (and every element of a scanned array) is unowned
    /// by others and has no version newer than the snapshot. If not, the
    /// first entry found invalid is noted as the conflict's culprit.
    pub(crate) fn read_set_valid(&mut self) -> bool {
        // SAFETY: read-set entries are read roots of the mutator, which
        // collections mark: live anchors (and arrays of scan entries).
        match unsafe { first_invalid(self.m.read_roots(), self.slot, self.tx.snapshot) } {
            None => true,
            Some((anchor, owner)) => {
                // Only another slot is the other side of the conflict.
                let other = if owner == self.slot { 0 } else { owner };
                self.note_culprit(anchor, other);
                false
            }
        }
    }
}

/// Steps 2 and 3 of the commit (see `DESIGN.md`, "Commit"): announces the
/// commit in the commit word of `own` (the committer's slot state) and takes the commit time
/// from the clock, unless another thread holds the inevitable token (and
/// this transaction is not `inevitable`): then it withdraws, calls `wait`
/// until the token is released, and starts again. `wait` may end the
/// commit with a conflict.
#[inline]
pub(crate) fn take_commit_time(
    stm: &StmShared,
    own: &SlotState,
    inevitable: bool,
    mut wait: impl FnMut() -> Result<(), Conflict>,
) -> Result<u64, Conflict> {
    let word = &own.commit;
    loop {
        // Readers only compare this word with their snapshots, and a stale
        // `COMMITTING` makes them wait a little longer: release stores are
        // enough here and below.
        word.store(COMMITTING, Ordering::Release);
        let before = stm.clock.fetch_add(1, Ordering::SeqCst);
        if before & INEVITABLE == 0 || inevitable {
            let commit_time = (before & !INEVITABLE) + 1;
            word.store(commit_time, Ordering::Release);
            return Ok(commit_time);
        }
        // Another thread's transaction is inevitable: nobody else may
        // publish until it ends. Our tick publishes nothing.
        word.store(0, Ordering::Release);
        while stm.token_held() {
            wait()?;
        }
    }
}

/// Withdraws a commit that failed validation: its time publishes nothing.
#[inline]
pub(crate) fn abandon_commit(own: &SlotState) {
    own.commit.store(0, Ordering::SeqCst);
}

/// Steps 6 and 7 of the commit: publishes each `(anchor, copy)` of
/// `writes` as its anchor's newest version stamped `commit_time` and then
/// releases that anchor (one pass: an anchor found released shows its new
/// version, one still owned makes a reader wait for the publication as
/// before), and clears the commit word of `own` (the committer's slot
/// state).
///
/// # Safety
/// The slot of `own` owns every anchor of `writes`; each copy is its
/// anchor's old, fully written private record; `commit_time` is the slot's
/// commit time, above every published stamp.
#[inline]
pub(crate) unsafe fn publish_and_release(
    stm: &StmShared,
    own: &SlotState,
    commit_time: u64,
    writes: impl Iterator<Item = (Address, Address)>,
) {
    for (anchor, copy) in writes {
        // SAFETY: caller's invariants.
        unsafe {
            publish_version(anchor, copy, commit_time);
            release_owner(anchor);
        }
    }
    own.commit.store(0, Ordering::Release);
    own.note_attempt_end();
    stm.retry.wake_after_commit();
}

/// Releases the ownership of `anchor`. While a thread owns an anchor
/// nobody else writes its header word (other writers' CASes fail without
/// writing; flags change only on private or young objects, or with the
/// world stopped), so a release store of the word without the owner bits
/// does it, with no locked instruction.
///
/// # Safety
/// The caller's slot owns `anchor`, a live old anchor.
#[inline]
pub(crate) unsafe fn release_owner(anchor: Address) {
    // SAFETY: caller's invariant.
    let word = unsafe { header::word0(anchor) };
    word.store(
        word.load(Ordering::Relaxed) & !OWNER_MASK,
        Ordering::Release,
    );
}

/// Step 4 of the commit, and the check of a snapshot extension: the first
/// anchor of a read set (an element, for a scan entry) that is not valid
/// for thread slot `slot` with `snapshot`, with its owner then (0: none,
/// or `slot`), or `None` when every entry is valid.
///
/// # Safety
/// Every entry is a live anchor, or a live array tagged [`SCAN_ENTRY`];
/// the versions `snapshot` sees are kept by the collector.
pub(crate) unsafe fn first_invalid(
    entries: &[Address],
    slot: u32,
    snapshot: u64,
) -> Option<(Address, u32)> {
    entries.iter().find_map(|&entry| {
        if entry.as_usize() & SCAN_ENTRY != 0 {
            let array = Address::from_usize(entry.as_usize() & !SCAN_ENTRY);
            // SAFETY: caller's invariant.
            unsafe { scan_invalid(array, slot, snapshot) }
        } else {
            // SAFETY: caller's invariant.
            unsafe { anchor_invalid(entry, slot, snapshot) }.map(|owner| (entry, owner))
        }
    })
}

/// `None` if `anchor` is unowned by others than `slot` and has no version
/// newer than `snapshot`; else its owner (0: none, or `slot`).
///
/// # Safety
/// `anchor` is a live anchor.
unsafe fn anchor_invalid(anchor: Address, slot: u32, snapshot: u64) -> Option<u32> {
    // SAFETY: caller's invariant.
    let word = unsafe { header::word0(anchor) }.load(Ordering::SeqCst);
    let owner = header::owner_of(word);
    // SAFETY: as above.
    let valid = (owner == 0 || owner == slot) && unsafe { newest_stamp(anchor) } <= snapshot;
    (!valid).then_some(owner)
}

/// The first element a scan of `array` read that is not valid, with its
/// owner, among the elements of its version visible at `snapshot` (the
/// version the scan read: an extension of the snapshot since validated
/// that nothing read changed). The array itself has its own entry.
///
/// # Safety
/// `array` is a live reference array whose versions `snapshot` sees are
/// kept by the collector.
unsafe fn scan_invalid(array: Address, slot: u32, snapshot: u64) -> Option<(Address, u32)> {
    // SAFETY: caller's invariant; a published version is immutable, and its
    // non-null elements are live anchors.
    unsafe {
        let body = visible_body(array, snapshot);
        let len = header::array_length(body);
        (0..len).find_map(|i| {
            let element = header::array_element(body, i);
            if element.is_null() {
                return None;
            }
            anchor_invalid(element, slot, snapshot).map(|owner| (element, owner))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Heap, HeapConfig, Object};

    #[derive(Clone, Copy)]
    struct Cell {
        value: u64,
    }
    impl Object for Cell {}

    #[test]
    fn a_read_only_attempt_commits_whatever_doom_lands_late() {
        let heap = Heap::new(HeapConfig::default()).unwrap();
        let mut t = heap.attach().unwrap();
        let cell = t
            .atomically(|tx| {
                let cell = tx.alloc(Cell { value: 3 });
                tx.root(cell)
            })
            .unwrap();
        let (stm, slot) = (heap.stm.clone(), t.slot);
        let mut attempts = 0;
        let value = t
            .atomically(|tx| {
                attempts += 1;
                let cell = tx.get_root(&cell);
                // An inevitable transaction that saw this slot own an
                // object in an earlier attempt dooms it only now.
                stm.slot(slot).doomed.store(slot, Ordering::SeqCst);
                tx.read(cell).value
            })
            .unwrap();
        assert_eq!((value, attempts), (3, 1));
    }

    #[test]
    fn a_large_transactions_lists_are_trimmed_within_256_attempts() {
        let heap = Heap::new(HeapConfig::default()).unwrap();
        let mut t = heap.attach().unwrap();
        let n = 100_000;
        let array = t
            .atomically(|tx| {
                let array = tx.alloc_array(n);
                for i in 0..n {
                    let cell = tx.alloc(Cell { value: 1 });
                    tx.set(array, i, Some(cell));
                }
                tx.root(array)
            })
            .unwrap();
        // One read per cell: the read set grows to 100,000 entries.
        let sum = t
            .atomically(|tx| {
                let array = tx.get_root(&array);
                (0..n)
                    .map(|i| {
                        let cell = tx.get::<Cell>(array, i).unwrap();
                        tx.read(cell).value
                    })
                    .sum::<u64>()
            })
            .unwrap();
        assert_eq!(sum, n as u64);
        assert!(t.m.read_roots_capacity() >= n);
        assert!(t.m.client_roots_capacity() >= n);
        for _ in 0..TRIM_EVERY {
            t.atomically(|tx| {
                let array = tx.get_root(&array);
                tx.len(array)
            })
            .unwrap();
        }
        assert!(t.m.read_roots_capacity() <= KEEP_ENTRIES);
        assert!(t.m.client_roots_capacity() <= KEEP_ENTRIES);
    }
}
