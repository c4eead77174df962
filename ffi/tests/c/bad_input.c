/* Every bad input of heaps, threads and types returns its documented
 * status, leaves a message naming the function, changes nothing, and the
 * heap keeps working afterwards. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>

#include "check.h"

/* A pointer that was never a handle. */
static long not_a_handle;

static void configs(void) {
    EXPECT(strata_config_init(NULL), STRATA_ERROR_NULL_ARGUMENT);
    CHECK_LAST_ERROR_NAMES("strata_config_init");

    /* An environment override that does not parse: the plain defaults. */
    strata_config config;
    CHECK(setenv("STRATA_NURSERY_BYTES", "lots", 1) == 0);
    EXPECT(strata_config_init(&config), STRATA_ERROR_INVALID_CONFIG);
    CHECK(strstr(strata_last_error(), "STRATA_NURSERY_BYTES") != NULL);
    CHECK(config.nursery_bytes == 4 << 20 && config.max_retries == 64);
    CHECK(setenv("STRATA_NURSERY_BYTES", "64K", 1) == 0);
    EXPECT_OK(strata_config_init(&config));
    CHECK(config.nursery_bytes == 64 << 10);
    CHECK(unsetenv("STRATA_NURSERY_BYTES") == 0);

    EXPECT_OK(strata_config_init(&config));
    strata_heap *heap = (strata_heap *)&not_a_handle;
    EXPECT(strata_heap_create(NULL, &heap), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_heap_create(&config, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_heap_create_checked(STRATA_ABI_VERSION + 1, sizeof config, &config, &heap),
           STRATA_ERROR_ABI_MISMATCH);
    CHECK_LAST_ERROR_NAMES("strata_heap_create");
    EXPECT(strata_heap_create_checked(STRATA_ABI_VERSION, sizeof config - 8, &config, &heap),
           STRATA_ERROR_ABI_MISMATCH);

    strata_config tiny_nursery = config;
    tiny_nursery.nursery_bytes = 1;
    EXPECT(strata_heap_create(&tiny_nursery, &heap), STRATA_ERROR_INVALID_CONFIG);
    CHECK(strstr(strata_last_error(), "nursery_bytes") != NULL);
    strata_config shrinking = config;
    shrinking.growth_factor = 0.5;
    EXPECT(strata_heap_create(&shrinking, &heap), STRATA_ERROR_INVALID_CONFIG);
    strata_config tiny_heap = config;
    tiny_heap.max_heap_bytes = 1024;
    EXPECT(strata_heap_create(&tiny_heap, &heap), STRATA_ERROR_INVALID_CONFIG);
    strata_config many_markers = config;
    many_markers.gc_threads = 1000;
    EXPECT(strata_heap_create(&many_markers, &heap), STRATA_ERROR_INVALID_CONFIG);
    /* Out-pointers are left alone on failure. */
    CHECK(heap == (strata_heap *)&not_a_handle);
}

static void heaps(void) {
    EXPECT(strata_heap_destroy(NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_heap_destroy((strata_heap *)&not_a_handle), STRATA_ERROR_INVALID_HEAP);
    CHECK_LAST_ERROR_NAMES("strata_heap_destroy");

    strata_heap *heap = small_heap();
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT(strata_heap_destroy(heap), STRATA_ERROR_HEAP_BUSY);
    EXPECT(strata_heap_stats(heap, NULL), STRATA_ERROR_NULL_ARGUMENT);
    /* Still usable. */
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(heap));

    strata_stats stats;
    EXPECT(strata_heap_stats(NULL, &stats), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_heap_stats((strata_heap *)&not_a_handle, &stats), STRATA_ERROR_INVALID_HEAP);

    /* Use after destroy. */
    EXPECT(strata_heap_destroy(heap), STRATA_ERROR_INVALID_HEAP);
    EXPECT(strata_heap_stats(heap, &stats), STRATA_ERROR_INVALID_HEAP);
    EXPECT(strata_thread_attach(heap, &thread), STRATA_ERROR_INVALID_HEAP);
    strata_type_desc desc = {0};
    desc.name = "late";
    strata_type_id id = 0;
    EXPECT(strata_register_type(heap, &desc, &id), STRATA_ERROR_INVALID_HEAP);
}

struct other_thread {
    strata_heap *heap;
    strata_thread *handle;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stage; /* 1: attached and blocked; 2: the main thread is done */
};

static void set_stage(struct other_thread *o, int stage) {
    pthread_mutex_lock(&o->lock);
    o->stage = stage;
    pthread_cond_broadcast(&o->changed);
    pthread_mutex_unlock(&o->lock);
}

static void wait_for_stage(struct other_thread *o, int stage) {
    pthread_mutex_lock(&o->lock);
    while (o->stage < stage) {
        pthread_cond_wait(&o->changed, &o->lock);
    }
    pthread_mutex_unlock(&o->lock);
}

static void *attach_and_wait(void *arg) {
    struct other_thread *o = (struct other_thread *)arg;
    EXPECT_OK(strata_thread_attach(o->heap, &o->handle));
    EXPECT_OK(strata_thread_enter_blocking(o->handle));
    set_stage(o, 1);
    wait_for_stage(o, 2);
    EXPECT_OK(strata_thread_leave_blocking(o->handle));
    EXPECT_OK(strata_thread_collect_major(o->handle));
    EXPECT_OK(strata_thread_detach(o->handle));
    return NULL;
}

static void threads(void) {
    strata_heap *heap = small_heap();
    strata_thread *thread = NULL;
    EXPECT(strata_thread_attach(NULL, &thread), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_thread_attach(heap, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_thread_attach((strata_heap *)&not_a_handle, &thread),
           STRATA_ERROR_INVALID_HEAP);
    CHECK(thread == NULL);

    EXPECT_OK(strata_thread_attach(heap, &thread));
    strata_thread *second = NULL;
    EXPECT(strata_thread_attach(heap, &second), STRATA_ERROR_ALREADY_ATTACHED);
    CHECK_LAST_ERROR_NAMES("strata_thread_attach");
    CHECK(second == NULL);

    strata_thread *garbage = (strata_thread *)&not_a_handle;
    strata_status (*calls[6])(strata_thread *) = {
        strata_thread_detach,         strata_thread_enter_blocking,
        strata_thread_leave_blocking, strata_thread_safepoint,
        strata_thread_collect_minor,  strata_thread_collect_major,
    };
    for (int i = 0; i < 6; i++) {
        EXPECT(calls[i](NULL), STRATA_ERROR_NULL_ARGUMENT);
        EXPECT(calls[i](garbage), STRATA_ERROR_NOT_ATTACHED);
    }

    /* Another thread's handle. */
    struct other_thread o;
    o.heap = heap;
    o.handle = NULL;
    o.stage = 0;
    pthread_mutex_init(&o.lock, NULL);
    pthread_cond_init(&o.changed, NULL);
    pthread_t worker;
    CHECK(pthread_create(&worker, NULL, attach_and_wait, &o) == 0);
    wait_for_stage(&o, 1);
    for (int i = 0; i < 6; i++) {
        EXPECT(calls[i](o.handle), STRATA_ERROR_WRONG_THREAD);
    }
    CHECK_LAST_ERROR_NAMES("strata_thread_collect_major");
    /* The other thread is blocked: this one can collect meanwhile. */
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_enter_blocking(thread));
    set_stage(&o, 2);
    CHECK(pthread_join(worker, NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(thread));

    /* Blocking sections used wrongly. */
    EXPECT(strata_thread_leave_blocking(thread), STRATA_ERROR_NOT_BLOCKED);
    EXPECT_OK(strata_thread_enter_blocking(thread));
    EXPECT(strata_thread_enter_blocking(thread), STRATA_ERROR_BLOCKED);
    EXPECT(strata_thread_safepoint(thread), STRATA_ERROR_BLOCKED);
    EXPECT(strata_thread_collect_major(thread), STRATA_ERROR_BLOCKED);
    EXPECT(strata_thread_collect_minor(thread), STRATA_ERROR_BLOCKED);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    EXPECT_OK(strata_thread_collect_major(thread));

    /* Detach in a blocking section leaves it; a second detach is refused. */
    EXPECT_OK(strata_thread_enter_blocking(thread));
    EXPECT_OK(strata_thread_detach(thread));
    for (int i = 0; i < 6; i++) {
        EXPECT(calls[i](thread), STRATA_ERROR_NOT_ATTACHED);
    }
    CHECK_LAST_ERROR_NAMES("strata_thread_collect_major");

    /* Everything still works. */
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(heap));
}

static void trace_nothing(void *body, strata_visit_fn visit, void *ctx) {
    (void)body;
    (void)visit;
    (void)ctx;
}

static void types(void) {
    strata_heap *heap = small_heap();
    uint32_t offsets[2] = {0, 8};
    strata_type_desc valid = fixed_type("valid", 16, offsets, 2);

    strata_type_id id = 12345;
    EXPECT(strata_register_type(NULL, &valid, &id), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_register_type((strata_heap *)&not_a_handle, &valid, &id),
           STRATA_ERROR_INVALID_HEAP);
    EXPECT(strata_register_type(heap, NULL, &id), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_register_type(heap, &valid, NULL), STRATA_ERROR_NULL_ARGUMENT);

    strata_type_desc no_name = valid;
    no_name.name = NULL;
    EXPECT(strata_register_type(heap, &no_name, &id), STRATA_ERROR_NULL_ARGUMENT);
    strata_type_desc no_offsets = valid;
    no_offsets.ref_offsets = NULL;
    EXPECT(strata_register_type(heap, &no_offsets, &id), STRATA_ERROR_NULL_ARGUMENT);

    strata_type_desc refused[9];
    for (int i = 0; i < 9; i++) {
        refused[i] = valid;
    }
    refused[0].layout = (strata_layout)7;
    refused[1].element_bytes = 8; /* elements in a fixed layout */
    uint32_t unaligned[1] = {4};
    refused[2].ref_offsets = unaligned;
    refused[2].ref_offset_count = 1;
    uint32_t outside[1] = {16};
    refused[3].ref_offsets = outside;
    refused[3].ref_offset_count = 1;
    refused[4].elements_are_refs = true; /* only arrays have elements */
    refused[5].layout = STRATA_LAYOUT_ARRAY;
    refused[5].ref_offset_count = 0;
    refused[5].element_bytes = 4;
    refused[5].elements_are_refs = true; /* references are 8 bytes */
    refused[6].body_bytes = SIZE_MAX / 2; /* absurd */
    refused[6].ref_offset_count = 0;
    refused[7].layout = STRATA_LAYOUT_ARRAY;
    refused[7].ref_offsets = offsets; /* offset 0 is the element count */
    refused[7].ref_offset_count = 1;
    refused[7].element_bytes = 8;
    refused[8].trace = trace_nothing; /* and offsets too */
    for (int i = 0; i < 9; i++) {
        EXPECT(strata_register_type(heap, &refused[i], &id), STRATA_ERROR_INVALID_TYPE);
        CHECK_LAST_ERROR_NAMES("strata_register_type");
    }
    CHECK(id == 12345);

    EXPECT_OK(strata_register_type(heap, &valid, &id));
    CHECK(id != 12345 && id != 0);
    EXPECT_OK(strata_heap_destroy(heap));
}

static strata_type_id register_fixed(strata_heap *heap, size_t body_bytes,
                                     const uint32_t *offsets, size_t count) {
    strata_type_desc desc = fixed_type("fixed", body_bytes, offsets, count);
    strata_type_id id = 0;
    EXPECT_OK(strata_register_type(heap, &desc, &id));
    return id;
}

static void transactions(void) {
    strata_heap *heap = small_heap();
    uint32_t first_slot[1] = {0};
    strata_type_id cell = register_fixed(heap, 16, first_slot, 1);
    strata_type_desc bytes_desc = {0};
    bytes_desc.name = "bytes";
    bytes_desc.layout = STRATA_LAYOUT_ARRAY;
    bytes_desc.element_bytes = 1;
    strata_type_id bytes = 0;
    EXPECT_OK(strata_register_type(heap, &bytes_desc, &bytes));
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    void *obj = (void *)&not_a_handle;
    const void *body = NULL;
    bool doomed = false;

    /* Calls that need a transaction, without one. */
    EXPECT(strata_tx_commit(thread), STRATA_ERROR_NO_TRANSACTION);
    CHECK_LAST_ERROR_NAMES("strata_tx_commit");
    EXPECT(strata_tx_abort(thread), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_tx_doomed(thread, &doomed), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_tx_become_inevitable(thread), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_tx_is_inevitable(thread, &doomed), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_tx_should_break(thread, &doomed), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_identity(thread, NULL, NULL, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_alloc(thread, cell, &obj), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_alloc_array(thread, bytes, 4, &obj), STRATA_ERROR_NO_TRANSACTION);
    CHECK(obj == (void *)&not_a_handle);
    EXPECT(strata_pop_root(thread, NULL), STRATA_ERROR_ROOT_STACK);
    EXPECT(strata_peek_root(thread, 0, &obj), STRATA_ERROR_ROOT_STACK);

    /* Handles and NULLs. */
    strata_thread *garbage = (strata_thread *)&not_a_handle;
    EXPECT(strata_tx_begin(NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_tx_begin(garbage), STRATA_ERROR_NOT_ATTACHED);
    EXPECT(strata_alloc(garbage, cell, &obj), STRATA_ERROR_NOT_ATTACHED);
    EXPECT(strata_tx_doomed(thread, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_tx_is_inevitable(thread, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_tx_should_break(thread, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_atomically(garbage, NULL, NULL), STRATA_ERROR_NULL_ARGUMENT);

    EXPECT_OK(strata_tx_begin(thread));
    EXPECT(strata_tx_begin(thread), STRATA_ERROR_IN_TRANSACTION);
    EXPECT(strata_thread_collect_major(thread), STRATA_ERROR_IN_TRANSACTION);
    EXPECT(strata_alloc(thread, cell, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_alloc(thread, 0, &obj), STRATA_ERROR_UNKNOWN_TYPE);
    EXPECT(strata_alloc(thread, 9999, &obj), STRATA_ERROR_UNKNOWN_TYPE);
    CHECK_LAST_ERROR_NAMES("strata_alloc");
    EXPECT(strata_alloc_array(thread, cell, 3, &obj), STRATA_ERROR_BAD_SIZE);
    EXPECT(strata_alloc_array(thread, bytes, SIZE_MAX / 2, &obj), STRATA_ERROR_BAD_SIZE);
    EXPECT(strata_alloc_array(thread, bytes, (size_t)1 << 40, &obj), STRATA_ERROR_TOO_LARGE);
    CHECK(obj == (void *)&not_a_handle);
    EXPECT(strata_read(thread, NULL, &body), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_write(thread, NULL, &obj), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_write_ref(thread, NULL, 0, NULL), STRATA_ERROR_NULL_ARGUMENT);

    EXPECT_OK(strata_alloc(thread, cell, &obj));
    EXPECT(strata_read(thread, obj, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_write(thread, obj, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_write_ref(thread, obj, 8, NULL), STRATA_ERROR_NOT_A_REF_SLOT);
    EXPECT(strata_write_ref(thread, obj, 4, NULL), STRATA_ERROR_NOT_A_REF_SLOT);
    EXPECT(strata_write_ref(thread, obj, 64, NULL), STRATA_ERROR_NOT_A_REF_SLOT);
    EXPECT_OK(strata_write_ref(thread, obj, 0, NULL));
    EXPECT_OK(strata_push_root(thread, obj));
    strata_global *global = (strata_global *)&not_a_handle;
    EXPECT(strata_global_new(thread, obj, &global), STRATA_ERROR_IN_TRANSACTION);
    EXPECT_OK(strata_tx_commit(thread));

    /* The shadow stack across a transaction. */
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT(strata_pop_root(thread, NULL), STRATA_ERROR_ROOT_STACK); /* pushed before */
    EXPECT_OK(strata_alloc(thread, cell, &obj));
    EXPECT_OK(strata_push_root(thread, obj));
    EXPECT_OK(strata_tx_abort(thread));
    EXPECT(strata_peek_root(thread, 1, &obj), STRATA_ERROR_ROOT_STACK); /* abort popped it */
    EXPECT_OK(strata_peek_root(thread, 0, &obj));

    /* Global roots. */
    EXPECT(strata_global_new(thread, NULL, &global), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_global_new(thread, obj, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_global_new(thread, obj, &global));
    EXPECT(strata_global_get(thread, global, &obj), STRATA_ERROR_NO_TRANSACTION);
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT(strata_global_get(thread, NULL, &obj), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_global_get(thread, global, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_global_get(thread, (strata_global *)&not_a_handle, &obj),
           STRATA_ERROR_INVALID_GLOBAL);
    EXPECT_OK(strata_global_get(thread, global, &obj));
    EXPECT_OK(strata_tx_commit(thread));
    strata_heap *other = small_heap();
    strata_thread *on_other = NULL;
    EXPECT_OK(strata_thread_attach(other, &on_other));
    EXPECT_OK(strata_tx_begin(on_other));
    EXPECT(strata_global_get(on_other, global, &obj), STRATA_ERROR_OTHER_HEAP);
    /* A root of the other heap, left live when that heap is destroyed:
     * the destroy frees it, and only it. */
    strata_type_id other_cell;
    strata_type_desc other_desc = fixed_type("cell", 8, NULL, 0);
    EXPECT_OK(strata_register_type(other, &other_desc, &other_cell));
    void *other_obj = NULL;
    EXPECT_OK(strata_alloc(on_other, other_cell, &other_obj));
    EXPECT_OK(strata_push_root(on_other, other_obj));
    EXPECT_OK(strata_tx_commit(on_other));
    EXPECT_OK(strata_pop_root(on_other, &other_obj));
    strata_global *other_global = NULL;
    EXPECT_OK(strata_global_new(on_other, other_obj, &other_global));
    EXPECT_OK(strata_thread_detach(on_other));
    EXPECT_OK(strata_heap_destroy(other));
    EXPECT(strata_global_free(other_global), STRATA_ERROR_INVALID_GLOBAL);
    CHECK_LAST_ERROR_NAMES("strata_global_free");
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(strata_global_get(thread, global, &obj));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT(strata_global_free(NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_global_free(global));
    EXPECT(strata_global_free(global), STRATA_ERROR_INVALID_GLOBAL);

    /* The heap full: 1 MiB arrays kept on the shadow stack until the
     * 64 MiB limit refuses one; the transaction goes on, and after its
     * abort the memory is there again. */
    EXPECT_OK(strata_tx_begin(thread));
    strata_status status = STRATA_OK;
    int made = 0;
    while (status == STRATA_OK) {
        status = strata_alloc_array(thread, bytes, (size_t)1 << 20, &obj);
        if (status == STRATA_OK) {
            EXPECT_OK(strata_push_root(thread, obj));
            made++;
        }
    }
    EXPECT(status, STRATA_ERROR_OUT_OF_MEMORY);
    CHECK(made > 8 && made < 128);
    EXPECT_OK(strata_tx_doomed(thread, &doomed));
    CHECK(!doomed);
    EXPECT_OK(strata_alloc(thread, cell, &obj));
    EXPECT_OK(strata_tx_abort(thread));
    EXPECT_OK(strata_tx_begin(thread));
    for (int i = 0; i < made; i++) {
        EXPECT_OK(strata_alloc_array(thread, bytes, (size_t)1 << 20, &obj));
    }
    EXPECT_OK(strata_tx_commit(thread));

    /* Detaching with a transaction open aborts it. */
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(heap));
}

/* Another thread that makes an object in an open transaction and waits. */
struct maker {
    struct other_thread sync;
    strata_type_id type;
    void *obj;
};

static void *make_and_wait(void *arg) {
    struct maker *m = (struct maker *)arg;
    EXPECT_OK(strata_thread_attach(m->sync.heap, &m->sync.handle));
    EXPECT_OK(strata_tx_begin(m->sync.handle));
    EXPECT_OK(strata_alloc(m->sync.handle, m->type, &m->obj));
    set_stage(&m->sync, 1);
    wait_for_stage(&m->sync, 2);
    EXPECT_OK(strata_tx_commit(m->sync.handle));
    EXPECT_OK(strata_thread_detach(m->sync.handle));
    return NULL;
}

/* The inline strata_read and strata_write refuse what the library would:
 * each case below has an object the inline path could take (PRIVATE in
 * its header), and still gets the library's status. */
static void fast_paths(void) {
    strata_heap *heap = small_heap();
    strata_type_id cell = register_fixed(heap, 16, NULL, 0);
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    /* Not an object, but its header says PRIVATE: the library never
     * reads it in these cases (NULL thread, no transaction, blocked,
     * detached), nor does the inline path. */
    static uint64_t looks_private[4] = {STRATA_HEADER_PRIVATE | 1, 0, 0, 0};
    const void *body = NULL;
    void *written = NULL;
    EXPECT(strata_read(NULL, looks_private, &body), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_write(NULL, looks_private, &written), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_read(thread, looks_private, &body), STRATA_ERROR_NO_TRANSACTION);
    EXPECT(strata_write(thread, looks_private, &written), STRATA_ERROR_NO_TRANSACTION);
    CHECK_LAST_ERROR_NAMES("strata_write");

    /* The inline path's own case: an object the transaction made. */
    EXPECT_OK(strata_tx_begin(thread));
    void *obj = NULL;
    EXPECT_OK(strata_alloc(thread, cell, &obj));
    EXPECT_OK(strata_read(thread, obj, &body));
    EXPECT_OK(strata_write(thread, obj, &written));
    CHECK(body == (const char *)obj + STRATA_HEADER_BYTES && body == written);
    EXPECT(strata_read(thread, obj, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT(strata_write(thread, obj, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_thread_enter_blocking(thread));
    EXPECT(strata_read(thread, obj, &body), STRATA_ERROR_BLOCKED);
    EXPECT(strata_write(thread, obj, &written), STRATA_ERROR_BLOCKED);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    EXPECT_OK(strata_write(thread, obj, &written));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT(strata_read(thread, looks_private, &body), STRATA_ERROR_NO_TRANSACTION);

    /* Another thread's handle, with its transaction open on its object. */
    struct maker m;
    m.sync.heap = heap;
    m.sync.handle = NULL;
    m.sync.stage = 0;
    m.type = cell;
    m.obj = NULL;
    pthread_mutex_init(&m.sync.lock, NULL);
    pthread_cond_init(&m.sync.changed, NULL);
    pthread_t worker;
    EXPECT_OK(strata_thread_enter_blocking(thread));
    CHECK(pthread_create(&worker, NULL, make_and_wait, &m) == 0);
    wait_for_stage(&m.sync, 1);
    EXPECT(strata_read(m.sync.handle, m.obj, &body), STRATA_ERROR_WRONG_THREAD);
    EXPECT(strata_write(m.sync.handle, m.obj, &written), STRATA_ERROR_WRONG_THREAD);
    set_stage(&m.sync, 2);
    CHECK(pthread_join(worker, NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(thread));

    /* A handle detached with its transaction open. */
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT(strata_read(thread, looks_private, &body), STRATA_ERROR_NOT_ATTACHED);
    EXPECT(strata_write(thread, looks_private, &written), STRATA_ERROR_NOT_ATTACHED);
    CHECK(body == (const char *)obj + STRATA_HEADER_BYTES); /* left untouched */
    EXPECT_OK(strata_heap_destroy(heap));
}

int main(void) {
    CHECK(strata_last_error()[0] == '\0');
    configs();
    heaps();
    threads();
    types();
    transactions();
    fast_paths();
    puts("bad_input: ok");
    return 0;
}
