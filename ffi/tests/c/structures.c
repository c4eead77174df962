/* The conflict-free structures from C: a counter that 8 threads add to
 * with no abort and no lost add; a map that 4 threads fill with keys of
 * their own, checked key by key; a queue from a producer to a consumer
 * that waits in strata_queue_take_timeout, in order and whole; a take
 * that times out; and the refusals (NULLs, freed or other heaps'
 * structures, calls inside or outside a transaction as documented). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

enum { ADDERS = 8, ADDS = 2000, FILLERS = 4, KEYS = 3000, ITEMS = 5000 };

static strata_heap *heap;
static strata_counter *counter;
static strata_map *map;
static strata_queue *queue;

static strata_status add_one(strata_thread *thread, uint64_t arg) {
    (void)arg;
    return strata_counter_add(thread, counter, 1);
}

static void *adder(void *arg) {
    (void)arg;
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    for (int i = 0; i < ADDS; i++) run_until_committed(thread, add_one, 0);
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static strata_status insert_key(strata_thread *thread, uint64_t key) {
    return strata_map_insert(thread, map, key, key * 3, NULL, NULL);
}

static void *filler(void *arg) {
    long first = (long)(intptr_t)arg * KEYS;
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    for (long k = first; k < first + KEYS; k++) run_until_committed(thread, insert_key, (uint64_t)k);
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static void *producer(void *arg) {
    (void)arg;
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    for (uint64_t i = 1; i <= ITEMS;) {
        EXPECT_OK(strata_tx_begin(thread));
        bool put = false;
        strata_status status = strata_queue_put(thread, queue, i, &put);
        if (status != STRATA_ABORTED) EXPECT_OK(status);
        status = strata_tx_commit(thread);
        if (status == STRATA_OK && put) i++;
        else if (status != STRATA_OK) EXPECT(status, STRATA_ABORTED);
        else EXPECT_OK(strata_thread_safepoint(thread)); /* full: let the consumer run */
    }
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static pthread_t spawn(void *(*body)(void *), void *arg) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, body, arg) == 0);
    return t;
}

static void counter_never_conflicts(strata_thread *main_thread) {
    EXPECT_OK(strata_counter_new(main_thread, &counter));
    strata_stats before, after;
    EXPECT_OK(strata_heap_stats(heap, &before));
    EXPECT_OK(strata_thread_enter_blocking(main_thread));
    pthread_t threads[ADDERS];
    for (int i = 0; i < ADDERS; i++) threads[i] = spawn(adder, NULL);
    for (int i = 0; i < ADDERS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(main_thread));
    EXPECT_OK(strata_heap_stats(heap, &after));
    CHECK(after.commits - before.commits == ADDERS * ADDS);
    CHECK(after.aborts_write_write == before.aborts_write_write);
    CHECK(after.aborts_validation == before.aborts_validation);
    EXPECT_OK(strata_tx_begin(main_thread));
    int64_t value = 0;
    EXPECT_OK(strata_counter_get(main_thread, counter, &value));
    EXPECT_OK(strata_tx_commit(main_thread));
    CHECK(value == ADDERS * ADDS);
}

static void map_holds_every_key(strata_thread *main_thread) {
    EXPECT_OK(strata_map_new(main_thread, FILLERS * KEYS, &map));
    EXPECT_OK(strata_thread_enter_blocking(main_thread));
    pthread_t threads[FILLERS];
    for (intptr_t i = 0; i < FILLERS; i++) threads[i] = spawn(filler, (void *)i);
    for (int i = 0; i < FILLERS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(main_thread));
    EXPECT_OK(strata_tx_begin(main_thread));
    size_t len = 0;
    EXPECT_OK(strata_map_len(main_thread, map, &len));
    CHECK(len == FILLERS * KEYS);
    for (uint64_t k = 0; k < FILLERS * KEYS; k++) {
        uint64_t value = 0;
        bool found = false;
        EXPECT_OK(strata_map_get(main_thread, map, k, &value, &found));
        CHECK(found && value == k * 3);
    }
    bool found = true;
    EXPECT_OK(strata_map_get(main_thread, map, FILLERS * KEYS, NULL, &found));
    CHECK(!found);
    uint64_t previous = 0;
    bool had = false;
    EXPECT_OK(strata_map_insert(main_thread, map, 7, 70, &previous, &had));
    CHECK(had && previous == 21);
    EXPECT_OK(strata_map_remove(main_thread, map, 7, &previous, &had));
    CHECK(had && previous == 70);
    EXPECT_OK(strata_map_remove(main_thread, map, 7, &previous, &had));
    CHECK(!had);
    EXPECT_OK(strata_map_len(main_thread, map, &len));
    CHECK(len == FILLERS * KEYS - 1);
    EXPECT_OK(strata_tx_commit(main_thread));
}

static void queue_passes_everything_in_order(strata_thread *main_thread) {
    EXPECT_OK(strata_queue_new(main_thread, 64, &queue));
    pthread_t t = spawn(producer, NULL);
    for (uint64_t want = 1; want <= ITEMS; want++) {
        uint64_t value = 0;
        bool took = false;
        /* A producer that is slow to start must not fail the test: wait
         * long, the producer's commits wake the wait. */
        EXPECT_OK(strata_queue_take_timeout(main_thread, queue, 10ull * 1000 * 1000 * 1000,
                                            &value, &took));
        CHECK(took && value == want);
    }
    EXPECT_OK(strata_thread_enter_blocking(main_thread));
    CHECK(pthread_join(t, NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(main_thread));
    /* Empty now: a take returns nothing, a timed take after its timeout. */
    EXPECT_OK(strata_tx_begin(main_thread));
    bool took = true;
    EXPECT_OK(strata_queue_take(main_thread, queue, NULL, &took));
    CHECK(!took);
    size_t len = 1;
    EXPECT_OK(strata_queue_len(main_thread, queue, &len));
    CHECK(len == 0);
    EXPECT_OK(strata_tx_commit(main_thread));
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    EXPECT_OK(strata_queue_take_timeout(main_thread, queue, 20 * 1000 * 1000, NULL, &took));
    clock_gettime(CLOCK_MONOTONIC, &end);
    CHECK(!took);
    long waited_ns = (end.tv_sec - start.tv_sec) * 1000000000L + (end.tv_nsec - start.tv_nsec);
    CHECK(waited_ns >= 20 * 1000 * 1000);
}

static void refusals(strata_thread *main_thread) {
    int not_a_handle = 0;
    int64_t value;
    bool flag;
    size_t len;
    EXPECT(strata_counter_new(main_thread, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_counter_add(main_thread, counter, 1), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_queue_put(main_thread, queue, 1, &flag), STRATA_ERROR_NO_TRANSACTION);
    EXPECT_OK(strata_tx_begin(main_thread));
    strata_counter *another;
    EXPECT(strata_counter_new(main_thread, &another), STRATA_ERROR_IN_TRANSACTION);
    EXPECT(strata_queue_take_timeout(main_thread, queue, 0, NULL, &flag),
           STRATA_ERROR_IN_TRANSACTION);
    EXPECT(strata_counter_add(main_thread, NULL, 1), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_counter_add(main_thread, (strata_counter *)&not_a_handle, 1),
           STRATA_ERROR_INVALID_STRUCTURE);
    CHECK_LAST_ERROR_NAMES("strata_counter_add");
    EXPECT(strata_map_get(main_thread, (strata_map *)counter, 1, NULL, &flag),
           STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT(strata_counter_get(main_thread, counter, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_len(main_thread, map, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_queue_take(main_thread, queue, NULL, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_tx_commit(main_thread));
    EXPECT(strata_map_new(main_thread, (size_t)1 << 30, &map), STRATA_ERROR_BAD_SIZE);
    EXPECT(strata_queue_new(main_thread, 0, &queue), STRATA_ERROR_BAD_SIZE);

    /* Another heap's thread gets the other heap refusal. */
    strata_heap *other = small_heap();
    strata_thread *on_other;
    EXPECT_OK(strata_thread_attach(other, &on_other));
    EXPECT_OK(strata_tx_begin(on_other));
    EXPECT(strata_counter_get(on_other, counter, &value), STRATA_ERROR_OTHER_HEAP);
    EXPECT(strata_map_len(on_other, map, &len), STRATA_ERROR_OTHER_HEAP);
    EXPECT_OK(strata_tx_commit(on_other));
    /* A structure left live is freed with its heap. */
    strata_queue *left;
    EXPECT_OK(strata_queue_new(on_other, 4, &left));
    EXPECT_OK(strata_thread_detach(on_other));
    EXPECT_OK(strata_heap_destroy(other));
    EXPECT(strata_queue_free(left), STRATA_ERROR_INVALID_STRUCTURE);

    EXPECT_OK(strata_counter_free(counter));
    EXPECT(strata_counter_free(counter), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT_OK(strata_tx_begin(main_thread));
    EXPECT(strata_counter_get(main_thread, counter, &value), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT_OK(strata_tx_commit(main_thread));
    EXPECT_OK(strata_map_free(map));
    EXPECT_OK(strata_queue_free(queue));
}

int main(void) {
    heap = small_heap();
    strata_thread *main_thread;
    EXPECT_OK(strata_thread_attach(heap, &main_thread));
    counter_never_conflicts(main_thread);
    map_holds_every_key(main_thread);
    queue_passes_everything_in_order(main_thread);
    refusals(main_thread);
    EXPECT_OK(strata_thread_detach(main_thread));
    EXPECT_OK(strata_heap_destroy(heap));
    printf("structures: ok\n");
    return 0;
}
