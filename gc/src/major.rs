//! Major collection: stop the world at safepoints, mark from every thread's
//! published roots and the global roots (trimming version chains to the
//! horizon on the way), sweep the old space, resume (see `DESIGN.md`). And
//! its trigger: each collection sets the old-space size at which growth
//! starts the next one ([`Mutator::collect_major_if_grown`]).

use crate::heap::HeapShared;
use crate::mutator::Mutator;
use crate::safepoint::{self, MutatorShared, NO_SNAPSHOT};
use crate::stats::PauseKind;
use crate::versions;
use crate::work_pool::WorkPool;
use crate::Address;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use strata_heap::header::{self, VERSION};
use strata_heap::{lookup_type, TypeInfo};

impl Mutator {
    /// Runs a major collection with the horizon taken from the running
    /// transactions' snapshots. If another thread is already collecting,
    /// this thread takes part in that collection instead.
    ///
    /// Every page the collection empties is given back to the OS: a caller
    /// that asks for a collection (or the heap limit that forces one) wants
    /// the memory back.
    pub fn collect_major(&mut self) {
        self.major_collection(None, Retain::Nothing);
    }

    /// The major collection that old-space growth triggers: it keeps up to
    /// the next cycle's growth allowance of emptied pages committed, for
    /// the allocations of that cycle (see `DESIGN.md`, "Page retention").
    fn collect_major_triggered(&mut self) {
        self.major_collection(None, Retain::Allowance);
    }

    /// Starts a major collection if the old space has grown past its
    /// trigger (or the heap is zealous and a minor collection ran since the
    /// last check).
    #[inline]
    pub fn collect_major_if_grown(&mut self) {
        let shared = &self.heap.shared;
        let zeal = shared.options.major_every_minor && self.nursery_used_bytes() == 0;
        if zeal || shared.old.bytes_in_use() >= shared.next_major_bytes.load(Ordering::Relaxed) {
            self.collect_major_triggered();
        }
    }

    /// Runs a major collection that keeps the versions visible to snapshots
    /// at or after `horizon` (for tests of version reclamation).
    ///
    /// # Safety
    /// No thread reads, after the collection, a version that only snapshots
    /// below `horizon` see: the collection frees those versions.
    pub unsafe fn collect_major_with_horizon(&mut self, horizon: u64) {
        self.major_collection(Some(horizon), Retain::Nothing);
    }

    fn major_collection(&mut self, horizon: Option<u64>, retain: Retain) {
        self.minor_collection();
        self.flush_stats();
        self.drop_runs();
        self.publish_roots();
        let heap = self.heap.shared.clone();
        let start = Instant::now();
        let waiting = heap
            .world
            .stop_the_world(&self.shared, heap.config.stall_warning, |slots| {
                heap.stats
                    .stalled_collections
                    .fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "strata: a major collection has waited {:?} for thread slots {slots:?} to \
                 reach a safepoint; a thread that waits (join, sleep, channel, I/O) while \
                 attached must wait inside `blocking`",
                    start.elapsed()
                );
            });
        let Some(mutators) = waiting else {
            heap.world.park(&self.shared);
            return;
        };
        let horizon = horizon.unwrap_or_else(|| oldest_snapshot(&mutators));
        let types = heap.types.snapshot();
        // SAFETY: the world is stopped: every other thread is parked or
        // blocked with its roots published and its nursery empty.
        let live = unsafe { mark_and_sweep(&heap, &types, &mutators, horizon) };
        heap.stats
            .live_bytes_after_major
            .store(live as u64, Ordering::Relaxed);
        let in_use = heap.old.bytes_in_use();
        let next = ((in_use as f64) * heap.config.growth_factor) as usize;
        let next = next.max(heap.config.min_major_bytes);
        heap.next_major_bytes.store(next, Ordering::Relaxed);
        heap.old.trim_retained(match retain {
            Retain::Nothing => 0,
            Retain::Allowance => next.saturating_sub(in_use) / strata_heap::PAGE_BYTES,
        });
        if let Retain::Nothing = retain {
            heap.release_idle_nurseries();
        }
        if heap.options.verify {
            // SAFETY: the world is still stopped.
            if let Err(problem) = unsafe { crate::verify::verify_heap(&heap, &types) } {
                corrupt(format_args!(
                    "heap verifier after a major collection: {problem}"
                ));
            }
        }
        heap.stats.record_pause(PauseKind::Major, start.elapsed());
        heap.world.resume();
    }
}

/// What a major collection keeps of the pages it empties.
#[derive(Clone, Copy)]
enum Retain {
    Nothing,
    Allowance,
}

fn oldest_snapshot(mutators: &[Arc<MutatorShared>]) -> u64 {
    mutators
        .iter()
        .map(|m| m.snapshot.load(Ordering::Relaxed))
        .min()
        .unwrap_or(NO_SNAPSHOT)
}

/// Marks everything reachable, trims version chains, sweeps; returns the
/// live bytes.
///
/// # Safety
/// The world is stopped and the caller is the collector.
unsafe fn mark_and_sweep(
    heap: &HeapShared,
    types: &[Arc<TypeInfo>],
    mutators: &[Arc<MutatorShared>],
    horizon: u64,
) -> usize {
    let mut marker = Marker::new(heap, types);
    for m in mutators {
        for root in safepoint::published(m) {
            marker.mark(root);
        }
    }
    let globals: Vec<Address> = heap
        .globals
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|cell| Address::from_usize(cell.load(Ordering::Acquire)))
        .collect();
    for root in globals {
        marker.mark(root);
    }
    let threads = heap.config.marking_threads();
    let switch = match threads {
        1 => Switch::NEVER,
        _ if heap.options.parallel_mark_always => Switch {
            stack: 1,
            scanned: 0,
        },
        _ => Switch {
            stack: PARALLEL_FROM,
            scanned: PARALLEL_AFTER_SCANNED,
        },
    };
    if marker.drain(horizon, None, switch) {
        heap.stats.parallel_majors.fetch_add(1, Ordering::Relaxed);
        // Much is left to mark: share it among `threads` markers.
        let pool = WorkPool::new(threads);
        while marker.stack.len() > CHUNK {
            let rest = marker.stack.split_off(marker.stack.len() - CHUNK);
            pool.give(rest);
        }
        pool.give(std::mem::take(&mut marker.stack));
        std::thread::scope(|s| {
            for _ in 1..threads {
                let spawned = std::thread::Builder::new()
                    .name("strata-marker".into())
                    .spawn_scoped(s, || Marker::new(heap, types).run(horizon, &pool));
                if spawned.is_err() {
                    // No thread to be had: mark with fewer.
                    pool.retire();
                }
            }
            marker.run(horizon, &pool);
        });
    }
    // SAFETY: the world is stopped and every live object is marked.
    unsafe { heap.old.sweep(heap.options.verify) }
}

/// Reports a corrupt heap found while the world is stopped and aborts: a
/// panic would leave the other threads parked forever (a hang rather than
/// a failure), and resuming them on a corrupt heap is worse.
#[cold]
fn corrupt(what: std::fmt::Arguments<'_>) -> ! {
    eprintln!("strata: heap corruption found by a major collection: {what}");
    std::process::abort()
}

/// Objects waiting to be scanned when this many are on the mark stack: the
/// collection goes parallel (spawning markers costs tens of microseconds).
const PARALLEL_FROM: usize = 8192;

/// Objects scanned by one marker after which the collection goes parallel if
/// at least two objects wait (a deep structure keeps a short stack): about a
/// millisecond of marking, against tens of microseconds to spawn markers.
const PARALLEL_AFTER_SCANNED: usize = 65_536;

/// When a single marker hands its work to parallel markers: once its stack
/// holds `stack` objects, or once it has scanned `scanned` objects with at
/// least two on its stack.
#[derive(Clone, Copy)]
struct Switch {
    stack: usize,
    scanned: usize,
}

impl Switch {
    /// Marking stays with one marker.
    const NEVER: Switch = Switch {
        stack: usize::MAX,
        scanned: usize::MAX,
    };
}

/// Objects handed between markers at a time.
const CHUNK: usize = 512;

/// How many popped objects are in flight (prefetched) before their scan.
const PREFETCH_DISTANCE: usize = 16;

struct Marker<'a> {
    heap: &'a HeapShared,
    types: &'a [Arc<TypeInfo>],
    stack: Vec<Address>,
    kept: Vec<Address>,
}

impl<'a> Marker<'a> {
    fn new(heap: &'a HeapShared, types: &'a [Arc<TypeInfo>]) -> Self {
        Marker {
            heap,
            types,
            stack: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// One marker of a parallel collection: scans chunks from the pool
    /// until the marking is complete.
    fn run(mut self, horizon: u64, pool: &WorkPool<Address>) {
        /// Retires a marker that panics (heap corruption), so that the others
        /// end instead of waiting for it; the panic reaches the collector
        /// when the scope joins.
        struct Retire<'p>(&'p WorkPool<Address>);
        impl Drop for Retire<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.retire();
                }
            }
        }
        let _retire = Retire(pool);
        while let Some(chunk) = pool.take() {
            self.stack.extend(chunk);
            self.drain(horizon, Some(pool), Switch::NEVER);
        }
    }

    fn mark(&mut self, obj: Address) {
        if obj.is_null() {
            return;
        }
        // SAFETY: the world is stopped and we are the collector.
        match unsafe { self.heap.old.mark(obj) } {
            Some(true) => self.stack.push(obj),
            Some(false) => {}
            None => corrupt(format_args!("reference {obj:?} is not an old-space object")),
        }
    }

    /// Scans marked objects until none is left. Objects leave the mark
    /// stack through a small FIFO, prefetched in two steps: the header when
    /// an object enters it, the head of its version chain (known once the
    /// header has arrived) half way through. Live objects are scattered, and
    /// an anchor's scan reads its newest record at once (trimming), so both
    /// misses overlap the scans before it.
    ///
    /// With a `pool`, the bottom half of the stack is handed to a waiting
    /// marker whenever this one has two objects or more. Returns true, with
    /// the unscanned objects back on the stack, when `switch` says the
    /// marking should go parallel.
    fn drain(&mut self, horizon: u64, pool: Option<&WorkPool<Address>>, switch: Switch) -> bool {
        let mut ring = [Address::NULL; PREFETCH_DISTANCE];
        let (mut head, mut len) = (0usize, 0usize);
        let mut scanned = 0usize;
        loop {
            let waiting = self.stack.len() + len;
            if self.stack.len() >= switch.stack || (scanned >= switch.scanned && waiting >= 2) {
                self.stack
                    .extend((0..len).map(|i| ring[(head + i) % PREFETCH_DISTANCE]));
                return true;
            }
            if let Some(pool) = pool {
                if self.stack.len() >= 2 && pool.hungry() {
                    // The bottom of the stack: the oldest, widest work.
                    let give = (self.stack.len() / 2).min(CHUNK);
                    let chunk: Vec<Address> = self.stack.drain(..give).collect();
                    pool.give(chunk);
                }
            }
            while len < PREFETCH_DISTANCE {
                let Some(obj) = self.stack.pop() else { break };
                obj.prefetch();
                ring[(head + len) % PREFETCH_DISTANCE] = obj;
                len += 1;
            }
            if len == 0 {
                return false;
            }
            let obj = ring[head];
            head = (head + 1) % PREFETCH_DISTANCE;
            len -= 1;
            if len > PREFETCH_DISTANCE / 2 {
                let ahead = ring[(head + PREFETCH_DISTANCE / 2) % PREFETCH_DISTANCE];
                // SAFETY: a marked object's header is readable; the world is
                // stopped.
                unsafe { header::prefetch_linked(ahead) };
            }
            self.scan(obj, horizon);
            scanned += 1;
        }
    }

    /// Trims `obj`'s version chain if it is an anchor, and marks what it
    /// references.
    fn scan(&mut self, obj: Address, horizon: u64) {
        let types = self.types;
        // SAFETY: marked objects are live old objects of registered types.
        let id = unsafe { header::type_id(obj) };
        let info: &TypeInfo = match lookup_type(types, id) {
            Some(info) => info,
            None => corrupt(format_args!("{obj:?} has unregistered type id {id}")),
        };
        // SAFETY: as above; the world is stopped.
        let is_anchor = unsafe {
            !header::has_flag(obj, VERSION) && header::link(obj).load(Ordering::Relaxed) != 0
        };
        if is_anchor {
            let mut kept = std::mem::take(&mut self.kept);
            // SAFETY: the world is stopped; `obj` is a live anchor.
            unsafe { versions::trim(obj, info, horizon, &mut kept) };
            for &record in &kept {
                // Records are marked here and traced when popped (they
                // carry VERSION, so they are not trimmed again).
                self.mark(record);
            }
            self.kept = kept;
        }
        if info.has_refs() {
            // SAFETY: the world is stopped; `obj` is live.
            unsafe {
                info.for_each_ref(obj, |slot| self.mark(Address::from_usize(*slot)));
            }
        }
    }
}
