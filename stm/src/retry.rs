//! Blocking retry (see `DESIGN.md`, "Blocking retry"): [`Tx::retry`] ends
//! the attempt and sleeps until something it read changes, [`Tx::or_else`]
//! runs a second branch when the first retries, and
//! [`Thread::atomically_until`] bounds the sleep. This module owns the
//! heap's waiter count and the wakeups committers send through it; the
//! abort of a retrying attempt is the ordinary one (`commit.rs`), which
//! calls [`Thread::wait_for_change`] before it lets the read set go.

use crate::barrier::visible_body;
use crate::error::Error;
use crate::scan::SCAN_ENTRY;
use crate::shared::Line;
use crate::sync::{AtomicU64, Condvar, Mutex};
use crate::thread::Thread;
use crate::tx::{Conflict, Tx};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use strata_gc::header;
use strata_gc::versions::newest_stamp;
use strata_gc::Address;

/// The longest a waiter sleeps before it checks its read set again (a
/// safety net: every commit that changes what it read wakes it).
const SLEEP_AT_MOST: Duration = Duration::from_millis(100);

/// The threads of a heap waiting in a retry, and how committers wake them.
#[derive(Default)]
pub(crate) struct RetryWaiters {
    /// How many threads are waiting. Alone on its line: every update
    /// commit loads it, and only a thread starting or ending a wait
    /// writes it.
    count: Line<AtomicU64>,
    /// Counts the wakeups; waiters sleep while it keeps the value they
    /// read before checking their read sets.
    generation: Mutex<u64>,
    woken: Condvar,
}

impl RetryWaiters {
    /// Wakes the waiters if there are any: called by every update commit
    /// after it has published (and after its add to the clock, which
    /// orders this load against a waiter's read-modify-write of the clock:
    /// see `DESIGN.md`, "Blocking retry").
    #[inline(always)]
    pub(crate) fn wake_after_commit(&self) {
        if self.count.load(Ordering::SeqCst) != 0 {
            self.wake();
        }
    }

    #[cold]
    #[inline(never)]
    fn wake(&self) {
        let mut generation = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        *generation = generation.wrapping_add(1);
        drop(generation);
        self.woken.notify_all();
    }

    fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps while the generation is `seen`, at most `timeout` (loom's
    /// condition variable has no timeout: in the model a lost wakeup is a
    /// deadlock).
    fn sleep(&self, seen: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut generation = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        while *generation == seen {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            generation = match self.woken.wait_timeout(generation, deadline - now) {
                Ok((generation, _)) => generation,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// The wait of a retry (see `DESIGN.md`, "Blocking retry"): until
    /// `state(context)` shows a change, true then, or until `deadline`,
    /// false then. `pause(context)` runs between looks while something
    /// read is owned; `outside(context, sleep)` runs `sleep` outside the
    /// heap.
    pub(crate) fn wait<C>(
        &self,
        clock: &AtomicU64,
        context: &mut C,
        deadline: Option<Instant>,
        state: impl Fn(&C) -> ReadSetState,
        pause: impl Fn(&mut C),
        outside: impl Fn(&mut C, &mut dyn FnMut()),
    ) -> bool {
        self.count.fetch_add(1, Ordering::SeqCst);
        // A read-modify-write of the clock that changes nothing: ordered
        // with every committer's add to it, it either comes after one (and
        // what that committer owned and published is seen below) or before
        // (and that committer's load of the count sees this waiter).
        clock.fetch_add(0, Ordering::SeqCst);
        let changed = loop {
            let seen = self.generation();
            match state(context) {
                ReadSetState::Changed => break true,
                ReadSetState::Owned => {
                    // The owner publishes soon or lets go: look again.
                    pause(context);
                    continue;
                }
                ReadSetState::Unchanged => {}
            }
            let mut timeout = SLEEP_AT_MOST;
            if let Some(deadline) = deadline {
                let now = Instant::now();
                if now >= deadline {
                    break false;
                }
                timeout = timeout.min(deadline - now);
            }
            outside(context, &mut || self.sleep(seen, timeout));
        };
        self.count.fetch_sub(1, Ordering::SeqCst);
        changed
    }
}

/// What a waiter's read set shows.
#[derive(PartialEq, Eq, Debug)]
pub(crate) enum ReadSetState {
    /// Something read has a version newer than the snapshot.
    Changed,
    /// Nothing changed, but another thread owns something read: it may
    /// publish soon.
    Owned,
    /// Nothing changed and nothing read is owned.
    Unchanged,
}

impl<'tx> Tx<'tx> {
    /// Gives up this attempt until something it read changes: the thread
    /// sleeps (outside the heap: collections do not wait for it) until
    /// another transaction commits a write to an object this attempt read,
    /// then runs the transaction again. Inside the first branch of
    /// [`Tx::or_else`], runs the second branch instead.
    ///
    /// ```
    /// use strata::{Heap, HeapConfig, TxQueue};
    ///
    /// let heap = Heap::new(HeapConfig::default()).unwrap();
    /// let mut main = heap.attach().unwrap();
    /// let queue = TxQueue::<u64>::new(&mut main, 4).unwrap();
    /// let taken = main.blocking(|| std::thread::scope(|s| {
    ///     let consumer = s.spawn(|| {
    ///         let mut t = heap.attach().unwrap();
    ///         // Sleeps until the producer's put commits.
    ///         t.atomically(|tx| queue.take_or_retry(tx)).unwrap()
    ///     });
    ///     s.spawn(|| {
    ///         let mut t = heap.attach().unwrap();
    ///         t.atomically(|tx| queue.put(tx, 42).unwrap()).unwrap();
    ///     });
    ///     consumer.join().unwrap()
    /// }));
    /// assert_eq!(taken, 42);
    /// ```
    ///
    /// # Panics
    /// If the transaction has called [`Tx::become_inevitable`] (it
    /// promised to commit), or is a task of
    /// [`TaskRunner::run_ordered`](crate::TaskRunner::run_ordered).
    pub fn retry(&mut self) -> ! {
        assert!(
            !self.th.tx.ordered_task,
            "strata: retry in a task of TaskRunner::run_ordered"
        );
        assert!(
            !self.th.tx.promised,
            "strata: retry in a transaction that called become_inevitable"
        );
        let tx = &mut self.th.tx;
        match tx.or_else_open.last() {
            Some(&k) => {
                tx.or_else_choices[k] = true;
                tx.or_else_choices.truncate(k + 1);
                self.th.abort_attempt(Conflict::OrElse)
            }
            None => self.th.abort_attempt(Conflict::Retry),
        }
    }

    /// Runs `first`; if it retries ([`Tx::retry`]), runs `second` instead,
    /// which sees none of `first`'s effects. If `second` retries too, the
    /// whole `or_else` retries. The transaction's closure must depend only
    /// on what it reads (see `DESIGN.md`, "Blocking retry": the choice is
    /// made by running the transaction again at the same snapshot).
    ///
    /// ```
    /// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
    /// let mut thread = heap.attach().unwrap();
    /// let empty = strata::TxQueue::<u32>::new(&mut thread, 1).unwrap();
    /// let full = strata::TxQueue::<u32>::new(&mut thread, 1).unwrap();
    /// thread.atomically(|tx| full.put(tx, 9).unwrap()).unwrap();
    /// let taken = thread
    ///     .atomically(|tx| tx.or_else(|tx| empty.take_or_retry(tx), |tx| full.take_or_retry(tx)))
    ///     .unwrap();
    /// assert_eq!(taken, 9);
    /// ```
    pub fn or_else<R>(
        &mut self,
        first: impl FnOnce(&mut Tx<'tx>) -> R,
        second: impl FnOnce(&mut Tx<'tx>) -> R,
    ) -> R {
        let tx = &mut self.th.tx;
        let k = tx.or_else_next;
        tx.or_else_next += 1;
        if tx.or_else_choices.get(k) == Some(&true) {
            return second(self);
        }
        if tx.or_else_choices.len() <= k {
            tx.or_else_choices.resize(k + 1, false);
        }
        tx.or_else_open.push(k);
        let result = first(self);
        self.th.tx.or_else_open.pop();
        result
    }
}

impl Thread {
    /// Runs `f` as [`Thread::atomically`] does, but gives up when `f`
    /// retries ([`Tx::retry`]) and `deadline` passes while it waits:
    /// `Ok(None)` then, with nothing of `f` committed.
    pub fn atomically_until<R>(
        &mut self,
        deadline: Instant,
        f: impl for<'tx> FnMut(&mut Tx<'tx>) -> R,
    ) -> Result<Option<R>, Error> {
        self.tx.deadline = Some(deadline);
        let result = self.run_transaction(f);
        self.tx.deadline = None;
        result
    }

    /// The wait of an attempt that retried: until its read set shows a
    /// change, or the deadline passes (then `TxState::timed_out` is set).
    /// Called by the abort, after it released the attempt's ownerships and
    /// before it clears the read set; the snapshot is still published, so
    /// the versions it saw are kept.
    pub(crate) fn wait_for_change(&mut self) {
        let stm = self.heap.stm.clone();
        let (slot, snapshot) = (self.slot, self.tx.snapshot);
        let changed = stm.retry.wait(
            &stm.clock,
            &mut self.m,
            self.tx.deadline,
            // SAFETY: read-set entries are read roots, which collections
            // mark, and the published snapshot keeps the versions it sees.
            |m| unsafe { read_set_state(m.read_roots(), slot, snapshot) },
            |m| {
                crate::sync::yield_now();
                m.safepoint();
            },
            |m, sleep| m.blocking(sleep),
        );
        self.tx.timed_out = !changed;
    }
}

/// What a waiter in thread slot `slot` with `snapshot` sees of its read
/// set `entries`.
///
/// # Safety
/// Every entry is a live anchor, or a live array tagged [`SCAN_ENTRY`];
/// the versions `snapshot` sees are kept by the collector.
pub(crate) unsafe fn read_set_state(entries: &[Address], slot: u32, snapshot: u64) -> ReadSetState {
    let mut state = ReadSetState::Unchanged;
    for &entry in entries {
        let found = if entry.as_usize() & SCAN_ENTRY != 0 {
            let array = Address::from_usize(entry.as_usize() & !SCAN_ENTRY);
            // SAFETY: caller's invariant.
            unsafe { scanned_state(array, slot, snapshot) }
        } else {
            // SAFETY: caller's invariant.
            unsafe { anchor_state(entry, slot, snapshot) }
        };
        match found {
            ReadSetState::Changed => return ReadSetState::Changed,
            ReadSetState::Owned => state = ReadSetState::Owned,
            ReadSetState::Unchanged => {}
        }
    }
    state
}

/// What a waiter at `snapshot` in thread slot `slot` sees of `anchor`.
///
/// # Safety
/// `anchor` is a live anchor.
unsafe fn anchor_state(anchor: Address, slot: u32, snapshot: u64) -> ReadSetState {
    // SAFETY: caller's invariant.
    let word = unsafe { header::word0(anchor) }.load(Ordering::SeqCst);
    // SAFETY: as above.
    if unsafe { newest_stamp(anchor) } > snapshot {
        return ReadSetState::Changed;
    }
    let owner = header::owner_of(word);
    if owner != 0 && owner != slot {
        ReadSetState::Owned
    } else {
        ReadSetState::Unchanged
    }
}

/// What a waiter sees of the elements a scan of `array` read: those of
/// the array's version visible at `snapshot`. The array has an entry of
/// its own.
///
/// # Safety
/// `array` is a live reference array whose versions `snapshot` sees are
/// kept by the collector.
unsafe fn scanned_state(array: Address, slot: u32, snapshot: u64) -> ReadSetState {
    let mut state = ReadSetState::Unchanged;
    // SAFETY: caller's invariant; a published version is immutable, and its
    // non-null elements are live anchors.
    unsafe {
        let body = visible_body(array, snapshot);
        for i in 0..header::array_length(body) {
            let element = header::array_element(body, i);
            if element.is_null() {
                continue;
            }
            match anchor_state(element, slot, snapshot) {
                ReadSetState::Changed => return ReadSetState::Changed,
                ReadSetState::Owned => state = ReadSetState::Owned,
                ReadSetState::Unchanged => {}
            }
        }
    }
    state
}
