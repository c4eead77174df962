/* The intset operation loop shared by the libitm sets: the same mix and
 * generator as the Rust runtimes. `op(set, kind, key)` runs one operation
 * (0 insert, 1 remove, 2 contains) as a transaction and says whether it
 * changed (or found) anything. */
#include <stdint.h>

typedef int (*set_op)(void *set, int kind, long key);

static inline uint64_t next_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Runs operations until *stop; *delta gets inserts minus removes. */
void itm_intset_drive(void *set, set_op op, long range, uint32_t update_pct, uint64_t seed,
                      const volatile int *stop, uint64_t *ops, int64_t *delta) {
    uint64_t state = seed | 1, done = 0;
    int64_t change = 0;
    int insert_next = 1;
    while (!*stop) {
        for (int batch = 0; batch < 64; batch++) {
            done++;
            uint32_t roll = (uint32_t)(next_rand(&state) % 100);
            long key = (long)(next_rand(&state) % (uint64_t)range);
            if (roll < update_pct) {
                if (insert_next) change += op(set, 0, key);
                else change -= op(set, 1, key);
                insert_next = !insert_next;
            } else {
                op(set, 2, key);
            }
        }
    }
    *ops = done;
    *delta = change;
}
