/* What the strata-c workloads (strata_bank.c, strata_trees.c) share: a heap
 * configured as the Rust rows' Heap::from_env is, and the counters a run
 * reports, mirrored by StrataCounts in src/ffi.rs. */
#ifndef STRATA_BENCH_C_H
#define STRATA_BENCH_C_H

#include <stdint.h>

#include "strata.h"

/* Returns the status of a call that failed, from the function that made it. */
#define TRY(call)                                                                  \
    do {                                                                           \
        strata_status try_status_ = (call);                                        \
        if (try_status_ != STRATA_OK) return try_status_;                          \
    } while (0)

/* A heap's counters, as the benchmark's result reports them. */
typedef struct strata_c_counts {
    uint64_t commits;
    uint64_t aborts;
    uint64_t minor_collections;
    uint64_t major_collections;
    uint64_t minor_nanos;
    uint64_t major_nanos;
    uint64_t pause_max_nanos;
    uint64_t minor_pause_p99_nanos;
    uint64_t live_bytes_after_major;
} strata_c_counts;

/* Makes a heap with the defaults and the environment's overrides. */
strata_status strata_c_heap_new(strata_heap **heap_out);

/* Reads the heap's counters (after every thread has detached, so that they
 * are complete) and destroys the heap. */
strata_status strata_c_heap_finish(strata_heap *heap, strata_c_counts *counts);

#endif
