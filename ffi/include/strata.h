/*
 * strata.h: the C interface of Strata, a multi-threaded, transactional,
 * garbage-collected object heap for language runtimes.
 *
 * Link with -lstrata (libstrata.so) or with libstrata.a and the system
 * libraries listed in ffi/README.md. This header compiles as C11 and as C++.
 *
 * Rules that hold for every function:
 *
 * - Errors. A function that can fail returns a strata_status; STRATA_OK is
 *   0. Results are written through out-pointers, which are left untouched
 *   on failure. A failing call also sets the calling thread's last error,
 *   a message for humans (strata_last_error). Each code below means the
 *   same thing for every function; each function lists the codes it
 *   returns beyond STRATA_ERROR_NULL_ARGUMENT (any required pointer
 *   argument that is NULL) and STRATA_ERROR_INTERNAL (a bug in Strata).
 * - Handles. strata_heap, strata_thread and strata_global are opaque.
 *   Every function checks a handle before it uses it: a destroyed heap, a
 *   detached thread, a thread handle used on another OS thread, a freed
 *   global root are reported with a status, not a crash. (A stale pointer
 *   is detected unless a new handle of the same kind has since been made
 *   at the same address.) Object pointers cannot be checked beyond NULL:
 *   see "Transactions" for what they must be.
 * - Threads. A heap may be used from any thread. A strata_thread belongs
 *   to the OS thread that attached it: only that thread may pass it.
 * - Callbacks. A trace callback runs during collections, possibly on a
 *   collector thread and on several threads at once: it must only report
 *   slots, and must not call any strata function. On-commit and on-abort
 *   callbacks run on their transaction's thread and must not call strata
 *   functions on that thread. A strata_atomically block calls them freely.
 * - No exceptions or unwinding cross this interface in either direction:
 *   a Rust panic inside Strata is caught and returned as
 *   STRATA_ERROR_INTERNAL, and callbacks must return normally.
 */
#ifndef STRATA_H
#define STRATA_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ------------------------------------------------------- */

/* The version of Strata this header belongs to. */
#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 1
#define STRATA_VERSION_PATCH 0
/* The same, packed as strata_version() returns it. */
#define STRATA_VERSION \
    ((STRATA_VERSION_MAJOR << 16) | (STRATA_VERSION_MINOR << 8) | STRATA_VERSION_PATCH)

/*
 * Counts incompatible changes of what this header bakes into a program
 * (struct layouts, status values, object layout: the inline fast paths of
 * strata_read and strata_write read object headers and the start of
 * strata_thread). strata_heap_create passes it to the library, which
 * refuses to make a heap for a program compiled against another ABI
 * version.
 */
#define STRATA_ABI_VERSION 4

/* The library's version, packed like STRATA_VERSION. Any thread. */
uint32_t strata_version(void);

/* The library's ABI version (compare with STRATA_ABI_VERSION). Any thread. */
uint32_t strata_abi_version(void);

/* ---- Status codes and the last error -------------------------------- */

typedef enum strata_status {
    /* Success. */
    STRATA_OK = 0,
    /* A required pointer argument is NULL. */
    STRATA_ERROR_NULL_ARGUMENT = 1,
    /* The heap pointer is not a live heap: destroyed, or never created. */
    STRATA_ERROR_INVALID_HEAP = 2,
    /* The thread pointer is not an attached thread: detached already
     * (a second detach), or never returned by strata_thread_attach. */
    STRATA_ERROR_NOT_ATTACHED = 3,
    /* The thread handle is attached, but on another OS thread: only the
     * thread that attached may use it. */
    STRATA_ERROR_WRONG_THREAD = 4,
    /* The calling thread is already attached to this heap: use its handle
     * (two handles of one heap on one thread would deadlock a collection). */
    STRATA_ERROR_ALREADY_ATTACHED = 5,
    /* The heap still has attached threads. */
    STRATA_ERROR_HEAP_BUSY = 6,
    /* A configuration value is out of range (the message names it). */
    STRATA_ERROR_INVALID_CONFIG = 7,
    /* The program was compiled against a strata.h of another ABI version. */
    STRATA_ERROR_ABI_MISMATCH = 8,
    /* A type description is refused (the message says why). */
    STRATA_ERROR_INVALID_TYPE = 9,
    /* The thread is in a blocking section: leave it before this call. */
    STRATA_ERROR_BLOCKED = 10,
    /* The thread is not in a blocking section. */
    STRATA_ERROR_NOT_BLOCKED = 11,
    /* Every thread slot of the heap is taken (65,535 threads attached). */
    STRATA_ERROR_TOO_MANY_THREADS = 12,
    /* The operating system refused memory (mapping the heap failed). */
    STRATA_ERROR_SYSTEM = 13,
    /* A bug in Strata, caught before it could unwind into the program
     * (the message has the details; please report it). The heap that was
     * being used may be inconsistent: stop using it. */
    STRATA_ERROR_INTERNAL = 14,
    /* A transaction is open on the thread: the call needs none. */
    STRATA_ERROR_IN_TRANSACTION = 15,
    /* No transaction is open on the thread: the call needs one. */
    STRATA_ERROR_NO_TRANSACTION = 16,
    /* The transaction's attempt is doomed (a conflict) or, from
     * strata_tx_commit, aborted: nothing it did remains. Run the block
     * again from strata_tx_begin (after strata_tx_commit or
     * strata_tx_abort when it is still open). Not a bug: a normal outcome
     * under contention. */
    STRATA_ABORTED = 17,
    /* The type id was never registered with this heap. */
    STRATA_ERROR_UNKNOWN_TYPE = 18,
    /* An array length that is absurd, or a length for a fixed-size type. */
    STRATA_ERROR_BAD_SIZE = 19,
    /* The object is bigger than the whole heap limit: it can never fit. */
    STRATA_ERROR_TOO_LARGE = 20,
    /* The heap is full: even after a major collection the object does not
     * fit under the heap limit. The heap stays usable; objects that die
     * make room. */
    STRATA_ERROR_OUT_OF_MEMORY = 21,
    /* A pop or peek past the shadow stack's bottom, or a pop, inside a
     * transaction, of an entry pushed before it began. */
    STRATA_ERROR_ROOT_STACK = 22,
    /* The offset is not a reference slot of the object's type. */
    STRATA_ERROR_NOT_A_REF_SLOT = 23,
    /* The global root belongs to another heap than the thread's. */
    STRATA_ERROR_OTHER_HEAP = 24,
    /* The global root pointer is not a live global root: freed, or never
     * made. */
    STRATA_ERROR_INVALID_GLOBAL = 25,
    /* The counter, map or queue pointer is not a live one of its kind:
     * freed (or its heap destroyed), or never made. */
    STRATA_ERROR_INVALID_STRUCTURE = 26
} strata_status;

/*
 * The message of the calling thread's last failing strata call, naming the
 * function and what was wrong; "" if no call of this thread has failed.
 * Owned by the library: valid until this thread's next failing call.
 * Successful calls leave it (like errno). Any thread, attached or not.
 */
const char *strata_last_error(void);

/* ---- Configuration -------------------------------------------------- */

/* Sizes and policies of a heap. Fill it with strata_config_init, then
 * change what you need. */
typedef struct strata_config {
    /* Bytes of each attached thread's nursery (at least 4 KiB).
     * Default 4 MiB. */
    size_t nursery_bytes;
    /* The heap limit: bytes of old space in use (at least 1 MiB). Address
     * space is reserved for it, memory committed on use. Default 8 GiB. */
    size_t max_heap_bytes;
    /* No major collection is triggered by growth below this many bytes of
     * old space in use. Default 32 MiB. */
    size_t min_major_bytes;
    /* A major collection starts when the old space has grown to this many
     * times the live bytes after the last one (at least 1.0). Default 2.0. */
    double growth_factor;
    /* A collection that has waited this long for threads to reach a
     * safepoint names them once on stderr; 0: never. Default 10000. */
    uint64_t stall_warning_ms;
    /* strata_tx_should_break turns true once a transaction has allocated this
     * many bytes; 0: half the nursery. Default 0. */
    size_t break_bytes;
    /* Threads that mark in a big major collection; 0: one per core, at
     * most 8 (at most 64). Default 0. */
    uint32_t gc_threads;
    /* After this many aborts in a row a transaction runs its next attempt
     * inevitably, so it commits. Default 64. */
    uint32_t max_retries;
    /* Whether a thread whose nursery survives allocates straight in the
     * old space for a while. Default true. */
    bool pretenure;
    /* Whether to ask the kernel for transparent huge pages. Default true. */
    bool huge_pages;
} strata_config;

/*
 * Fills *config with the defaults, overridden by the environment as for
 * Rust programs (STRATA_NURSERY_BYTES, STRATA_MAX_HEAP_BYTES,
 * STRATA_GC_THREADS, STRATA_HUGE_PAGES). Any thread.
 * STRATA_ERROR_INVALID_CONFIG: an environment value does not parse;
 * *config then holds the defaults without overrides.
 */
strata_status strata_config_init(strata_config *config);

/* ---- Heaps ---------------------------------------------------------- */

/* A heap: its old space, its type registry, its attached threads. */
typedef struct strata_heap strata_heap;

/* What strata_heap_create calls: the ABI version and the size of
 * strata_config the program was compiled with come first, so that the
 * library can refuse a program compiled against another header. Prefer
 * strata_heap_create. */
strata_status strata_heap_create_checked(uint32_t abi_version, size_t config_size,
                                         const strata_config *config,
                                         strata_heap **heap_out);

/*
 * Makes a heap configured by *config (read, not kept) and stores it in
 * *heap_out. The caller owns the heap and destroys it with
 * strata_heap_destroy. Any thread; the calling thread is not attached.
 * STRATA_ERROR_INVALID_CONFIG: a field of *config is out of range.
 * STRATA_ERROR_ABI_MISMATCH: this header and the library disagree.
 * STRATA_ERROR_SYSTEM: reserving the heap's memory failed.
 */
static inline strata_status strata_heap_create(const strata_config *config,
                                               strata_heap **heap_out) {
    return strata_heap_create_checked(STRATA_ABI_VERSION, sizeof(strata_config), config,
                                      heap_out);
}

/*
 * Destroys a heap and every object in it, and frees its global roots that
 * are still live (a later call on one gets STRATA_ERROR_INVALID_GLOBAL, as
 * after strata_global_free). Any thread; no other call on this heap or its
 * roots may run meanwhile, and none may follow (a later call gets
 * STRATA_ERROR_INVALID_HEAP).
 * STRATA_ERROR_INVALID_HEAP: heap is not a live heap (a second destroy).
 * STRATA_ERROR_HEAP_BUSY: threads are still attached; nothing is done.
 */
strata_status strata_heap_destroy(strata_heap *heap);

/* ---- Threads -------------------------------------------------------- */

/* The calling OS thread's attachment to one heap. */
typedef struct strata_thread strata_thread;

/*
 * Attaches the calling OS thread to heap and stores its handle in
 * *thread_out: the thread gets a nursery and may run transactions. The
 * handle belongs to this OS thread: only it may pass the handle, and it
 * detaches with strata_thread_detach. A thread that exits attached is
 * detached at its exit (so it does not hold up the other threads'
 * collections), but detaching explicitly is better: until then its
 * memory stays with it.
 * While attached, a thread must reach a safepoint now and then
 * (strata_thread_safepoint) or be in a blocking section: a major
 * collection waits for every attached thread.
 * STRATA_ERROR_INVALID_HEAP: heap is not a live heap.
 * STRATA_ERROR_ALREADY_ATTACHED: this thread is attached to heap already.
 * STRATA_ERROR_TOO_MANY_THREADS, STRATA_ERROR_SYSTEM: no room for one more.
 */
strata_status strata_thread_attach(strata_heap *heap, strata_thread **thread_out);

/*
 * Detaches the calling thread: a last minor collection, its memory given
 * back; the handle is invalid afterwards. Allowed in a blocking section
 * (which it leaves first). Only the thread that attached.
 * STRATA_ERROR_NOT_ATTACHED: not an attached thread (a second detach).
 * STRATA_ERROR_WRONG_THREAD: the handle is another thread's.
 */
strata_status strata_thread_detach(strata_thread *thread);

/*
 * Enters a blocking section: until strata_thread_leave_blocking, the
 * thread promises not to touch heap objects, and collections no longer
 * wait for it. Wrap sleeps, joins, locks and I/O in one. Every call on the
 * handle but leave and detach is refused meanwhile. Only the thread that
 * attached.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD: as for detach.
 * STRATA_ERROR_BLOCKED: the thread is in a blocking section already.
 */
strata_status strata_thread_enter_blocking(strata_thread *thread);

/*
 * Leaves the blocking section, waiting for a collection in progress to
 * end. Only the thread that attached.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD: as for detach.
 * STRATA_ERROR_NOT_BLOCKED: the thread is not in a blocking section.
 */
strata_status strata_thread_leave_blocking(strata_thread *thread);

/*
 * Answers a collection waiting for this thread, if any: call it now and
 * then in long stretches of work that make no other strata call. Only the
 * thread that attached.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD: as for detach.
 * STRATA_ERROR_BLOCKED: the thread is in a blocking section.
 */
strata_status strata_thread_safepoint(strata_thread *thread);

/*
 * Runs a minor collection of the calling thread's nursery now (the
 * survivors move to the old space; an open transaction's stay its own),
 * then answers a collection waiting for the thread. In a transaction or
 * between them (where the nursery is empty). Only the thread that
 * attached. Errors as for strata_thread_safepoint.
 */
strata_status strata_thread_collect_minor(strata_thread *thread);

/*
 * Runs a major collection of the heap now, stopping every attached thread
 * at its next safepoint. Between transactions only. Only the thread that
 * attached.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD: as for detach.
 * STRATA_ERROR_BLOCKED: the thread is in a blocking section.
 * STRATA_ERROR_IN_TRANSACTION: a transaction is open.
 */
strata_status strata_thread_collect_major(strata_thread *thread);

/* ---- Types ---------------------------------------------------------- */

/* A registered type: 1-based, stable for the heap's lifetime; 0 is never
 * a type. */
typedef uint32_t strata_type_id;

/*
 * Object layout. Every object starts with a 16-byte header that Strata
 * owns; the body follows it. A reference is the address of an object (its
 * header), or NULL.
 */
typedef enum strata_layout {
    /* Every object has a body of body_bytes. */
    STRATA_LAYOUT_FIXED = 0,
    /* The body is a 64-bit element count (Strata's, read-only), then
     * body_bytes of fixed part, then count elements of element_bytes. */
    STRATA_LAYOUT_ARRAY = 1
} strata_layout;

/* Called by a trace callback once for each reference slot: slot points at
 * a slot holding a reference or NULL; pass ctx along unchanged. */
typedef void (*strata_visit_fn)(void **slot, void *ctx);

/* A type's trace callback: for the object whose body starts at body, call
 * visit(slot, ctx) once for every reference slot, then return. See the
 * rules on callbacks at the top. */
typedef void (*strata_trace_fn)(void *body, strata_visit_fn visit, void *ctx);

/* What a type looks like. Reference slots are 8 bytes, 8-aligned, and
 * given either as offsets or by a trace callback (at most one of the two). */
typedef struct strata_type_desc {
    /* A name for diagnostics, NUL-terminated; copied. Required. */
    const char *name;
    /* STRATA_LAYOUT_FIXED or STRATA_LAYOUT_ARRAY. */
    strata_layout layout;
    /* Fixed: the body's size. Array: the fixed part after the count. */
    size_t body_bytes;
    /* Array: bytes per element. Fixed: 0. */
    size_t element_bytes;
    /* Byte offsets of the reference slots from the body's start (for an
     * array the count is at offset 0, so the fixed part starts at 8), each
     * inside the fixed part; read, not kept. NULL when ref_offset_count is 0. */
    const uint32_t *ref_offsets;
    size_t ref_offset_count;
    /* Array: every element is a reference (element_bytes must be 8). */
    bool elements_are_refs;
    /* The trace callback, or NULL. */
    strata_trace_fn trace;
} strata_type_desc;

/*
 * Registers a type described by *desc (read, not kept) and stores its id in
 * *id_out. Any thread, attached or not, also while other threads run
 * transactions.
 * STRATA_ERROR_INVALID_HEAP: heap is not a live heap.
 * STRATA_ERROR_NULL_ARGUMENT: also desc->name, or desc->ref_offsets with a
 * non-zero ref_offset_count.
 * STRATA_ERROR_INVALID_TYPE: an unknown layout, elements in a fixed layout,
 * an offset unaligned or outside the fixed part, both offsets and a trace
 * callback, elements_are_refs without 8-byte array elements, an absurd size.
 */
strata_status strata_register_type(strata_heap *heap, const strata_type_desc *desc,
                                   strata_type_id *id_out);

/* ---- Transactions --------------------------------------------------- */

/*
 * A block of host code runs as a transaction between strata_tx_begin and
 * strata_tx_commit: either everything it did to the heap happens, at one
 * instant, or nothing. The host reruns the block while commit says
 * STRATA_ABORTED:
 *
 *     for (;;) {
 *         if (strata_tx_begin(thread) != STRATA_OK) { ...error... }
 *         ... run the block: strata_alloc, strata_read, strata_write ...
 *         strata_status status = strata_tx_commit(thread);
 *         if (status == STRATA_OK) break;
 *         if (status != STRATA_ABORTED) { ...error... }
 *     }
 *
 * The abort model: nothing ever jumps out of the host's code (no longjmp,
 * no unwinding). A conflict dooms the attempt: from then on writes return
 * STRATA_ABORTED, while reads keep working and see one consistent snapshot
 * (a doomed attempt never sees a torn state), so the host may also run on
 * to strata_tx_commit, which aborts it. strata_tx_doomed tells the host
 * early that it can stop. The host's own side effects (I/O, its memory)
 * are not undone: keep them out of blocks, or after commit.
 *
 * Reruns back off, and after max_retries aborts in a row (strata_config)
 * the next attempt runs inevitably: it cannot abort, so every block
 * eventually commits.
 *
 * Objects are the addresses of their headers (references in bodies hold
 * the same addresses). An object the transaction made is its own until
 * commit, so another thread never sees it half built.
 *
 * Addresses move. Any call that may allocate may run a collection, which
 * moves young objects: strata_alloc, strata_alloc_array, strata_write,
 * strata_write_ref, strata_tx_commit, strata_thread_safepoint,
 * strata_thread_collect_minor. Object
 * addresses and body pointers the host holds are valid until its next
 * such call; what it keeps across one goes on the shadow stack
 * (strata_push_root), which collections update, and is read back with
 * strata_peek_root or strata_pop_root. Only objects the open transaction
 * made are young: an object it did not make (committed, reached from a
 * global root or a reference) is in the old space, which never moves, so
 * its address (not its body pointers) stays valid until the transaction
 * ends.
 */

/*
 * Begins a transaction on the calling thread. Only the thread that
 * attached.
 * STRATA_ERROR_IN_TRANSACTION: one is open already.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD: as for detach.
 * STRATA_ERROR_BLOCKED: the thread is in a blocking section.
 */
strata_status strata_tx_begin(strata_thread *thread);

/*
 * Commits the open transaction; either way none is open afterwards.
 * STRATA_OK: it committed. STRATA_ABORTED: it aborted; run it again.
 * STRATA_ERROR_NO_TRANSACTION: none is open.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD, STRATA_ERROR_BLOCKED:
 * as for strata_tx_begin.
 */
strata_status strata_tx_commit(strata_thread *thread);

/*
 * Aborts the open transaction: nothing it did remains, and the entries it
 * pushed on the shadow stack are popped.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 */
strata_status strata_tx_abort(strata_thread *thread);

/*
 * Stores in *doomed_out whether the open transaction is doomed: it will
 * abort at commit, so the block may stop now.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 */
strata_status strata_tx_doomed(strata_thread *thread, bool *doomed_out);

/*
 * Makes the open transaction inevitable: once this returns STRATA_OK it
 * cannot abort, so irreversible work (I/O) may follow. One transaction of
 * the heap is inevitable at a time; other update transactions wait at
 * commit meanwhile.
 * STRATA_ABORTED: another thread's transaction is inevitable, or the
 * snapshot cannot move to the present: the transaction is doomed, and its
 * rerun begins inevitably.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 */
strata_status strata_tx_become_inevitable(strata_thread *thread);

/*
 * Stores in *inevitable_out whether the open transaction is inevitable.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 */
strata_status strata_tx_is_inevitable(strata_thread *thread, bool *inevitable_out);

/*
 * Stores in *break_out whether the open transaction has allocated
 * break_bytes (strata_config), so that a host cutting long work into
 * transactions (at bytecode boundaries, say) should commit and begin a
 * new one now.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 */
strata_status strata_tx_should_break(strata_thread *thread, bool *break_out);

/* A callback run after a transaction's outcome is decided; ctx is passed
 * along. It runs on the thread of the transaction, must return normally,
 * and must not call strata functions on that thread. */
typedef void (*strata_callback_fn)(void *ctx);

/*
 * Runs callback(ctx) once, after the open transaction commits (not if it
 * aborts). Register in the block: an abort drops the registration, and the
 * rerun registers again.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 */
strata_status strata_tx_on_commit(strata_thread *thread, strata_callback_fn callback,
                                  void *ctx);

/*
 * Runs callback(ctx) once, after the open transaction aborts (at
 * strata_tx_abort, at a commit that aborts, or when the thread detaches or
 * exits with it open), not if it commits. Errors as for strata_tx_on_commit.
 */
strata_status strata_tx_on_abort(strata_thread *thread, strata_callback_fn callback,
                                 void *ctx);

/* A block of host code for strata_atomically; ctx is passed along. It
 * returns STRATA_OK when it is done, STRATA_ABORTED when a call told it so
 * (or to have it rerun), or another status to give up. */
typedef strata_status (*strata_block_fn)(strata_thread *thread, void *ctx);

/*
 * Runs block as a transaction until it commits: begins, calls
 * block(thread, ctx), commits, and runs it again while the transaction
 * aborts. The block must not begin, commit or abort itself. Only the
 * thread that attached.
 * Returns STRATA_OK once a run committed; a status the block returned
 * (other than STRATA_OK and STRATA_ABORTED), after aborting its run;
 * STRATA_ERROR_NULL_ARGUMENT for a NULL block; or what strata_tx_begin or
 * strata_tx_commit refused with.
 */
strata_status strata_atomically(strata_thread *thread, strata_block_fn block, void *ctx);

/* ---- Objects --------------------------------------------------------- */

/*
 * What the inline functions of this section and the next rely on (ABI
 * version 4; strata_alloc_slow and the other ..._slow functions take every
 * other case). An object's body starts STRATA_HEADER_BYTES after its
 * address; the low 32 bits of its header's first 64-bit word
 * (STRATA_HEADER_TYPE_MASK) are its type id, bit STRATA_HEADER_PRIVATE
 * is set while the object belongs to the open transaction that made it,
 * the bits STRATA_HEADER_OWNER_MASK are not 0 while a transaction writes
 * it, and bit STRATA_HEADER_REMEMBERED is set on an old object the next
 * minor collection scans for young references. The second word (at
 * STRATA_HEADER_LINK_OFFSET) is 0 while a committed object has no older
 * versions: its body is then the only one. A transaction's private copy
 * of a committed object has its body STRATA_VERSION_HEADER_BYTES after
 * its address.
 *
 * A strata_thread starts with a strata_thread_prefix, which only the
 * calling thread uses: the library during its calls, the inline functions
 * between them. fast_owner is the attaching OS thread (pthread_self())
 * between two calls while a transaction is open on the handle, not doomed
 * by a conflict this thread found, and the thread is not in a blocking
 * section; 0 otherwise (during every call, and once the handle is
 * detached: its memory stays readable). Another thread's handle never
 * matches the caller's pthread_self(). While it matches, the rest is the
 * thread's window: the free part of its nursery [alloc_cursor,
 * alloc_limit) and the header flags of new objects, the nursery's extent,
 * its shadow stack [roots_base, roots_top) of which the transaction
 * pushed [roots_floor, roots_top), room up to roots_end, the
 * transaction's snapshot, the global root strata_global_get found last
 * (its object, the clock when it was made, and the count of changes of
 * the library's list of roots, strata_globals_changed_, when it was found
 * in it), the transaction's read log [reads_base, reads_top) with room up
 * to reads_end, the committed object it wrote last (owned_anchor, NULL if
 * none) and its private copy, the owner field of the objects it writes
 * (owner_bits), and fixed-size types the library met (types[id % STRATA_FAST_TYPES]: bytes of an object
 * with its header, bit i of ref_mask for a reference slot at body word i;
 * type_id STRATA_NO_TYPE when empty). Hosts never write the prefix but
 * through these functions.
 */
#define STRATA_HEADER_BYTES 16
#define STRATA_HEADER_PRIVATE ((uint64_t)1 << 37)
#define STRATA_HEADER_TYPE_MASK ((uint64_t)0xffffffff)
#define STRATA_HEADER_OWNER_MASK ((uint64_t)0xffff000000000000)
#define STRATA_HEADER_REMEMBERED ((uint64_t)1 << 33)
#define STRATA_HEADER_LINK_OFFSET 8
#define STRATA_VERSION_HEADER_BYTES 24
#define STRATA_FAST_TYPES 4
#define STRATA_NO_TYPE ((uint32_t)0xffffffff)

typedef struct strata_fast_type {
    uint32_t type_id;
    uint32_t object_bytes;
    uint64_t ref_mask;
} strata_fast_type;

typedef struct strata_thread_prefix {
    uintptr_t fast_owner;
    uintptr_t alloc_cursor;
    uintptr_t alloc_limit;
    uint64_t alloc_flags;
    uintptr_t nursery_start;
    uintptr_t nursery_end;
    void **roots_base;
    void **roots_floor;
    void **roots_top;
    void **roots_end;
    uint64_t snapshot;
    const void **reads_base;
    const void **reads_top;
    const void **reads_end;
    const void *owned_anchor;
    void *owned_copy;
    uint64_t owner_bits;
    const void *global;
    void *global_obj;
    uint64_t global_since;
    uint64_t global_changes;
    strata_fast_type types[STRATA_FAST_TYPES];
} strata_thread_prefix;

#ifdef __cplusplus
static_assert(sizeof(strata_thread_prefix) == 232, "strata_thread_prefix is 232 bytes");
#else
_Static_assert(sizeof(strata_thread_prefix) == 232, "strata_thread_prefix is 232 bytes");
#endif

#if defined(__GNUC__) || defined(__clang__)
#define STRATA_LOAD_RELAXED_(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STRATA_LOAD_ACQUIRE_(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#else
#define STRATA_LOAD_RELAXED_(p) (*(p))
#define STRATA_LOAD_ACQUIRE_(p) (*(p))
#endif

/* pthread_self() of the calling thread. On x86-64 with glibc or musl it is
 * the thread control block's address, which %fs:0 holds: read inline,
 * without a call (the C tests check that both agree). */
static inline uintptr_t strata_self_(void) {
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
    uintptr_t self;
    __asm__("movq %%fs:0, %0" : "=r"(self));
    return self;
#else
    return (uintptr_t)pthread_self();
#endif
}

/* The prefix of thread if the inline paths may be taken on it now: not
 * NULL, and the caller's own thread in an open transaction. */
static inline strata_thread_prefix *strata_fast_prefix_(strata_thread *thread) {
    if (thread == NULL) return NULL;
    strata_thread_prefix *prefix = (strata_thread_prefix *)(void *)thread;
    if (STRATA_LOAD_RELAXED_(&prefix->fast_owner) != strata_self_()) return NULL;
    return prefix;
}

/* Zeroes the bytes (a multiple of 16) of a new object's body: inline up to
 * 48, the common small bodies, memset beyond. */
static inline void strata_zero_body_(uint64_t *body, size_t bytes) {
    if (bytes > 48) {
        memset(body, 0, bytes);
        return;
    }
    if (bytes >= 16) body[0] = body[1] = 0;
    if (bytes >= 32) body[2] = body[3] = 0;
    if (bytes >= 48) body[4] = body[5] = 0;
}

/* Whether obj, whose header word 0 is word, is the committed object the
 * open transaction wrote last, whose copy is owned_copy (the transaction
 * owns obj: nobody else's commit or abort can change that owner field). */
static inline bool strata_written_last_(const strata_thread_prefix *prefix, const void *obj,
                                        uint64_t word) {
    return obj == prefix->owned_anchor && (word & STRATA_HEADER_OWNER_MASK) == prefix->owner_bits;
}

/* The body the open transaction reads and writes obj's data in, if the
 * inline paths can tell without a call, else NULL: obj's own while the
 * transaction made it, the copy's of the object it wrote last. */
static inline char *strata_own_body_(const strata_thread_prefix *prefix, const void *obj,
                                     uint64_t word) {
    if ((word & STRATA_HEADER_PRIVATE) != 0) return (char *)(uintptr_t)obj + STRATA_HEADER_BYTES;
    if (strata_written_last_(prefix, obj, word)) {
        return (char *)prefix->owned_copy + STRATA_VERSION_HEADER_BYTES;
    }
    return NULL;
}

/* Whether addr is in the thread's nursery (young); NULL is not. */
static inline bool strata_young_(const strata_thread_prefix *prefix, const void *addr) {
    return (uintptr_t)addr - prefix->nursery_start < prefix->nursery_end - prefix->nursery_start;
}

/* What strata_alloc calls when its inline path does not apply. */
strata_status strata_alloc_slow(strata_thread *thread, strata_type_id type_id, void **obj_out);


/*
 * Makes a zeroed object of the fixed-size type type_id (an array type: of
 * length 0) in the open transaction and stores its address in *obj_out.
 * The transaction may write it in place until it commits. May collect.
 * Inline (no call) for a fixed-size type met before while its nursery has
 * room.
 * STRATA_ERROR_NO_TRANSACTION: none is open.
 * STRATA_ERROR_UNKNOWN_TYPE: type_id is not a type of this heap.
 * STRATA_ERROR_OUT_OF_MEMORY: the heap is full (the transaction goes on).
 * Others as for strata_tx_commit.
 */
static inline strata_status strata_alloc(strata_thread *thread, strata_type_id type_id,
                                         void **obj_out) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && obj_out != NULL) {
        const strata_fast_type *type = &prefix->types[type_id % STRATA_FAST_TYPES];
        uintptr_t cursor = prefix->alloc_cursor;
        if (type->type_id == type_id && prefix->alloc_limit - cursor >= type->object_bytes) {
            uint64_t *words = (uint64_t *)cursor;
            words[0] = (uint64_t)type_id | prefix->alloc_flags;
            words[1] = 0;
            strata_zero_body_(words + 2, type->object_bytes - STRATA_HEADER_BYTES);
            prefix->alloc_cursor = cursor + type->object_bytes;
            *obj_out = words;
            return STRATA_OK;
        }
    }
    return strata_alloc_slow(thread, type_id, obj_out);
}

/*
 * As strata_alloc, an array of length elements (zeroed) of the array type
 * type_id. The element count is at the start of its body.
 * STRATA_ERROR_BAD_SIZE: a fixed-size type with a length, or an absurd
 * length. STRATA_ERROR_TOO_LARGE: more than the whole heap limit.
 * Others as for strata_alloc.
 */
strata_status strata_alloc_array(strata_thread *thread, strata_type_id type_id,
                                 size_t length, void **obj_out);

/* What strata_read calls when its inline path does not apply. */
strata_status strata_read_slow(strata_thread *thread, const void *obj, const void **body_out);

/* What strata_write calls when its inline path does not apply. */
strata_status strata_write_slow(strata_thread *thread, void *obj, void **body_out);

/*
 * Stores in *body_out the body of obj as the open transaction sees it
 * (its snapshot's version, or the transaction's own writes), for reading
 * only. Never fails for a conflict. Does not collect. obj: a live object
 * the transaction holds, at its current address. Inline (no call) for an
 * object the transaction made or wrote last, and for a committed one that
 * nobody is writing and that has no older versions.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 */
static inline strata_status strata_read(strata_thread *thread, const void *obj,
                                        const void **body_out) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && obj != NULL && body_out != NULL) {
        const uint64_t *words = (const uint64_t *)obj;
        uint64_t word = STRATA_LOAD_ACQUIRE_(&words[0]);
        const char *own = strata_own_body_(prefix, obj, word);
        if (own != NULL) {
            *body_out = own;
            return STRATA_OK;
        }
        /* A committed object nobody writes, with no older versions: its
         * body is every snapshot's; log the read for validation. */
        if ((word & STRATA_HEADER_OWNER_MASK) == 0 &&
            STRATA_LOAD_ACQUIRE_(&words[STRATA_HEADER_LINK_OFFSET / 8]) == 0) {
            const void **top = prefix->reads_top;
            bool logged = top != prefix->reads_base && top[-1] == obj;
            if (logged || top != prefix->reads_end) {
                if (!logged) {
                    *top = obj;
                    prefix->reads_top = top + 1;
                }
                *body_out = (const char *)obj + STRATA_HEADER_BYTES;
                return STRATA_OK;
            }
        }
    }
    return strata_read_slow(thread, obj, body_out);
}

/*
 * Stores in *body_out the body to write obj's data (non-reference) fields
 * into: the object's own when the transaction made it (inline, no call),
 * else the transaction's private copy, made at the first write (which
 * collects maybe; later writes of the object written last are inline). Store references with strata_write_ref, not through
 * this pointer. obj: as for strata_read.
 * STRATA_ABORTED: the transaction is doomed (a conflict): commit or abort
 * it and run the block again. STRATA_ERROR_OUT_OF_MEMORY: no room for the
 * copy (the transaction is doomed too).
 * Others as for strata_read.
 */
static inline strata_status strata_write(strata_thread *thread, void *obj, void **body_out) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && obj != NULL && body_out != NULL) {
        char *own = strata_own_body_(prefix, obj, STRATA_LOAD_RELAXED_((const uint64_t *)obj));
        if (own != NULL) {
            *body_out = own;
            return STRATA_OK;
        }
    }
    return strata_write_slow(thread, obj, body_out);
}

/*
 * Stores the reference value (an object the transaction holds, or NULL)
 * into the reference slot at byte offset of obj's body, through the write
 * barriers. May collect (the first write of obj makes its copy). Inline
 * (no call) for a fixed-size object the transaction made or wrote last
 * when the store needs no entry in the remembered set.
 * STRATA_ERROR_NOT_A_REF_SLOT: offset is not a reference slot of obj's
 * type (with a trace callback: not an aligned word of its body).
 * Others as for strata_write.
 */
/* What strata_write_ref calls when its inline path does not apply. */
strata_status strata_write_ref_slow(strata_thread *thread, void *obj, size_t offset, void *value);

static inline strata_status strata_write_ref(strata_thread *thread, void *obj, size_t offset,
                                             void *value) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && obj != NULL && offset % 8 == 0 && offset < 64 * 8) {
        uint64_t word = STRATA_LOAD_RELAXED_((const uint64_t *)obj);
        uint32_t type_id = (uint32_t)(word & STRATA_HEADER_TYPE_MASK);
        const strata_fast_type *type = &prefix->types[type_id % STRATA_FAST_TYPES];
        if (type->type_id == type_id && (type->ref_mask >> (offset / 8) & 1) != 0) {
            /* An old object that would now hold a young reference must be
             * remembered first: the slow path does that. */
            if ((word & STRATA_HEADER_PRIVATE) != 0) {
                if (strata_young_(prefix, obj) || !strata_young_(prefix, value) ||
                    (word & STRATA_HEADER_REMEMBERED) != 0) {
                    *(void **)(void *)((char *)obj + STRATA_HEADER_BYTES + offset) = value;
                    return STRATA_OK;
                }
            } else if (strata_written_last_(prefix, obj, word)) {
                char *copy = (char *)prefix->owned_copy;
                if (!strata_young_(prefix, value) ||
                    (STRATA_LOAD_RELAXED_((const uint64_t *)(void *)copy) &
                     STRATA_HEADER_REMEMBERED) != 0) {
                    *(void **)(void *)(copy + STRATA_VERSION_HEADER_BYTES + offset) = value;
                    return STRATA_OK;
                }
            }
        }
    }
    return strata_write_ref_slow(thread, obj, offset, value);
}

/*
 * Stores obj's identity in *id_out and its identity hash in *hash_out
 * (either may be NULL): both stay the same for the object's life, across
 * every collection (the identity is its final old-space address, reserved
 * now for an object just made). Does not collect. obj: an object the
 * thread holds, at its current address.
 * STRATA_ERROR_OUT_OF_MEMORY: no room to reserve the address.
 * Others as for strata_push_root.
 */
strata_status strata_identity(strata_thread *thread, const void *obj, uint64_t *id_out,
                              uint64_t *hash_out);

/* ---- The shadow stack ----------------------------------------------- */

/*
 * Pushes obj (an object the thread holds, or NULL) on the thread's shadow
 * stack: collections keep it alive and update the entry when it moves.
 * Between transactions the stack holds committed objects. Only the thread
 * that attached. Errors as for strata_thread_safepoint.
 */
strata_status strata_push_root_slow(strata_thread *thread, void *obj);
static inline strata_status strata_push_root(strata_thread *thread, void *obj) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && prefix->roots_top < prefix->roots_end) {
        *prefix->roots_top++ = obj;
        return STRATA_OK;
    }
    return strata_push_root_slow(thread, obj);
}

/*
 * Pops the top entry and stores its current address in *obj_out (if
 * obj_out is not NULL).
 * STRATA_ERROR_ROOT_STACK: the stack is empty, or, in a transaction, its
 * top was pushed before the transaction began (those stay until it ends).
 * Others as for strata_push_root.
 */
strata_status strata_pop_root_slow(strata_thread *thread, void **obj_out);
static inline strata_status strata_pop_root(strata_thread *thread, void **obj_out) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && prefix->roots_top > prefix->roots_floor) {
        void *obj = *--prefix->roots_top;
        if (obj_out != NULL) *obj_out = obj;
        return STRATA_OK;
    }
    return strata_pop_root_slow(thread, obj_out);
}

/*
 * Stores in *obj_out the current address of the entry depth from the top
 * (0: the top).
 * STRATA_ERROR_ROOT_STACK: the stack holds no such entry.
 * Others as for strata_push_root.
 */
strata_status strata_peek_root_slow(strata_thread *thread, size_t depth, void **obj_out);
static inline strata_status strata_peek_root(strata_thread *thread, size_t depth,
                                             void **obj_out) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && obj_out != NULL &&
        depth < (size_t)(prefix->roots_top - prefix->roots_base)) {
        *obj_out = prefix->roots_top[-1 - (ptrdiff_t)depth];
        return STRATA_OK;
    }
    return strata_peek_root_slow(thread, depth, obj_out);
}

/* ---- Global roots --------------------------------------------------- */

/* A root any thread of its heap may read: how threads share objects. */
typedef struct strata_global strata_global;

/*
 * Makes a global root of obj, a committed object the thread holds (on its
 * shadow stack, say), and stores it in *global_out. Outside a transaction.
 * The caller owns the root and frees it with strata_global_free; it keeps
 * its object alive until then.
 * STRATA_ERROR_IN_TRANSACTION: a transaction is open.
 * Others as for strata_push_root.
 */
strata_status strata_global_new(strata_thread *thread, void *obj, strata_global **global_out);

/*
 * Stores in *obj_out the object the global root holds, for the open
 * transaction of the calling thread. Any thread of the root's heap.
 * STRATA_ABORTED: the root was made after the transaction began and what
 * it read has changed since: it is doomed.
 * STRATA_ERROR_INVALID_GLOBAL: not a live global root.
 * STRATA_ERROR_OTHER_HEAP: the root belongs to another heap.
 * STRATA_ERROR_NO_TRANSACTION: none is open. Others as for strata_tx_commit.
 * Inline (no call) for the root the thread read last, while no root was
 * made or freed since.
 */
strata_status strata_global_get_slow(strata_thread *thread, const strata_global *global,
                                     void **obj_out);

/* How many times global roots were made or freed: what the inline
 * strata_global_get compares. Only the library writes it. */
extern uint64_t strata_globals_changed_;

static inline strata_status strata_global_get(strata_thread *thread, const strata_global *global,
                                              void **obj_out) {
    strata_thread_prefix *prefix = strata_fast_prefix_(thread);
    if (prefix != NULL && obj_out != NULL && global != NULL &&
        (const void *)global == prefix->global && prefix->global_since <= prefix->snapshot &&
        prefix->global_changes == STRATA_LOAD_RELAXED_(&strata_globals_changed_)) {
        *obj_out = prefix->global_obj;
        return STRATA_OK;
    }
    return strata_global_get_slow(thread, global, obj_out);
}

/*
 * Frees a global root: its object may die. Any thread; no other call may
 * use the root meanwhile or after.
 * STRATA_ERROR_INVALID_GLOBAL: not a live global root (a second free, or
 * its heap was destroyed).
 */
strata_status strata_global_free(strata_global *global);

/* ---- Conflict-free structures --------------------------------------- */

/*
 * Structures whose operations commute, laid out so that transactions
 * touching different parts of one do not conflict (DESIGN.md,
 * "Conflict-free structures"): a counter whose adds never conflict, a map
 * from 64-bit keys to 64-bit values on which transactions writing
 * different keys do not conflict, and a bounded queue of 64-bit values
 * whose producers and consumers do not conflict while it is neither empty
 * nor full. Each is made outside a transaction by a thread of its heap,
 * used inside the open transaction of any thread of that heap, and freed
 * with its _free function (any thread; no other call may use it
 * meanwhile or after); strata_heap_destroy frees the ones still live.
 * Errors of every call below: STRATA_ERROR_NULL_ARGUMENT, the thread's
 * (NOT_ATTACHED, WRONG_THREAD, BLOCKED), STRATA_ERROR_INVALID_STRUCTURE
 * (not a live structure of its kind), STRATA_ERROR_OTHER_HEAP (made on
 * another heap), STRATA_ERROR_NO_TRANSACTION (an operation outside a
 * transaction), STRATA_ERROR_IN_TRANSACTION (a _new inside one),
 * STRATA_ABORTED (the transaction is doomed: commit or abort it and run
 * it again), STRATA_ERROR_OUT_OF_MEMORY.
 */
typedef struct strata_counter strata_counter;
typedef struct strata_map strata_map;
typedef struct strata_queue strata_queue;

/* Makes a counter at 0 and stores it in *counter_out (the caller owns
 * it). Adds of up to 64 threads attached at once never conflict. */
strata_status strata_counter_new(strata_thread *thread, strata_counter **counter_out);

/* Adds delta (negative or not) to the counter in the open transaction:
 * writes only the calling thread's share, reads nothing another add
 * writes. */
strata_status strata_counter_add(strata_thread *thread, const strata_counter *counter,
                                 int64_t delta);

/* Stores the counter's value in *value_out: reads every share, so the
 * transaction conflicts with any add that commits before it. */
strata_status strata_counter_get(strata_thread *thread, const strata_counter *counter,
                                 int64_t *value_out);

strata_status strata_counter_free(strata_counter *counter);

/* Makes an empty map for about capacity keys (at most 2^24; it does not
 * grow its buckets, and past capacity its chains grow) and stores it in
 * *map_out. STRATA_ERROR_BAD_SIZE: capacity over 2^24. */
strata_status strata_map_new(strata_thread *thread, size_t capacity, strata_map **map_out);

/* Stores whether key has a value in *found_out and the value in *value_out
 * (if not NULL; 0 without one). Conflicts only with changes of key and
 * inserts of new keys into its bucket. */
strata_status strata_map_get(strata_thread *thread, const strata_map *map, uint64_t key,
                             uint64_t *value_out, bool *found_out);

/* Sets key's value; *had_out and *previous_out (each may be NULL) get
 * whether it had one and which. A key that has (or had) a value writes
 * only its own cell; a new key writes its bucket. */
strata_status strata_map_insert(strata_thread *thread, const strata_map *map, uint64_t key,
                                uint64_t value, uint64_t *previous_out, bool *had_out);

/* Removes key's value; *had_out and *previous_out as for insert. Writes
 * only the key's cell and the caller's share of the size. */
strata_status strata_map_remove(strata_thread *thread, const strata_map *map, uint64_t key,
                                uint64_t *previous_out, bool *had_out);

/* Stores the number of keys with a value in *len_out (reads the size's
 * every share). */
strata_status strata_map_len(strata_thread *thread, const strata_map *map, size_t *len_out);

strata_status strata_map_free(strata_map *map);

/* Makes an empty queue of capacity places (1 to 2^24) and stores it in
 * *queue_out. STRATA_ERROR_BAD_SIZE: capacity 0 or over 2^24. */
strata_status strata_queue_new(strata_thread *thread, size_t capacity,
                               strata_queue **queue_out);

/* Appends value if the queue has room; *put_out says whether it had. */
strata_status strata_queue_put(strata_thread *thread, const strata_queue *queue, uint64_t value,
                               bool *put_out);

/* Takes the oldest value into *value_out (if not NULL) if there is one;
 * *took_out says whether there was. */
strata_status strata_queue_take(strata_thread *thread, const strata_queue *queue,
                                uint64_t *value_out, bool *took_out);

/* Outside a transaction: takes the oldest value in a transaction of its
 * own, waiting up to timeout_ns nanoseconds for one if the queue is empty
 * (the thread sleeps, outside the heap, until a producer's commit wakes
 * it: no polling). *took_out says whether a value came.
 * STRATA_ERROR_IN_TRANSACTION: a transaction is open. */
strata_status strata_queue_take_timeout(strata_thread *thread, const strata_queue *queue,
                                        uint64_t timeout_ns, uint64_t *value_out,
                                        bool *took_out);

/* Stores the number of values in the queue in *len_out. */
strata_status strata_queue_len(strata_thread *thread, const strata_queue *queue,
                               size_t *len_out);

strata_status strata_queue_free(strata_queue *queue);

/*
 * The map object: the map above (the same buckets, entries, value cells
 * and striped size, so the same conflicts), kept in a heap object of its
 * own instead of behind a handle, with objects as values. It is made
 * inside a transaction, like any object, by strata_map_object_new; the
 * host stores it in its own objects' reference slots, and the collector
 * keeps it, and the values it holds, alive while something references it
 * (there is no _free). Every call runs in the calling thread's open
 * transaction and takes the map as an object pointer (valid, like every
 * object pointer, until the next call that may collect: every call below
 * but _get, _len and _keys may). A value is any non-NULL object of the
 * map's heap; a key is any 64-bit number (a host with other keys maps
 * them to numbers and keeps its own entries for keys that share one).
 * Errors of every call below: STRATA_ERROR_NULL_ARGUMENT (the thread, the
 * map, a value or a required out-pointer is NULL), the thread's
 * (NOT_ATTACHED, WRONG_THREAD, BLOCKED), STRATA_ERROR_NO_TRANSACTION,
 * STRATA_ERROR_INVALID_STRUCTURE (the object is not a map object),
 * STRATA_ABORTED (the transaction is doomed: commit or abort it and run
 * it again), STRATA_ERROR_OUT_OF_MEMORY. The map is not checked to be of
 * the thread's heap (no object is).
 */

/* Makes an empty map object for about capacity keys (at most 2^24: it
 * does not grow its buckets, and past capacity its chains grow) in the
 * open transaction, and stores it in *map_out: private to the
 * transaction until it commits, like any object it makes.
 * STRATA_ERROR_BAD_SIZE: capacity over 2^24. */
strata_status strata_map_object_new(strata_thread *thread, size_t capacity, void **map_out);

/* Stores key's value in *value_out, NULL without one. Reads the map, the
 * key's bucket and chain and its cell: conflicts only with changes of key
 * and inserts of new keys into its bucket. Does not collect. */
strata_status strata_map_object_get(strata_thread *thread, const void *map, uint64_t key,
                                    void **value_out);

/* Sets key's value to value (not NULL); *previous_out (may be NULL) gets
 * the value it had, NULL without one. A key that has (or had) a value
 * writes only its own cell; a new key writes its bucket and the calling
 * thread's share of the size. May collect: the map's and value's
 * addresses from before are stale after it (keep them on the shadow
 * stack). */
strata_status strata_map_object_insert(strata_thread *thread, void *map, uint64_t key,
                                       void *value, void **previous_out);

/* Removes key's value; *previous_out (may be NULL) gets it, NULL without
 * one. Writes only the key's cell and the calling thread's share of the
 * size. May collect. */
strata_status strata_map_object_remove(strata_thread *thread, void *map, uint64_t key,
                                       void **previous_out);

/* Stores the number of keys with a value in *len_out (reads every share
 * of the size). Does not collect. */
strata_status strata_map_object_len(strata_thread *thread, const void *map, size_t *len_out);

/* Stores the keys that have a value into keys[0 .. capacity) (as many as
 * fit, in no particular order) and their number in *count_out (more than
 * capacity when they did not all fit: call again with room for
 * *count_out). keys may be NULL when capacity is 0. Reads the whole map,
 * so the transaction conflicts with every change of it. Does not
 * collect. */
strata_status strata_map_object_keys(strata_thread *thread, const void *map, uint64_t *keys,
                                     size_t capacity, size_t *count_out);

/* Stores the bucket key falls in in *bucket_out (the same in every thread
 * and every run for maps made with the same capacity): transactions that
 * insert new keys conflict only when their buckets are equal, so a host
 * can spread its keys, and a test can choose keys that never conflict.
 * Does not collect. */
strata_status strata_map_object_bucket(strata_thread *thread, const void *map, uint64_t key,
                                       size_t *bucket_out);

/*
 * The queue object: the queue above (a ring of places, a head only takes
 * write and a tail only puts write, so puts and takes do not conflict
 * while the queue is neither empty nor full) in a heap object of its own,
 * with objects as elements; made, kept and collected as the map object
 * is, every call in the calling thread's open transaction. Errors of
 * every call below: those of the map object's calls, with
 * STRATA_ERROR_INVALID_STRUCTURE for an object that is not a queue
 * object.
 */

/* Makes an empty queue object of capacity places (1 to 2^24) in the open
 * transaction and stores it in *queue_out: private to the transaction
 * until it commits. May collect. STRATA_ERROR_BAD_SIZE: capacity 0 or
 * over 2^24. */
strata_status strata_queue_object_new(strata_thread *thread, size_t capacity,
                                      void **queue_out);

/* Appends value (not NULL) if the queue has room; *put_out says whether it
 * had. Reads and writes the tail and the place it fills. May collect. */
strata_status strata_queue_object_put(strata_thread *thread, void *queue, void *value,
                                      bool *put_out);

/* Takes the oldest element into *value_out, NULL when the queue is empty.
 * Reads and writes the head and the place it empties. May collect. */
strata_status strata_queue_object_take(strata_thread *thread, void *queue, void **value_out);

/* Stores the number of elements in *len_out (reads both ends: conflicts
 * with every put and take that commits first). Does not collect. */
strata_status strata_queue_object_len(strata_thread *thread, const void *queue,
                                      size_t *len_out);

/* ---- Statistics ----------------------------------------------------- */

/* A heap's counters. An attached thread adds its recent minor collections
 * and its transaction counts when it detaches (its minor collections also
 * at its major collections and every 256 minor ones), so the figures of
 * running threads lag. Times are in nanoseconds. */
typedef struct strata_stats {
    /* Transactions committed and aborted by threads that have detached. */
    uint64_t commits;
    uint64_t aborts;
    /* The aborts by cause (they add up to aborts): another transaction
     * owned an object the attempt wrote; something it read changed before
     * it could commit or extend its snapshot; an inevitable transaction
     * needed its objects; it stopped to rerun as the inevitable
     * transaction; an allocation failed; Rust code panicked; the host
     * aborted it (strata_tx_abort). */
    uint64_t aborts_write_write;
    uint64_t aborts_validation;
    uint64_t aborts_doomed;
    uint64_t aborts_inevitable;
    uint64_t aborts_out_of_memory;
    uint64_t aborts_panic;
    uint64_t aborts_requested;
    /* Bytes handed out by allocation (nursery and straight to old space). */
    uint64_t bytes_allocated;
    /* Bytes copied out of nurseries into the old space. */
    uint64_t promoted_bytes;
    /* Bytes allocated straight in the old space by pretenuring threads
     * (included in bytes_allocated). */
    uint64_t pretenured_bytes;
    /* Bytes alive after the last major collection. */
    uint64_t live_bytes_after_major;
    /* Minor collections: how many, their total time (small ones are timed
     * one in 16), the longest pause, the 99th percentile of recent ones. */
    uint64_t minor_collections;
    uint64_t minor_nanos;
    uint64_t minor_pause_max_nanos;
    uint64_t minor_pause_p99_nanos;
    /* Major collections: how many, their total time, the longest pause. */
    uint64_t major_collections;
    uint64_t major_nanos;
    uint64_t major_pause_max_nanos;
    /* Major collections that marked on several threads. */
    uint64_t parallel_majors;
    /* Major collections that waited longer than stall_warning_ms for the
     * other threads to stop. */
    uint64_t stalled_collections;
} strata_stats;

/*
 * Stores the heap's statistics in *stats_out. Any thread, attached or not.
 * STRATA_ERROR_INVALID_HEAP: heap is not a live heap.
 */
strata_status strata_heap_stats(strata_heap *heap, strata_stats *stats_out);

/* ---- Conflict reports ---------------------------------------------- */

/* Every aborted attempt records what aborted it, named by markers: the
 * positions the threads' hosts were running (a file and a line, or a
 * function and a bytecode offset), so that a report reads "bank.scm:12 vs
 * bank.scm:30 on account". With STRATA_PROFILE=path in the environment the
 * heap aggregates its aborts by (marker, other thread's marker, object
 * type) and writes that profile to path, as JSON, at strata_heap_destroy;
 * with STRATA_EVENTS=path it logs each thread's transactions there (for
 * `strata-bench profile path`). Both also time attempts (wasted_nanos). */

/*
 * Stores in *file_out the number of the marker file name (a
 * NUL-terminated string the library copies), the same number for every
 * call with the same name; numbers start at 1 (0 is "no marker"). Any
 * thread, attached or not.
 * STRATA_ERROR_INVALID_HEAP: heap is not a live heap.
 */
strata_status strata_marker_file(strata_heap *heap, const char *name, uint32_t *file_out);

/*
 * Sets the thread's marker to (file, line): the position it runs now,
 * named in the reports of the conflicts it takes part in, on either side,
 * until the next call. One store; in or out of a transaction, also in a
 * blocking section. Only the thread that attached.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD: as for detach.
 */
strata_status strata_set_marker(strata_thread *thread, uint32_t file, uint32_t line);

/*
 * Stores in *slot_out the thread's slot number, by which other threads'
 * abort reports name it (other_thread). Unique among attached threads; a
 * detached thread's number is reused. Only the thread that attached.
 * Errors as for strata_set_marker.
 */
strata_status strata_thread_slot(strata_thread *thread, uint32_t *slot_out);

/* Why an attempt aborted (strata_stats counts the same causes but
 * STRATA_ABORT_RETRY). */
typedef enum strata_abort_kind {
    /* No attempt of the thread has aborted. */
    STRATA_ABORT_NONE = 0,
    /* Another transaction owned an object the attempt wrote. */
    STRATA_ABORT_WRITE_WRITE = 1,
    /* Something it read changed before it could commit. */
    STRATA_ABORT_VALIDATION = 2,
    /* An inevitable transaction needed its objects. */
    STRATA_ABORT_DOOMED = 3,
    /* It stopped to rerun as the inevitable transaction. */
    STRATA_ABORT_INEVITABLE = 4,
    /* An allocation failed. */
    STRATA_ABORT_OUT_OF_MEMORY = 5,
    /* Rust code panicked. */
    STRATA_ABORT_PANIC = 6,
    /* The host aborted it (strata_tx_abort). */
    STRATA_ABORT_REQUESTED = 7,
    /* A transaction of the Rust API retried (waits for a change); never
     * one of the C API's, which has no retry. */
    STRATA_ABORT_RETRY = 8
} strata_abort_kind;

/* What aborted a thread's last aborted attempt. */
typedef struct strata_abort_info {
    /* A strata_abort_kind. */
    uint32_t kind;
    /* The object the conflict was found on: its type, the type's name
     * (NUL-terminated, owned by the library, valid until the thread's next
     * strata_last_abort_info call) and its identity (as strata_identity
     * gives it). type_name NULL and object_id 0 when the abort concerned
     * no object (a doom, a failed allocation, strata_tx_abort). */
    strata_type_id type_id;
    const char *type_name;
    uint64_t object_id;
    /* The slot (strata_thread_slot) of the other transaction: the owner
     * of the object, or the inevitable transaction that doomed this one;
     * 0 when unknown (the writer had committed already) or none. */
    uint32_t other_thread;
    /* This thread's marker when it aborted, and the other thread's when
     * the conflict was found (0, 0: none). */
    uint32_t marker_file;
    uint32_t marker_line;
    uint32_t other_marker_file;
    uint32_t other_marker_line;
    /* Whether the heap times attempts (STRATA_PROFILE or STRATA_EVENTS),
     * and then how long the aborted attempt ran, from its begin to its
     * abort. */
    bool timed;
    uint64_t wasted_nanos;
} strata_abort_info;

/*
 * Stores in *info_out what aborted the thread's last aborted attempt
 * (kind STRATA_ABORT_NONE if none has). Only the thread that attached; in
 * or out of a transaction.
 * STRATA_ERROR_NOT_ATTACHED, STRATA_ERROR_WRONG_THREAD: as for detach.
 * STRATA_ERROR_BLOCKED: the thread is in a blocking section.
 */
strata_status strata_last_abort_info(strata_thread *thread, strata_abort_info *info_out);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_H */
