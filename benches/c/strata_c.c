/* The heap set-up and counters the strata-c workloads share (strata_c.h). */
#include "strata_c.h"

strata_status strata_c_heap_new(strata_heap **heap_out) {
    strata_config config;
    TRY(strata_config_init(&config));
    return strata_heap_create(&config, heap_out);
}

strata_status strata_c_heap_finish(strata_heap *heap, strata_c_counts *counts) {
    strata_stats stats;
    TRY(strata_heap_stats(heap, &stats));
    counts->commits = stats.commits;
    counts->aborts = stats.aborts;
    counts->minor_collections = stats.minor_collections;
    counts->major_collections = stats.major_collections;
    counts->minor_nanos = stats.minor_nanos;
    counts->major_nanos = stats.major_nanos;
    counts->pause_max_nanos = stats.minor_pause_max_nanos > stats.major_pause_max_nanos
                                  ? stats.minor_pause_max_nanos
                                  : stats.major_pause_max_nanos;
    counts->minor_pause_p99_nanos = stats.minor_pause_p99_nanos;
    counts->live_bytes_after_major = stats.live_bytes_after_major;
    return strata_heap_destroy(heap);
}
