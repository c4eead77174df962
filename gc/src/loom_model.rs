//! Loom models of the stop-the-world handshake: the real [`World`] (its
//! mutex, condition variable and state atomics are loom's under
//! `--cfg loom`) driven by threads that run, reach safepoints, block and
//! collect as mutators and collectors do.
//!
//! What they check: a collector that has stopped the world finds every
//! other attached thread parked or blocked, and no thread touches the heap
//! while a collection runs. The heap is a loom cell that running threads
//! read (side by side, as they run side by side on their own objects) and
//! the collector writes, so loom reports any collector's access not ordered
//! after a running thread's, or before it (a thread running on after it
//! should have stopped, a collector starting before a thread has stopped).
//! Every model must also end: no thread left waiting for a collection that
//! is over.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p strata-gc --lib
//! --release loom_model`.

use crate::safepoint::{MutatorShared, World, RUNNING};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use std::sync::atomic::Ordering;

/// The objects that running threads and collectors touch.
struct ModelHeap(UnsafeCell<u64>);

// SAFETY: the handshake under test is what makes concurrent use sound;
// loom's cell checks every access against it.
unsafe impl Sync for ModelHeap {}

impl ModelHeap {
    /// What a running thread does between safepoints.
    fn run(&self) {
        // SAFETY: loom checks that no write overlaps this read; an overlap
        // fails the model.
        self.0.with(|n| unsafe { assert!(*n < u64::MAX) });
    }

    /// What a collector does with the world stopped.
    fn collect(&self) {
        // SAFETY: loom checks that no other access overlaps this one; an
        // overlap fails the model.
        self.0.with_mut(|n| unsafe { *n += 1 });
    }
}

struct Model {
    world: World,
    heap: ModelHeap,
}

fn model() -> Arc<Model> {
    Arc::new(Model {
        world: World::default(),
        heap: ModelHeap(UnsafeCell::new(0)),
    })
}

impl Model {
    /// A mutator's safepoint: parks if a collection asked it to.
    fn safepoint(&self, me: &MutatorShared) {
        if self.world.stop_requested() {
            self.world.park(me);
        }
    }

    /// A major collection as `Mutator::major_collection` runs it: stop the
    /// world or, when another thread collects, park for it.
    fn collect(&self, me: &MutatorShared) {
        match self.world.stop_the_world(me, None, |_| {}) {
            Some(mutators) => {
                for m in mutators.iter().filter(|m| !std::ptr::eq(&***m, me)) {
                    assert_ne!(
                        m.state.load(Ordering::Relaxed),
                        RUNNING,
                        "slot {} runs during a collection",
                        m.slot
                    );
                }
                self.heap.collect();
                self.world.resume();
            }
            None => self.world.park(me),
        }
    }
}

/// Enough for the three-thread model to fail when `World::wait_for_collection` waits only
/// once (`if` for `while`), few enough for it to end in seconds.
const PREEMPTIONS: usize = 4;

fn check(threads: usize, body: fn(&Model, &MutatorShared, usize)) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(move || {
        let model = model();
        let others: Vec<_> = (1..threads)
            .map(|i| {
                let model = model.clone();
                loom::thread::spawn(move || {
                    let me = model.world.attach().expect("a free slot");
                    body(&model, &me, i);
                    model.world.detach(&me);
                })
            })
            .collect();
        let me = model.world.attach().expect("a free slot");
        body(&model, &me, 0);
        model.world.detach(&me);
        for other in others {
            other.join().unwrap();
        }
        assert_eq!(model.world.attached(), 0);
    });
}

/// Thread 0 collects while the others run through a safepoint.
fn one_collector_and_running_threads(threads: usize) {
    check(threads, |model, me, i| {
        if i == 0 {
            model.collect(me);
        } else {
            model.heap.run();
            model.safepoint(me);
            model.heap.run();
        }
    });
}

#[test]
fn a_collection_waits_for_a_running_thread_to_reach_a_safepoint() {
    one_collector_and_running_threads(2);
}

#[test]
fn a_blocked_thread_holds_up_no_collection_and_returns_after_it() {
    check(2, |model, me, i| {
        if i == 0 {
            model.collect(me);
            model.heap.run();
        } else {
            model.heap.run();
            model.world.block(me);
            model.world.unblock(me);
            model.heap.run();
        }
    });
}

#[test]
fn of_two_threads_collecting_at_once_one_collects_and_the_other_parks() {
    check(2, |model, me, _| {
        model.heap.run();
        model.collect(me);
        model.heap.run();
    });
}

#[test]
fn a_parked_thread_woken_by_another_thread_stopping_stays_parked() {
    one_collector_and_running_threads(3);
}
