//! Collector statistics: bytes allocated, counts and times of collections,
//! pause distributions and live bytes after the last major collection.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How many pauses of each kind are kept for percentiles; older ones are
/// overwritten in a ring (max and counts stay exact).
const PAUSE_SAMPLES: usize = 1 << 16;

/// A ring of pause durations.
#[derive(Default)]
struct PauseRing {
    nanos: Vec<u64>,
    next: usize,
}

impl PauseRing {
    fn record(&mut self, nanos: u64) {
        if self.nanos.len() < PAUSE_SAMPLES {
            self.nanos.push(nanos);
        } else {
            self.nanos[self.next] = nanos;
            self.next = (self.next + 1) % PAUSE_SAMPLES;
        }
    }
}

/// Live counters of one heap.
#[derive(Default)]
pub struct Stats {
    pub bytes_allocated: AtomicU64,
    minor_count: AtomicU64,
    minor_nanos: AtomicU64,
    minor_max_nanos: AtomicU64,
    major_count: AtomicU64,
    major_nanos: AtomicU64,
    major_max_nanos: AtomicU64,
    pub promoted_bytes: AtomicU64,
    pub pretenured_bytes: AtomicU64,
    pub live_bytes_after_major: AtomicU64,
    pub parallel_majors: AtomicU64,
    pub stalled_collections: AtomicU64,
    minor_pauses: Mutex<PauseRing>,
    major_pauses: Mutex<PauseRing>,
}

/// One thread's minor collections not yet added to the heap's statistics:
/// a commit runs a minor collection, so recording each one in shared
/// counters would make every commit touch shared cache lines.
#[derive(Default)]
pub struct MinorBatch {
    pub pauses: Vec<u64>,
    /// Collections not timed (small ones, sampled one in 16).
    pub untimed: u64,
    pub bytes_allocated: u64,
    pub promoted_bytes: u64,
    pub pretenured_bytes: u64,
}

/// Minor collections a thread batches before merging them.
pub const MINOR_BATCH: usize = 256;

/// Which collection a pause belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PauseKind {
    Minor,
    Major,
}

impl Stats {
    /// Records one collection's pause.
    pub fn record_pause(&self, kind: PauseKind, pause: Duration) {
        let nanos = pause.as_nanos() as u64;
        let (count, total, max, ring) = match kind {
            PauseKind::Minor => (
                &self.minor_count,
                &self.minor_nanos,
                &self.minor_max_nanos,
                &self.minor_pauses,
            ),
            PauseKind::Major => (
                &self.major_count,
                &self.major_nanos,
                &self.major_max_nanos,
                &self.major_pauses,
            ),
        };
        count.fetch_add(1, Ordering::Relaxed);
        total.fetch_add(nanos, Ordering::Relaxed);
        max.fetch_max(nanos, Ordering::Relaxed);
        ring.lock().unwrap_or_else(|e| e.into_inner()).record(nanos);
    }

    /// Adds a thread's batch of minor collections.
    pub fn merge_minor(&self, batch: &mut MinorBatch) {
        if batch.pauses.is_empty()
            && batch.untimed == 0
            && batch.bytes_allocated == 0
            && batch.pretenured_bytes == 0
        {
            return;
        }
        self.bytes_allocated
            .fetch_add(batch.bytes_allocated, Ordering::Relaxed);
        self.promoted_bytes
            .fetch_add(batch.promoted_bytes, Ordering::Relaxed);
        self.pretenured_bytes
            .fetch_add(batch.pretenured_bytes, Ordering::Relaxed);
        self.minor_count
            .fetch_add(batch.pauses.len() as u64 + batch.untimed, Ordering::Relaxed);
        self.minor_nanos
            .fetch_add(batch.pauses.iter().sum::<u64>(), Ordering::Relaxed);
        let max = batch.pauses.iter().copied().max().unwrap_or(0);
        self.minor_max_nanos.fetch_max(max, Ordering::Relaxed);
        let mut ring = self.minor_pauses.lock().unwrap_or_else(|e| e.into_inner());
        for &nanos in &batch.pauses {
            ring.record(nanos);
        }
        batch.pauses.clear();
        batch.untimed = 0;
        batch.bytes_allocated = 0;
        batch.promoted_bytes = 0;
        batch.pretenured_bytes = 0;
    }

    /// Major collections recorded so far.
    pub fn major_count(&self) -> u64 {
        self.major_count.load(Ordering::Relaxed)
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> GcStats {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let pauses = |ring: &Mutex<PauseRing>| {
            let mut nanos = ring.lock().unwrap_or_else(|e| e.into_inner()).nanos.clone();
            nanos.sort_unstable();
            nanos
        };
        GcStats {
            bytes_allocated: load(&self.bytes_allocated),
            promoted_bytes: load(&self.promoted_bytes),
            pretenured_bytes: load(&self.pretenured_bytes),
            minor_collections: load(&self.minor_count),
            minor_time: Duration::from_nanos(load(&self.minor_nanos)),
            minor_pause_max: Duration::from_nanos(load(&self.minor_max_nanos)),
            major_collections: load(&self.major_count),
            major_time: Duration::from_nanos(load(&self.major_nanos)),
            major_pause_max: Duration::from_nanos(load(&self.major_max_nanos)),
            parallel_majors: load(&self.parallel_majors),
            live_bytes_after_major: load(&self.live_bytes_after_major),
            stalled_collections: load(&self.stalled_collections),
            minor_pauses_sorted_nanos: pauses(&self.minor_pauses),
            major_pauses_sorted_nanos: pauses(&self.major_pauses),
        }
    }
}

/// A copy of a heap's statistics.
#[derive(Debug, Clone, Default)]
pub struct GcStats {
    /// Bytes handed out by allocation (nursery and direct old-space).
    pub bytes_allocated: u64,
    /// Bytes copied from nurseries into the old space.
    pub promoted_bytes: u64,
    /// Bytes allocated straight in the old space because the thread was
    /// pretenuring (see `DESIGN.md`, "Pretenuring"); included in
    /// `bytes_allocated`.
    pub pretenured_bytes: u64,
    pub minor_collections: u64,
    /// Total time of the timed minor collections (collections of at most
    /// 16 KiB of nursery are timed one in 16; all are counted).
    pub minor_time: Duration,
    pub minor_pause_max: Duration,
    pub major_collections: u64,
    pub major_time: Duration,
    pub major_pause_max: Duration,
    /// Major collections whose marking went parallel (see `DESIGN.md`,
    /// "Parallel marking").
    pub parallel_majors: u64,
    /// Bytes of old-space slots and large objects alive after the last major
    /// collection.
    pub live_bytes_after_major: u64,
    /// Major collections that waited longer than `HeapConfig::stall_warning`
    /// for the other threads to stop (see `DESIGN.md`, "Safepoints").
    pub stalled_collections: u64,
    /// The most recent minor pauses (up to 65,536), sorted ascending.
    pub minor_pauses_sorted_nanos: Vec<u64>,
    /// The most recent major pauses, sorted ascending.
    pub major_pauses_sorted_nanos: Vec<u64>,
}

impl GcStats {
    /// The `p`-th percentile (0..=100) of the kept pauses of `kind`.
    pub fn pause_percentile(&self, kind: PauseKind, p: f64) -> Option<Duration> {
        let sorted = match kind {
            PauseKind::Minor => &self.minor_pauses_sorted_nanos,
            PauseKind::Major => &self.major_pauses_sorted_nanos,
        };
        if sorted.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        Some(Duration::from_nanos(sorted[rank.min(sorted.len() - 1)]))
    }

    /// A histogram of all kept pauses (both kinds): counts per power-of-two
    /// bucket of microseconds, `buckets[i]` counting pauses in `[2^i, 2^(i+1))` µs
    /// (bucket 0 also holds pauses under 1 µs).
    pub fn pause_histogram(&self) -> Vec<u64> {
        let mut buckets = vec![0u64; 32];
        for &nanos in self
            .minor_pauses_sorted_nanos
            .iter()
            .chain(&self.major_pauses_sorted_nanos)
        {
            let micros = (nanos / 1000).max(1);
            buckets[(63 - micros.leading_zeros()) as usize] += 1;
        }
        while buckets.len() > 1 && buckets.last() == Some(&0) {
            buckets.pop();
        }
        buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_histogram() {
        let stats = Stats::default();
        for micros in 1..=100u64 {
            stats.record_pause(PauseKind::Minor, Duration::from_micros(micros));
        }
        stats.record_pause(PauseKind::Major, Duration::from_millis(3));
        let snap = stats.snapshot();
        assert_eq!(snap.minor_collections, 100);
        assert_eq!(snap.major_collections, 1);
        assert_eq!(snap.minor_pause_max, Duration::from_micros(100));
        assert_eq!(
            snap.pause_percentile(PauseKind::Minor, 99.0),
            Some(Duration::from_micros(99))
        );
        let hist = snap.pause_histogram();
        assert_eq!(hist.iter().sum::<u64>(), 101);
        assert_eq!(hist[0], 1);
        assert_eq!(hist[11], 1);
    }
}
