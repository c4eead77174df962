/*
 * threads.c: transactions, the global lock, spawn and join.
 *
 * Every Strata call that begins or ends a transaction is here. The
 * machine runs in transactions that this file cuts:
 *
 * - GIL-less (the default): after a step, outside atomic blocks, the
 *   transaction ends once it has run tx_length steps or Strata's break
 *   hint (strata_tx_should_break) says so, and a new one begins. Threads
 *   run in parallel; each transaction is a run of whole steps, so the
 *   program behaves as if steps ran one at a time.
 * - An (atomic ...) block is one transaction from its first step to its
 *   last: eval.c asks for a cut at its entry and at its end, and no cut
 *   happens between.
 * - --gil: the same transactions, run only while holding one global
 *   mutex, released at each cut. Strata needs a transaction for every
 *   read and write, so "no transactions" means transactions that never
 *   run concurrently: they never conflict and never abort. A thread
 *   waiting for the lock is in a blocking section, so that collections
 *   do not wait for it.
 *
 * A conflict dooms the attempt; the next write, the inevitability
 * request or the commit says STRATA_ABORTED, and check() unwinds with
 * longjmp (C frames only) to vm_run, which aborts the attempt, cuts
 * vm->sp back as Strata cut the shadow stack, and runs the machine again
 * from the registers the attempt began with.
 *
 * spawn and join must happen once, outside any attempt: a step leaves
 * the machine in MODE_SPAWN or MODE_JOIN, the transaction commits, the
 * work is done, and a small transaction of its own ("delivery") hands
 * the result to the machine (rerun until it commits: rerunning it does
 * not redo the work).
 */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

/* How many steps between two looks at Strata's break hint. */
#define BREAK_CHECK_STEPS 64

void tx_begin(struct vm *vm) {
    check(vm, strata_tx_begin(vm->thread), "strata_tx_begin");
    vm->in_tx = true;
    vm->tx_base = vm->sp;
    vm->steps = 0;
    vm->cut_requested = false;
    vm->yield_requested = false;
}

void tx_commit(struct vm *vm) {
    strata_status status = strata_tx_commit(vm->thread);
    vm->in_tx = false; /* either way */
    check(vm, status, "strata_tx_commit");
}

void tx_become_inevitable(struct vm *vm) {
    check(vm, strata_tx_become_inevitable(vm->thread), "strata_tx_become_inevitable");
}

/* After STRATA_ABORTED: ends the attempt if it is still open (doomed:
 * its commit aborts it, and Strata counts the abort by its cause); the
 * shadow stack is back at its depth at begin either way. */
static void discard_attempt(struct vm *vm) {
    if (vm->in_tx) {
        strata_status status = strata_tx_commit(vm->thread);
        if (status != STRATA_ABORTED) {
            fprintf(stderr, "host: a doomed attempt's commit gave %d: %s\n", (int)status,
                    strata_last_error());
            abort();
        }
    }
    vm->in_tx = false;
    vm->sp = vm->tx_base;
}

static void enter_blocking(struct vm *vm) {
    check(vm, strata_thread_enter_blocking(vm->thread), "strata_thread_enter_blocking");
}

static void leave_blocking(struct vm *vm) {
    check(vm, strata_thread_leave_blocking(vm->thread), "strata_thread_leave_blocking");
}

void gil_acquire(struct vm *vm) {
    if (!vm->rt->gil_mode) return;
    enter_blocking(vm);
    pthread_mutex_lock(&vm->rt->gil);
    leave_blocking(vm);
}

void gil_release(struct vm *vm) {
    if (vm->rt->gil_mode) pthread_mutex_unlock(&vm->rt->gil);
}

/* Ends the transaction between two steps and begins the next. */
static void cut(struct vm *vm) {
    bool yield = vm->yield_requested;
    tx_commit(vm);
    gil_release(vm);
    if (yield) sched_yield();
    gil_acquire(vm);
    tx_begin(vm);
}

static bool should_break(struct vm *vm) {
    if (vm->steps >= vm->rt->tx_length) return true;
    if (vm->steps % BREAK_CHECK_STEPS != 0) return false;
    bool hint;
    check(vm, strata_tx_should_break(vm->thread, &hint), "strata_tx_should_break");
    return hint;
}

/* Runs steps until the machine is done or waits for a spawn or a join. */
static enum mode run_steps(struct vm *vm) {
    for (;;) {
        enum mode mode = step(vm);
        if (mode == MODE_DONE || mode == MODE_SPAWN || mode == MODE_JOIN) return mode;
        vm->steps++;
        if (vm->cut_requested || vm->yield_requested ||
            (vm->atomic_depth == 0 && should_break(vm)))
            cut(vm);
    }
}

/* What deliver hands to the machine. */
enum delivery {
    DELIVER_THREAD, /* a thread just spawned, by its index */
    DELIVER_RESULT, /* a joined thread's value, from its global root (NULL: ()) */
    DELIVER_FAILED  /* #f, for a joined thread that ended with an error */
};

/* Hands a spawned thread or a joined thread's result to the machine, in
 * a transaction of its own. */
static void deliver(struct vm *vm, enum delivery what, int64_t thread_index,
                    strata_global *result) {
    jmp_buf retry;
    jmp_buf *outer = vm->escape;
    vm->escape = &retry;
    int code = setjmp(retry);
    if (code == ESCAPE_ERROR) {
        fprintf(stderr, "host: cannot hand a result to the machine: %s\n", vm->error);
        exit(70);
    }
    if (code == ESCAPE_ABORTED) discard_attempt(vm);
    tx_begin(vm);
    slot value;
    switch (what) {
    case DELIVER_THREAD:
        value = new_cell(vm, TAG_THREAD, thread_index, NO_SLOT, NO_SLOT, NO_SLOT);
        break;
    case DELIVER_RESULT: {
        void *obj = NULL;
        if (result != NULL)
            check(vm, strata_global_get(vm->thread, result, &obj), "strata_global_get");
        value = push(vm, obj);
        break;
    }
    default:
        value = new_bool(vm, false);
        break;
    }
    set_machine_ref(vm, M_VAL, value);
    const struct machine *m = read_machine(vm);
    set_machine_nums(vm, MODE_RETURN, m->atomic_depth, m->line);
    drop_to(vm, value);
    tx_commit(vm);
    vm->escape = outer;
}

/* ---- The thread table -------------------------------------------------------- */

static pthread_cond_t thread_done = PTHREAD_COND_INITIALIZER;

struct start {
    struct runtime *rt;
    int index;
    strata_global *start;
};

static void *thread_main(void *arg);

static int thread_start(struct vm *vm, strata_global *start) {
    struct runtime *rt = vm->rt;
    struct start *s = malloc(sizeof *s);
    if (s == NULL) abort();
    pthread_mutex_lock(&rt->table_lock);
    if (rt->thread_entries == rt->thread_capacity) {
        rt->thread_capacity = rt->thread_capacity ? 2 * rt->thread_capacity : 16;
        rt->threads = realloc(rt->threads, (size_t)rt->thread_capacity * sizeof *rt->threads);
        if (rt->threads == NULL) abort();
    }
    int index = rt->thread_entries++;
    rt->threads[index] = (struct thread_entry){0};
    *s = (struct start){rt, index + 1, start};
    if (pthread_create(&rt->threads[index].os_thread, NULL, thread_main, s) != 0) {
        fprintf(stderr, "host: cannot start a thread\n");
        exit(71);
    }
    pthread_mutex_unlock(&rt->table_lock);
    return index + 1;
}

static void do_spawn(struct vm *vm) {
    slot list = push(vm, machine_ref(vm, M_VAL));
    tx_commit(vm);
    strata_global *start;
    check(vm, strata_global_new(vm->thread, at(vm, list), &start), "strata_global_new");
    drop_to(vm, list);
    deliver(vm, DELIVER_THREAD, thread_start(vm, start), NULL);
}

static void do_join(struct vm *vm) {
    struct runtime *rt = vm->rt;
    int index = (int)read_cell(vm, machine_ref(vm, M_VAL))->num - 1;
    tx_commit(vm);
    gil_release(vm);
    enter_blocking(vm);
    pthread_mutex_lock(&rt->table_lock);
    while (!rt->threads[index].done) pthread_cond_wait(&thread_done, &rt->table_lock);
    strata_global *result = rt->threads[index].result;
    bool failed = rt->threads[index].failed;
    pthread_mutex_unlock(&rt->table_lock);
    leave_blocking(vm);
    gil_acquire(vm);
    deliver(vm, failed ? DELIVER_FAILED : DELIVER_RESULT, 0, result);
}

/* ---- Running a machine --------------------------------------------------------- */

static void report(struct vm *vm, const char *note) {
    if (vm->index == 0)
        fprintf(stderr, "%s:%d: error: %s%s\n", vm->rt->file, vm->line, vm->error, note);
    else
        fprintf(stderr, "%s:%d: error in thread %d: %s%s\n", vm->rt->file, vm->line, vm->index,
                vm->error, note);
    pthread_mutex_lock(&vm->rt->table_lock);
    vm->rt->errors++;
    pthread_mutex_unlock(&vm->rt->table_lock);
}

/* After a program error in a step: true if it came from a doomed attempt
 * (rerun it); else reports it and ends the machine. What the thread did
 * before the error stays, but an atomic block that fails is undone. */
static bool rerun_after_error(struct vm *vm) {
    bool doomed;
    check(vm, strata_tx_doomed(vm->thread, &doomed), "strata_tx_doomed");
    if (doomed) {
        discard_attempt(vm);
        return true;
    }
    if (read_machine(vm)->atomic_depth > 0) {
        check(vm, strata_tx_abort(vm->thread), "strata_tx_abort");
        vm->in_tx = false;
        vm->sp = vm->tx_base;
        report(vm, " (the atomic block is undone)");
    } else {
        tx_commit(vm); /* STRATA_ABORTED unwinds to vm_run: a rerun */
        report(vm, "");
    }
    gil_release(vm);
    return false;
}

bool vm_run(struct vm *vm) {
    jmp_buf escape;
    vm->escape = &escape;
    int code = setjmp(escape);
    if (code == ESCAPE_ABORTED) discard_attempt(vm);
    if (code == ESCAPE_ERROR && !rerun_after_error(vm)) return false;
    for (;;) {
        if (!vm->in_tx) tx_begin(vm);
        switch (run_steps(vm)) {
        case MODE_SPAWN:
            do_spawn(vm);
            break;
        case MODE_JOIN:
            do_join(vm);
            break;
        default:
            /* MODE_DONE: the result stays on the shadow stack's top. */
            push(vm, machine_ref(vm, M_VAL));
            tx_commit(vm);
            gil_release(vm);
            return true;
        }
    }
}

/* ---- Spawned threads ------------------------------------------------------------- */

/* Makes the machine of a spawned thread: apply the procedure to the
 * arguments of the start list. */
static void start_machine(struct vm *vm, strata_global *start) {
    jmp_buf retry;
    vm->escape = &retry;
    if (setjmp(retry) != 0) discard_attempt(vm);
    tx_begin(vm);
    void *obj;
    check(vm, strata_global_get(vm->thread, start, &obj), "strata_global_get");
    slot list = push(vm, obj);
    vm->machine = new_machine(vm);
    set_machine_value(vm, M_VAL, ref_of(vm, at(vm, list), 0));
    set_machine_value(vm, M_EXPR, ref_of(vm, at(vm, list), 1));
    set_machine_nums(vm, MODE_APPLY, 0, 0);
    tx_commit(vm);
    void *machine = at(vm, vm->machine);
    drop_to(vm, 0);
    vm->machine = push(vm, machine);
}

static void *thread_main(void *arg) {
    struct start s = *(struct start *)arg;
    free(arg);
    struct vm *vm = calloc(1, sizeof *vm);
    if (vm == NULL) abort();
    vm->rt = s.rt;
    vm->index = s.index;
    if (strata_thread_attach(s.rt->heap, &vm->thread) != STRATA_OK) {
        fprintf(stderr, "host: cannot attach a thread: %s\n", strata_last_error());
        exit(70);
    }
    gil_acquire(vm);
    start_machine(vm, s.start);
    check(vm, strata_global_free(s.start), "strata_global_free");
    strata_global *result = NULL;
    bool ok = vm_run(vm);
    if (ok && at(vm, vm->sp - 1) != NULL)
        check(vm, strata_global_new(vm->thread, at(vm, vm->sp - 1), &result), "strata_global_new");
    struct runtime *rt = s.rt;
    pthread_mutex_lock(&rt->table_lock);
    rt->threads[s.index - 1].result = result;
    rt->threads[s.index - 1].failed = !ok;
    rt->threads[s.index - 1].done = true;
    pthread_cond_broadcast(&thread_done);
    pthread_mutex_unlock(&rt->table_lock);
    check(vm, strata_thread_detach(vm->thread), "strata_thread_detach");
    free(vm->hashes);
    free(vm);
    return NULL;
}

void runtime_init(struct runtime *rt) {
    pthread_mutex_init(&rt->gil, NULL);
    pthread_mutex_init(&rt->table_lock, NULL);
}

void threads_finish(struct vm *vm) {
    struct runtime *rt = vm->rt;
    enter_blocking(vm);
    /* Threads may spawn threads until the last one ends. */
    for (int i = 0;; i++) {
        pthread_mutex_lock(&rt->table_lock);
        bool more = i < rt->thread_entries;
        pthread_t os_thread = more ? rt->threads[i].os_thread : (pthread_t){0};
        pthread_mutex_unlock(&rt->table_lock);
        if (!more) break;
        pthread_join(os_thread, NULL);
    }
    leave_blocking(vm);
    for (int i = 0; i < rt->thread_entries; i++) {
        if (rt->threads[i].result != NULL)
            check(vm, strata_global_free(rt->threads[i].result), "strata_global_free");
    }
    free(rt->threads);
}
