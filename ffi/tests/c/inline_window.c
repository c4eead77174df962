/* The header's inline paths and the window they use between calls (ABI
 * version 4): when the window is handed out; allocation, reference stores
 * and the shadow stack inline across many collections of a tiny nursery,
 * with types that share an entry of the type table; global roots read
 * inline; what an abort and a thread that exits in a transaction leave;
 * shared reads inline, logged and validated; the object written last and
 * old targets of reference stores inline; and the cases the inline paths
 * must hand to the library. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

/* Calls of the slow paths, counted by definitions here that take the
 * library's place for this program's calls (the program links the shared
 * library) and pass each on: an inline path that was taken made none. */
static atomic_long slow_reads, slow_writes, slow_write_refs;

#define PASS_ON(name, counter, params, args)                           \
    strata_status name params {                                         \
        static strata_status(*real) params;                             \
        if (real == NULL) *(void **)(&real) = dlsym(RTLD_NEXT, #name); \
        atomic_fetch_add(&counter, 1);                                  \
        return real args;                                               \
    }
PASS_ON(strata_read_slow, slow_reads,
        (strata_thread * thread, const void *obj, const void **body_out),
        (thread, obj, body_out))
PASS_ON(strata_write_slow, slow_writes, (strata_thread * thread, void *obj, void **body_out),
        (thread, obj, body_out))
PASS_ON(strata_write_ref_slow, slow_write_refs,
        (strata_thread * thread, void *obj, size_t offset, void *value),
        (thread, obj, offset, value))

/* A cell: a reference and a number. */
struct cell {
    void *next;
    long value;
};

#define CELL_TYPES 5
static strata_type_id cell_types[CELL_TYPES];

static strata_thread_prefix *prefix_of(strata_thread *thread) {
    return (strata_thread_prefix *)(void *)thread;
}

static strata_heap *tiny_heap(void) {
    strata_heap *heap = heap_of(4 << 10, 256 << 20);
    uint32_t refs[1] = {offsetof(struct cell, next)};
    for (int i = 0; i < CELL_TYPES; i++) {
        /* Bodies of 16, 32, ... bytes: five types, so two share an entry. */
        strata_type_desc desc = fixed_type("cell", sizeof(struct cell) + 16 * (size_t)i, refs, 1);
        EXPECT_OK(strata_register_type(heap, &desc, &cell_types[i]));
    }
    CHECK(cell_types[0] % STRATA_FAST_TYPES == cell_types[4] % STRATA_FAST_TYPES);
    return heap;
}

/* The inline paths are open exactly while a transaction is, between
 * calls, outside blocking sections. */
static void window_follows_the_transaction(strata_heap *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    strata_thread_prefix *prefix = prefix_of(thread);
    CHECK(prefix->fast_owner == 0);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(prefix->fast_owner == (uintptr_t)pthread_self());
    /* What the inline paths compare it with is pthread_self(). */
    CHECK(strata_self_() == (uintptr_t)pthread_self());
    CHECK(prefix->roots_top == prefix->roots_floor);
    CHECK(prefix->roots_end - prefix->roots_top >= 16);
    CHECK(prefix->alloc_limit - prefix->alloc_cursor <= prefix->nursery_end - prefix->nursery_start);
    CHECK((prefix->alloc_flags & STRATA_HEADER_PRIVATE) != 0);
    EXPECT_OK(strata_tx_commit(thread));
    CHECK(prefix->fast_owner == 0);
    EXPECT_OK(strata_thread_enter_blocking(thread));
    CHECK(prefix->fast_owner == 0);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    EXPECT_OK(strata_thread_detach(thread));
}

/* 20,000 cells of five types made and linked in one transaction, each
 * pushed on the shadow stack: the 4 KiB nursery fills some 1,500 times,
 * so the inline paths meet every refill, every promotion of the
 * transaction's own cells (then stores go to the library) and every
 * growth of the stack. Every cell keeps its type, is zeroed when made and
 * keeps what was stored in it, through the commit. */
static void many_cells_across_collections(strata_heap *heap) {
    enum { CELLS = 20000 };
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    void *previous = NULL;
    for (long i = 0; i < CELLS; i++) {
        strata_type_id type = cell_types[i % CELL_TYPES];
        void *cell;
        EXPECT_OK(strata_alloc(thread, type, &cell));
        CHECK((((const uint64_t *)cell)[0] & STRATA_HEADER_TYPE_MASK) == type);
        struct cell *body;
        EXPECT_OK(strata_write(thread, cell, (void **)&body));
        CHECK(body->next == NULL && body->value == 0);
        body->value = i;
        if (i > 0) EXPECT_OK(strata_peek_root(thread, 0, &previous));
        EXPECT_OK(strata_write_ref(thread, cell, offsetof(struct cell, next), previous));
        EXPECT_OK(strata_push_root(thread, cell));
    }
    /* The stack, top down: cell CELLS-1 ... cell 0, each linked to the one
     * below it. */
    for (long i = CELLS - 1; i >= 0; i--) {
        void *cell;
        EXPECT_OK(strata_peek_root(thread, (size_t)(CELLS - 1 - i), &cell));
        CHECK((((const uint64_t *)cell)[0] & STRATA_HEADER_TYPE_MASK) == cell_types[i % CELL_TYPES]);
        const struct cell *body;
        EXPECT_OK(strata_read(thread, cell, (const void **)&body));
        CHECK(body->value == i);
        void *below = NULL;
        if (i > 0) EXPECT_OK(strata_peek_root(thread, (size_t)(CELLS - i), &below));
        CHECK(body->next == below);
    }
    /* Only the top cell stays on the stack: the chain holds the rest. */
    void *top;
    EXPECT_OK(strata_pop_root(thread, &top));
    for (long i = 1; i < CELLS; i++) EXPECT_OK(strata_pop_root(thread, NULL));
    EXPECT_OK(strata_push_root(thread, top));
    EXPECT_OK(strata_tx_commit(thread));

    /* Committed: the chain from the top cell down is whole. */
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_tx_begin(thread));
    void *cell;
    EXPECT_OK(strata_peek_root(thread, 0, &cell));
    long seen = 0;
    for (long i = CELLS - 1; cell != NULL; i--, seen++) {
        const struct cell *body;
        EXPECT_OK(strata_read(thread, cell, (const void **)&body));
        CHECK(body->value == i);
        cell = body->next;
    }
    CHECK(seen == CELLS);
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, NULL));
    EXPECT_OK(strata_thread_detach(thread));
}

/* An abort gives the stack back as it was at begin, however much the
 * attempt pushed inline; a pop below that is the library's refusal. */
static void abort_restores_the_stack(strata_heap *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    void *kept;
    EXPECT_OK(strata_alloc(thread, cell_types[1], &kept));
    EXPECT_OK(strata_push_root(thread, kept));
    EXPECT_OK(strata_tx_commit(thread));
    /* Committed, it moved out of the nursery, and moves no more. */
    EXPECT_OK(strata_peek_root(thread, 0, &kept));
    EXPECT_OK(strata_tx_begin(thread));
    for (int i = 0; i < 1000; i++) {
        void *cell;
        EXPECT_OK(strata_alloc(thread, cell_types[i % CELL_TYPES], &cell));
        EXPECT_OK(strata_push_root(thread, cell));
    }
    EXPECT_OK(strata_tx_abort(thread));
    EXPECT_OK(strata_tx_begin(thread));
    void *top;
    EXPECT_OK(strata_peek_root(thread, 0, &top));
    CHECK(top == kept);
    EXPECT(strata_peek_root(thread, 1, &top), STRATA_ERROR_ROOT_STACK);
    EXPECT(strata_pop_root(thread, NULL), STRATA_ERROR_ROOT_STACK);
    CHECK_LAST_ERROR_NAMES("strata_pop_root");
    /* Offsets that are no reference slot go to the library, which refuses
     * them, for the transaction's own young cell as for any. */
    void *cell;
    EXPECT_OK(strata_alloc(thread, cell_types[0], &cell));
    EXPECT(strata_write_ref(thread, cell, offsetof(struct cell, value), NULL),
           STRATA_ERROR_NOT_A_REF_SLOT);
    EXPECT(strata_write_ref(thread, cell, 4, NULL), STRATA_ERROR_NOT_A_REF_SLOT);
    EXPECT(strata_write_ref(thread, cell, 1 << 20, NULL), STRATA_ERROR_NOT_A_REF_SLOT);
    CHECK_LAST_ERROR_NAMES("strata_write_ref");
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, NULL));
    EXPECT_OK(strata_thread_detach(thread));
}

/* A committed cell of value, and a global root of it. */
static strata_global *global_cell(strata_thread *thread, long value) {
    EXPECT_OK(strata_tx_begin(thread));
    void *cell;
    EXPECT_OK(strata_alloc(thread, cell_types[0], &cell));
    struct cell *body;
    EXPECT_OK(strata_write(thread, cell, (void **)&body));
    body->value = value;
    EXPECT_OK(strata_push_root(thread, cell));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, &cell));
    strata_global *global;
    EXPECT_OK(strata_global_new(thread, cell, &global));
    return global;
}

static long global_value(strata_thread *thread, strata_global *global) {
    void *cell;
    EXPECT_OK(strata_global_get(thread, global, &cell));
    const struct cell *body;
    EXPECT_OK(strata_read(thread, cell, (const void **)&body));
    return body->value;
}

/* The root read last is read inline, across attempts, until a root is
 * made or freed: a root freed and another made at its address (malloc
 * hands the box back) is never taken for the old one. */
static void global_roots_inline(strata_heap *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    strata_global *a = global_cell(thread, 1);
    strata_global *b = global_cell(thread, 2);
    strata_thread_prefix *prefix = prefix_of(thread);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(global_value(thread, a) == 1);
    CHECK(prefix->global == a);
    void *first = prefix->global_obj;
    CHECK(global_value(thread, a) == 1);
    CHECK(global_value(thread, b) == 2);
    CHECK(prefix->global == b);
    CHECK(global_value(thread, a) == 1);
    CHECK(prefix->global_obj == first);
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(global_value(thread, a) == 1); /* a later attempt */
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_global_free(a));
    strata_global *c = global_cell(thread, 3);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(global_value(thread, c) == 3);
    CHECK(global_value(thread, b) == 2);
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_global_free(b));
    EXPECT_OK(strata_tx_begin(thread));
    void *obj = NULL;
    EXPECT(strata_global_get(thread, b, &obj), STRATA_ERROR_INVALID_GLOBAL);
    CHECK_LAST_ERROR_NAMES("strata_global_get");
    CHECK(global_value(thread, c) == 3);
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_global_free(c));
    EXPECT_OK(strata_thread_detach(thread));
}

/* Another thread's handle never takes an inline path, even while its
 * window is open. */
struct other {
    strata_thread *handle;
};

static void *use_other_handle(void *arg) {
    struct other *other = arg;
    CHECK(strata_self_() == (uintptr_t)pthread_self());
    void *obj = NULL;
    EXPECT(strata_alloc(other->handle, cell_types[0], &obj), STRATA_ERROR_WRONG_THREAD);
    EXPECT(strata_push_root(other->handle, NULL), STRATA_ERROR_WRONG_THREAD);
    EXPECT(strata_pop_root(other->handle, &obj), STRATA_ERROR_WRONG_THREAD);
    EXPECT(strata_peek_root(other->handle, 0, &obj), STRATA_ERROR_WRONG_THREAD);
    CHECK(obj == NULL);
    return NULL;
}

static void other_threads_take_no_inline_path(strata_heap *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    void *cell;
    EXPECT_OK(strata_alloc(thread, cell_types[0], &cell));
    EXPECT_OK(strata_push_root(thread, cell));
    void **top = prefix_of(thread)->roots_top;
    struct other other = {thread};
    /* The window stays open while the other thread (not attached, so no
     * collection waits for this one) tries the handle. */
    CHECK(prefix_of(thread)->fast_owner != 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, use_other_handle, &other) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(prefix_of(thread)->roots_top == top);
    EXPECT_OK(strata_pop_root(thread, NULL));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_thread_detach(thread));
}

/* A thread that pushes and allocates inline and exits in its transaction,
 * attached: its handle takes the window back before its last collection. */
static void *push_and_exit(void *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    for (int i = 0; i < 300; i++) {
        void *cell;
        EXPECT_OK(strata_alloc(thread, cell_types[i % CELL_TYPES], &cell));
        EXPECT_OK(strata_push_root(thread, cell));
    }
    return NULL;
}

static void exit_in_a_transaction(strata_heap *heap) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, push_and_exit, heap) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_thread_collect_major(thread));
    EXPECT_OK(strata_thread_detach(thread));
}

/* SHARED_CELLS committed cells in a refs array, under a global root. */
#define SHARED_CELLS 200
#define ELEMENT(i) (sizeof(uint64_t) + (i) * sizeof(void *))

static strata_global *shared_cells(strata_heap *heap, strata_thread *thread) {
    strata_type_desc desc = {0};
    desc.name = "cells";
    desc.layout = STRATA_LAYOUT_ARRAY;
    desc.element_bytes = sizeof(void *);
    desc.elements_are_refs = true;
    strata_type_id array_type;
    EXPECT_OK(strata_register_type(heap, &desc, &array_type));
    EXPECT_OK(strata_tx_begin(thread));
    void *array;
    EXPECT_OK(strata_alloc_array(thread, array_type, SHARED_CELLS, &array));
    EXPECT_OK(strata_push_root(thread, array));
    for (size_t i = 0; i < SHARED_CELLS; i++) {
        void *cell;
        EXPECT_OK(strata_alloc(thread, cell_types[0], &cell));
        struct cell *body;
        EXPECT_OK(strata_write(thread, cell, (void **)&body));
        body->value = (long)i;
        EXPECT_OK(strata_peek_root(thread, 0, &array));
        EXPECT_OK(strata_write_ref(thread, array, ELEMENT(i), cell));
    }
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_pop_root(thread, &array));
    strata_global *global;
    EXPECT_OK(strata_global_new(thread, array, &global));
    return global;
}

/* Cell i of the shared array, read in the open transaction. */
static void *shared_cell(strata_thread *thread, strata_global *cells, size_t i) {
    void *array;
    EXPECT_OK(strata_global_get(thread, cells, &array));
    const char *body;
    EXPECT_OK(strata_read(thread, array, (const void **)&body));
    void *cell;
    memcpy(&cell, body + ELEMENT(i), sizeof cell);
    return cell;
}

struct shared_write {
    strata_heap *heap;
    strata_global *cells;
    size_t index;
};

/* On a thread of its own: adds 1000 to one shared cell and commits. */
static void *write_shared_cell(void *arg) {
    struct shared_write *w = arg;
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(w->heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    struct cell *body;
    EXPECT_OK(strata_write(thread, shared_cell(thread, w->cells, w->index), (void **)&body));
    body->value += 1000;
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

/* Reads of committed objects nobody writes, with no older versions, are
 * inline and logged, once for reads in a row of one object, until the log
 * is full (then the library logs and hands out more room). A read logged
 * inline is validated at commit like any other: a write of the object
 * that commits first aborts the reader, whose own write vanishes. */
static void shared_reads_inline(strata_heap *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    strata_global *cells = shared_cells(heap, thread);
    strata_thread_prefix *prefix = prefix_of(thread);
    for (size_t written = 0; written < SHARED_CELLS; written += SHARED_CELLS - 1) {
        EXPECT_OK(strata_tx_begin(thread));
        void *array;
        EXPECT_OK(strata_global_get(thread, cells, &array));
        const void *body;
        const void **top = prefix->reads_top;
        EXPECT_OK(strata_read(thread, array, &body));
        CHECK(prefix->reads_top == top + 1 && top[0] == array);
        EXPECT_OK(strata_read(thread, array, &body));
        CHECK(prefix->reads_top == top + 1);
        /* Rounds over the cells until the log was full once (the library
         * then gives it more room, at another address maybe). */
        const void **end = prefix->reads_end;
        bool refilled = false;
        for (size_t round = 0; !refilled && round < 64; round++) {
            for (size_t i = 0; i < SHARED_CELLS; i++) {
            void *cell = shared_cell(thread, cells, i);
            const void **before = prefix->reads_top;
            bool full = before == prefix->reads_end;
            long reads = slow_reads;
            const struct cell *read;
            EXPECT_OK(strata_read(thread, cell, (const void **)&read));
            /* A call only for a full log, or a cell written before. */
            CHECK((slow_reads == reads) == !(full || (i == 0 && written > 0)));
            CHECK(read->value == (long)i + (i == 0 && written == SHARED_CELLS - 1 ? 1000 : 0));
            /* Reads of the array and the cell alternate: each is logged. */
            CHECK(prefix->reads_top[-1] == cell);
            if (full) {
                CHECK(prefix->reads_end - prefix->reads_top >= 64);
            } else {
                CHECK(prefix->reads_top == before + 1);
            }
            refilled = refilled || prefix->reads_end != end;
            }
        }
        CHECK(refilled);
        struct shared_write w = {heap, cells, written};
        pthread_t t;
        CHECK(pthread_create(&t, NULL, write_shared_cell, &w) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        /* A first write (a call) so that the commit validates. */
        struct cell *mine;
        EXPECT_OK(strata_write(thread, shared_cell(thread, cells, 100), (void **)&mine));
        mine->value = -1;
        EXPECT(strata_tx_commit(thread), STRATA_ABORTED);
    }
    /* Nothing of the aborted attempts shows; the written cells have older
     * versions now, so their reads are calls. */
    EXPECT_OK(strata_tx_begin(thread));
    for (size_t i = 0; i < SHARED_CELLS; i++) {
        void *cell = shared_cell(thread, cells, i);
        const struct cell *read;
        EXPECT_OK(strata_read(thread, cell, (const void **)&read));
        bool written = i == 0 || i == SHARED_CELLS - 1;
        CHECK(read->value == (long)i + (written ? 1000 : 0));
        CHECK((((const uint64_t *)cell)[1] != 0) == written);
    }
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_global_free(cells));
    EXPECT_OK(strata_thread_detach(thread));
}

/* Allocates a young cell of value and stores it into the next slot of
 * target (inline when the store needs no remembered-set entry), after
 * checking that the cell stored there last, of value - 1, survived the
 * collections the allocation may have run. target is read back from the
 * top of the shadow stack (it may move: a private object promoted). */
static void store_young_next(strata_thread *thread, long value) {
    void *young;
    EXPECT_OK(strata_alloc(thread, cell_types[0], &young));
    void *target;
    EXPECT_OK(strata_peek_root(thread, 0, &target));
    const struct cell *read;
    EXPECT_OK(strata_read(thread, target, (const void **)&read));
    if (value > 0) {
        const struct cell *last;
        EXPECT_OK(strata_read(thread, read->next, (const void **)&last));
        CHECK(last->value == value - 1);
    }
    struct cell *body;
    EXPECT_OK(strata_write(thread, young, (void **)&body));
    body->value = value;
    EXPECT_OK(strata_write_ref(thread, target, offsetof(struct cell, next), young));
}

/* The committed object a transaction wrote last is read and written
 * through its copy inline; references stored inline into old objects
 * (that copy, a private object promoted during the attempt) are found by
 * the minor collections that follow, through the remembered set. */
static void owned_and_old_targets_inline(strata_heap *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    strata_global *cells = shared_cells(heap, thread);
    strata_thread_prefix *prefix = prefix_of(thread);
    EXPECT_OK(strata_tx_begin(thread));
    void *cell = shared_cell(thread, cells, 5);
    struct cell *body;
    EXPECT_OK(strata_write(thread, cell, (void **)&body));
    CHECK(prefix->owned_anchor == cell);
    CHECK((char *)body == (char *)prefix->owned_copy + STRATA_VERSION_HEADER_BYTES);
    body->value = 555;
    long reads = slow_reads, writes = slow_writes;
    const struct cell *read;
    EXPECT_OK(strata_read(thread, cell, (const void **)&read));
    CHECK(read == body && read->value == 555);
    struct cell *again;
    EXPECT_OK(strata_write(thread, cell, (void **)&again));
    CHECK(again == body);
    CHECK(slow_reads == reads && slow_writes == writes);
    /* The anchor is old and does not move: it is its own root here. */
    EXPECT_OK(strata_push_root(thread, cell));
    long stores = slow_write_refs;
    for (long i = 0; i < 3000; i++) store_young_next(thread, i);
    /* A slow store after each minor collection (the copy is remembered
     * again), the others inline. */
    CHECK(slow_write_refs - stores < 1000);
    EXPECT_OK(strata_pop_root(thread, NULL));
    /* A private object, promoted by the collections that follow. */
    void *holder;
    EXPECT_OK(strata_alloc(thread, cell_types[0], &holder));
    EXPECT_OK(strata_push_root(thread, holder));
    stores = slow_write_refs;
    for (long i = 0; i < 3000; i++) store_young_next(thread, i);
    CHECK(slow_write_refs - stores < 1000);
    EXPECT_OK(strata_peek_root(thread, 0, &holder));
    CHECK((((const uint64_t *)holder)[0] & STRATA_HEADER_PRIVATE) != 0);
    CHECK((uintptr_t)holder - prefix->nursery_start >= prefix->nursery_end - prefix->nursery_start);
    EXPECT_OK(strata_pop_root(thread, NULL));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_tx_begin(thread));
    cell = shared_cell(thread, cells, 5);
    EXPECT_OK(strata_read(thread, cell, (const void **)&read));
    CHECK(read->value == 555);
    const struct cell *next;
    EXPECT_OK(strata_read(thread, read->next, (const void **)&next));
    CHECK(next->value == 2999);
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_global_free(cells));
    EXPECT_OK(strata_thread_detach(thread));
}

/* First writes of committed objects of two fixed-size types in turn, one
 * with a 16-byte body and one with 80 bytes: each copy holds its object's
 * whole body (the library caches the body size of the type it copied
 * last), so every word written before and after the copies is there
 * after the commit. */
#define WORDS_OF(type_index) ((sizeof(struct cell) + 16 * (type_index)) / 8)

static void first_writes_copy_whole_bodies(strata_heap *heap) {
    strata_thread *thread;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    enum { OBJECTS = 8 };
    strata_global *roots[OBJECTS];
    for (size_t n = 0; n < OBJECTS; n++) {
        size_t type_index = n % 2 == 0 ? 0 : 4;
        EXPECT_OK(strata_tx_begin(thread));
        void *obj;
        EXPECT_OK(strata_alloc(thread, cell_types[type_index], &obj));
        uint64_t *body;
        EXPECT_OK(strata_write(thread, obj, (void **)&body));
        /* Word 0 is the reference slot: left NULL. */
        for (size_t w = 1; w < WORDS_OF(type_index); w++) body[w] = n * 100 + w;
        EXPECT_OK(strata_push_root(thread, obj));
        EXPECT_OK(strata_tx_commit(thread));
        EXPECT_OK(strata_pop_root(thread, &obj));
        EXPECT_OK(strata_global_new(thread, obj, &roots[n]));
    }
    EXPECT_OK(strata_tx_begin(thread));
    for (size_t n = 0; n < OBJECTS; n++) {
        void *obj;
        EXPECT_OK(strata_global_get(thread, roots[n], &obj));
        uint64_t *body;
        EXPECT_OK(strata_write(thread, obj, (void **)&body));
        body[1] += 1;
    }
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_tx_begin(thread));
    for (size_t n = 0; n < OBJECTS; n++) {
        size_t type_index = n % 2 == 0 ? 0 : 4;
        void *obj;
        EXPECT_OK(strata_global_get(thread, roots[n], &obj));
        const uint64_t *body;
        EXPECT_OK(strata_read(thread, obj, (const void **)&body));
        for (size_t w = 1; w < WORDS_OF(type_index); w++) {
            CHECK(body[w] == n * 100 + w + (w == 1 ? 1 : 0));
        }
    }
    EXPECT_OK(strata_tx_commit(thread));
    for (size_t n = 0; n < OBJECTS; n++) EXPECT_OK(strata_global_free(roots[n]));
    EXPECT_OK(strata_thread_detach(thread));
}

int main(void) {
    strata_heap *heap = tiny_heap();
    window_follows_the_transaction(heap);
    many_cells_across_collections(heap);
    abort_restores_the_stack(heap);
    global_roots_inline(heap);
    other_threads_take_no_inline_path(heap);
    exit_in_a_transaction(heap);
    shared_reads_inline(heap);
    owned_and_old_targets_inline(heap);
    first_writes_copy_whole_bodies(heap);
    EXPECT_OK(strata_heap_destroy(heap));
    printf("inline_window: ok\n");
    return 0;
}
