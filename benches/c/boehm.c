/* Boehm GC peers: binary-trees and GCBench nodes allocated with GC_MALLOC,
 * the way the Benchmarks Game's GC'd C entries do. */
#define GC_THREADS
#include <gc.h>
#include <stdint.h>

typedef struct tree {
    struct tree *left, *right;
} tree;

void boehm_init(void) {
    GC_INIT();
    GC_allow_register_threads();
}

int boehm_register_thread(void) {
    struct GC_stack_base base;
    if (GC_get_stack_base(&base) != GC_SUCCESS) return -1;
    return GC_register_my_thread(&base);
}

void boehm_unregister_thread(void) { GC_unregister_my_thread(); }


static tree *make(int depth) {
    tree *t = GC_MALLOC(sizeof *t);
    if (depth > 0) {
        t->left = make(depth - 1);
        t->right = make(depth - 1);
    }
    return t;
}

static long check(const tree *t) {
    return t->left ? 1 + check(t->left) + check(t->right) : 1;
}

/* Builds and checks `iterations` trees of `depth`; returns the node total. */
long boehm_trees(int depth, long iterations) {
    long total = 0;
    for (long i = 0; i < iterations; i++) total += check(make(depth));
    return total;
}

/* A long-lived tree, kept by the caller (the collector sees it on the
 * stack or in registers of the caller, and in this static). */
static tree *long_lived;

long boehm_long_lived(int depth) {
    long_lived = make(depth);
    return check(long_lived);
}

long boehm_check_long_lived(void) { return check(long_lived); }

/* GCBench: top-down construction fills an empty node's children. */
static void populate(int depth, tree *t) {
    if (depth <= 0) return;
    t->left = GC_MALLOC(sizeof *t);
    t->right = GC_MALLOC(sizeof *t);
    populate(depth - 1, t->left);
    populate(depth - 1, t->right);
}

long boehm_gcbench_depth(int depth, long iterations) {
    long total = 0;
    for (long i = 0; i < iterations; i++) {
        tree *top_down = GC_MALLOC(sizeof *top_down);
        populate(depth, top_down);
        total += check(top_down);
        total += check(make(depth));
    }
    return total;
}

/* GCBench's array of doubles, kept alive across the run. */
static double *array;

double boehm_gcbench_array(long len) {
    array = GC_MALLOC_ATOMIC(sizeof(double) * (size_t)len);
    double sum = 0;
    for (long i = 0; i < len; i++) array[i] = 1.0 / (double)(i + 1);
    for (long i = 0; i < len; i++) sum += array[i];
    return sum;
}
