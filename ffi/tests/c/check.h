/* Checks shared by the C tests: a failed check prints where, what, and the
 * last error, and ends the program with status 1. */
#ifndef STRATA_TEST_CHECK_H
#define STRATA_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

static inline void check_failed(const char *what, const char *file, int line) {
    fprintf(stderr, "%s:%d: check failed: %s (last error: \"%s\")\n", file, line, what,
            strata_last_error());
    exit(1);
}

/* The call returns the status `want`; a failure also leaves a message. */
static inline void expect_status(strata_status got, strata_status want, const char *call,
                                 const char *file, int line) {
    if (got != want) {
        fprintf(stderr, "%s:%d: %s returned %d, expected %d (last error: \"%s\")\n", file,
                line, call, (int)got, (int)want, strata_last_error());
        exit(1);
    }
    if (want != STRATA_OK && strata_last_error()[0] == '\0') {
        check_failed("a failing call leaves a message", file, line);
    }
}

#define CHECK(condition) \
    ((condition) ? (void)0 : check_failed(#condition, __FILE__, __LINE__))
#define EXPECT(call, want) expect_status((call), (want), #call, __FILE__, __LINE__)
#define EXPECT_OK(call) EXPECT(call, STRATA_OK)
/* The last error names the function that failed. */
#define CHECK_LAST_ERROR_NAMES(function) CHECK(strstr(strata_last_error(), function) != NULL)

/* A binary tree node, whose type the tests register with a trace
 * callback. */
struct node {
    void *left;
    void *right;
    long value;
};

static inline void trace_node(void *body, strata_visit_fn visit, void *ctx) {
    struct node *node = (struct node *)body;
    visit(&node->left, ctx);
    visit(&node->right, ctx);
}

/* A fixed-size type of body_bytes with reference slots at offsets. */
static inline strata_type_desc fixed_type(const char *name, size_t body_bytes,
                                          const uint32_t *offsets, size_t offset_count) {
    strata_type_desc desc = {0};
    desc.name = name;
    desc.layout = STRATA_LAYOUT_FIXED;
    desc.body_bytes = body_bytes;
    desc.ref_offsets = offsets;
    desc.ref_offset_count = offset_count;
    return desc;
}

/* Runs one transaction of block(thread, arg) until it commits: a block
 * may fail only with STRATA_ABORTED (then it runs again). */
static inline void run_until_committed(strata_thread *thread,
                                       strata_status (*block)(strata_thread *, uint64_t),
                                       uint64_t arg) {
    for (;;) {
        EXPECT_OK(strata_tx_begin(thread));
        strata_status status = block(thread, arg);
        if (status != STRATA_OK && status != STRATA_ABORTED) EXPECT_OK(status);
        status = strata_tx_commit(thread);
        if (status == STRATA_OK) return;
        EXPECT(status, STRATA_ABORTED);
    }
}

/* A heap of the given nursery and limit, without huge pages. */
static inline strata_heap *heap_of(size_t nursery_bytes, size_t max_heap_bytes) {
    strata_config config;
    EXPECT_OK(strata_config_init(&config));
    config.nursery_bytes = nursery_bytes;
    config.max_heap_bytes = max_heap_bytes;
    config.huge_pages = false;
    strata_heap *heap = NULL;
    EXPECT_OK(strata_heap_create(&config, &heap));
    CHECK(heap != NULL);
    return heap;
}

/* A small heap, so that tests start fast and collect often. */
static inline strata_heap *small_heap(void) { return heap_of(64 << 10, 64 << 20); }

#endif
