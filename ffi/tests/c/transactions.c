/* Transactions from C: a tree built across collections through the shadow
 * stack and traversed; updates kept by commit and undone by abort; a bank
 * of 8 threads moving money between accounts shared by a global root,
 * with audits checking the total; a conflict that dooms the second writer;
 * a thread that exits in the middle of a transaction. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

static strata_type_id node_type;
static strata_type_id account_type;
static strata_type_id accounts_type;

static void register_types(strata_heap *heap) {
    strata_type_desc node = fixed_type("node", sizeof(struct node), NULL, 0);
    node.trace = trace_node;
    EXPECT_OK(strata_register_type(heap, &node, &node_type));
    strata_type_desc account = fixed_type("account", sizeof(long), NULL, 0);
    EXPECT_OK(strata_register_type(heap, &account, &account_type));
    strata_type_desc accounts = {0};
    accounts.name = "accounts";
    accounts.layout = STRATA_LAYOUT_ARRAY;
    accounts.element_bytes = 8;
    accounts.elements_are_refs = true;
    EXPECT_OK(strata_register_type(heap, &accounts, &accounts_type));
}

static void *peek(strata_thread *thread, size_t depth) {
    void *obj = NULL;
    EXPECT_OK(strata_peek_root(thread, depth, &obj));
    return obj;
}

/* A tree of the given depth; its address is valid until the next call
 * that may collect. Every address kept across one is on the shadow stack. */
static void *make_tree(strata_thread *thread, int depth) {
    void *node = NULL;
    EXPECT_OK(strata_alloc(thread, node_type, &node));
    EXPECT_OK(strata_push_root(thread, node));
    if (depth > 0) {
        EXPECT_OK(strata_push_root(thread, make_tree(thread, depth - 1)));
        EXPECT_OK(strata_push_root(thread, make_tree(thread, depth - 1)));
        /* The stack: node, left, right (top). */
        EXPECT_OK(strata_write_ref(thread, peek(thread, 2), offsetof(struct node, left),
                                   peek(thread, 1)));
        EXPECT_OK(strata_write_ref(thread, peek(thread, 2), offsetof(struct node, right),
                                   peek(thread, 0)));
        EXPECT_OK(strata_pop_root(thread, NULL));
        EXPECT_OK(strata_pop_root(thread, NULL));
    }
    if (depth == 6) {
        /* An explicit minor collection: every young node moves. */
        EXPECT_OK(strata_thread_collect_minor(thread));
    }
    struct node *body = NULL;
    EXPECT_OK(strata_write(thread, peek(thread, 0), (void **)&body));
    body->value = depth;
    EXPECT_OK(strata_pop_root(thread, &node));
    return node;
}

/* Counts the nodes of a tree and sums their values. Reads do not collect,
 * so the addresses stay valid. */
static long walk(strata_thread *thread, const void *tree, long *sum) {
    if (tree == NULL) {
        return 0;
    }
    const struct node *body = NULL;
    EXPECT_OK(strata_read(thread, tree, (const void **)&body));
    *sum += body->value;
    return 1 + walk(thread, body->left, sum) + walk(thread, body->right, sum);
}

enum { DEPTH = 12 };

static long expected_sum(int depth) {
    return depth == 0 ? 0 : depth + 2 * expected_sum(depth - 1);
}

static void commit(strata_thread *thread) {
    EXPECT_OK(strata_tx_commit(thread));
}

static void trees(strata_heap *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    strata_stats before;
    EXPECT_OK(strata_heap_stats(heap, &before));
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT_OK(strata_push_root(thread, make_tree(thread, DEPTH)));
    commit(thread);
    EXPECT_OK(strata_thread_collect_major(thread));

    long sum = 0;
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(walk(thread, peek(thread, 0), &sum) == (1L << (DEPTH + 1)) - 1);
    CHECK(sum == expected_sum(DEPTH));
    commit(thread);

    /* An update, aborted, then committed. */
    for (int keep = 0; keep < 2; keep++) {
        EXPECT_OK(strata_tx_begin(thread));
        struct node *root = NULL;
        EXPECT_OK(strata_write(thread, peek(thread, 0), (void **)&root));
        root->value += 1000;
        bool doomed = true;
        EXPECT_OK(strata_tx_doomed(thread, &doomed));
        CHECK(!doomed);
        if (keep) {
            commit(thread);
        } else {
            EXPECT_OK(strata_tx_abort(thread));
        }
        sum = 0;
        EXPECT_OK(strata_tx_begin(thread));
        walk(thread, peek(thread, 0), &sum);
        commit(thread);
        CHECK(sum == expected_sum(DEPTH) + 1000 * keep);
    }

    strata_stats after;
    EXPECT_OK(strata_heap_stats(heap, &after));
    EXPECT_OK(strata_pop_root(thread, NULL));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_stats(heap, &after));
    CHECK(after.commits >= before.commits + 5);
    CHECK(after.aborts >= before.aborts + 1);
    CHECK(after.aborts_requested >= before.aborts_requested + 1);
    CHECK(after.promoted_bytes > 0);
}

enum { ACCOUNTS = 16, BALANCE = 100, THREADS = 8, TRANSFERS = 400 };

static strata_global *bank;

/* Makes the accounts and their global root. */
static void open_bank(strata_thread *thread) {
    EXPECT_OK(strata_tx_begin(thread));
    void *accounts = NULL;
    EXPECT_OK(strata_alloc_array(thread, accounts_type, ACCOUNTS, &accounts));
    EXPECT_OK(strata_push_root(thread, accounts));
    for (size_t i = 0; i < ACCOUNTS; i++) {
        void *account = NULL;
        EXPECT_OK(strata_alloc(thread, account_type, &account));
        long *balance = NULL;
        EXPECT_OK(strata_write(thread, account, (void **)&balance));
        *balance = BALANCE;
        EXPECT_OK(strata_write_ref(thread, peek(thread, 0), 8 + 8 * i, account));
    }
    commit(thread);
    EXPECT_OK(strata_global_new(thread, peek(thread, 0), &bank));
    EXPECT_OK(strata_pop_root(thread, NULL));
}

/* The account i of the bank, in the open transaction; STRATA_ABORTED when
 * the transaction is doomed. */
static void *account(strata_thread *thread, size_t i) {
    void *accounts = NULL;
    EXPECT_OK(strata_global_get(thread, bank, &accounts));
    void *const *body = NULL;
    EXPECT_OK(strata_read(thread, accounts, (const void **)&body));
    CHECK((size_t)body[0] == ACCOUNTS);
    return body[1 + i];
}

/* Adds amount to account i; false when the transaction is doomed. */
static bool add(strata_thread *thread, size_t i, long amount) {
    long *balance = NULL;
    strata_status status = strata_write(thread, account(thread, i), (void **)&balance);
    if (status == STRATA_ABORTED) {
        return false;
    }
    EXPECT_OK(status);
    *balance += amount;
    return true;
}

static long audit(strata_thread *thread) {
    long total = 0;
    EXPECT_OK(strata_tx_begin(thread));
    for (size_t i = 0; i < ACCOUNTS; i++) {
        const long *balance = NULL;
        EXPECT_OK(strata_read(thread, account(thread, i), (const void **)&balance));
        total += *balance;
    }
    commit(thread);
    return total;
}

static void *teller(void *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach((strata_heap *)heap, &thread));
    unsigned seed = (unsigned)(size_t)&thread;
    for (int n = 0; n < TRANSFERS; n++) {
        seed = seed * 1103515245u + 12345u;
        size_t from = (seed >> 8) % ACCOUNTS;
        size_t to = (seed >> 16) % ACCOUNTS;
        for (;;) {
            EXPECT_OK(strata_tx_begin(thread));
            if (add(thread, from, -7)) {
                add(thread, to, 7);
            }
            strata_status status = strata_tx_commit(thread);
            if (status == STRATA_OK) {
                break;
            }
            EXPECT(status, STRATA_ABORTED);
        }
        if (n % 50 == 0) {
            CHECK(audit(thread) == ACCOUNTS * BALANCE);
        }
    }
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static void banking(strata_heap *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    open_bank(thread);
    pthread_t tellers[THREADS];
    EXPECT_OK(strata_thread_enter_blocking(thread));
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&tellers[i], NULL, teller, heap) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(tellers[i], NULL) == 0);
    }
    EXPECT_OK(strata_thread_leave_blocking(thread));
    CHECK(audit(thread) == ACCOUNTS * BALANCE);
    EXPECT_OK(strata_thread_detach(thread));
}

/* Two writers of one account, in a fixed order. */
struct duel {
    strata_heap *heap;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stage; /* 1: the first owns the account; 2: the second is doomed;
                * 3: the first committed */
};

static void set_stage(struct duel *d, int stage) {
    pthread_mutex_lock(&d->lock);
    d->stage = stage;
    pthread_cond_broadcast(&d->changed);
    pthread_mutex_unlock(&d->lock);
}

/* Waits, in a blocking section, until the duel reaches stage. */
static void wait_for_stage(strata_thread *thread, struct duel *d, int stage) {
    EXPECT_OK(strata_thread_enter_blocking(thread));
    pthread_mutex_lock(&d->lock);
    while (d->stage < stage) {
        pthread_cond_wait(&d->changed, &d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    EXPECT_OK(strata_thread_leave_blocking(thread));
}

static void *first_writer(void *arg) {
    struct duel *d = (struct duel *)arg;
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(d->heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(add(thread, 0, 1));
    set_stage(d, 1);
    wait_for_stage(thread, d, 2);
    commit(thread);
    set_stage(d, 3);
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static void conflict(strata_heap *heap) {
    struct duel d;
    d.heap = heap;
    d.stage = 0;
    pthread_mutex_init(&d.lock, NULL);
    pthread_cond_init(&d.changed, NULL);
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    long before = audit(thread);
    pthread_t first;
    CHECK(pthread_create(&first, NULL, first_writer, &d) == 0);
    wait_for_stage(thread, &d, 1);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(!add(thread, 0, -1)); /* the first writer owns it: doomed */
    bool doomed = false;
    EXPECT_OK(strata_tx_doomed(thread, &doomed));
    CHECK(doomed);
    EXPECT(strata_write(thread, account(thread, 1), &(void *){NULL}), STRATA_ABORTED);
    /* An object the doomed attempt made refuses writes too (the inline
     * path does not take it), while reads of it still work, inline. */
    void *made = NULL;
    EXPECT_OK(strata_alloc(thread, account_type, &made));
    EXPECT(strata_write(thread, made, &(void *){NULL}), STRATA_ABORTED);
    const void *seen = NULL;
    EXPECT_OK(strata_read(thread, made, &seen));
    CHECK(seen == (const char *)made + STRATA_HEADER_BYTES);
    EXPECT(strata_tx_commit(thread), STRATA_ABORTED);
    CHECK_LAST_ERROR_NAMES("strata_tx_commit");
    set_stage(&d, 2);
    wait_for_stage(thread, &d, 3);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(add(thread, 0, -1));
    commit(thread);
    EXPECT_OK(strata_thread_enter_blocking(thread));
    CHECK(pthread_join(first, NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    CHECK(audit(thread) == before);
    EXPECT_OK(strata_thread_detach(thread));
    strata_stats stats;
    EXPECT_OK(strata_heap_stats(heap, &stats));
    CHECK(stats.aborts_write_write >= 1);
    CHECK(stats.aborts == stats.aborts_write_write + stats.aborts_validation +
                              stats.aborts_doomed + stats.aborts_inevitable +
                              stats.aborts_out_of_memory + stats.aborts_panic +
                              stats.aborts_requested);
}

static void *write_and_exit(void *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach((strata_heap *)heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(add(thread, 2, 1000));
    return NULL; /* attached, in a transaction that owns account 2 */
}

/* A thread that exits in a transaction gives up what it owned, and its
 * writes never show. */
static void exit_in_a_transaction(strata_heap *heap) {
    pthread_t quitter;
    CHECK(pthread_create(&quitter, NULL, write_and_exit, heap) == 0);
    CHECK(pthread_join(quitter, NULL) == 0);
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    CHECK(audit(thread) == ACCOUNTS * BALANCE);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(add(thread, 2, 0));
    commit(thread);
    EXPECT_OK(strata_thread_detach(thread));
}

enum { DEPOSITORS = 4, DEPOSITS = 200 };

static strata_status deposit(strata_thread *thread, void *ctx) {
    (void)ctx;
    return add(thread, 3, 1) ? STRATA_OK : STRATA_ABORTED;
}

struct journal {
    FILE *file;
    pthread_mutex_t lock;
    int runs; /* blocks that got past strata_tx_become_inevitable */
};

/* Irreversible work: a line in a file, written once per block. */
static strata_status deposit_and_log(strata_thread *thread, void *ctx) {
    struct journal *journal = (struct journal *)ctx;
    strata_status status = strata_tx_become_inevitable(thread);
    if (status == STRATA_ABORTED) {
        return status;
    }
    EXPECT_OK(status);
    bool inevitable = false;
    EXPECT_OK(strata_tx_is_inevitable(thread, &inevitable));
    CHECK(inevitable);
    pthread_mutex_lock(&journal->lock);
    journal->runs++;
    CHECK(fprintf(journal->file, "deposit\n") > 0);
    pthread_mutex_unlock(&journal->lock);
    CHECK(add(thread, 4, 1)); /* an inevitable transaction is never doomed */
    return STRATA_OK;
}

static struct journal journal;

static void *depositor(void *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach((strata_heap *)heap, &thread));
    for (int i = 0; i < DEPOSITS; i++) {
        EXPECT_OK(strata_atomically(thread, deposit, NULL));
        if (i == DEPOSITS / 2) {
            EXPECT_OK(strata_atomically(thread, deposit_and_log, &journal));
        }
    }
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static long balance(strata_thread *thread, size_t i) {
    EXPECT_OK(strata_tx_begin(thread));
    const long *value = NULL;
    EXPECT_OK(strata_read(thread, account(thread, i), (const void **)&value));
    long seen = *value;
    commit(thread);
    return seen;
}

static strata_status give_up(strata_thread *thread, void *ctx) {
    (void)ctx;
    CHECK(add(thread, 3, 1000000));
    void *obj = NULL;
    return strata_alloc(thread, 9999, &obj); /* STRATA_ERROR_UNKNOWN_TYPE */
}

/* strata_atomically under contention, with one inevitable block per
 * thread that writes a file exactly once; a block that gives up. */
static void atomically(strata_heap *heap) {
    journal.file = tmpfile();
    CHECK(journal.file != NULL);
    pthread_mutex_init(&journal.lock, NULL);
    journal.runs = 0;
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    long before = balance(thread, 3);
    long logged_before = balance(thread, 4);
    pthread_t depositors[DEPOSITORS];
    EXPECT_OK(strata_thread_enter_blocking(thread));
    for (int i = 0; i < DEPOSITORS; i++) {
        CHECK(pthread_create(&depositors[i], NULL, depositor, heap) == 0);
    }
    for (int i = 0; i < DEPOSITORS; i++) {
        CHECK(pthread_join(depositors[i], NULL) == 0);
    }
    EXPECT_OK(strata_thread_leave_blocking(thread));
    CHECK(balance(thread, 3) == before + DEPOSITORS * DEPOSITS);
    CHECK(balance(thread, 4) == logged_before + DEPOSITORS);
    CHECK(journal.runs == DEPOSITORS);
    rewind(journal.file);
    int lines = 0;
    for (int c; (c = fgetc(journal.file)) != EOF;) {
        lines += c == '\n';
    }
    CHECK(lines == DEPOSITORS);
    fclose(journal.file);

    EXPECT(strata_atomically(thread, give_up, NULL), STRATA_ERROR_UNKNOWN_TYPE);
    CHECK_LAST_ERROR_NAMES("strata_atomically");
    CHECK(balance(thread, 3) == before + DEPOSITORS * DEPOSITS);
    EXPECT(strata_atomically(thread, NULL, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_thread_detach(thread));
}

/* strata_tx_should_break turns true after break_bytes of allocation;
 * identities and identity hashes survive collections. */
static void breaks_and_identities(strata_heap *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    EXPECT_OK(strata_tx_begin(thread));
    bool should_break = true;
    EXPECT_OK(strata_tx_should_break(thread, &should_break));
    CHECK(!should_break);
    int made = 0;
    while (!should_break && made < 1000000) {
        void *node = NULL;
        EXPECT_OK(strata_alloc(thread, node_type, &node));
        made++;
        EXPECT_OK(strata_tx_should_break(thread, &should_break));
    }
    CHECK(should_break && made > 10);
    void *node = NULL;
    EXPECT_OK(strata_alloc(thread, node_type, &node));
    uint64_t id = 0, hash = 0, other_id = 0;
    EXPECT_OK(strata_identity(thread, node, &id, &hash));
    EXPECT_OK(strata_push_root(thread, node));
    EXPECT_OK(strata_alloc(thread, node_type, &node));
    EXPECT_OK(strata_identity(thread, node, &other_id, NULL));
    CHECK(id != 0 && other_id != id);
    commit(thread);
    EXPECT_OK(strata_thread_collect_major(thread));
    uint64_t id_after = 0, hash_after = 0;
    EXPECT_OK(strata_identity(thread, peek(thread, 0), &id_after, &hash_after));
    CHECK(id_after == id && hash_after == hash);
    EXPECT_OK(strata_pop_root(thread, NULL));
    EXPECT_OK(strata_thread_detach(thread));
}

static void count(void *counter) {
    ++*(int *)counter;
}

/* On-commit callbacks run after a commit only, on-abort ones after an
 * abort only, once each. */
static void callbacks(strata_heap *heap) {
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    int commits = 0, aborts = 0;
    for (int keep = 1; keep >= 0; keep--) {
        EXPECT_OK(strata_tx_begin(thread));
        EXPECT_OK(strata_tx_on_commit(thread, count, &commits));
        EXPECT_OK(strata_tx_on_abort(thread, count, &aborts));
        CHECK(commits == 1 - keep && aborts == 0);
        if (keep) {
            commit(thread);
            CHECK(commits == 1 && aborts == 0);
        } else {
            EXPECT_OK(strata_tx_abort(thread));
            CHECK(commits == 1 && aborts == 1);
        }
    }
    EXPECT(strata_tx_on_commit(thread, count, &commits), STRATA_ERROR_NO_TRANSACTION);
    EXPECT_OK(strata_tx_begin(thread));
    EXPECT(strata_tx_on_abort(thread, NULL, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_tx_on_abort(thread, count, &aborts));
    EXPECT_OK(strata_thread_detach(thread)); /* aborts the open transaction */
    CHECK(commits == 1 && aborts == 2);
}

int main(void) {
    strata_heap *heap = small_heap();
    register_types(heap);
    trees(heap);
    banking(heap);
    conflict(heap);
    exit_in_a_transaction(heap);
    atomically(heap);
    breaks_and_identities(heap);
    callbacks(heap);
    EXPECT_OK(strata_global_free(bank));
    EXPECT_OK(strata_heap_destroy(heap));
    puts("transactions: ok");
    return 0;
}
