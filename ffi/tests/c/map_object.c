/* The map object from C: a map from 64-bit keys to objects that is itself
 * an object, made inside a transaction and kept by a global root. Four
 * threads insert new keys of their own, chosen in buckets no other
 * thread's keys fall in, one key a transaction: no transaction aborts.
 * Then the map is checked key by key through collections (its values are
 * kept by it alone), updated, emptied of a key and filled again, iterated,
 * and the refusals (NULLs, a non-map object, no transaction, a capacity
 * too large) are checked. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

enum { INSERTERS = 4, KEYS = 500, CAPACITY = 8192 };

struct box {
    uint64_t value;
};

static strata_heap *heap;
static strata_type_id box_type;
static strata_global *map_root;
/* The inserters start inserting together, so that their transactions
 * overlap. */
static pthread_barrier_t start;

/* A new box of value, in the open transaction. */
static strata_status new_box(strata_thread *thread, uint64_t value, void **box_out) {
    strata_status status = strata_alloc(thread, box_type, box_out);
    if (status != STRATA_OK) return status;
    void *body;
    status = strata_write(thread, *box_out, &body);
    if (status == STRATA_OK) ((struct box *)body)->value = value;
    return status;
}

/* Inserts key with a box of key * 3: the box is made first, then the map
 * fetched (an allocation may move what came before it). */
static strata_status insert_key(strata_thread *thread, uint64_t key) {
    void *box, *map, *previous = &box;
    strata_status status = new_box(thread, key * 3, &box);
    if (status != STRATA_OK) return status;
    if ((status = strata_global_get(thread, map_root, &map)) != STRATA_OK) return status;
    status = strata_map_object_insert(thread, map, key, box, &previous);
    if (status == STRATA_OK) CHECK(previous == NULL);
    return status;
}

/* The value of key's box, or -1 without one. */
static long value_of(strata_thread *thread, uint64_t key) {
    void *map, *box;
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    EXPECT_OK(strata_map_object_get(thread, map, key, &box));
    if (box == NULL) return -1;
    const void *body;
    EXPECT_OK(strata_read(thread, box, &body));
    return (long)((const struct box *)body)->value;
}

/* Inserter i's keys: the first KEYS keys whose buckets are i modulo
 * INSERTERS. */
static void keys_of(strata_thread *thread, uint64_t i, uint64_t *keys) {
    EXPECT_OK(strata_tx_begin(thread));
    void *map;
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    int n = 0;
    for (uint64_t k = 0; n < KEYS; k++) {
        size_t bucket;
        EXPECT_OK(strata_map_object_bucket(thread, map, k, &bucket));
        CHECK(bucket < CAPACITY);
        if (bucket % INSERTERS == i) keys[n++] = k;
    }
    EXPECT_OK(strata_tx_commit(thread));
}

static void *inserter(void *arg) {
    uint64_t i = (uint64_t)(uintptr_t)arg;
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    uint64_t keys[KEYS];
    keys_of(thread, i, keys);
    EXPECT_OK(strata_thread_enter_blocking(thread));
    int waited = pthread_barrier_wait(&start);
    CHECK(waited == 0 || waited == PTHREAD_BARRIER_SERIAL_THREAD);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    for (int n = 0; n < KEYS; n++) run_until_committed(thread, insert_key, keys[n]);
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static void make_map(strata_thread *thread) {
    EXPECT_OK(strata_tx_begin(thread));
    void *map;
    EXPECT_OK(strata_map_object_new(thread, CAPACITY, &map));
    size_t len = 1;
    EXPECT_OK(strata_map_object_len(thread, map, &len));
    CHECK(len == 0);
    EXPECT_OK(strata_push_root(thread, map));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, &map));
    EXPECT_OK(strata_global_new(thread, map, &map_root));
}

static void inserters_of_keys_in_distinct_buckets_never_abort(strata_thread *main_thread) {
    strata_stats before, after;
    EXPECT_OK(strata_heap_stats(heap, &before));
    EXPECT_OK(strata_thread_enter_blocking(main_thread));
    pthread_t threads[INSERTERS];
    CHECK(pthread_barrier_init(&start, NULL, INSERTERS) == 0);
    for (uintptr_t i = 0; i < INSERTERS; i++)
        CHECK(pthread_create(&threads[i], NULL, inserter, (void *)i) == 0);
    for (int i = 0; i < INSERTERS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(pthread_barrier_destroy(&start) == 0);
    EXPECT_OK(strata_thread_leave_blocking(main_thread));
    EXPECT_OK(strata_heap_stats(heap, &after));
    CHECK(after.commits - before.commits == INSERTERS * (KEYS + 1));
    CHECK(after.aborts_write_write == before.aborts_write_write);
    CHECK(after.aborts_validation == before.aborts_validation);
}

static void every_key_is_there_and_changes_as_a_map_does(strata_thread *thread) {
    EXPECT_OK(strata_tx_begin(thread));
    void *map;
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    size_t len = 0, count = 0;
    EXPECT_OK(strata_map_object_len(thread, map, &len));
    CHECK(len == INSERTERS * KEYS);
    /* Too small a buffer: the count says how many there are. */
    EXPECT_OK(strata_map_object_keys(thread, map, NULL, 0, &count));
    CHECK(count == len);
    uint64_t *keys = calloc(count, sizeof *keys);
    CHECK(keys != NULL);
    EXPECT_OK(strata_map_object_keys(thread, map, keys, count, &count));
    CHECK(count == len);
    for (size_t n = 0; n < count; n++) CHECK(value_of(thread, keys[n]) == (long)keys[n] * 3);
    free(keys);
    EXPECT_OK(strata_tx_commit(thread));

    /* Replace, remove, remove again, insert again. */
    EXPECT_OK(strata_tx_begin(thread));
    uint64_t key = 0;
    while (value_of(thread, key) < 0) key++;
    void *box, *previous = NULL;
    EXPECT_OK(new_box(thread, 1000, &box));
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    EXPECT_OK(strata_map_object_insert(thread, map, key, box, &previous));
    CHECK(previous != NULL);
    CHECK(value_of(thread, key) == 1000);
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    EXPECT_OK(strata_map_object_remove(thread, map, key, &previous));
    CHECK(previous != NULL);
    EXPECT_OK(strata_map_object_remove(thread, map, key, &previous));
    CHECK(previous == NULL);
    CHECK(value_of(thread, key) == -1);
    EXPECT_OK(strata_map_object_len(thread, map, &len));
    CHECK(len == INSERTERS * KEYS - 1);
    EXPECT_OK(strata_tx_commit(thread));
    run_until_committed(thread, insert_key, key);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(value_of(thread, key) == (long)key * 3);
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    EXPECT_OK(strata_map_object_len(thread, map, &len));
    CHECK(len == INSERTERS * KEYS);
    EXPECT_OK(strata_tx_commit(thread));
}

static void refusals(strata_thread *thread) {
    void *map, *box, *value;
    size_t len;
    uint64_t keys[1];
    /* The map's current address, outside a transaction. */
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    EXPECT_OK(strata_push_root(thread, map));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, &map));
    EXPECT(strata_map_object_new(thread, 16, &value), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_map_object_get(thread, map, 1, &value), STRATA_ERROR_NO_TRANSACTION);
    CHECK_LAST_ERROR_NAMES("strata_map_object_get");
    EXPECT(strata_map_object_len(thread, map, &len), STRATA_ERROR_NO_TRANSACTION);
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(new_box(thread, 1, &box));
    EXPECT(strata_map_object_new(thread, (size_t)1 << 30, &value), STRATA_ERROR_BAD_SIZE);
    EXPECT(strata_map_object_new(thread, 16, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_new(NULL, 16, &value), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_global_get(thread, map_root, &map));
    EXPECT(strata_map_object_get(thread, NULL, 1, &value), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_get(thread, map, 1, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_insert(thread, map, 1, NULL, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_insert(thread, NULL, 1, box, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_remove(thread, NULL, 1, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_len(thread, map, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_keys(thread, map, NULL, 1, &len), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_keys(thread, map, keys, 1, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_map_object_bucket(thread, map, 1, NULL), STRATA_ERROR_NULL_ARGUMENT);
    /* A box is not a map, whichever call is given it. */
    EXPECT(strata_map_object_get(thread, box, 1, &value), STRATA_ERROR_INVALID_STRUCTURE);
    CHECK_LAST_ERROR_NAMES("strata_map_object_get");
    EXPECT(strata_map_object_insert(thread, box, 1, box, NULL), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT(strata_map_object_remove(thread, box, 1, NULL), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT(strata_map_object_len(thread, box, &len), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT(strata_map_object_keys(thread, box, keys, 1, &len), STRATA_ERROR_INVALID_STRUCTURE);
    EXPECT(strata_map_object_bucket(thread, box, 1, &len), STRATA_ERROR_INVALID_STRUCTURE);
    /* The refusals changed nothing. */
    EXPECT_OK(strata_map_object_len(thread, map, &len));
    CHECK(len == INSERTERS * KEYS);
    EXPECT_OK(strata_tx_commit(thread));
}

int main(void) {
    heap = small_heap();
    strata_type_desc desc = fixed_type("box", sizeof(struct box), NULL, 0);
    EXPECT_OK(strata_register_type(heap, &desc, &box_type));
    strata_thread *main_thread;
    EXPECT_OK(strata_thread_attach(heap, &main_thread));
    make_map(main_thread);
    inserters_of_keys_in_distinct_buckets_never_abort(main_thread);
    every_key_is_there_and_changes_as_a_map_does(main_thread);
    refusals(main_thread);
    EXPECT_OK(strata_global_free(map_root));
    EXPECT_OK(strata_thread_detach(main_thread));
    EXPECT_OK(strata_heap_destroy(heap));
    printf("map_object: ok\n");
    return 0;
}
