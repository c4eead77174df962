//! Beginning, committing and aborting transactions, and the validation of
//! read sets at commit and when the snapshot is extended (see `DESIGN.md`,
//! "Commit", "Abort and retry").

use crate::barrier::visible_body;
use crate::scan::SCAN_ENTRY;
use crate::shared::{COMMITTING, INEVITABLE};
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
    pub(crate) fn begin(&mut self, inevitable: bool) {
        self.free_dropped_roots();
        self.m.safepoint();
        self.m.collect_major_if_grown();
        debug_assert_eq!(self.m.nursery_used_bytes(), 0, "nursery not empty at begin");
        // A doom left from the last attempt is cleared before this attempt
        // owns anything (ownership CASes order it before any new doom);
        // most attempts find it clear and leave its line alone.
        let doomed = &self.heap.stm.slot(self.slot).doomed;
        if doomed.load(Ordering::Relaxed) {
            doomed.store(false, Ordering::Release);
        }
        self.tx.active = true;
        self.tx.inevitable = false;
        self.tx.allocated_at_start = self.m.allocated_bytes();
        self.m.track_promotions(true);
        if inevitable {
            self.acquire_token();
        }
        let snapshot = self.heap.stm.now();
        self.tx.snapshot = snapshot;
        self.m.set_snapshot(Some(snapshot));
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
        if self.tx.write_set.is_empty() {
            // Read-only: serialised at its snapshot, nothing to validate.
            // A doom cannot concern it (it owns nothing; a doom aimed at an
            // earlier attempt of this slot may land late) and is ignored.
            self.finish_commit();
            return Ok(());
        }
        if self.is_doomed() {
            return Err(Conflict::Doomed);
        }
        // Fields are reached through `self.heap.stm` each time: cloning the
        // `Arc` here would make every commit write its shared count.
        let commit_time = loop {
            self.commit_word().store(COMMITTING, Ordering::Release);
            let before = self.heap.stm.clock.fetch_add(1, Ordering::SeqCst);
            if before & INEVITABLE == 0 || self.tx.inevitable {
                break (before & !INEVITABLE) + 1;
            }
            // Another thread's transaction is inevitable: nobody else may
            // publish until it ends. Our tick publishes nothing.
            self.commit_word().store(0, Ordering::Release);
            while self.heap.stm.token_held() {
                std::thread::yield_now();
                // The handles are gone, but what validation and publication
                // touch is rooted (read roots, and old roots for the copies,
                // their anchors and the roots' previous objects): a major
                // collection may run while we wait.
                self.m.safepoint();
                if self.is_doomed() {
                    return Err(Conflict::Doomed);
                }
            }
        };
        // Readers only compare this word with their snapshots, and a stale
        // `COMMITTING` makes them wait a little longer: a release store is
        // enough here and below.
        self.commit_word().store(commit_time, Ordering::Release);
        // An inevitable transaction needs no validation: nobody has
        // published since its snapshot (it took the token, waited for the
        // commits in flight, then extended). It must not try: committers
        // waiting for the token own anchors it may have read, which
        // validation takes for conflicts, and their wasted ticks make
        // `commit_time` pass `snapshot + 1`.
        if !self.tx.inevitable && commit_time != self.tx.snapshot + 1 && !self.read_set_valid() {
            self.commit_word().store(0, Ordering::SeqCst);
            return Err(Conflict::Validation);
        }
        self.clear_private();
        for (anchor, copy) in self.tx.write_set.iter() {
            // SAFETY: we own `anchor`; `copy` is its old, fully written
            // private record; `commit_time` is above every published stamp.
            unsafe { publish_version(anchor, copy, commit_time) };
        }
        self.release_owned();
        self.commit_word().store(0, Ordering::Release);
        self.finish_commit();
        Ok(())
    }

    #[inline(always)]
    fn commit_word(&self) -> &std::sync::atomic::AtomicU64 {
        &self.heap.stm.slot(self.slot).commit
    }

    /// Cuts the handle arena back to its first `mark` handles (the end of
    /// a handle scope; 0 at commit). Private copies are old roots, not
    /// handles, so they stay.
    #[inline]
    pub(crate) fn truncate_handles(&mut self, mark: usize) {
        self.m.truncate_client_roots(mark);
    }

    fn finish_commit(&mut self) {
        self.clear_private();
        self.release_token();
        self.end_attempt();
        self.tx.roots_made.clear();
        self.tx.root_undo.clear();
        // Most transactions register no callbacks: leave the empty vectors
        // alone (taking and dropping them costs more than the test).
        if !self.tx.on_abort.is_empty() {
            self.tx.on_abort.clear();
        }
        self.tx.commits += 1;
        if !self.tx.on_commit.is_empty() {
            for callback in std::mem::take(&mut self.tx.on_commit) {
                callback();
            }
        }
    }

    /// Ends a failed attempt: nothing it did remains visible.
    pub(crate) fn abort(&mut self, _why: Conflict) {
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
        self.tx.write_set.clear();
        self.tx.last_copy = (Address::NULL, Address::NULL);
        // The nursery holds only this attempt's garbage now; empty it so the
        // next attempt starts with an empty nursery.
        self.m.collect_minor_only();
        self.end_attempt();
        self.tx.on_commit.clear();
        self.tx.aborts += 1;
        for callback in std::mem::take(&mut self.tx.on_abort) {
            callback();
        }
    }

    fn end_attempt(&mut self) {
        self.m.track_promotions(false);
        if self.m.has_promoted() {
            let mut promoted = std::mem::take(&mut self.tx.promoted);
            self.m.take_promoted(&mut promoted);
            promoted.clear();
            self.tx.promoted = promoted;
        }
        self.m.clear_read_roots();
        self.tx.write_set.clear();
        self.tx.last_copy = (Address::NULL, Address::NULL);
        self.tx.acquiring = Address::NULL;
        self.m.truncate_client_roots(0);
        self.m.clear_old_roots();
        self.tx.active = false;
        self.tx.inevitable = false;
        self.m.set_snapshot(None);
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

    /// Releases every anchor the transaction owns: the write set's, and
    /// one whose first write did not finish. While we own an anchor nobody
    /// else writes its header word (other writers' CASes fail without
    /// writing; flags change only on private or young objects, or with the
    /// world stopped), so a release store of the word without our owner
    /// bits does it, with no locked instruction.
    fn release_owned(&mut self) {
        let release = |anchor: Address| {
            // SAFETY: we own `anchor`, a live old anchor.
            let word = unsafe { header::word0(anchor) };
            word.store(
                word.load(Ordering::Relaxed) & !OWNER_MASK,
                Ordering::Release,
            );
        };
        for (anchor, _) in self.tx.write_set.iter() {
            release(anchor);
        }
        if !self.tx.acquiring.is_null() {
            release(self.tx.acquiring);
            self.tx.acquiring = Address::NULL;
        }
    }
}

impl Thread {
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
    /// by others and has no version newer than the snapshot.
    pub(crate) fn read_set_valid(&self) -> bool {
        self.m.read_roots().iter().all(|&entry| {
            if entry.as_usize() & SCAN_ENTRY != 0 {
                self.scan_valid(Address::from_usize(entry.as_usize() & !SCAN_ENTRY))
            } else {
                self.anchor_valid(entry)
            }
        })
    }

    /// `anchor` is unowned by others and has no version newer than the
    /// snapshot.
    fn anchor_valid(&self, anchor: Address) -> bool {
        // SAFETY: read-set anchors are live: the read set is a list of read
        // roots of the mutator, which collections mark.
        let word = unsafe { header::word0(anchor) }.load(Ordering::SeqCst);
        let owner = header::owner_of(word);
        // SAFETY: as above.
        (owner == 0 || owner == self.slot) && unsafe { newest_stamp(anchor) } <= self.tx.snapshot
    }

    /// The elements a scan of `array` read are valid: the elements of its
    /// version visible at the snapshot (the version the scan read: an
    /// extension of the snapshot since validated that nothing read changed).
    /// The array itself has its own entry.
    fn scan_valid(&self, array: Address) -> bool {
        // SAFETY: `array` is a live anchor (as in `anchor_valid`); the
        // version our snapshot sees is kept by the collector, and a
        // published version is immutable; an array body is its length then
        // its elements.
        unsafe {
            let body = visible_body(array, self.tx.snapshot);
            let len = header::array_length(body);
            (0..len).all(|i| {
                let element = header::array_element(body, i);
                element.is_null() || self.anchor_valid(element)
            })
        }
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
                stm.slot(slot).doomed.store(true, Ordering::SeqCst);
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
