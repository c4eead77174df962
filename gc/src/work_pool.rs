//! The work shared by the markers of a parallel major collection (see
//! `DESIGN.md`, "Parallel marking"): chunks of marked objects waiting to be
//! scanned, and the count of markers waiting for one. A marker asks for a
//! chunk only when it has no work of its own, so the marking is complete
//! exactly when every marker waits and no chunk is left.
//!
//! Generic over the item so that a loom model can check the protocol (no
//! lost chunk, no marker left waiting, no early end) with small items; under
//! `--cfg loom` it is built on loom's primitives (`sync.rs`).

use crate::sync::{AtomicUsize, Condvar, Mutex, MutexGuard};
use std::sync::atomic::Ordering;

pub(crate) struct WorkPool<T> {
    state: Mutex<PoolState<T>>,
    wake: Condvar,
    /// Markers waiting, readable without the lock (a busy marker checks it
    /// to decide whether to hand work out).
    hungry: AtomicUsize,
}

struct PoolState<T> {
    chunks: Vec<Vec<T>>,
    /// Markers taking part.
    markers: usize,
    idle: usize,
    done: bool,
}

impl<T> WorkPool<T> {
    pub fn new(markers: usize) -> WorkPool<T> {
        WorkPool {
            state: Mutex::new(PoolState {
                chunks: Vec::new(),
                markers,
                idle: 0,
                done: false,
            }),
            wake: Condvar::new(),
            hungry: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether some marker waits for work.
    #[inline]
    pub fn hungry(&self) -> bool {
        self.hungry.load(Ordering::Relaxed) > 0
    }

    /// Adds a chunk and wakes a waiting marker.
    pub fn give(&self, chunk: Vec<T>) {
        self.lock().chunks.push(chunk);
        self.wake.notify_one();
    }

    /// A chunk to scan, waiting for one; `None` once every marker waits
    /// with nothing left (the marking is complete). The caller has no work
    /// of its own.
    pub fn take(&self) -> Option<Vec<T>> {
        let mut state = self.lock();
        loop {
            if let Some(chunk) = state.chunks.pop() {
                return Some(chunk);
            }
            if state.done {
                return None;
            }
            state.idle += 1;
            if state.idle == state.markers {
                state.done = true;
                self.wake.notify_all();
                return None;
            }
            self.hungry.fetch_add(1, Ordering::Relaxed);
            state = self.wake.wait(state).unwrap_or_else(|e| e.into_inner());
            self.hungry.fetch_sub(1, Ordering::Relaxed);
            state.idle -= 1;
        }
    }

    /// One marker fewer takes part (it could not start, or it panicked).
    pub fn retire(&self) {
        let mut state = self.lock();
        state.markers -= 1;
        if state.idle == state.markers {
            state.done = true;
            self.wake.notify_all();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_model {
    //! Markers scan a small tree of items: scanning item `n` finds `2n + 1`
    //! and `2n + 2` below `NODES`, and a marker hands work out whenever it
    //! holds two items and another waits. Every item must be scanned
    //! exactly once and every marker must return.
    //!
    //! Run with `RUSTFLAGS="--cfg loom" cargo test -p strata-gc --lib
    //! --release work_pool`.

    use super::*;
    use loom::sync::Arc;

    const NODES: usize = 7;

    fn marker(pool: &WorkPool<usize>, scanned: &[AtomicUsize; NODES]) {
        while let Some(chunk) = pool.take() {
            let mut stack = chunk;
            while let Some(n) = stack.pop() {
                scanned[n].fetch_add(1, Ordering::Relaxed);
                stack.extend([2 * n + 1, 2 * n + 2].into_iter().filter(|&c| c < NODES));
                if stack.len() >= 2 && pool.hungry() {
                    pool.give(vec![stack.remove(0)]);
                }
            }
        }
    }

    fn check(markers: usize, retire_one: bool) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(move || {
            let pool = Arc::new(WorkPool::new(markers));
            let scanned: Arc<[AtomicUsize; NODES]> =
                Arc::new(std::array::from_fn(|_| AtomicUsize::new(0)));
            pool.give(vec![0]);
            let helpers: Vec<_> = (1..markers)
                .map(|i| {
                    let (pool, scanned) = (pool.clone(), scanned.clone());
                    loom::thread::spawn(move || {
                        if retire_one && i == 1 {
                            pool.retire();
                        } else {
                            marker(&pool, &scanned);
                        }
                    })
                })
                .collect();
            marker(&pool, &scanned);
            for h in helpers {
                h.join().unwrap();
            }
            for (n, count) in scanned.iter().enumerate() {
                assert_eq!(count.load(Ordering::Relaxed), 1, "item {n}");
            }
        });
    }

    #[test]
    fn two_markers_scan_everything_once_and_end() {
        check(2, false);
    }

    #[test]
    fn a_marker_that_never_starts_does_not_hold_up_the_others() {
        check(3, true);
    }
}
