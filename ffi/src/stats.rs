//! `strata_stats`: a heap's statistics as a C struct, from
//! `strata::Heap::gc_stats`, `tx_counts` and `abort_counts`.

use crate::heap::{heap_of, strata_heap};
use crate::status::{boundary, non_null, Status};
use std::time::Duration;
use strata_rs::{AbortCounts, GcStats, PauseKind};

/// `strata_stats`: see the header for each field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct strata_stats {
    pub commits: u64,
    pub aborts: u64,
    pub aborts_write_write: u64,
    pub aborts_validation: u64,
    pub aborts_doomed: u64,
    pub aborts_inevitable: u64,
    pub aborts_out_of_memory: u64,
    pub aborts_panic: u64,
    pub aborts_requested: u64,
    pub bytes_allocated: u64,
    pub promoted_bytes: u64,
    pub pretenured_bytes: u64,
    pub live_bytes_after_major: u64,
    pub minor_collections: u64,
    pub minor_nanos: u64,
    pub minor_pause_max_nanos: u64,
    pub minor_pause_p99_nanos: u64,
    pub major_collections: u64,
    pub major_nanos: u64,
    pub major_pause_max_nanos: u64,
    pub parallel_majors: u64,
    pub stalled_collections: u64,
}

fn nanos(duration: Duration) -> u64 {
    duration.as_nanos().min(u64::MAX as u128) as u64
}

impl strata_stats {
    fn new(gc: &GcStats, commits: u64, aborts: &AbortCounts) -> strata_stats {
        strata_stats {
            commits,
            aborts: aborts.total(),
            aborts_write_write: aborts.write_write,
            aborts_validation: aborts.validation,
            aborts_doomed: aborts.doomed,
            aborts_inevitable: aborts.inevitable,
            aborts_out_of_memory: aborts.out_of_memory,
            aborts_panic: aborts.panic,
            aborts_requested: aborts.requested,
            bytes_allocated: gc.bytes_allocated,
            promoted_bytes: gc.promoted_bytes,
            pretenured_bytes: gc.pretenured_bytes,
            live_bytes_after_major: gc.live_bytes_after_major,
            minor_collections: gc.minor_collections,
            minor_nanos: nanos(gc.minor_time),
            minor_pause_max_nanos: nanos(gc.minor_pause_max),
            minor_pause_p99_nanos: gc.pause_percentile(PauseKind::Minor, 99.0).map_or(0, nanos),
            major_collections: gc.major_collections,
            major_nanos: nanos(gc.major_time),
            major_pause_max_nanos: nanos(gc.major_pause_max),
            parallel_majors: gc.parallel_majors,
            stalled_collections: gc.stalled_collections,
        }
    }
}

/// `strata_heap_stats`: see the header.
///
/// # Safety
/// `stats_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn strata_heap_stats(
    heap: *mut strata_heap,
    stats_out: *mut strata_stats,
) -> Status {
    boundary("strata_heap_stats", || {
        let heap = heap_of(heap)?;
        non_null(stats_out, "stats_out")?;
        let stats = strata_stats::new(&heap.gc_stats(), heap.tx_counts().0, &heap.abort_counts());
        // SAFETY: not NULL, and writable by the caller's promise.
        unsafe { stats_out.write(stats) };
        Ok(())
    })
}
