//! The `Heap`: one old space, one type registry, the attached threads and
//! the global roots, shared by every thread (`Heap` is a cheap, cloneable,
//! `Send + Sync` handle).

use crate::error::HeapError;
use crate::mutator::Mutator;
use crate::safepoint::World;
use crate::stats::{GcStats, Stats};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use strata_heap::{HeapConfig, Nursery, OldSpace, TypeDesc, TypeError, TypeId, TypeRegistry};

/// Checks a build or a test can turn on to make rare paths common.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcOptions {
    /// Run the heap verifier after every collection (default: on with the
    /// `verify` feature, or when `STRATA_VERIFY=1`).
    pub verify: bool,
    /// Run a major collection after every minor collection.
    pub major_every_minor: bool,
    /// Mark in parallel (with `HeapConfig::gc_threads` > 1) whatever the
    /// amount of work, instead of only past a few thousand waiting objects.
    pub parallel_mark_always: bool,
}

impl GcOptions {
    /// The defaults of this build and environment.
    pub fn from_env() -> GcOptions {
        GcOptions {
            verify: cfg!(feature = "verify") || env_flag("STRATA_VERIFY"),
            major_every_minor: env_flag("STRATA_GC_ZEAL"),
            parallel_mark_always: env_flag("STRATA_GC_PARALLEL_ZEAL"),
        }
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

pub(crate) struct HeapShared {
    pub config: HeapConfig,
    pub options: GcOptions,
    pub old: OldSpace,
    pub types: TypeRegistry,
    pub stats: Stats,
    pub world: World,
    /// Cells of the global roots; each `GlobalRoot` holds one, so reading
    /// it takes no lock.
    pub globals: Mutex<Vec<Arc<AtomicUsize>>>,
    /// Old-space bytes in use at which growth triggers a major collection.
    pub next_major_bytes: AtomicUsize,
    /// Unique per heap, so that handles can tell heaps apart.
    pub id: u64,
    /// Nurseries of detached threads, empty, kept for the next threads
    /// that attach (see `DESIGN.md`, "Idle nurseries").
    pub idle_nurseries: Mutex<Vec<Nursery>>,
    /// How many idle nurseries are kept: one per core, at most 8.
    pub idle_nursery_limit: usize,
}

impl HeapShared {
    /// An idle nursery, if one is kept.
    pub fn take_idle_nursery(&self) -> Option<Nursery> {
        self.idle_nurseries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
    }

    /// Keeps the empty nursery of a detaching thread for the next thread,
    /// or unmaps it when enough are kept.
    pub fn keep_idle_nursery(&self, nursery: Nursery) {
        let mut idle = self
            .idle_nurseries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.idle_nursery_limit {
            idle.push(nursery);
        }
    }

    /// Unmaps every idle nursery.
    pub fn release_idle_nurseries(&self) {
        let released = std::mem::take(
            &mut *self
                .idle_nurseries
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        drop(released);
    }
}

/// A garbage-collected heap. Clone it to share it between threads; each
/// thread that allocates calls [`Heap::attach`].
#[derive(Clone)]
pub struct Heap {
    pub(crate) shared: Arc<HeapShared>,
}

static NEXT_HEAP_ID: AtomicU64 = AtomicU64::new(1);

impl Heap {
    /// A heap with `config` and the default options of this build.
    pub fn new(config: HeapConfig) -> Result<Heap, HeapError> {
        Heap::with_options(config, GcOptions::from_env())
    }

    /// A heap with the environment's configuration (`HeapConfig::from_env`).
    pub fn from_env() -> Result<Heap, HeapError> {
        Heap::new(HeapConfig::from_env()?)
    }

    /// A heap with explicit options.
    pub fn with_options(config: HeapConfig, options: GcOptions) -> Result<Heap, HeapError> {
        config.validate()?;
        let old = OldSpace::new(&config).map_err(|e| HeapError::Io(e.to_string()))?;
        Ok(Heap {
            shared: Arc::new(HeapShared {
                next_major_bytes: AtomicUsize::new(config.min_major_bytes),
                config,
                options,
                old,
                types: TypeRegistry::default(),
                stats: Stats::default(),
                world: World::default(),
                globals: Mutex::new(Vec::new()),
                id: NEXT_HEAP_ID.fetch_add(1, Ordering::Relaxed),
                idle_nurseries: Mutex::new(Vec::new()),
                idle_nursery_limit: std::thread::available_parallelism()
                    .map_or(1, |n| n.get())
                    .min(8),
            }),
        })
    }

    /// Registers a type; objects of it can be allocated from then on.
    pub fn register_type(&self, desc: TypeDesc) -> Result<TypeId, TypeError> {
        self.shared.types.register(desc)
    }

    /// Attaches the calling thread: it gets a nursery and may allocate. A
    /// thread already attached to this heap gets
    /// [`HeapError::AlreadyAttached`] (see `DESIGN.md`, "Safepoints").
    pub fn attach(&self) -> Result<Mutator, HeapError> {
        Mutator::new(self.clone())
    }

    /// A copy of the statistics.
    pub fn stats(&self) -> GcStats {
        self.shared.stats.snapshot()
    }

    /// The configuration in force.
    pub fn config(&self) -> &HeapConfig {
        &self.shared.config
    }

    /// Bytes of old-space pages in use now.
    pub fn old_bytes_in_use(&self) -> usize {
        self.shared.old.bytes_in_use()
    }

    /// How many threads are attached.
    pub fn attached_threads(&self) -> usize {
        self.shared.world.attached()
    }

    /// This heap's unique id.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// The name type `id` was registered with, if it is registered.
    pub fn type_name(&self, id: u32) -> Option<String> {
        self.shared.types.get(id).map(|info| info.name.clone())
    }

    /// Major collections finished so far (one relaxed load, for callers
    /// that watch for a collection without taking the statistics).
    pub fn major_collections(&self) -> u64 {
        self.shared.stats.major_count()
    }
}
