/* The bank workload in C against strata.h: the same accounts, generator,
 * transfers and audits as the Rust strata rows (src/workloads/bank.rs), the
 * accounts an array of references to one-word objects shared through a
 * global root. Each timed thread attaches, runs strata_bank_run's loop and
 * detaches; the thread that made the bank waits in a blocking section. */
#include <stdbool.h>
#include <stdlib.h>

#include "strata_c.h"

/* An account's body. */
struct account {
    int64_t balance;
};

/* The byte offset of element i in an array's body (after its count). */
#define ELEMENT(i) (sizeof(uint64_t) + (i) * sizeof(void *))

typedef struct strata_bank {
    strata_heap *heap;
    /* The thread that made the bank: in a blocking section between
     * strata_bank_new and strata_bank_finish. */
    strata_thread *owner;
    strata_global *accounts;
    size_t n;
} strata_bank;

static inline uint64_t next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Fills the array on top of the shadow stack with n accounts of 1000, in
 * the open transaction. Every call here may collect, so the array and each
 * new account are read back from the shadow stack after each. */
static strata_status fill(strata_thread *thread, strata_type_id account_type, size_t n) {
    for (size_t i = 0; i < n; i++) {
        void *account;
        TRY(strata_alloc(thread, account_type, &account));
        TRY(strata_push_root(thread, account));
        struct account *body;
        TRY(strata_write(thread, account, (void **)&body));
        body->balance = 1000;
        void *array;
        TRY(strata_peek_root(thread, 0, &account));
        TRY(strata_peek_root(thread, 1, &array));
        TRY(strata_write_ref(thread, array, ELEMENT(i), account));
        TRY(strata_pop_root(thread, NULL));
    }
    return STRATA_OK;
}

/* Makes the bank's heap, types and accounts on the calling thread, which
 * then waits in a blocking section for strata_bank_finish. */
strata_status strata_bank_new(size_t n, strata_bank **bank_out) {
    strata_bank *bank = calloc(1, sizeof *bank);
    if (bank == NULL) return STRATA_ERROR_SYSTEM;
    bank->n = n;
    *bank_out = bank;
    TRY(strata_c_heap_new(&bank->heap));
    strata_type_desc account = {0};
    account.name = "account";
    account.layout = STRATA_LAYOUT_FIXED;
    account.body_bytes = sizeof(struct account);
    strata_type_id account_type;
    TRY(strata_register_type(bank->heap, &account, &account_type));
    strata_type_desc accounts = {0};
    accounts.name = "accounts";
    accounts.layout = STRATA_LAYOUT_ARRAY;
    accounts.element_bytes = sizeof(void *);
    accounts.elements_are_refs = true;
    strata_type_id accounts_type;
    TRY(strata_register_type(bank->heap, &accounts, &accounts_type));
    TRY(strata_thread_attach(bank->heap, &bank->owner));
    strata_thread *thread = bank->owner;
    for (;;) {
        TRY(strata_tx_begin(thread));
        void *array;
        TRY(strata_alloc_array(thread, accounts_type, n, &array));
        TRY(strata_push_root(thread, array));
        TRY(fill(thread, account_type, n));
        strata_status status = strata_tx_commit(thread);
        if (status == STRATA_OK) break;
        if (status != STRATA_ABORTED) return status;
    }
    void *array;
    TRY(strata_pop_root(thread, &array));
    TRY(strata_global_new(thread, array, &bank->accounts));
    return strata_thread_enter_blocking(thread);
}

/* The audit: the sum of every account, in one transaction. */
static strata_status audit(strata_thread *thread, const strata_global *accounts, size_t n,
                           int64_t *sum_out) {
    for (;;) {
        TRY(strata_tx_begin(thread));
        void *array;
        TRY(strata_global_get(thread, accounts, &array));
        const uint64_t *body;
        TRY(strata_read(thread, array, (const void **)&body));
        void *const *elements = (void *const *)(body + 1);
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            const struct account *account;
            TRY(strata_read(thread, elements[i], (const void **)&account));
            sum += account->balance;
        }
        strata_status status = strata_tx_commit(thread);
        if (status == STRATA_OK) {
            *sum_out = sum;
            return STRATA_OK;
        }
        if (status != STRATA_ABORTED) return status;
    }
}

/* Moves amount from account from to account to, in one transaction. The
 * accounts are committed objects, which never move: their addresses stay
 * valid through the first write's copy. */
static strata_status transfer(strata_thread *thread, const strata_global *accounts,
                              size_t from, size_t to, int64_t amount) {
    for (;;) {
        TRY(strata_tx_begin(thread));
        void *array;
        TRY(strata_global_get(thread, accounts, &array));
        const uint64_t *body;
        TRY(strata_read(thread, array, (const void **)&body));
        void *const *elements = (void *const *)(body + 1);
        void *a = elements[from], *b = elements[to];
        struct account *written;
        strata_status status = strata_write(thread, a, (void **)&written);
        if (status == STRATA_OK) {
            written->balance -= amount;
            status = strata_write(thread, b, (void **)&written);
        }
        if (status == STRATA_OK) {
            written->balance += amount;
        } else if (status != STRATA_ABORTED) {
            return status;
        }
        /* A doomed attempt aborts here; rerun it. */
        status = strata_tx_commit(thread);
        if (status == STRATA_OK) return STRATA_OK;
        if (status != STRATA_ABORTED) return status;
    }
}

/* Attaches the calling thread and runs transfers among the len accounts
 * from first (and every read_every-th transaction an audit of all of them)
 * until *stop is set, in batches of 64 as the Rust rows do; then detaches.
 * *ops gets the count of transactions, *wrong that of audits whose sum was
 * not the bank's total. */
strata_status strata_bank_run(strata_bank *bank, size_t first, size_t len, uint64_t seed,
                              uint32_t read_every, const volatile int *stop, uint64_t *ops,
                              uint64_t *wrong) {
    strata_thread *thread;
    TRY(strata_thread_attach(bank->heap, &thread));
    uint64_t done = 0, wrong_sums = 0, state = seed | 1;
    int64_t expected = (int64_t)bank->n * 1000;
    strata_status status = STRATA_OK;
    while (status == STRATA_OK && !*stop) {
        for (int batch = 0; batch < 64 && status == STRATA_OK; batch++) {
            done++;
            if (read_every && done % read_every == 0) {
                int64_t sum = 0;
                status = audit(thread, bank->accounts, bank->n, &sum);
                if (sum != expected) wrong_sums++;
                continue;
            }
            size_t from = next(&state) % len;
            size_t to = first + (from + 1 + next(&state) % (len - 1)) % len;
            from += first;
            int64_t amount = (int64_t)(next(&state) % 100);
            status = transfer(thread, bank->accounts, from, to, amount);
        }
    }
    *ops = done;
    *wrong = wrong_sums;
    if (status != STRATA_OK) return status;
    return strata_thread_detach(thread);
}

/* On the thread that made the bank: sums the accounts into *total, frees
 * the bank and reports its heap's counters. */
strata_status strata_bank_finish(strata_bank *bank, int64_t *total, strata_c_counts *counts) {
    strata_thread *thread = bank->owner;
    TRY(strata_thread_leave_blocking(thread));
    TRY(audit(thread, bank->accounts, bank->n, total));
    TRY(strata_global_free(bank->accounts));
    TRY(strata_thread_detach(thread));
    TRY(strata_c_heap_finish(bank->heap, counts));
    free(bank);
    return STRATA_OK;
}
