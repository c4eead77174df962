/*
 * builtins.c: the primitive procedures.
 *
 * A builtin gets its arguments in the shadow-stack slots args ..
 * args + argc - 1 and returns its result, an object valid at return (it
 * makes no collecting call after it has the result's address). It checks
 * before it writes, so a type error leaves the heap as it was. Builtins
 * that must run outside the transaction (spawn, join) set vm->pending,
 * and threads.c does the work at the step's end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define ARG(i) at(vm, args + (i))

const char *type_name(struct vm *vm, const void *obj) {
    switch (tag_of(vm, obj)) {
    case 0: return "the empty list";
    case TAG_INT: return "an integer";
    case TAG_BOOL: return "a boolean";
    case TAG_STRING: return "a string";
    case TAG_SYMBOL: return "a symbol";
    case TAG_PAIR: return "a list";
    case TAG_CLOSURE:
    case TAG_PRIM: return "a procedure";
    case TAG_DICT: return "a dictionary";
    case TAG_THREAD: return "a thread";
    case TAG_QUEUE: return "a queue";
    default: return "an internal object";
    }
}

static void expect(struct vm *vm, const void *obj, enum tag tag, const char *who, int position) {
    if (tag_of(vm, obj) == (int64_t)tag) return;
    const char *wanted = tag == TAG_INT      ? "an integer"
                         : tag == TAG_STRING ? "a string"
                         : tag == TAG_PAIR   ? "a non-empty list"
                         : tag == TAG_DICT   ? "a dictionary"
                         : tag == TAG_THREAD ? "a thread"
                         : tag == TAG_QUEUE  ? "a queue"
                                             : "something else";
    fail(vm, "%s: argument %d: expected %s, got %s", who, position + 1, wanted,
         type_name(vm, obj));
}

static int64_t int_arg(struct vm *vm, slot args, int i, const char *who) {
    expect(vm, ARG(i), TAG_INT, who, i);
    return read_cell(vm, ARG(i))->num;
}

static void *int_result(struct vm *vm, int64_t value) {
    return at(vm, new_int(vm, value));
}

static void *bool_result(struct vm *vm, bool value) {
    return at(vm, new_bool(vm, value));
}

/* ---- Arithmetic and comparison ------------------------------------------------ */

static void *arith(struct vm *vm, slot args, int argc, char op, const char *who) {
    int64_t acc = int_arg(vm, args, 0, who);
    if (argc == 1 && op == '-') {
        if (__builtin_sub_overflow(0, acc, &acc)) fail(vm, "-: integer overflow");
        return int_result(vm, acc);
    }
    for (int i = 1; i < argc; i++) {
        int64_t x = int_arg(vm, args, i, who);
        bool overflow = false;
        switch (op) {
        case '+': overflow = __builtin_add_overflow(acc, x, &acc); break;
        case '-': overflow = __builtin_sub_overflow(acc, x, &acc); break;
        case '*': overflow = __builtin_mul_overflow(acc, x, &acc); break;
        case '/':
        case '%':
            if (x == 0) fail(vm, "%s: division by zero", who);
            if (acc == INT64_MIN && x == -1) overflow = true;
            else acc = op == '/' ? acc / x : acc % x;
            break;
        }
        if (overflow) fail(vm, "%s: integer overflow", who);
    }
    return int_result(vm, acc);
}

static void *b_add(struct vm *vm, slot args, int argc) { return arith(vm, args, argc, '+', "+"); }
static void *b_sub(struct vm *vm, slot args, int argc) { return arith(vm, args, argc, '-', "-"); }
static void *b_mul(struct vm *vm, slot args, int argc) { return arith(vm, args, argc, '*', "*"); }
static void *b_quotient(struct vm *vm, slot args, int argc) {
    return arith(vm, args, argc, '/', "quotient");
}
static void *b_remainder(struct vm *vm, slot args, int argc) {
    return arith(vm, args, argc, '%', "remainder");
}

static void *compare(struct vm *vm, slot args, int argc, const char *who) {
    bool holds = true;
    for (int i = 0; i + 1 < argc; i++) {
        int64_t a = int_arg(vm, args, i, who), b = int_arg(vm, args, i + 1, who);
        bool ok = who[0] == '=' ? a == b
                  : who[0] == '<' ? (who[1] == '=' ? a <= b : a < b)
                                  : (who[1] == '=' ? a >= b : a > b);
        holds = holds && ok;
    }
    return bool_result(vm, holds);
}

static void *b_eq_num(struct vm *vm, slot args, int argc) { return compare(vm, args, argc, "="); }
static void *b_lt(struct vm *vm, slot args, int argc) { return compare(vm, args, argc, "<"); }
static void *b_gt(struct vm *vm, slot args, int argc) { return compare(vm, args, argc, ">"); }
static void *b_le(struct vm *vm, slot args, int argc) { return compare(vm, args, argc, "<="); }
static void *b_ge(struct vm *vm, slot args, int argc) { return compare(vm, args, argc, ">="); }

/* Whether a and b are the same value: integers, booleans and strings by
 * value, lists element by element, anything else by identity. */
static bool equal(struct vm *vm, const void *a, const void *b) {
    while (a != b) {
        if (a == NULL || b == NULL) return false;
        const struct cell *x = read_cell(vm, a), *y = read_cell(vm, b);
        if (x->tag != y->tag) return false;
        switch (x->tag) {
        case TAG_INT:
        case TAG_BOOL: return x->num == y->num;
        case TAG_STRING: {
            size_t la, lb;
            const char *ta = text_of(vm, a, &la);
            const char *tb = text_of(vm, b, &lb);
            return la == lb && memcmp(ta, tb, la) == 0;
        }
        case TAG_PAIR: {
            const void *rest_a = x->ref[1], *rest_b = y->ref[1];
            if (!equal(vm, x->ref[0], y->ref[0])) return false;
            a = rest_a;
            b = rest_b;
            break;
        }
        default: return false;
        }
    }
    return true;
}

static void *b_equal(struct vm *vm, slot args, int argc) {
    (void)argc;
    return bool_result(vm, equal(vm, ARG(0), ARG(1)));
}

static void *b_not(struct vm *vm, slot args, int argc) {
    (void)argc;
    return bool_result(vm, !truthy(vm, ARG(0)));
}

/* ---- Lists ------------------------------------------------------------------- */

static void *b_cons(struct vm *vm, slot args, int argc) {
    (void)argc;
    return at(vm, new_cell(vm, TAG_PAIR, vm->line, args, args + 1, NO_SLOT));
}

static void *b_car(struct vm *vm, slot args, int argc) {
    (void)argc;
    expect(vm, ARG(0), TAG_PAIR, "car", 0);
    return ref_of(vm, ARG(0), 0);
}

static void *b_cdr(struct vm *vm, slot args, int argc) {
    (void)argc;
    expect(vm, ARG(0), TAG_PAIR, "cdr", 0);
    return ref_of(vm, ARG(0), 1);
}

static void *b_list(struct vm *vm, slot args, int argc) {
    slot rest = NO_SLOT;
    for (int i = argc; i-- > 0;) rest = new_cell(vm, TAG_PAIR, vm->line, args + (slot)i, rest, NO_SLOT);
    return rest == NO_SLOT ? NULL : at(vm, rest);
}

static void *b_null(struct vm *vm, slot args, int argc) {
    (void)argc;
    return bool_result(vm, ARG(0) == NULL);
}

static void *b_pair(struct vm *vm, slot args, int argc) {
    (void)argc;
    return bool_result(vm, tag_of(vm, ARG(0)) == TAG_PAIR);
}

static void *b_length(struct vm *vm, slot args, int argc) {
    (void)argc;
    int64_t n = 0;
    for (const void *list = ARG(0); list != NULL; list = ref_of(vm, list, 1)) {
        expect(vm, list, TAG_PAIR, "length", 0);
        n++;
    }
    return int_result(vm, n);
}

/* ---- Strings ------------------------------------------------------------------ */

static void *b_string_append(struct vm *vm, slot args, int argc) {
    size_t total = 0;
    for (int i = 0; i < argc; i++) {
        expect(vm, ARG(i), TAG_STRING, "string-append", i);
        size_t length;
        text_of(vm, ARG(i), &length);
        total += length;
    }
    char *text = malloc(total + 1);
    if (text == NULL) abort();
    size_t used = 0;
    for (int i = 0; i < argc; i++) {
        size_t length;
        const char *part = text_of(vm, ARG(i), &length);
        memcpy(text + used, part, length);
        used += length;
    }
    slot s = new_text(vm, TAG_STRING, 0, text, total);
    free(text);
    return at(vm, s);
}

static void *b_number_to_string(struct vm *vm, slot args, int argc) {
    (void)argc;
    char text[32];
    int length = snprintf(text, sizeof text, "%lld", (long long)int_arg(vm, args, 0, "number->string"));
    return at(vm, new_text(vm, TAG_STRING, 0, text, (size_t)length));
}

static void *b_string_length(struct vm *vm, slot args, int argc) {
    (void)argc;
    expect(vm, ARG(0), TAG_STRING, "string-length", 0);
    size_t length;
    text_of(vm, ARG(0), &length);
    return int_result(vm, (int64_t)length);
}

/* ---- Dictionaries ---------------------------------------------------------------- */

/* A dictionary is a cell whose ref 0 is a map object (strata.h, "The map
 * object"). The map's keys are the hashes of the dictionary's keys
 * (integers, strings, symbols or booleans), its values chains of entries
 * whose keys share the hash. So setting a key present writes only its
 * entry, and adding a key writes only the map's bucket of its hash (or,
 * when the hash has a chain, the map's cell of it) and a share of the
 * map's size: transactions on other keys do not conflict with either
 * unless their hashes share a bucket. Entries are never removed. */
#define DICT_CAPACITY 64

static uint64_t key_hash(struct vm *vm, const void *key, const char *who) {
    const struct cell *c = key == NULL ? NULL : read_cell(vm, key);
    if (c != NULL && (c->tag == TAG_INT || c->tag == TAG_BOOL))
        return (uint64_t)c->num * 0x9e3779b97f4a7c15u;
    if (c != NULL && c->tag == TAG_SYMBOL) return (uint64_t)c->num >> 8;
    if (c != NULL && c->tag == TAG_STRING) {
        size_t length;
        const char *text = text_of(vm, key, &length);
        return text_hash(text, length);
    }
    fail(vm, "%s: a key must be an integer, a string, a symbol or a boolean, not %s", who,
         type_name(vm, key));
}

/* The chain of the entries whose keys hash to hash (NULL: none). */
static void *chain_of(struct vm *vm, const void *dict, uint64_t hash) {
    void *chain;
    check(vm, strata_map_object_get(vm->thread, ref_of(vm, dict, 0), hash, &chain),
          "strata_map_object_get");
    return chain;
}

/* The entry of key in dict, or NULL; *hash gets key's hash and *chain the
 * chain it is (or would be) in. */
static void *find_entry(struct vm *vm, const void *dict, const void *key, uint64_t *hash,
                        void **chain, const char *who) {
    *hash = key_hash(vm, key, who);
    *chain = chain_of(vm, dict, *hash);
    for (void *e = *chain; e != NULL; e = ref_of(vm, e, NEXT_FRAME)) {
        if (equal(vm, ref_of(vm, e, 0), key)) return e;
    }
    return NULL;
}

static void *b_make_dict(struct vm *vm, slot args, int argc) {
    int64_t capacity = argc == 1 ? int_arg(vm, args, 0, "make-dict") : DICT_CAPACITY;
    if (capacity < 1 || capacity > 1 << 20)
        fail(vm, "make-dict: a capacity of %lld keys (1 to 2^20)", (long long)capacity);
    void *map;
    check(vm, strata_map_object_new(vm->thread, (size_t)capacity, &map), "strata_map_object_new");
    slot m = push(vm, map);
    return at(vm, new_cell(vm, TAG_DICT, 0, m, NO_SLOT, NO_SLOT));
}

static void *b_dict_ref(struct vm *vm, slot args, int argc) {
    expect(vm, ARG(0), TAG_DICT, "dict-ref", 0);
    uint64_t hash;
    void *chain;
    void *e = find_entry(vm, ARG(0), ARG(1), &hash, &chain, "dict-ref");
    if (e != NULL) return ref_of(vm, e, 1);
    if (argc == 3) return ARG(2);
    fail(vm, "dict-ref: no such key, and no default given");
}

static void *b_dict_has(struct vm *vm, slot args, int argc) {
    (void)argc;
    expect(vm, ARG(0), TAG_DICT, "dict-has?", 0);
    uint64_t hash;
    void *chain;
    return bool_result(vm, find_entry(vm, ARG(0), ARG(1), &hash, &chain, "dict-has?") != NULL);
}

static void *b_dict_set(struct vm *vm, slot args, int argc) {
    (void)argc;
    expect(vm, ARG(0), TAG_DICT, "dict-set!", 0);
    uint64_t hash;
    void *chain;
    void *e = find_entry(vm, ARG(0), ARG(1), &hash, &chain, "dict-set!");
    if (e != NULL) {
        slot entry = push(vm, e);
        set_ref(vm, entry, 1, args + 2);
        return ARG(2);
    }
    slot next = push(vm, chain);
    slot entry = new_cell(vm, TAG_ENTRY, 0, args + 1, args + 2, NO_SLOT);
    set_ref(vm, entry, NEXT_FRAME, next);
    check(vm,
          strata_map_object_insert(vm->thread, ref_of(vm, ARG(0), 0), hash, at(vm, entry), NULL),
          "strata_map_object_insert");
    return ARG(2);
}

/* The hashes of dict's keys into vm->hashes, grown to fit; returns how many. */
static size_t hashes_of(struct vm *vm, const void *dict) {
    size_t count;
    check(vm,
          strata_map_object_keys(vm->thread, ref_of(vm, dict, 0), vm->hashes,
                                 vm->hashes_capacity, &count),
          "strata_map_object_keys");
    if (count <= vm->hashes_capacity) return count;
    uint64_t *bigger = realloc(vm->hashes, count * sizeof *bigger);
    if (bigger == NULL) fail(vm, "dict-keys: out of memory");
    vm->hashes = bigger;
    vm->hashes_capacity = count;
    check(vm,
          strata_map_object_keys(vm->thread, ref_of(vm, dict, 0), vm->hashes,
                                 vm->hashes_capacity, &count),
          "strata_map_object_keys");
    return count;
}

static void *b_dict_keys(struct vm *vm, slot args, int argc) {
    (void)argc;
    expect(vm, ARG(0), TAG_DICT, "dict-keys", 0);
    size_t count = hashes_of(vm, ARG(0));
    slot keys = push(vm, NULL);
    for (size_t i = 0; i < count; i++) {
        for (void *e = chain_of(vm, ARG(0), vm->hashes[i]); e != NULL;) {
            slot entry = push(vm, e);
            slot key = push(vm, ref_of(vm, e, 0));
            void *more = at(vm, new_cell(vm, TAG_PAIR, vm->line, key, keys, NO_SLOT));
            e = ref_of(vm, at(vm, entry), NEXT_FRAME);
            drop_to(vm, keys);
            push(vm, more); /* the list so far, at keys's slot */
        }
    }
    return at(vm, keys);
}

/* ---- Queues ------------------------------------------------------------------------ */

/* A queue is a cell whose ref 0 is a queue object (strata.h, "The queue
 * object"): bounded, and a put and a take do not conflict while it is
 * neither empty nor full. */
#define QUEUE_CAPACITY 64

static void *b_make_queue(struct vm *vm, slot args, int argc) {
    int64_t capacity = argc == 1 ? int_arg(vm, args, 0, "make-queue") : QUEUE_CAPACITY;
    if (capacity < 1 || capacity > 1 << 20)
        fail(vm, "make-queue: a capacity of %lld values (1 to 2^20)", (long long)capacity);
    void *queue;
    check(vm, strata_queue_object_new(vm->thread, (size_t)capacity, &queue),
          "strata_queue_object_new");
    slot q = push(vm, queue);
    return at(vm, new_cell(vm, TAG_QUEUE, 0, q, NO_SLOT, NO_SLOT));
}

/* (queue-put! q x): appends x; #t, or #f when the queue is full. */
static void *b_queue_put(struct vm *vm, slot args, int argc) {
    (void)argc;
    expect(vm, ARG(0), TAG_QUEUE, "queue-put!", 0);
    /* A queue holds objects, and the empty list is no object (NULL). */
    if (ARG(1) == NULL) fail(vm, "queue-put!: argument 2: the empty list cannot be queued");
    bool put;
    check(vm, strata_queue_object_put(vm->thread, ref_of(vm, ARG(0), 0), ARG(1), &put),
          "strata_queue_object_put");
    return bool_result(vm, put);
}

/* (queue-take! q [default]): the oldest value, or default (#f) when the
 * queue is empty. */
static void *b_queue_take(struct vm *vm, slot args, int argc) {
    expect(vm, ARG(0), TAG_QUEUE, "queue-take!", 0);
    void *value;
    check(vm, strata_queue_object_take(vm->thread, ref_of(vm, ARG(0), 0), &value),
          "strata_queue_object_take");
    if (value != NULL) return value;
    return argc == 2 ? ARG(1) : bool_result(vm, false);
}

/* ---- Threads and output ----------------------------------------------------------- */

static void outside_atomic(struct vm *vm, const char *who) {
    if (read_machine(vm)->atomic_depth > 0)
        fail(vm, "%s inside an atomic block (it must end the transaction)", who);
}

static void *b_spawn(struct vm *vm, slot args, int argc) {
    outside_atomic(vm, "spawn");
    int64_t tag = tag_of(vm, ARG(0));
    if (tag != TAG_CLOSURE && tag != TAG_PRIM)
        fail(vm, "spawn: argument 1: expected a procedure, got %s", type_name(vm, ARG(0)));
    vm->pending = MODE_SPAWN;
    return b_list(vm, args, argc);
}

static void *b_join(struct vm *vm, slot args, int argc) {
    (void)argc;
    outside_atomic(vm, "join");
    expect(vm, ARG(0), TAG_THREAD, "join", 0);
    vm->pending = MODE_JOIN;
    return ARG(0);
}

static void *b_yield(struct vm *vm, slot args, int argc) {
    (void)args, (void)argc;
    outside_atomic(vm, "yield");
    vm->yield_requested = true;
    return NULL;
}

static void *b_threads(struct vm *vm, slot args, int argc) {
    (void)args, (void)argc;
    return int_result(vm, vm->rt->thread_count);
}

static void *b_scale(struct vm *vm, slot args, int argc) {
    (void)args, (void)argc;
    return int_result(vm, vm->rt->scale);
}

static void append(char **out, size_t *length, size_t *capacity, const char *text, size_t n) {
    if (*length + n + 1 > *capacity) {
        while (*length + n + 1 > *capacity) *capacity = *capacity ? 2 * *capacity : 128;
        *out = realloc(*out, *capacity);
        if (*out == NULL) abort();
    }
    memcpy(*out + *length, text, n);
    *length += n;
    (*out)[*length] = 0;
}

void print_value(struct vm *vm, const void *obj, char **out, size_t *length, size_t *capacity) {
    char text[64];
    if (obj == NULL) {
        append(out, length, capacity, "()", 2);
        return;
    }
    const struct cell *c = read_cell(vm, obj);
    switch (c->tag) {
    case TAG_INT:
        append(out, length, capacity, text, (size_t)snprintf(text, sizeof text, "%lld", (long long)c->num));
        return;
    case TAG_BOOL:
        append(out, length, capacity, c->num ? "#t" : "#f", 2);
        return;
    case TAG_STRING:
    case TAG_SYMBOL: {
        size_t n;
        const char *bytes = text_of(vm, obj, &n);
        append(out, length, capacity, bytes, n);
        return;
    }
    case TAG_PAIR: {
        append(out, length, capacity, "(", 1);
        for (const void *list = obj;;) {
            print_value(vm, ref_of(vm, list, 0), out, length, capacity);
            list = ref_of(vm, list, 1);
            if (list == NULL) break;
            if (tag_of(vm, list) != TAG_PAIR) {
                append(out, length, capacity, " . ", 3);
                print_value(vm, list, out, length, capacity);
                break;
            }
            append(out, length, capacity, " ", 1);
        }
        append(out, length, capacity, ")", 1);
        return;
    }
    case TAG_THREAD:
        append(out, length, capacity, text, (size_t)snprintf(text, sizeof text, "#<thread %lld>", (long long)c->num));
        return;
    default:
        append(out, length, capacity, "#<", 2);
        append(out, length, capacity, type_name(vm, obj), strlen(type_name(vm, obj)));
        append(out, length, capacity, ">", 1);
        return;
    }
}

static char *format_args(struct vm *vm, slot args, int argc) {
    char *out = NULL;
    size_t length = 0, capacity = 0;
    append(&out, &length, &capacity, "", 0);
    for (int i = 0; i < argc; i++) {
        if (i > 0) append(&out, &length, &capacity, " ", 1);
        print_value(vm, ARG(i), &out, &length, &capacity);
    }
    return out;
}

static void *b_print(struct vm *vm, slot args, int argc) {
    /* Output cannot be taken back: the transaction must not abort now. */
    tx_become_inevitable(vm);
    char *text = format_args(vm, args, argc);
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    return NULL;
}

static void *b_error(struct vm *vm, slot args, int argc) {
    char *text = format_args(vm, args, argc);
    char message[sizeof vm->error];
    snprintf(message, sizeof message, "%s", text);
    free(text);
    fail(vm, "%s", message);
}

const struct builtin builtins[] = {
    {"+", 1, -1, b_add},
    {"-", 1, -1, b_sub},
    {"*", 1, -1, b_mul},
    {"quotient", 2, 2, b_quotient},
    {"remainder", 2, 2, b_remainder},
    {"=", 1, -1, b_eq_num},
    {"<", 1, -1, b_lt},
    {">", 1, -1, b_gt},
    {"<=", 1, -1, b_le},
    {">=", 1, -1, b_ge},
    {"equal?", 2, 2, b_equal},
    {"not", 1, 1, b_not},
    {"cons", 2, 2, b_cons},
    {"car", 1, 1, b_car},
    {"cdr", 1, 1, b_cdr},
    {"list", 0, -1, b_list},
    {"null?", 1, 1, b_null},
    {"pair?", 1, 1, b_pair},
    {"length", 1, 1, b_length},
    {"string-append", 0, -1, b_string_append},
    {"number->string", 1, 1, b_number_to_string},
    {"string-length", 1, 1, b_string_length},
    {"make-dict", 0, 1, b_make_dict},
    {"dict-ref", 2, 3, b_dict_ref},
    {"dict-has?", 2, 2, b_dict_has},
    {"dict-set!", 3, 3, b_dict_set},
    {"dict-keys", 1, 1, b_dict_keys},
    {"make-queue", 0, 1, b_make_queue},
    {"queue-put!", 2, 2, b_queue_put},
    {"queue-take!", 1, 2, b_queue_take},
    {"spawn", 1, -1, b_spawn},
    {"join", 1, 1, b_join},
    {"yield", 0, 0, b_yield},
    {"threads", 0, 0, b_threads},
    {"scale", 0, 0, b_scale},
    {"print", 0, -1, b_print},
    {"error", 0, -1, b_error},
};
const size_t builtin_count = sizeof builtins / sizeof builtins[0];
