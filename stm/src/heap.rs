//! The transactional heap: the collector's heap plus the state transactions
//! share (clock, inevitable token, per-thread commit words), and its
//! configuration.

use crate::abort_counts::AbortCounts;
use crate::abort_info::Marker;
use crate::conflict_profile::ConflictProfile;
use crate::error::Error;
use crate::recorder::{marker_text, ReportConfig, Reports};
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
    /// What the heap records about aborts and attempts (see
    /// [`ReportConfig`]). Default: [`ReportConfig::from_env`].
    pub reports: ReportConfig,
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
    pub(crate) reports: Arc<Reports>,
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
            reports: ReportConfig::from_env(),
        };
        let gc = strata_gc::Heap::with_options(config, options)?;
        let ref_array = gc
            .register_type(TypeDesc::array("strata::RefArray", 0, 8).with_element_refs())
            .expect("the built-in array type is valid");
        let stm = Arc::new(StmShared::new(ref_array)?);
        let reports = Reports::new(tx_config.reports.clone(), gc.clone(), stm.clone());
        Ok(Heap {
            gc,
            stm,
            tx_config,
            reports: Arc::new(reports),
        })
    }

    /// Replaces the transaction configuration (for threads attached later;
    /// a change of [`TxConfig::reports`] starts a new recording for them).
    pub fn with_tx_config(mut self, tx_config: TxConfig) -> Heap {
        if tx_config.reports != *self.reports.config() {
            let reports =
                Reports::new(tx_config.reports.clone(), self.gc.clone(), self.stm.clone());
            self.reports = Arc::new(reports);
        }
        self.tx_config = tx_config;
        self
    }

    /// The transaction configuration in force for threads attached now.
    pub fn tx_config(&self) -> &TxConfig {
        &self.tx_config
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

    /// The number of marker file `name` (see [`Marker`]), the same for
    /// every call with the same name. Numbers start at 1.
    pub fn marker_file(&self, name: &str) -> u32 {
        let mut files = self
            .stm
            .marker_files
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let index = match files.iter().position(|file| file == name) {
            Some(index) => index,
            None => {
                files.push(name.to_string());
                files.len() - 1
            }
        };
        index as u32 + 1
    }

    /// `marker` as text: `file:line`, or `?` for [`Marker::NONE`].
    pub fn marker_text(&self, marker: Marker) -> String {
        marker_text(&self.stm, marker)
    }

    /// The conflict profile of the threads that have detached (they add
    /// theirs when they detach), if the heap profiles
    /// ([`ReportConfig::profile`] or [`ReportConfig::profile_path`]);
    /// empty otherwise.
    pub fn conflict_profile(&self) -> ConflictProfile {
        self.reports.profile()
    }

    /// The commit clock's current time.
    pub fn clock(&self) -> u64 {
        self.stm.now()
    }
}
