/* The bank workload in C with GCC transactional memory (libitm): the same
 * loop as strata-bench's other runtimes, same generator and parameters. */
#include <stdint.h>
#include <stddef.h>

static inline uint64_t next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Runs transfers among the len accounts from first (and every read_every-th
 * transaction an audit of all n) until *stop is set. Returns the number of
 * audits whose sum was wrong; *ops gets the count of transactions. */
uint64_t itm_bank_run(int64_t *accounts, size_t n, size_t first, size_t len, uint64_t seed,
                      uint32_t read_every, const volatile int *stop, uint64_t *ops) {
    uint64_t done = 0, wrong = 0, state = seed | 1;
    int64_t expected = (int64_t)n * 1000;
    while (!*stop) {
        for (int batch = 0; batch < 64; batch++) {
            done++;
            if (read_every && done % read_every == 0) {
                int64_t sum = 0;
                __transaction_atomic {
                    for (size_t i = 0; i < n; i++) sum += accounts[i];
                }
                if (sum != expected) wrong++;
                continue;
            }
            size_t from = next(&state) % len;
            size_t to = first + (from + 1 + next(&state) % (len - 1)) % len;
            from += first;
            int64_t amount = (int64_t)(next(&state) % 100);
            __transaction_atomic {
                accounts[from] -= amount;
                accounts[to] += amount;
            }
        }
    }
    *ops = done;
    return wrong;
}
