/* The intset workload in C with GCC transactional memory: a sorted linked
 * list ("list") or a table of sorted lists ("hash"), keys 0..range, the same
 * operation mix and generator as strata-bench's other runtimes. */
#include <stdlib.h>

typedef struct node {
    long key;
    struct node *next;
} node;

typedef struct {
    node **buckets;
    size_t nbuckets;
} itm_set;

itm_set *itm_set_new(size_t nbuckets) {
    itm_set *set = malloc(sizeof *set);
    set->nbuckets = nbuckets;
    set->buckets = calloc(nbuckets, sizeof(node *));
    return set;
}

void itm_set_free(itm_set *set) {
    for (size_t b = 0; b < set->nbuckets; b++) {
        node *n = set->buckets[b];
        while (n) {
            node *next_node = n->next;
            free(n);
            n = next_node;
        }
    }
    free(set->buckets);
    free(set);
}

/* Returns 1 if inserted (not present before). */
int itm_set_insert(itm_set *set, long key) {
    int inserted = 0;
    node *fresh = malloc(sizeof *fresh);
    __transaction_atomic {
        node **link = &set->buckets[(size_t)key % set->nbuckets];
        while (*link && (*link)->key < key) link = &(*link)->next;
        if (!*link || (*link)->key != key) {
            fresh->key = key;
            fresh->next = *link;
            *link = fresh;
            inserted = 1;
        }
    }
    if (!inserted) free(fresh);
    return inserted;
}

/* Returns 1 if removed. The node is leaked on purpose: a concurrent
 * transaction may still be reading it (libitm has no safe reclamation for
 * user data), so freeing it would be a use after free. */
int itm_set_remove(itm_set *set, long key) {
    int removed = 0;
    __transaction_atomic {
        node **link = &set->buckets[(size_t)key % set->nbuckets];
        while (*link && (*link)->key < key) link = &(*link)->next;
        if (*link && (*link)->key == key) {
            *link = (*link)->next;
            removed = 1;
        }
    }
    return removed;
}

int itm_set_contains(itm_set *set, long key) {
    int found = 0;
    __transaction_atomic {
        node *n = set->buckets[(size_t)key % set->nbuckets];
        while (n && n->key < key) n = n->next;
        found = n && n->key == key;
    }
    return found;
}

size_t itm_set_size(itm_set *set) {
    size_t count = 0;
    for (size_t b = 0; b < set->nbuckets; b++)
        for (node *n = set->buckets[b]; n; n = n->next) count++;
    return count;
}

/* One operation for the shared driver: 0 insert, 1 remove, 2 contains. */
int itm_set_op(void *set, int kind, long key) {
    itm_set *s = set;
    if (kind == 0) return itm_set_insert(s, key);
    if (kind == 1) return itm_set_remove(s, key);
    return itm_set_contains(s, key);
}
