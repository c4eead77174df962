//! What an aborted attempt does before the next one: wait for the attempt
//! that owned the anchor it needed to end, then back off (see `DESIGN.md`,
//! "Contention: waiting for the owner, backing off").
//!
//! Each thread slot has an attempt-end counter (`SlotState::ends`) that
//! only the slot's thread writes, once it has released the anchors of an
//! attempt that owned any. A first write that loses to an owner notes the
//! owner's slot and counter ([`Contended`]); the back-off waits for the
//! counter to move, spinning briefly and then yielding the core, so that
//! an owner the scheduler took off its core can run and finish.

use crate::event_log::Event;
use crate::shared::{SlotState, StmShared};
use crate::sync::{spin, yield_now};
use crate::thread::Thread;
use std::sync::atomic::Ordering;

/// Turns of the wait for an owner that spin before it starts yielding.
const OWNER_SPINS: u32 = 64;
/// Yields after which the wait for an owner gives up (an owner blocked on
/// something else must not hold the waiter forever).
const OWNER_YIELDS: u32 = 4096;
/// The randomised spin doubles with each abort in a row up to this many
/// times (at most `2^8 * 8` spin turns).
const MAX_SPIN_DOUBLINGS: u32 = 8;
/// From this abort in a row on, the back-off ends with a yield.
const YIELD_FROM: u32 = 4;

/// The attempt an aborted attempt waits for: its thread slot and the value
/// of the slot's attempt-end counter while it ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Contended {
    pub slot: u32,
    pub ends: u32,
}

impl SlotState {
    /// Notes that an attempt of this thread slot that owned anchors has
    /// released them all (called by the slot's thread, after the release
    /// stores).
    #[inline]
    pub(crate) fn note_attempt_end(&self) {
        // Only the slot's thread writes the counter: no read-modify-write.
        self.ends.store(
            self.ends.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Release,
        );
    }
}

impl StmShared {
    /// Thread slot `slot`'s attempt-end counter. Sequentially consistent:
    /// read before the owner bits that show the slot still owning an
    /// anchor, it is the value of the attempt that owns it.
    #[inline]
    pub(crate) fn attempt_ends(&self, slot: u32) -> u32 {
        self.slot(slot).ends.load(Ordering::SeqCst)
    }
}

impl Thread {
    /// Backs off before the next attempt of a transaction that has aborted
    /// `attempts` times in a row: waits for the owner it lost to (if it
    /// lost to one), then spins a random while, yielding when the aborts
    /// go on.
    pub(crate) fn backoff(&mut self, attempts: u32) {
        if let Some(owner) = self.tx.contended.take() {
            self.log_event(Event::WaitStart);
            self.wait_for_attempt_end(owner);
            self.log_event(Event::WaitEnd);
        }
        let limit = 1u64 << attempts.min(MAX_SPIN_DOUBLINGS);
        for _ in 0..(self.next_random() % limit) * 8 {
            std::hint::spin_loop();
        }
        if attempts >= YIELD_FROM {
            std::thread::yield_now();
        }
        self.m.safepoint();
    }

    /// Waits until `owner`'s attempt has ended, or gives up after
    /// [`OWNER_YIELDS`] yields. Polls the safepoint while it yields.
    fn wait_for_attempt_end(&mut self, owner: Contended) {
        for turn in 0..OWNER_SPINS + OWNER_YIELDS {
            if self.heap.stm.slot(owner.slot).ends.load(Ordering::Acquire) != owner.ends {
                return;
            }
            if turn < OWNER_SPINS {
                spin();
            } else {
                yield_now();
                self.m.safepoint();
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{Heap, HeapConfig, Object};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    #[derive(Clone, Copy)]
    struct Cell {
        n: u64,
    }
    impl Object for Cell {}

    #[test]
    fn an_attempt_end_moves_the_owners_counter_only_when_it_owned_something() {
        let heap = Heap::new(HeapConfig::default()).unwrap();
        let mut thread = heap.attach().unwrap();
        let cell = thread
            .atomically(|tx| {
                let c = tx.alloc(Cell { n: 0 });
                tx.root(c)
            })
            .unwrap();
        let stm = &heap.stm;
        let before = stm.attempt_ends(thread.slot);
        thread
            .atomically(|tx| {
                let c = tx.get_root(&cell);
                tx.read(c).n
            })
            .unwrap();
        assert_eq!(
            stm.attempt_ends(thread.slot),
            before,
            "a read-only commit owned nothing"
        );
        thread
            .atomically(|tx| {
                let c = tx.get_root(&cell);
                tx.update(c, |c| c.n += 1);
            })
            .unwrap();
        assert_eq!(stm.attempt_ends(thread.slot), before.wrapping_add(1));
    }

    /// A writer that finds the cell owned waits for the owner's attempt
    /// to end (it does not spin through its retries meanwhile): with the
    /// owner holding the cell for 50 ms, the writer aborts a few times,
    /// not thousands.
    #[test]
    fn a_writer_that_loses_waits_for_the_owners_attempt_to_end() {
        let heap = Heap::new(HeapConfig::default()).unwrap();
        let mut main = heap.attach().unwrap();
        let root = main
            .atomically(|tx| {
                let c = tx.alloc(Cell { n: 0 });
                tx.root(c)
            })
            .unwrap();
        let cell = std::sync::Arc::new(main.global(&root));
        let (owned_tx, owned_rx) = mpsc::channel();
        let owner = {
            let heap = heap.clone();
            let cell = cell.clone();
            std::thread::spawn(move || {
                let mut t = heap.attach().unwrap();
                let mut first = true;
                t.atomically(|tx| {
                    let c = tx.get_global(&cell);
                    tx.update(c, |c| c.n += 1);
                    if std::mem::take(&mut first) {
                        owned_tx.send(()).unwrap();
                        tx.blocking(|| std::thread::sleep(Duration::from_millis(50)));
                    }
                })
                .unwrap();
            })
        };
        // Waiting outside the heap: the owner's collections must not wait
        // for this thread.
        main.blocking(|| owned_rx.recv().unwrap());
        let start = Instant::now();
        main.atomically(|tx| {
            let c = tx.get_global(&cell);
            tx.update(c, |c| c.n += 10);
        })
        .unwrap();
        owner.join().unwrap();
        let aborts = main.abort_counts().write_write;
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "the writer waited for the owner"
        );
        assert!(
            (1..64).contains(&aborts),
            "{aborts} write-write aborts while the owner slept"
        );
        let n = main
            .atomically(|tx| {
                let c = tx.get_global(&cell);
                tx.read(c).n
            })
            .unwrap();
        assert_eq!(n, 11);
    }
}
