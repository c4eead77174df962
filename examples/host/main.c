/*
 * main.c: options, the heap, the program's start and end.
 *
 *     host [--gil] [--threads N] [--scale N] [--tx-length STEPS] [--stats] FILE
 *
 * --threads N is what the program's (threads) returns (default: the
 * environment's HOST_THREADS, else 1); --scale N what (scale) returns
 * (default 1), which programs multiply their work by. --tx-length is the longest run of
 * steps in one transaction outside atomic blocks (default 10000). --stats
 * prints the heap's counters to stderr at the end. Exit status: 0, 1
 * after a program error in any thread, 2 for a syntax error or bad
 * usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static _Noreturn void usage(const char *why) {
    fprintf(stderr, "host: %s\nusage: host [--gil] [--threads N] [--scale N] [--tx-length STEPS] [--stats] FILE\n",
            why);
    exit(2);
}

static long number_option(const char *text) {
    char *end;
    long value = text == NULL ? 0 : strtol(text, &end, 10);
    if (text == NULL || *text == 0 || *end != 0 || value < 1)
        usage(text == NULL ? "an option lacks its value" : "an option's value is not a positive integer");
    return value;
}

static char *read_file(const char *path, size_t *length) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return NULL;
    size_t capacity = 4096, used = 0;
    char *text = malloc(capacity);
    for (size_t n; text != NULL && (n = fread(text + used, 1, capacity - used, file)) > 0;) {
        used += n;
        if (used == capacity) text = realloc(text, capacity *= 2);
    }
    fclose(file);
    if (text == NULL) abort();
    *length = used;
    return text;
}

/* Reads the program and makes the main thread's machine, in one
 * transaction. Returns false after a syntax error. */
static bool load(struct vm *vm, const char *source, size_t length) {
    jmp_buf retry;
    vm->escape = &retry;
    int code = setjmp(retry);
    if (code == ESCAPE_ERROR) {
        fprintf(stderr, "%s: %s\n", vm->rt->file, vm->error);
        exit(70);
    }
    if (code == ESCAPE_ABORTED) {
        vm->sp = vm->tx_base;
        vm->in_tx = false;
    }
    tx_begin(vm);
    slot global;
    slot program = read_program(vm, source, length, &global);
    if (program == NO_SLOT) {
        check(vm, strata_tx_abort(vm->thread), "strata_tx_abort");
        vm->in_tx = false;
        vm->sp = vm->tx_base;
        return false;
    }
    vm->machine = new_machine(vm);
    set_machine_ref(vm, M_EXPR, program);
    set_machine_ref(vm, M_ENV, global);
    set_machine_nums(vm, MODE_EVAL, 0, 1);
    tx_commit(vm);
    void *machine = at(vm, vm->machine);
    drop_to(vm, 0);
    vm->machine = push(vm, machine);
    return true;
}

static void print_stats(strata_heap *heap) {
    strata_stats s;
    if (strata_heap_stats(heap, &s) != STRATA_OK) return;
    fprintf(stderr,
            "stats: commits=%llu aborts=%llu write_write=%llu validation=%llu doomed=%llu "
            "inevitable=%llu out_of_memory=%llu requested=%llu minor_collections=%llu "
            "major_collections=%llu\n",
            (unsigned long long)s.commits, (unsigned long long)s.aborts,
            (unsigned long long)s.aborts_write_write, (unsigned long long)s.aborts_validation,
            (unsigned long long)s.aborts_doomed, (unsigned long long)s.aborts_inevitable,
            (unsigned long long)s.aborts_out_of_memory, (unsigned long long)s.aborts_requested,
            (unsigned long long)s.minor_collections, (unsigned long long)s.major_collections);
}

int main(int argc, char **argv) {
    struct runtime rt = {.tx_length = 10000, .thread_count = 1, .scale = 1};
    const char *env_threads = getenv("HOST_THREADS");
    if (env_threads != NULL && *env_threads != 0)
        rt.thread_count = number_option(env_threads);
    bool stats = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gil") == 0) rt.gil_mode = true;
        else if (strcmp(argv[i], "--stats") == 0) stats = true;
        else if (strcmp(argv[i], "--threads") == 0) rt.thread_count = number_option(argv[i + 1]), i++;
        else if (strcmp(argv[i], "--scale") == 0) rt.scale = number_option(argv[i + 1]), i++;
        else if (strcmp(argv[i], "--tx-length") == 0) rt.tx_length = number_option(argv[i + 1]), i++;
        else if (argv[i][0] == '-') usage("unknown option");
        else if (rt.file != NULL) usage("more than one program file");
        else rt.file = argv[i];
    }
    if (rt.file == NULL) usage("no program file");
    size_t length;
    char *source = read_file(rt.file, &length);
    if (source == NULL) {
        fprintf(stderr, "host: cannot read %s\n", rt.file);
        return 2;
    }

    strata_config config;
    if (strata_config_init(&config) != STRATA_OK) {
        fprintf(stderr, "host: %s\n", strata_last_error());
        return 2;
    }
    if (strata_heap_create(&config, &rt.heap) != STRATA_OK) {
        fprintf(stderr, "host: cannot make a heap: %s\n", strata_last_error());
        return 70;
    }
    objects_register_types(&rt);
    if (strata_marker_file(rt.heap, rt.file, &rt.marker_file) != STRATA_OK) {
        fprintf(stderr, "host: %s\n", strata_last_error());
        return 70;
    }
    runtime_init(&rt);

    struct vm vm = {.rt = &rt, .index = 0};
    if (strata_thread_attach(rt.heap, &vm.thread) != STRATA_OK) {
        fprintf(stderr, "host: cannot attach: %s\n", strata_last_error());
        return 70;
    }
    gil_acquire(&vm);
    bool loaded = load(&vm, source, length);
    free(source);
    int status = 2;
    if (!loaded) {
        fprintf(stderr, "%s\n", vm.error);
        gil_release(&vm);
    } else {
        vm_run(&vm);
        status = 0;
    }
    threads_finish(&vm);
    if (status == 0 && rt.errors > 0) status = 1;
    check(&vm, strata_thread_detach(vm.thread), "strata_thread_detach");
    free(vm.hashes);
    if (stats) print_stats(rt.heap);
    check(&vm, strata_heap_destroy(rt.heap), "strata_heap_destroy");
    return status;
}
