/* binary-trees in C against strata.h: the same trees as the Rust strata
 * rows (src/workloads/binary_trees.rs, tx_tree.rs), one transaction per
 * tree, built through the shadow stack and counted through strata_read.
 * The Rust side runs the plan: the stretch and long-lived trees on the
 * thread that made the heap, each depth's iterations on worker threads
 * that attach for it (strata_trees_work) while that thread waits in a
 * blocking section. */
#include <stdlib.h>

#include "strata_c.h"

/* A node's body: two references, both NULL in a leaf. */
struct node {
    void *left;
    void *right;
};

typedef struct strata_trees {
    strata_heap *heap;
    strata_type_id node_type;
    /* The thread that made the heap; it holds the long-lived tree on its
     * shadow stack. */
    strata_thread *owner;
} strata_trees;

/* Builds a complete tree of depth in the open transaction: each node is
 * made before its subtrees, as the Rust rows do. The node waits on the
 * shadow stack while its subtrees are built (they may collect). */
static strata_status make(strata_thread *thread, strata_type_id type, int depth,
                          void **tree_out) {
    void *node;
    TRY(strata_alloc(thread, type, &node));
    if (depth > 0) {
        TRY(strata_push_root(thread, node));
        void *child;
        TRY(make(thread, type, depth - 1, &child));
        TRY(strata_peek_root(thread, 0, &node));
        TRY(strata_write_ref(thread, node, offsetof(struct node, left), child));
        TRY(make(thread, type, depth - 1, &child));
        TRY(strata_pop_root(thread, &node));
        TRY(strata_write_ref(thread, node, offsetof(struct node, right), child));
    }
    *tree_out = node;
    return STRATA_OK;
}

/* The number of nodes of the tree at node (reads do not collect). */
static strata_status count(strata_thread *thread, const void *node, uint64_t *count_out) {
    const struct node *body;
    TRY(strata_read(thread, node, (const void **)&body));
    if (body->left == NULL) {
        *count_out = 1;
        return STRATA_OK;
    }
    uint64_t left, right;
    TRY(count(thread, body->left, &left));
    TRY(count(thread, body->right, &right));
    *count_out = 1 + left + right;
    return STRATA_OK;
}

/* Builds a tree of depth and counts it, in one transaction. */
static strata_status one_tree(strata_thread *thread, strata_type_id type, int depth,
                              uint64_t *count_out) {
    for (;;) {
        TRY(strata_tx_begin(thread));
        void *tree;
        strata_status status = make(thread, type, depth, &tree);
        if (status == STRATA_OK) status = count(thread, tree, count_out);
        if (status != STRATA_OK && status != STRATA_ABORTED) return status;
        /* A doomed attempt aborts here; rerun it. */
        status = strata_tx_commit(thread);
        if (status != STRATA_ABORTED) return status;
    }
}

/* Makes the heap and its node type, and attaches the calling thread. */
strata_status strata_trees_new(strata_trees **trees_out) {
    strata_trees *trees = calloc(1, sizeof *trees);
    if (trees == NULL) return STRATA_ERROR_SYSTEM;
    *trees_out = trees;
    TRY(strata_c_heap_new(&trees->heap));
    uint32_t refs[2] = {offsetof(struct node, left), offsetof(struct node, right)};
    strata_type_desc node = {0};
    node.name = "node";
    node.layout = STRATA_LAYOUT_FIXED;
    node.body_bytes = sizeof(struct node);
    node.ref_offsets = refs;
    node.ref_offset_count = 2;
    TRY(strata_register_type(trees->heap, &node, &trees->node_type));
    return strata_thread_attach(trees->heap, &trees->owner);
}

/* On the heap's thread: builds and counts one tree of depth. */
strata_status strata_trees_one(strata_trees *trees, int depth, uint64_t *count_out) {
    return one_tree(trees->owner, trees->node_type, depth, count_out);
}

/* On the heap's thread: builds the long-lived tree and keeps it on the
 * shadow stack. */
strata_status strata_trees_keep(strata_trees *trees, int depth) {
    strata_thread *thread = trees->owner;
    for (;;) {
        TRY(strata_tx_begin(thread));
        void *tree;
        strata_status status = make(thread, trees->node_type, depth, &tree);
        if (status == STRATA_OK) status = strata_push_root(thread, tree);
        if (status != STRATA_OK && status != STRATA_ABORTED) return status;
        status = strata_tx_commit(thread);
        if (status != STRATA_ABORTED) return status;
    }
}

/* On the heap's thread: waits (a blocking section) while workers run, or
 * comes back. */
strata_status strata_trees_wait(strata_trees *trees, int waiting) {
    return waiting ? strata_thread_enter_blocking(trees->owner)
                   : strata_thread_leave_blocking(trees->owner);
}

/* On a worker thread: attaches, builds and counts iterations trees of
 * depth, one transaction each, and detaches; *sum_out gets their nodes. */
strata_status strata_trees_work(strata_trees *trees, int depth, uint64_t iterations,
                                uint64_t *sum_out) {
    strata_thread *thread;
    TRY(strata_thread_attach(trees->heap, &thread));
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iterations; i++) {
        uint64_t nodes;
        TRY(one_tree(thread, trees->node_type, depth, &nodes));
        sum += nodes;
    }
    *sum_out = sum;
    return strata_thread_detach(thread);
}

/* On the heap's thread: counts the long-lived tree, lets it go, detaches,
 * reports the heap's counters and destroys it. */
strata_status strata_trees_finish(strata_trees *trees, uint64_t *long_lived_out,
                                  strata_c_counts *counts) {
    strata_thread *thread = trees->owner;
    for (;;) {
        TRY(strata_tx_begin(thread));
        void *tree;
        TRY(strata_peek_root(thread, 0, &tree));
        TRY(count(thread, tree, long_lived_out));
        strata_status status = strata_tx_commit(thread);
        if (status == STRATA_OK) break;
        if (status != STRATA_ABORTED) return status;
    }
    TRY(strata_pop_root(thread, NULL));
    TRY(strata_thread_detach(thread));
    TRY(strata_c_heap_finish(trees->heap, counts));
    free(trees);
    return STRATA_OK;
}
