/* The queue object from C: a bounded queue of objects that is itself an
 * object, made inside a transaction and kept by a global root. A producer
 * thread puts boxes 1..ITEMS, the main thread takes them: in order, none
 * lost, through collections (the queue alone keeps the boxes in it). Then
 * the refusals (NULLs, a map object or a box given as a queue, no
 * transaction, capacities out of range). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

enum { ITEMS = 3000, CAPACITY = 16 };

struct box {
    uint64_t value;
};

static strata_heap *heap;
static strata_type_id box_type;
static strata_global *queue_root;

static void *producer(void *arg) {
    (void)arg;
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    for (uint64_t i = 1; i <= ITEMS;) {
        EXPECT_OK(strata_tx_begin(thread));
        void *box, *body, *queue;
        bool put = false;
        strata_status status = strata_alloc(thread, box_type, &box);
        if (status == STRATA_OK) status = strata_write(thread, box, &body);
        if (status == STRATA_OK) ((struct box *)body)->value = i;
        if (status == STRATA_OK) status = strata_global_get(thread, queue_root, &queue);
        if (status == STRATA_OK) status = strata_queue_object_put(thread, queue, box, &put);
        if (status != STRATA_ABORTED) EXPECT_OK(status);
        status = strata_tx_commit(thread);
        if (status == STRATA_OK && put) i++;
        else if (status != STRATA_OK) EXPECT(status, STRATA_ABORTED);
        else EXPECT_OK(strata_thread_safepoint(thread)); /* full: let the consumer run */
    }
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

/* Takes one box's value in a transaction of its own; 0 when the queue is
 * empty (or the attempt aborted). */
static uint64_t take_one(strata_thread *thread) {
    EXPECT_OK(strata_tx_begin(thread));
    void *queue, *box = NULL;
    const void *body;
    uint64_t value = 0;
    strata_status status = strata_global_get(thread, queue_root, &queue);
    if (status == STRATA_OK) status = strata_queue_object_take(thread, queue, &box);
    if (status == STRATA_OK && box != NULL) {
        status = strata_read(thread, box, &body);
        if (status == STRATA_OK) value = ((const struct box *)body)->value;
    }
    if (status != STRATA_ABORTED) EXPECT_OK(status);
    status = strata_tx_commit(thread);
    if (status == STRATA_OK) return value;
    EXPECT(status, STRATA_ABORTED);
    return 0;
}

static void everything_comes_out_in_order(strata_thread *thread) {
    EXPECT_OK(strata_tx_begin(thread));
    void *queue;
    EXPECT_OK(strata_queue_object_new(thread, CAPACITY, &queue));
    EXPECT_OK(strata_push_root(thread, queue));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, &queue));
    EXPECT_OK(strata_global_new(thread, queue, &queue_root));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, producer, NULL) == 0);
    for (uint64_t want = 1; want <= ITEMS;) {
        uint64_t value = take_one(thread);
        if (value == 0) {
            EXPECT_OK(strata_thread_safepoint(thread)); /* empty: let the producer run */
            continue;
        }
        CHECK(value == want);
        want++;
    }
    EXPECT_OK(strata_thread_enter_blocking(thread));
    CHECK(pthread_join(t, NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    CHECK(take_one(thread) == 0);
    EXPECT_OK(strata_tx_begin(thread));
    size_t len = 1;
    EXPECT_OK(strata_global_get(thread, queue_root, &queue));
    EXPECT_OK(strata_queue_object_len(thread, queue, &len));
    CHECK(len == 0);
    EXPECT_OK(strata_tx_commit(thread));
}

static void refusals(strata_thread *thread) {
    void *queue, *map, *box, *value;
    size_t len;
    bool put;
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(strata_global_get(thread, queue_root, &queue));
    EXPECT_OK(strata_push_root(thread, queue));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, &queue));
    EXPECT(strata_queue_object_new(thread, 4, &value), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_queue_object_take(thread, queue, &value), STRATA_ERROR_NO_TRANSACTION);
    CHECK_LAST_ERROR_NAMES("strata_queue_object_take");
    EXPECT(strata_queue_object_len(thread, queue, &len), STRATA_ERROR_NO_TRANSACTION);

    EXPECT_OK(strata_tx_begin(thread));
    EXPECT(strata_queue_object_new(thread, 0, &value), STRATA_ERROR_BAD_SIZE);
    EXPECT(strata_queue_object_new(thread, (size_t)1 << 30, &value), STRATA_ERROR_BAD_SIZE);
    EXPECT(strata_queue_object_new(thread, 4, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_map_object_new(thread, 4, &map));
    EXPECT_OK(strata_push_root(thread, map));
    EXPECT_OK(strata_alloc(thread, box_type, &box));
    EXPECT_OK(strata_peek_root(thread, 0, &map));
    EXPECT_OK(strata_global_get(thread, queue_root, &queue));
    EXPECT(strata_queue_object_put(thread, NULL, box, &put), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_queue_object_put(thread, queue, NULL, &put), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_queue_object_put(thread, queue, box, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_queue_object_take(thread, NULL, &value), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_queue_object_take(thread, queue, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_queue_object_len(thread, queue, NULL), STRATA_ERROR_NULL_ARGUMENT);
    /* Neither a map object nor a box is a queue, nor a queue a map. */
    EXPECT(strata_queue_object_put(thread, map, box, &put), STRATA_ERROR_INVALID_STRUCTURE);
    CHECK_LAST_ERROR_NAMES("strata_queue_object_put");
    EXPECT(strata_queue_object_take(thread, box, &value), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT(strata_queue_object_len(thread, box, &len), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT(strata_map_object_len(thread, queue, &len), STRATA_ERROR_INVALID_STRUCTURE);
    /* The refusals changed nothing. */
    EXPECT_OK(strata_queue_object_len(thread, queue, &len));
    CHECK(len == 0);
    EXPECT_OK(strata_pop_root(thread, &map));
    EXPECT_OK(strata_tx_commit(thread));
}

int main(void) {
    heap = small_heap();
    strata_type_desc desc = fixed_type("box", sizeof(struct box), NULL, 0);
    EXPECT_OK(strata_register_type(heap, &desc, &box_type));
    strata_thread *main_thread;
    EXPECT_OK(strata_thread_attach(heap, &main_thread));
    everything_comes_out_in_order(main_thread);
    refusals(main_thread);
    EXPECT_OK(strata_global_free(queue_root));
    EXPECT_OK(strata_thread_detach(main_thread));
    EXPECT_OK(strata_heap_destroy(heap));
    printf("queue_object: ok\n");
    return 0;
}
