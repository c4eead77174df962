/* Heaps and threads as a host uses them: versions, create and destroy,
 * attach and detach, safepoints and collections, blocking sections around
 * a join, threads that exit attached, registration while others collect. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

/* The library checks the same size (ffi/src/header_check.rs). */
_Static_assert(sizeof(strata_stats) == 176, "strata_stats layout");

static void versions(void) {
    CHECK(strata_version() == STRATA_VERSION);
    CHECK(strata_abi_version() == STRATA_ABI_VERSION);
    CHECK(strata_last_error() != NULL);
}

static void create_attach_collect_destroy(void) {
    strata_heap *heap = small_heap();
    strata_stats fresh;
    EXPECT_OK(strata_heap_stats(heap, &fresh));
    CHECK(fresh.major_collections == 0 && fresh.commits == 0 && fresh.aborts == 0);
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    CHECK(thread != NULL);
    EXPECT_OK(strata_thread_safepoint(thread));
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
    strata_stats after;
    EXPECT_OK(strata_heap_stats(heap, &after));
    CHECK(after.major_collections == 1);
    CHECK(after.major_pause_max_nanos > 0 && after.major_nanos >= after.major_pause_max_nanos);
    /* Nothing was allocated: nothing was promoted. */
    CHECK(after.promoted_bytes == 0);
    /* Attaching again after detaching is allowed. */
    for (int i = 0; i < 3; i++) {
        EXPECT_OK(strata_thread_attach(heap, &thread));
        EXPECT_OK(strata_thread_collect_major(thread));
        EXPECT_OK(strata_thread_detach(thread));
    }
    EXPECT_OK(strata_heap_destroy(heap));
}

static void two_heaps_on_one_thread(void) {
    strata_heap *first = small_heap();
    strata_heap *second = small_heap();
    strata_thread *on_first = NULL;
    strata_thread *on_second = NULL;
    EXPECT_OK(strata_thread_attach(first, &on_first));
    EXPECT_OK(strata_thread_attach(second, &on_second));
    CHECK(on_first != on_second);
    EXPECT_OK(strata_thread_collect_major(on_second));
    EXPECT_OK(strata_thread_collect_major(on_first));
    EXPECT_OK(strata_thread_detach(on_first));
    EXPECT_OK(strata_thread_detach(on_second));
    EXPECT_OK(strata_heap_destroy(second));
    EXPECT_OK(strata_heap_destroy(first));
}

static void *attach_collect_detach(void *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach((strata_heap *)heap, &thread));
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

/* A join is a wait: inside a blocking section, the worker's major
 * collection does not wait for the joining thread. */
static void join_in_a_blocking_section(void) {
    strata_heap *heap = small_heap();
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    pthread_t workers[4];
    EXPECT_OK(strata_thread_enter_blocking(thread));
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&workers[i], NULL, attach_collect_detach, heap) == 0);
    }
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(workers[i], NULL) == 0);
    }
    EXPECT_OK(strata_thread_leave_blocking(thread));
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(heap));
}

static void *attach_and_exit(void *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach((strata_heap *)heap, &thread));
    return NULL;
}

static void *attach_block_and_exit(void *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach((strata_heap *)heap, &thread));
    EXPECT_OK(strata_thread_enter_blocking(thread));
    return NULL;
}

/* Threads that exit attached (one of them blocked) are detached at exit:
 * a later major collection does not wait for them (the test driver's
 * timeout catches a hang), and the heap can be destroyed. */
static void threads_that_exit_attached(void) {
    strata_heap *heap = small_heap();
    void *(*bodies[2])(void *) = {attach_and_exit, attach_block_and_exit};
    for (int i = 0; i < 2; i++) {
        pthread_t worker;
        CHECK(pthread_create(&worker, NULL, bodies[i], heap) == 0);
        CHECK(pthread_join(worker, NULL) == 0);
    }
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(heap));
}

enum { REGISTERED = 200 };

struct registration {
    strata_heap *heap;
    strata_type_id ids[REGISTERED];
};

static void *register_many(void *arg) {
    struct registration *r = (struct registration *)arg;
    for (int i = 0; i < REGISTERED; i++) {
        uint32_t offsets[1] = {0};
        strata_type_desc desc = fixed_type("pair", 16, offsets, 1);
        EXPECT_OK(strata_register_type(r->heap, &desc, &r->ids[i]));
    }
    return NULL;
}

/* A thread that is not attached registers types while an attached one runs
 * major collections. */
static void registration_while_collecting(void) {
    struct registration r;
    r.heap = small_heap();
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(r.heap, &thread));
    pthread_t worker;
    CHECK(pthread_create(&worker, NULL, register_many, &r) == 0);
    for (int i = 0; i < 20; i++) {
        EXPECT_OK(strata_thread_collect_major(thread));
    }
    EXPECT_OK(strata_thread_enter_blocking(thread));
    CHECK(pthread_join(worker, NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    for (int i = 0; i < REGISTERED; i++) {
        CHECK(r.ids[i] != 0);
        CHECK(i == 0 || r.ids[i] > r.ids[i - 1]);
    }
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(r.heap));
}

int main(void) {
    versions();
    create_attach_collect_destroy();
    two_heaps_on_one_thread();
    join_in_a_blocking_section();
    threads_that_exit_attached();
    registration_while_collecting();
    puts("lifecycle: ok");
    return 0;
}
