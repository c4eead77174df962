//! The transactional heap: the collector's heap plus the state transactions
//! share (clock, inevitable token, per-thread commit words), and its
//! configuration.

use crate::abort_counts::AbortCounts;
use crate::error::Error;
use crate::shared::StmShared;
use crate::thread::Thread;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use strata_gc::{GcOptions, GcStats, HeapConfig, TypeDesc, TypeError, TypeId};

/// How transactions retry and break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxConfig {
    /// After this many aborts in a row a transaction runs its next attempt
    /// inevitably, so it commits. Default 64.
    pub max_retries: u32,
    /// [`Tx::should_break`](crate::Tx::should_break) turns true once a
    /// transaction has allocated this many bytes. Default: half the nursery.
    pub break_bytes: usize,
}

/// A transactional, garbage-collected heap. Cheap to clone; `Send + Sync`.
///
/// ```
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let answer = thread.atomically(|_tx| 42).unwrap();
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct Heap {
    pub(crate) gc: strata_gc::Heap,
    pub(crate) stm: Arc<StmShared>,
    pub(crate) tx_config: TxConfig,
}

impl Heap {
    /// A heap with `config` and this build's collector options.
    pub fn new(config: HeapConfig) -> Result<Heap, Error> {
        Heap::with_options(config, GcOptions::from_env())
    }

    /// A heap configured from the environment (`STRATA_NURSERY_BYTES`,
    /// `STRATA_MAX_HEAP_BYTES`, `STRATA_GC_THREADS`, `STRATA_HUGE_PAGES`,
    /// `STRATA_VERIFY`, `STRATA_GC_ZEAL`, `STRATA_GC_PARALLEL_ZEAL`).
    pub fn from_env() -> Result<Heap, Error> {
        Heap::new(HeapConfig::from_env().map_err(strata_gc::HeapError::from)?)
    }

    /// A heap with explicit collector options.
    pub fn with_options(config: HeapConfig, options: GcOptions) -> Result<Heap, Error> {
        let tx_config = TxConfig {
            max_retries: 64,
            break_bytes: config.nursery_bytes / 2,
        };
        let gc = strata_gc::Heap::with_options(config, options)?;
        let ref_array = gc
            .register_type(TypeDesc::array("strata::RefArray", 0, 8).with_element_refs())
            .expect("the built-in array type is valid");
        Ok(Heap {
            gc,
            stm: Arc::new(StmShared::new(ref_array)?),
            tx_config,
        })
    }

    /// Replaces the transaction configuration (for threads attached later).
    pub fn with_tx_config(mut self, tx_config: TxConfig) -> Heap {
        self.tx_config = tx_config;
        self
    }

    /// Attaches the calling thread. A thread holds one `Thread` of a heap
    /// at a time: attaching again before the first is dropped fails with
    /// [`HeapError::AlreadyAttached`](crate::HeapError::AlreadyAttached)
    /// (a second handle would deadlock the first collection that needs both
    /// stopped); pass the `Thread` along instead.
    pub fn attach(&self) -> Result<Thread, Error> {
        Thread::new(self.clone())
    }

    /// Registers a type described at run time (layout, where its
    /// references are, a name), for hosts whose types are not Rust types
    /// (the C ABI). Other threads may run transactions meanwhile.
    pub fn register_type(&self, desc: TypeDesc) -> Result<TypeId, TypeError> {
        self.gc.register_type(desc)
    }

    /// How many threads are attached now.
    pub fn attached_threads(&self) -> usize {
        self.gc.attached_threads()
    }

    /// The collector's statistics.
    pub fn gc_stats(&self) -> GcStats {
        self.gc.stats()
    }

    /// Commits and aborts of threads that have detached, plus those counted
    /// so far by attached threads (they add theirs when they detach).
    pub fn tx_counts(&self) -> (u64, u64) {
        (
            self.stm.commits.load(Ordering::Relaxed),
            self.stm.aborts.load().total(),
        )
    }

    /// Aborted attempts by cause, of threads that have detached (like
    /// [`Heap::tx_counts`]).
    pub fn abort_counts(&self) -> AbortCounts {
        self.stm.aborts.load()
    }

    /// The commit clock's current time.
    pub fn clock(&self) -> u64 {
        self.stm.now()
    }
}
