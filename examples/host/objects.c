/*
 * objects.c: the heap objects of the interpreter, and the one place where
 * it reads, writes, allocates and roots them through Strata.
 *
 * Four types: the cell (every value and continuation frame, struct
 * cell), bytes (the text of strings and symbols), refs (the global
 * frame's buckets, the reader's symbol table) and the machine (one
 * thread's registers, struct machine). A dictionary's map is Strata's
 * map object (builtins.c), a type of the library's own.
 *
 * Addresses move at any call that may collect (allocations and writes),
 * so no address is kept across one: what must survive is pushed on the
 * shadow stack and named by its slot, and read back with at(). A step
 * pops what it pushed; an abort cuts the stack back to the transaction's
 * beginning, which threads.c mirrors in vm->sp.
 *
 * Every status is checked by check(): STRATA_ABORTED (the attempt is
 * doomed) unwinds to the transaction's start with longjmp, which crosses
 * only C frames (the Strata call has returned), and the attempt is
 * rerun; running out of memory is a program error; anything else is a
 * bug of the interpreter, which stops the process.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

void objects_register_types(struct runtime *rt) {
    static const uint32_t cell_refs[CELL_REFS] = {16, 24, 32, 40, 48};
    static const uint32_t machine_refs[4] = {24, 32, 40, 48};
    const strata_type_desc cell = {
        .name = "cell",
        .layout = STRATA_LAYOUT_FIXED,
        .body_bytes = sizeof(struct cell),
        .ref_offsets = cell_refs,
        .ref_offset_count = CELL_REFS,
    };
    const strata_type_desc bytes = {
        .name = "bytes", .layout = STRATA_LAYOUT_ARRAY, .element_bytes = 1};
    const strata_type_desc refs = {.name = "refs",
                                   .layout = STRATA_LAYOUT_ARRAY,
                                   .element_bytes = sizeof(void *),
                                   .elements_are_refs = true};
    const strata_type_desc machine = {
        .name = "machine",
        .layout = STRATA_LAYOUT_FIXED,
        .body_bytes = sizeof(struct machine),
        .ref_offsets = machine_refs,
        .ref_offset_count = 4,
    };
    const struct {
        const strata_type_desc *desc;
        strata_type_id *id;
    } types[] = {{&cell, &rt->cell_type},
                 {&bytes, &rt->bytes_type},
                 {&refs, &rt->refs_type},
                 {&machine, &rt->machine_type}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strata_register_type(rt->heap, types[i].desc, types[i].id) != STRATA_OK) {
            fprintf(stderr, "host: cannot register type %s: %s\n", types[i].desc->name,
                    strata_last_error());
            exit(70);
        }
    }
}

void check(struct vm *vm, strata_status status, const char *call) {
    if (status == STRATA_OK) return;
    if (status == STRATA_ABORTED) longjmp(*vm->escape, ESCAPE_ABORTED);
    if (status == STRATA_ERROR_OUT_OF_MEMORY) fail(vm, "out of memory");
    fprintf(stderr, "host: %s failed: %s\n", call, strata_last_error());
    abort();
}

_Noreturn void fail(struct vm *vm, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(vm->error, sizeof vm->error, format, args);
    va_end(args);
    longjmp(*vm->escape, ESCAPE_ERROR);
}

/* ---- The shadow stack ---------------------------------------------------- */

slot push(struct vm *vm, void *obj) {
    check(vm, strata_push_root(vm->thread, obj), "strata_push_root");
    return vm->sp++;
}

void *at(struct vm *vm, slot s) {
    void *obj;
    check(vm, strata_peek_root(vm->thread, vm->sp - 1 - s, &obj), "strata_peek_root");
    return obj;
}

void drop_to(struct vm *vm, slot s) {
    while (vm->sp > s) {
        check(vm, strata_pop_root(vm->thread, NULL), "strata_pop_root");
        vm->sp--;
    }
}

/* ---- Cells ---------------------------------------------------------------- */

const struct cell *read_cell(struct vm *vm, const void *obj) {
    const void *body;
    check(vm, strata_read(vm->thread, obj, &body), "strata_read");
    return body;
}

int64_t tag_of(struct vm *vm, const void *obj) {
    return obj == NULL ? 0 : read_cell(vm, obj)->tag;
}

void *ref_of(struct vm *vm, const void *obj, int i) {
    return read_cell(vm, obj)->ref[i];
}

void set_ref_value(struct vm *vm, slot obj, int i, void *value) {
    check(vm,
          strata_write_ref(vm->thread, at(vm, obj), offsetof(struct cell, ref) + (size_t)i * 8,
                           value),
          "strata_write_ref");
}

void set_ref(struct vm *vm, slot obj, int i, slot value) {
    set_ref_value(vm, obj, i, value == NO_SLOT ? NULL : at(vm, value));
}

slot new_cell(struct vm *vm, enum tag tag, int64_t num, slot r0, slot r1, slot r2) {
    void *obj;
    check(vm, strata_alloc(vm->thread, vm->rt->cell_type, &obj), "strata_alloc");
    slot s = push(vm, obj);
    void *body;
    /* A new object is the transaction's own: this is its body, no copy. */
    check(vm, strata_write(vm->thread, obj, &body), "strata_write");
    ((struct cell *)body)->tag = tag;
    ((struct cell *)body)->num = num;
    const slot refs[3] = {r0, r1, r2};
    for (int i = 0; i < 3; i++) {
        if (refs[i] != NO_SLOT) set_ref(vm, s, i, refs[i]);
    }
    return s;
}

slot new_int(struct vm *vm, int64_t value) {
    return new_cell(vm, TAG_INT, value, NO_SLOT, NO_SLOT, NO_SLOT);
}

slot new_bool(struct vm *vm, bool value) {
    return new_cell(vm, TAG_BOOL, value, NO_SLOT, NO_SLOT, NO_SLOT);
}

bool truthy(struct vm *vm, const void *obj) {
    if (obj == NULL) return true;
    const struct cell *c = read_cell(vm, obj);
    return !(c->tag == TAG_BOOL && c->num == 0);
}

/* ---- Text and arrays ------------------------------------------------------- */

/* An array body: Strata's element count, then the elements. */
struct array {
    uint64_t length;
    unsigned char elements[];
};

slot new_text(struct vm *vm, enum tag tag, int64_t num, const char *bytes, size_t length) {
    void *obj;
    check(vm, strata_alloc_array(vm->thread, vm->rt->bytes_type, length, &obj),
          "strata_alloc_array");
    void *body;
    check(vm, strata_write(vm->thread, obj, &body), "strata_write");
    memcpy(((struct array *)body)->elements, bytes, length);
    slot text = push(vm, obj);
    slot s = new_cell(vm, tag, num, text, NO_SLOT, NO_SLOT);
    /* The cell takes the text's slot: pop both, push the cell back. */
    void *cell = at(vm, s);
    drop_to(vm, text);
    return push(vm, cell);
}

uint64_t text_hash(const char *text, size_t length) {
    uint64_t hash = 14695981039346656037u; /* FNV-1a */
    for (size_t i = 0; i < length; i++) hash = (hash ^ (unsigned char)text[i]) * 1099511628211u;
    return hash & 0xffffffffffffu;
}

const char *text_of(struct vm *vm, const void *obj, size_t *length) {
    const struct array *body;
    check(vm, strata_read(vm->thread, ref_of(vm, obj, 0), (const void **)&body), "strata_read");
    *length = body->length;
    return (const char *)body->elements;
}

slot new_refs(struct vm *vm, size_t length) {
    void *obj;
    check(vm, strata_alloc_array(vm->thread, vm->rt->refs_type, length, &obj),
          "strata_alloc_array");
    return push(vm, obj);
}

void set_element_value(struct vm *vm, slot array, size_t i, void *value) {
    check(vm,
          strata_write_ref(vm->thread, at(vm, array), offsetof(struct array, elements) + i * 8,
                           value),
          "strata_write_ref");
}

void set_element(struct vm *vm, slot array, size_t i, slot value) {
    set_element_value(vm, array, i, value == NO_SLOT ? NULL : at(vm, value));
}

void *element(struct vm *vm, const void *array, size_t i) {
    const struct array *body;
    check(vm, strata_read(vm->thread, array, (const void **)&body), "strata_read");
    void *value;
    memcpy(&value, body->elements + i * 8, sizeof value);
    return value;
}

size_t refs_length(struct vm *vm, const void *array) {
    const struct array *body;
    check(vm, strata_read(vm->thread, array, (const void **)&body), "strata_read");
    return body->length;
}

/* ---- The machine ------------------------------------------------------------- */

slot new_machine(struct vm *vm) {
    void *obj;
    check(vm, strata_alloc(vm->thread, vm->rt->machine_type, &obj), "strata_alloc");
    return push(vm, obj);
}

const struct machine *read_machine(struct vm *vm) {
    const void *body;
    check(vm, strata_read(vm->thread, at(vm, vm->machine), &body), "strata_read");
    return body;
}

void *machine_ref(struct vm *vm, enum machine_ref r) {
    const struct machine *m = read_machine(vm);
    switch (r) {
    case M_EXPR: return m->expr;
    case M_ENV: return m->env;
    case M_K: return m->k;
    case M_VAL: return m->val;
    }
    return NULL;
}

void set_machine_value(struct vm *vm, enum machine_ref r, void *value) {
    check(vm,
          strata_write_ref(vm->thread, at(vm, vm->machine),
                           offsetof(struct machine, expr) + (size_t)r * 8, value),
          "strata_write_ref");
}

void set_machine_ref(struct vm *vm, enum machine_ref r, slot value) {
    set_machine_value(vm, r, value == NO_SLOT ? NULL : at(vm, value));
}

void set_machine_nums(struct vm *vm, int64_t mode, int64_t atomic_depth, int64_t line) {
    void *body;
    check(vm, strata_write(vm->thread, at(vm, vm->machine), &body), "strata_write");
    struct machine *m = body;
    m->mode = mode;
    m->atomic_depth = atomic_depth;
    m->line = line;
}
