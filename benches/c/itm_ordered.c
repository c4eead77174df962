/* The ordered sets of intset (skip list, red-black tree) in C with GCC
 * transactional memory: the same algorithms as benches/src/workloads/ordered.rs
 * (deterministic skip-list levels from a hash of the key; CLRS red-black tree
 * with NULL leaves), driven by c/intset_driver.c. Removed nodes are
 * leaked: libitm has no safe reclamation for data a concurrent transaction
 * may still read. */
#include <stdint.h>
#include <stdlib.h>

#define TS __attribute__((transaction_safe))
#define MAX_LEVEL 12

static TS int level_of(long key) {
    uint64_t h = (uint64_t)key ^ 0x9e3779b97f4a7c15ull;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    int zeros = h ? __builtin_ctzll(h) : 64;
    return 1 + zeros < MAX_LEVEL ? 1 + zeros : MAX_LEVEL;
}

/* ---- skip list ---- */

typedef struct snode {
    long key;
    struct snode *next[MAX_LEVEL];
} snode;

static TS snode *skip_find(snode *head, long key, snode **preds) {
    snode *node = head;
    for (int level = MAX_LEVEL - 1; level >= 0; level--) {
        while (node->next[level] && node->next[level]->key < key) node = node->next[level];
        preds[level] = node;
    }
    snode *found = node->next[0];
    return found && found->key == key ? found : NULL;
}

static TS int skip_op(snode *head, int kind, long key, snode *fresh) {
    snode *preds[MAX_LEVEL];
    snode *found = skip_find(head, key, preds);
    if (kind == 2) return found != NULL;
    if (kind == 0) {
        if (found) return 0;
        fresh->key = key;
        for (int l = 0; l < level_of(key); l++) {
            fresh->next[l] = preds[l]->next[l];
            preds[l]->next[l] = fresh;
        }
        return 1;
    }
    if (!found) return 0;
    for (int l = 0; l < level_of(key); l++)
        if (preds[l]->next[l] == found) preds[l]->next[l] = found->next[l];
    return 1;
}

/* ---- red-black tree ---- */

typedef struct rnode {
    long key;
    int red;
    struct rnode *child[2], *parent;
} rnode;

typedef struct { rnode *root; } rtree;

static TS int is_red(rnode *n) { return n && n->red; }

static TS void replace_child(rtree *t, rnode *u, rnode *v) {
    rnode *p = u->parent;
    if (!p) t->root = v;
    else p->child[p->child[1] == u] = v;
    if (v) v->parent = p;
}

/* right: the left child rises. */
static TS void rotate(rtree *t, rnode *x, int right) {
    rnode *y = x->child[!right];
    rnode *inner = y->child[right];
    x->child[!right] = inner;
    if (inner) inner->parent = x;
    replace_child(t, x, y);
    y->child[right] = x;
    x->parent = y;
}

static TS rnode *rb_find(rtree *t, long key) {
    rnode *n = t->root;
    while (n && n->key != key) n = n->child[key > n->key];
    return n;
}

static TS int rb_insert(rtree *t, long key, rnode *z) {
    rnode *parent = NULL, *cur = t->root;
    int right = 0;
    while (cur) {
        if (cur->key == key) return 0;
        right = key > cur->key;
        parent = cur;
        cur = cur->child[right];
    }
    z->key = key;
    z->red = 1;
    z->child[0] = z->child[1] = NULL;
    z->parent = parent;
    if (!parent) t->root = z;
    else parent->child[right] = z;
    while (z->parent && z->parent->red) {
        rnode *p = z->parent, *g = p->parent;
        int p_right = g->child[1] == p;
        rnode *uncle = g->child[!p_right];
        if (is_red(uncle)) {
            p->red = 0;
            uncle->red = 0;
            g->red = 1;
            z = g;
            continue;
        }
        if (p->child[!p_right] == z) {
            z = p;
            rotate(t, z, p_right);
        }
        p = z->parent;
        g = p->parent;
        p->red = 0;
        g->red = 1;
        rotate(t, g, !p_right);
    }
    t->root->red = 0;
    return 1;
}

static TS void remove_fixup(rtree *t, rnode *x, rnode *parent) {
    while (x != t->root && !is_red(x) && parent) {
        rnode *p = parent;
        int x_left = p->child[0] == x;
        rnode *w = p->child[x_left];
        if (w->red) {
            w->red = 0;
            p->red = 1;
            rotate(t, p, !x_left);
            w = p->child[x_left];
        }
        rnode *near = w->child[!x_left], *far = w->child[x_left];
        if (!is_red(near) && !is_red(far)) {
            w->red = 1;
            x = p;
            parent = p->parent;
        } else {
            if (!is_red(far)) {
                near->red = 0;
                w->red = 1;
                rotate(t, w, x_left);
                w = p->child[x_left];
            }
            w->red = p->red;
            p->red = 0;
            if (w->child[x_left]) w->child[x_left]->red = 0;
            rotate(t, p, !x_left);
            x = t->root;
            parent = NULL;
        }
    }
    if (x) x->red = 0;
}

static TS int rb_remove(rtree *t, long key) {
    rnode *z = rb_find(t, key);
    if (!z) return 0;
    rnode *x, *x_parent;
    int removed_red;
    if (!z->child[0] || !z->child[1]) {
        x = z->child[0] ? z->child[0] : z->child[1];
        x_parent = z->parent;
        removed_red = z->red;
        replace_child(t, z, x);
    } else {
        rnode *y = z->child[1];
        while (y->child[0]) y = y->child[0];
        removed_red = y->red;
        x = y->child[1];
        if (y->parent == z) {
            x_parent = y;
        } else {
            x_parent = y->parent;
            replace_child(t, y, x);
            y->child[1] = z->child[1];
            y->child[1]->parent = y;
        }
        replace_child(t, z, y);
        y->child[0] = z->child[0];
        y->child[0]->parent = y;
        y->red = z->red;
    }
    if (!removed_red) remove_fixup(t, x, x_parent);
    return 1;
}

static TS int rb_op(rtree *t, int kind, long key, rnode *fresh) {
    if (kind == 0) return rb_insert(t, key, fresh);
    if (kind == 1) return rb_remove(t, key);
    return rb_find(t, key) != NULL;
}

/* ---- the shared driver ---- */

typedef struct {
    int rb;
    snode *head;
    rtree tree;
} itm_ordered;

itm_ordered *itm_ordered_new(int rb) {
    itm_ordered *s = calloc(1, sizeof *s);
    s->rb = rb;
    s->head = calloc(1, sizeof(snode));
    s->head->key = INT64_MIN;
    return s;
}

/* 0 insert, 1 remove, 2 contains; returns whether it changed/found. */
int itm_ordered_op(void *set, int kind, long key) {
    itm_ordered *s = set;
    void *fresh = kind == 0 ? calloc(1, s->rb ? sizeof(rnode) : sizeof(snode)) : NULL;
    int result;
    __transaction_atomic {
        result = s->rb ? rb_op(&s->tree, kind, key, fresh) : skip_op(s->head, kind, key, fresh);
    }
    if (kind == 0 && !result) free(fresh);
    return result;
}

static size_t rb_count(rnode *n) { return n ? 1 + rb_count(n->child[0]) + rb_count(n->child[1]) : 0; }

size_t itm_ordered_size(itm_ordered *s) {
    if (s->rb) return rb_count(s->tree.root);
    size_t n = 0;
    for (snode *x = s->head->next[0]; x; x = x->next[0]) n++;
    return n;
}
