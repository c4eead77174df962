/*
 * eval.c: the machine's steps.
 *
 * The evaluator is a CEK machine: its registers (mode, expr, env, k, val)
 * are the fields of the thread's machine object, its continuation k a
 * chain of heap frames. A step reads the registers, does one small piece
 * of work (evaluate a form, hand a value to a frame, apply a procedure),
 * and writes the registers back. So between steps the C stack holds
 * nothing of the program, and threads.c can end a transaction after any
 * step, or rerun one from the registers its attempt began with.
 *
 * A step pushes what it holds on the shadow stack and pops it at its
 * end; each step's writes follow its checks, so a step that fails with
 * a program error has changed nothing.
 */
#include <string.h>

#include "host.h"

/* The registers, each pushed by load_registers. */
struct registers {
    slot expr, env, k, val;
    int64_t atomic_depth;
};

/* The line being run: kept for error messages, and set as the thread's
 * marker when it changes, so that conflict reports (strata_last_abort_info,
 * STRATA_PROFILE) name the program's lines on both sides. */
static void run_line(struct vm *vm, int line) {
    vm->line = line;
    if (line != vm->marker_line) {
        check(vm, strata_set_marker(vm->thread, vm->rt->marker_file, (uint32_t)line),
              "strata_set_marker");
        vm->marker_line = line;
    }
}

static struct registers load_registers(struct vm *vm) {
    const struct machine *m = read_machine(vm);
    void *expr = m->expr, *env = m->env, *k = m->k, *val = m->val;
    int64_t depth = m->atomic_depth;
    run_line(vm, (int)m->line);
    return (struct registers){push(vm, expr), push(vm, env), push(vm, k), push(vm, val), depth};
}

static void set_state(struct vm *vm, const struct registers *regs, enum mode mode, slot expr,
                      slot env, slot k, slot val) {
    set_machine_ref(vm, M_EXPR, expr);
    set_machine_ref(vm, M_ENV, env);
    set_machine_ref(vm, M_K, k);
    set_machine_ref(vm, M_VAL, val);
    set_machine_nums(vm, mode, regs->atomic_depth, vm->line);
}

static slot ref_slot(struct vm *vm, slot obj, int i) {
    return push(vm, ref_of(vm, at(vm, obj), i));
}

static slot new_k(struct vm *vm, enum tag tag, slot r0, slot r1, slot next) {
    slot k = new_cell(vm, tag, vm->line, r0, r1, NO_SLOT);
    set_ref(vm, k, NEXT_FRAME, next);
    return k;
}

/* ---- Environments ---------------------------------------------------------- */

/* A frame's bindings are a list; the global frame's (made with buckets)
 * are hashed by the symbol's name hash, kept in its num above the form. */
#define GLOBAL_BUCKETS 256

slot new_frame(struct vm *vm, slot parent) {
    slot frame = new_cell(vm, TAG_FRAME, 0, NO_SLOT, parent, NO_SLOT);
    if (parent == NO_SLOT) {
        slot buckets = new_refs(vm, GLOBAL_BUCKETS);
        set_ref(vm, frame, 2, buckets);
        drop_to(vm, buckets);
    }
    return frame;
}

static size_t bucket_of(struct vm *vm, const void *symbol) {
    return (size_t)((uint64_t)read_cell(vm, symbol)->num >> 8) % GLOBAL_BUCKETS;
}

/* The first binding of frame where symbol would be. */
static void *first_binding(struct vm *vm, const void *frame, const void *symbol) {
    const struct cell *f = read_cell(vm, frame);
    if (f->ref[2] == NULL) return f->ref[0];
    void *buckets = f->ref[2];
    return element(vm, buckets, bucket_of(vm, symbol));
}

static void *find_in_frame(struct vm *vm, const void *frame, const void *symbol) {
    for (void *b = first_binding(vm, frame, symbol); b != NULL; b = ref_of(vm, b, NEXT_FRAME)) {
        if (ref_of(vm, b, 0) == symbol) return b;
    }
    return NULL;
}

void *find_binding(struct vm *vm, const void *env, const void *symbol) {
    for (const void *frame = env; frame != NULL; frame = ref_of(vm, frame, 1)) {
        void *b = find_in_frame(vm, frame, symbol);
        if (b != NULL) return b;
    }
    return NULL;
}

void bind(struct vm *vm, slot frame, slot symbol, slot value) {
    void *existing = find_in_frame(vm, at(vm, frame), at(vm, symbol));
    if (existing != NULL) {
        slot b = push(vm, existing);
        set_ref(vm, b, 1, value);
        drop_to(vm, b);
        return;
    }
    slot b = new_cell(vm, TAG_BINDING, 0, symbol, value, NO_SLOT);
    set_ref_value(vm, b, NEXT_FRAME, first_binding(vm, at(vm, frame), at(vm, symbol)));
    void *buckets = ref_of(vm, at(vm, frame), 2);
    if (buckets == NULL) {
        set_ref(vm, frame, 0, b);
    } else {
        slot array = push(vm, buckets);
        set_element(vm, array, bucket_of(vm, at(vm, symbol)), b);
    }
    drop_to(vm, b);
}

static void unbound(struct vm *vm, const void *symbol) {
    size_t length;
    const char *name = text_of(vm, symbol, &length);
    fail(vm, "unbound variable '%.*s'", (int)length, name);
}

/* ---- Evaluation ------------------------------------------------------------ */

/* Evaluates the expressions of body in env in turn, handing the last
 * one's value to k (the empty list for no expressions). */
static void eval_sequence(struct vm *vm, const struct registers *regs, slot body, slot env,
                          slot k) {
    if (at(vm, body) == NULL) {
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, k, NO_SLOT);
        return;
    }
    slot first = ref_slot(vm, body, 0), rest = ref_slot(vm, body, 1);
    if (at(vm, rest) == NULL) {
        set_state(vm, regs, MODE_EVAL, first, env, k, NO_SLOT);
        return;
    }
    slot frame = new_k(vm, K_SEQ, rest, env, k);
    set_state(vm, regs, MODE_EVAL, first, env, frame, NO_SLOT);
}

static void eval_form(struct vm *vm, struct registers *regs, enum form form) {
    slot args = ref_slot(vm, regs->expr, 1);
    /* Only (and) and (or) may have no arguments: the reader checks. */
    bool empty = at(vm, args) == NULL;
    slot first = empty ? push(vm, NULL) : ref_slot(vm, args, 0);
    slot rest = empty ? push(vm, NULL) : ref_slot(vm, args, 1);
    switch (form) {
    case FORM_QUOTE:
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, regs->k, first);
        return;
    case FORM_IF: {
        slot k = new_k(vm, K_IF, rest, regs->env, regs->k);
        set_state(vm, regs, MODE_EVAL, first, regs->env, k, NO_SLOT);
        return;
    }
    case FORM_DEFINE:
    case FORM_SET: {
        slot k = new_k(vm, form == FORM_DEFINE ? K_DEFINE : K_SET, first, regs->env, regs->k);
        set_state(vm, regs, MODE_EVAL, ref_slot(vm, rest, 0), regs->env, k, NO_SLOT);
        return;
    }
    case FORM_LAMBDA: {
        slot closure = new_cell(vm, TAG_CLOSURE, vm->line, first, rest, regs->env);
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, regs->k, closure);
        return;
    }
    case FORM_BEGIN:
        eval_sequence(vm, regs, args, regs->env, regs->k);
        return;
    case FORM_ATOMIC: {
        /* The outermost block begins a transaction of its own, and its end
         * ends it: threads.c cuts after this step and after K_ATOMIC_END. */
        if (regs->atomic_depth == 0) vm->cut_requested = true;
        regs->atomic_depth++;
        slot k = new_k(vm, K_ATOMIC_END, NO_SLOT, NO_SLOT, regs->k);
        eval_sequence(vm, regs, args, regs->env, k);
        return;
    }
    case FORM_AND:
    case FORM_OR:
        if (empty) {
            slot value = new_bool(vm, form == FORM_AND);
            set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, regs->k, value);
        } else if (at(vm, rest) == NULL) {
            set_state(vm, regs, MODE_EVAL, first, regs->env, regs->k, NO_SLOT);
        } else {
            slot k = new_k(vm, form == FORM_AND ? K_AND : K_OR, rest, regs->env, regs->k);
            set_state(vm, regs, MODE_EVAL, first, regs->env, k, NO_SLOT);
        }
        return;
    case FORM_NONE:
        break;
    }
}

static void eval_step(struct vm *vm, struct registers *regs) {
    void *expr = at(vm, regs->expr);
    if (expr == NULL) fail(vm, "cannot evaluate the empty list ()");
    const struct cell *c = read_cell(vm, expr);
    if (c->tag == TAG_SYMBOL) {
        void *binding = find_binding(vm, at(vm, regs->env), expr);
        if (binding == NULL) unbound(vm, expr);
        slot value = push(vm, ref_of(vm, binding, 1));
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, regs->k, value);
        return;
    }
    if (c->tag != TAG_PAIR) {
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, regs->k, regs->expr);
        return;
    }
    run_line(vm, (int)c->num);
    void *head = c->ref[0];
    if (head != NULL) {
        const struct cell *h = read_cell(vm, head);
        if (h->tag == TAG_SYMBOL && (h->num & 0xff) != FORM_NONE) {
            eval_form(vm, regs, (enum form)(h->num & 0xff));
            return;
        }
    }
    slot operator= ref_slot(vm, regs->expr, 0);
    slot operands = ref_slot(vm, regs->expr, 1);
    slot k = new_k(vm, K_ARGS, operands, regs->env, regs->k);
    set_state(vm, regs, MODE_EVAL, operator, regs->env, k, NO_SLOT);
}

/* The list at list, reversed, pushed. */
static slot reverse(struct vm *vm, slot list) {
    slot base = vm->sp;
    void *done = NULL, *left = at(vm, list);
    while (left != NULL) {
        slot rest = push(vm, ref_of(vm, left, 1));
        slot item = push(vm, ref_of(vm, left, 0));
        slot acc = push(vm, done);
        slot pair = new_cell(vm, TAG_PAIR, 0, item, acc, NO_SLOT);
        /* Popping collects nothing: both stay valid until the next push. */
        done = at(vm, pair);
        left = at(vm, rest);
        drop_to(vm, base);
    }
    return push(vm, done);
}

static void return_step(struct vm *vm, struct registers *regs) {
    void *k = at(vm, regs->k);
    if (k == NULL) {
        set_state(vm, regs, MODE_DONE, NO_SLOT, NO_SLOT, NO_SLOT, regs->val);
        return;
    }
    const struct cell *frame = read_cell(vm, k);
    enum tag tag = (enum tag)frame->tag;
    run_line(vm, (int)frame->num);
    slot r0 = ref_slot(vm, regs->k, 0), env = ref_slot(vm, regs->k, 1);
    slot next = ref_slot(vm, regs->k, NEXT_FRAME);
    switch (tag) {
    case K_IF: {
        if (truthy(vm, at(vm, regs->val))) {
            set_state(vm, regs, MODE_EVAL, ref_slot(vm, r0, 0), env, next, NO_SLOT);
            return;
        }
        slot otherwise = ref_slot(vm, r0, 1);
        if (at(vm, otherwise) == NULL)
            set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, next, NO_SLOT);
        else
            set_state(vm, regs, MODE_EVAL, ref_slot(vm, otherwise, 0), env, next, NO_SLOT);
        return;
    }
    case K_AND:
    case K_OR:
        if (truthy(vm, at(vm, regs->val)) != (tag == K_AND)) {
            set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, next, regs->val);
            return;
        }
        /* The rest, as a sequence. */
        /* fall through */
    case K_SEQ: {
        slot first = ref_slot(vm, r0, 0), rest = ref_slot(vm, r0, 1);
        if (at(vm, rest) == NULL) {
            set_state(vm, regs, MODE_EVAL, first, env, next, NO_SLOT);
        } else {
            set_ref(vm, regs->k, 0, rest);
            set_state(vm, regs, MODE_EVAL, first, env, regs->k, NO_SLOT);
        }
        return;
    }
    case K_DEFINE:
        bind(vm, env, r0, regs->val);
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, next, r0);
        return;
    case K_SET: {
        void *binding = find_binding(vm, at(vm, env), at(vm, r0));
        if (binding == NULL) unbound(vm, at(vm, r0));
        slot b = push(vm, binding);
        set_ref(vm, b, 1, regs->val);
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, next, regs->val);
        return;
    }
    case K_ARGS: {
        slot values = ref_slot(vm, regs->k, 2);
        slot more = new_cell(vm, TAG_PAIR, 0, regs->val, values, NO_SLOT);
        if (at(vm, r0) == NULL) {
            slot call = reverse(vm, more);
            set_state(vm, regs, MODE_APPLY, ref_slot(vm, call, 1), NO_SLOT, next,
                      ref_slot(vm, call, 0));
            return;
        }
        set_ref(vm, regs->k, 2, more);
        set_ref(vm, regs->k, 0, ref_slot(vm, r0, 1));
        set_state(vm, regs, MODE_EVAL, ref_slot(vm, r0, 0), env, regs->k, NO_SLOT);
        return;
    }
    case K_ATOMIC_END:
        regs->atomic_depth--;
        if (regs->atomic_depth == 0) vm->cut_requested = true;
        set_state(vm, regs, MODE_RETURN, NO_SLOT, NO_SLOT, next, regs->val);
        return;
    default:
        fail(vm, "internal error: a continuation of tag %d", (int)tag);
    }
}

static int list_length(struct vm *vm, const void *list) {
    int n = 0;
    for (; list != NULL; list = ref_of(vm, list, 1)) n++;
    return n;
}

static void apply_closure(struct vm *vm, struct registers *regs) {
    slot closure = regs->val;
    slot params = ref_slot(vm, closure, 0);
    int expected = list_length(vm, at(vm, params)), given = list_length(vm, at(vm, regs->expr));
    if (expected != given)
        fail(vm, "the procedure defined at line %d expects %d argument%s, got %d",
             (int)read_cell(vm, at(vm, closure))->num, expected, expected == 1 ? "" : "s",
             given);
    slot frame = new_frame(vm, ref_slot(vm, closure, 2));
    slot base = vm->sp;
    void *names = at(vm, params), *values = at(vm, regs->expr);
    while (names != NULL) {
        slot name_rest = push(vm, ref_of(vm, names, 1));
        slot value_rest = push(vm, ref_of(vm, values, 1));
        bind(vm, frame, push(vm, ref_of(vm, names, 0)), push(vm, ref_of(vm, values, 0)));
        names = at(vm, name_rest);
        values = at(vm, value_rest);
        drop_to(vm, base);
    }
    eval_sequence(vm, regs, ref_slot(vm, closure, 1), frame, regs->k);
}

static void apply_builtin(struct vm *vm, struct registers *regs) {
    const struct builtin *b = &builtins[read_cell(vm, at(vm, regs->val))->num];
    slot args = vm->sp;
    int argc = 0;
    for (void *list = at(vm, regs->expr); list != NULL; list = ref_of(vm, list, 1)) {
        push(vm, ref_of(vm, list, 0));
        argc++;
    }
    if (argc < b->min_args || (b->max_args >= 0 && argc > b->max_args)) {
        if (b->min_args == b->max_args)
            fail(vm, "%s expects %d argument%s, got %d", b->name, b->min_args,
                 b->min_args == 1 ? "" : "s", argc);
        fail(vm, "%s expects at least %d arguments, got %d", b->name, b->min_args, argc);
    }
    vm->pending = MODE_RETURN;
    void *result = b->run(vm, args, argc);
    slot value = push(vm, result);
    set_state(vm, regs, vm->pending, NO_SLOT, NO_SLOT, regs->k, value);
}

enum mode step(struct vm *vm) {
    slot base = vm->sp;
    enum mode mode = (enum mode)read_machine(vm)->mode;
    struct registers regs = load_registers(vm);
    switch (mode) {
    case MODE_EVAL:
        eval_step(vm, &regs);
        break;
    case MODE_RETURN:
        return_step(vm, &regs);
        break;
    case MODE_APPLY: {
        int64_t tag = tag_of(vm, at(vm, regs.val));
        if (tag == TAG_CLOSURE)
            apply_closure(vm, &regs);
        else if (tag == TAG_PRIM)
            apply_builtin(vm, &regs);
        else
            fail(vm, "cannot call %s", type_name(vm, at(vm, regs.val)));
        break;
    }
    case MODE_SPAWN:
    case MODE_JOIN:
    case MODE_DONE:
        break;
    }
    drop_to(vm, base);
    vm->atomic_depth = regs.atomic_depth;
    return (enum mode)read_machine(vm)->mode;
}
