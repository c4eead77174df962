/*
 * host.h: what the parts of the interpreter share.
 *
 * The interpreter is a machine whose whole state lives in Strata: its
 * registers are one heap object per thread (the machine), its
 * continuation is a chain of heap frames, and every value is a heap
 * object. So a transaction that aborts rolls the machine back to where
 * the transaction began, and rerunning it is only running the machine
 * again. The C side holds nothing across a transaction but shadow-stack
 * slots (see objects.c).
 *
 * Files by role: objects.c (the heap objects and every object call into
 * Strata), reader.c (source text to lists), eval.c (the machine's
 * steps), builtins.c (primitive procedures), threads.c (transactions,
 * the global lock, spawn and join), main.c (options and start-up).
 */
#ifndef HOST_H
#define HOST_H

#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strata.h"

/* ---- Objects --------------------------------------------------------- */

/* What a cell is; every value and every continuation frame is a cell. */
enum tag {
    TAG_INT = 1,  /* num: the value */
    TAG_BOOL,     /* num: 0 or 1 */
    TAG_STRING,   /* ref 0: the bytes */
    TAG_SYMBOL,   /* num: the name's hash << 8 | the special form it names (enum form),
                     ref 0: the bytes */
    TAG_PAIR,     /* num: source line, ref 0: car, ref 1: cdr */
    TAG_CLOSURE,  /* ref 0: parameters, ref 1: body, ref 2: environment */
    TAG_PRIM,     /* num: index into the builtin table */
    TAG_DICT,     /* ref 0: a map object from key hashes to chains of entries */
    TAG_ENTRY,    /* ref 0: key, ref 1: value, ref 4: next entry of the same hash */
    TAG_FRAME,    /* ref 0: first binding, ref 1: parent frame */
    TAG_BINDING,  /* ref 0: symbol, ref 1: value, ref 4: next binding */
    TAG_THREAD,   /* num: index into the thread table */
    TAG_QUEUE,    /* ref 0: a queue object of values */
    /* Continuation frames: num is the source line, ref 4 the next frame. */
    K_IF,         /* ref 0: (then [else]), ref 1: environment */
    K_SEQ,        /* ref 0: expressions left, ref 1: environment */
    K_DEFINE,     /* ref 0: symbol, ref 1: environment */
    K_SET,        /* ref 0: symbol, ref 1: environment */
    K_AND,        /* ref 0: expressions left, ref 1: environment */
    K_OR,         /* ref 0: expressions left, ref 1: environment */
    K_ARGS,       /* ref 0: operands left, ref 1: environment, ref 2: values, reversed */
    K_ATOMIC_END  /* the end of an atomic block */
};

/* The special forms, as the reader marks their symbols. */
enum form {
    FORM_NONE = 0,
    FORM_QUOTE,
    FORM_IF,
    FORM_DEFINE,
    FORM_SET,
    FORM_LAMBDA,
    FORM_BEGIN,
    FORM_ATOMIC,
    FORM_AND,
    FORM_OR
};

#define CELL_REFS 5
#define NEXT_FRAME 4 /* the ref of a continuation frame, entry or binding that links on */

/* The body of a cell, the one fixed-size type of values and frames. */
struct cell {
    int64_t tag;
    int64_t num;
    void *ref[CELL_REFS];
};

/* The machine's modes: what its next step does. */
enum mode {
    MODE_EVAL = 1, /* evaluate expr in env, continue with k */
    MODE_RETURN,   /* hand val to k */
    MODE_APPLY,    /* apply val (a procedure) to expr (the argument list), continue with k */
    MODE_SPAWN,    /* at the transaction's end: start a thread for the list val */
    MODE_JOIN,     /* at the transaction's end: wait for the thread val */
    MODE_DONE      /* finished: val is the result */
};

/* The body of a machine: the registers of one thread's interpreter. */
struct machine {
    int64_t mode;
    int64_t atomic_depth; /* (atomic ...) blocks entered and not left */
    int64_t line;         /* of the call that APPLY runs, for error messages */
    void *expr;
    void *env;
    void *k;
    void *val;
};

enum machine_ref { M_EXPR, M_ENV, M_K, M_VAL };

/* A shadow-stack entry by its distance from the stack's bottom. */
typedef size_t slot;
#define NO_SLOT ((slot)-1)

/* ---- Interpreter state (C memory) ------------------------------------- */

struct runtime;

/* One thread's interpreter, owned by its OS thread. */
struct vm {
    struct runtime *rt;
    strata_thread *thread;
    int index;               /* in the thread table; 0 is the main thread */
    size_t sp;               /* entries on the shadow stack */
    size_t tx_base;          /* sp when the transaction began */
    bool in_tx;
    slot machine;            /* where the machine object is rooted */
    jmp_buf *escape;         /* where an aborted attempt or an error unwinds to */
    int line;                /* the line being run, for error messages */
    int marker_line;         /* the line last set as the thread's marker */
    bool cut_requested;      /* end the transaction after this step */
    bool yield_requested;    /* and let other threads run before the next */
    long steps;              /* steps in this transaction */
    enum mode pending;       /* the mode a builtin asks the machine to take */
    int64_t atomic_depth;    /* the machine's, after the last step */
    uint64_t *hashes;        /* dict-keys' buffer for a dictionary's key hashes */
    size_t hashes_capacity;
    char error[512];
};

/* What vm->escape receives. */
enum escape { ESCAPE_ABORTED = 1, ESCAPE_ERROR = 2 };

/* One spawned thread. */
struct thread_entry {
    pthread_t os_thread;
    strata_global *result; /* its value; NULL for () */
    bool failed;           /* it ended with a program error */
    bool done;
};

struct runtime {
    strata_heap *heap;
    strata_type_id cell_type, bytes_type, refs_type, machine_type;
    const char *file;
    uint32_t marker_file;  /* file's marker number: conflict reports name its lines */
    bool gil_mode;
    long tx_length;       /* steps per transaction at most */
    long thread_count;    /* what (threads) returns */
    long scale;           /* what (scale) returns: how much work programs do */
    pthread_mutex_t gil;
    pthread_mutex_t table_lock;
    struct thread_entry *threads;
    int thread_entries, thread_capacity;
    int errors; /* threads that ended with an error */
};

/* ---- objects.c ---------------------------------------------------------- */

void objects_register_types(struct runtime *rt);
void check(struct vm *vm, strata_status status, const char *call);
_Noreturn void fail(struct vm *vm, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

slot push(struct vm *vm, void *obj);
void *at(struct vm *vm, slot s);
void drop_to(struct vm *vm, slot s);

const struct cell *read_cell(struct vm *vm, const void *obj);
int64_t tag_of(struct vm *vm, const void *obj);
void *ref_of(struct vm *vm, const void *obj, int i);
void set_ref(struct vm *vm, slot obj, int i, slot value);
void set_ref_value(struct vm *vm, slot obj, int i, void *value);

slot new_cell(struct vm *vm, enum tag tag, int64_t num, slot r0, slot r1, slot r2);
slot new_int(struct vm *vm, int64_t value);
slot new_bool(struct vm *vm, bool value);
slot new_text(struct vm *vm, enum tag tag, int64_t num, const char *bytes, size_t length);
slot new_refs(struct vm *vm, size_t length);
void set_element(struct vm *vm, slot array, size_t i, slot value);
void set_element_value(struct vm *vm, slot array, size_t i, void *value);
void *element(struct vm *vm, const void *array, size_t i);
size_t refs_length(struct vm *vm, const void *array);
/* The bytes of a string or symbol, valid until the next collecting call. */
const char *text_of(struct vm *vm, const void *obj, size_t *length);

slot new_machine(struct vm *vm);
void *machine_ref(struct vm *vm, enum machine_ref r);
void set_machine_ref(struct vm *vm, enum machine_ref r, slot value);
void set_machine_value(struct vm *vm, enum machine_ref r, void *value);
const struct machine *read_machine(struct vm *vm);
void set_machine_nums(struct vm *vm, int64_t mode, int64_t atomic_depth, int64_t line);

bool truthy(struct vm *vm, const void *obj);
/* A hash of a name or string (48 bits, so that it fits a symbol's num). */
uint64_t text_hash(const char *text, size_t length);

/* ---- reader.c ----------------------------------------------------------- */

/* Reads every form of source into a list (pushed; its slot returned) and
 * the builtins' symbols into a frame. Returns NO_SLOT after a syntax
 * error, with the message in vm->error. */
slot read_program(struct vm *vm, const char *source, size_t length, slot *global_frame);

/* ---- builtins.c ---------------------------------------------------------- */

typedef void *(*builtin_fn)(struct vm *vm, slot args, int argc);
struct builtin {
    const char *name;
    int min_args, max_args; /* max -1: any */
    builtin_fn run;
};
extern const struct builtin builtins[];
extern const size_t builtin_count;
const char *type_name(struct vm *vm, const void *obj);
void print_value(struct vm *vm, const void *obj, char **out, size_t *length, size_t *capacity);

/* ---- eval.c -------------------------------------------------------------- */

/* Runs one step of the machine; returns its new mode. */
enum mode step(struct vm *vm);
/* The binding of symbol in env or its parents, or NULL. */
void *find_binding(struct vm *vm, const void *env, const void *symbol);
slot new_frame(struct vm *vm, slot parent);
/* Binds symbol to value in frame (a new binding, or the frame's own). */
void bind(struct vm *vm, slot frame, slot symbol, slot value);

/* ---- threads.c ------------------------------------------------------------ */

void tx_begin(struct vm *vm);
void tx_commit(struct vm *vm);
void tx_become_inevitable(struct vm *vm);
/* Runs the machine of vm to its end; returns false after a program error. */
bool vm_run(struct vm *vm);
void runtime_init(struct runtime *rt);
/* Waits for every spawned thread; frees their roots. */
void threads_finish(struct vm *vm);
void gil_acquire(struct vm *vm);
void gil_release(struct vm *vm);

#endif
