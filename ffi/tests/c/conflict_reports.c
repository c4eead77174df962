/* Conflict reports from C: a write-write conflict between two threads is
 * reported by strata_last_abort_info with its kind, the object (type name
 * and identity), the other thread's slot and both threads' markers; the
 * profile STRATA_PROFILE names is written at strata_heap_destroy and
 * names both lines and the type. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "check.h"

static strata_type_id account_type;
static strata_global *ledger;
static uint32_t bank_file;

/* The writer that owns the account while the other thread writes it. */
struct duel {
    strata_heap *heap;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int stage; /* 1: the owner owns the account; 2: the other aborted;
                * 3: the owner committed */
    uint32_t owner_slot;
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

/* Adds amount to the account; false when the attempt is doomed. */
static bool add(strata_thread *thread, long amount) {
    void *account = NULL;
    EXPECT_OK(strata_global_get(thread, ledger, &account));
    long *balance = NULL;
    strata_status status = strata_write(thread, account, (void **)&balance);
    if (status == STRATA_ABORTED) {
        return false;
    }
    EXPECT_OK(status);
    *balance += amount;
    return true;
}

static void *owner(void *arg) {
    struct duel *d = (struct duel *)arg;
    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(d->heap, &thread));
    EXPECT_OK(strata_thread_slot(thread, &d->owner_slot));
    EXPECT_OK(strata_set_marker(thread, bank_file, 30));
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(add(thread, 1));
    set_stage(d, 1);
    wait_for_stage(thread, d, 2);
    EXPECT_OK(strata_tx_commit(thread));
    set_stage(d, 3);
    EXPECT_OK(strata_thread_detach(thread));
    return NULL;
}

static char profile_path[256];

/* The profile file's text, in a static buffer. */
static const char *read_profile(void) {
    FILE *file = fopen(profile_path, "r");
    CHECK(file != NULL);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, file);
    text[n] = '\0';
    fclose(file);
    return text;
}

int main(void) {
    CHECK(sizeof(strata_abort_info) == 56);
    snprintf(profile_path, sizeof profile_path, "/tmp/strata-c-profile-%ld.json",
             (long)getpid());
    CHECK(setenv("STRATA_PROFILE", profile_path, 1) == 0);
    strata_heap *heap = small_heap();
    strata_type_desc account = fixed_type("account", sizeof(long), NULL, 0);
    EXPECT_OK(strata_register_type(heap, &account, &account_type));
    EXPECT_OK(strata_marker_file(heap, "bank.scm", &bank_file));
    uint32_t again = 0;
    EXPECT_OK(strata_marker_file(heap, "bank.scm", &again));
    CHECK(bank_file != 0 && again == bank_file);

    strata_thread *thread = NULL;
    EXPECT_OK(strata_thread_attach(heap, &thread));
    strata_abort_info info;
    EXPECT(strata_last_abort_info(thread, NULL), STRATA_ERROR_NULL_ARGUMENT);
    EXPECT_OK(strata_last_abort_info(thread, &info));
    CHECK(info.kind == STRATA_ABORT_NONE && info.type_name == NULL);

    EXPECT_OK(strata_tx_begin(thread));
    void *made = NULL;
    EXPECT_OK(strata_alloc(thread, account_type, &made));
    EXPECT_OK(strata_push_root(thread, made));
    EXPECT_OK(strata_tx_commit(thread));
    void *committed = NULL;
    EXPECT_OK(strata_peek_root(thread, 0, &committed));
    EXPECT_OK(strata_global_new(thread, committed, &ledger));
    uint64_t identity = 0;
    EXPECT_OK(strata_identity(thread, committed, &identity, NULL));
    EXPECT_OK(strata_pop_root(thread, NULL));

    struct duel d;
    d.heap = heap;
    d.stage = 0;
    d.owner_slot = 0;
    pthread_mutex_init(&d.lock, NULL);
    pthread_cond_init(&d.changed, NULL);
    pthread_t first;
    CHECK(pthread_create(&first, NULL, owner, &d) == 0);
    wait_for_stage(thread, &d, 1);
    EXPECT_OK(strata_set_marker(thread, bank_file, 12));
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(!add(thread, -1)); /* the owner owns it: doomed */
    EXPECT(strata_tx_commit(thread), STRATA_ABORTED);

    EXPECT_OK(strata_last_abort_info(thread, &info));
    CHECK(info.kind == STRATA_ABORT_WRITE_WRITE);
    CHECK(info.type_id == account_type);
    CHECK(info.type_name != NULL && strcmp(info.type_name, "account") == 0);
    CHECK(info.object_id == identity);
    uint32_t my_slot = 0;
    EXPECT_OK(strata_thread_slot(thread, &my_slot));
    CHECK(info.other_thread == d.owner_slot && info.other_thread != my_slot);
    CHECK(info.marker_file == bank_file && info.marker_line == 12);
    CHECK(info.other_marker_file == bank_file && info.other_marker_line == 30);
    CHECK(info.timed); /* STRATA_PROFILE times attempts */

    set_stage(&d, 2);
    wait_for_stage(thread, &d, 3);
    EXPECT_OK(strata_tx_begin(thread));
    CHECK(add(thread, -1));
    EXPECT_OK(strata_tx_commit(thread));
    EXPECT_OK(strata_thread_enter_blocking(thread));
    CHECK(pthread_join(first, NULL) == 0);
    EXPECT_OK(strata_thread_leave_blocking(thread));
    EXPECT_OK(strata_thread_detach(thread));
    EXPECT_OK(strata_heap_destroy(heap));

    const char *profile = read_profile();
    CHECK(strstr(profile, "\"marker\":\"bank.scm:12\",\"other_marker\":\"bank.scm:30\","
                          "\"type\":\"account\"") != NULL);
    CHECK(strstr(profile, "\"write-write\":1") != NULL);
    CHECK(unlink(profile_path) == 0);
    pthread_mutex_destroy(&d.lock);
    pthread_cond_destroy(&d.changed);
    return 0;
}
