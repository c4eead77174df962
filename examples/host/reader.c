/*
 * reader.c: source text to lists of heap cells.
 *
 * A recursive-descent reader of a Scheme subset: lists, quote ('x),
 * integers, strings with \n \t \" \\ escapes, #t and #f, symbols, and
 * comments from ';' to the end of the line. Special forms are checked
 * here, so that a malformed one is a syntax error with its line, and two
 * are rewritten into the others: (define (f x ...) body ...) into
 * (define f (lambda (x ...) body ...)), and (let ((x e) ...) body ...)
 * into ((lambda (x ...) body ...) e ...).
 *
 * Symbols are interned: one cell per name, so that the evaluator
 * compares names by address. The builtins' names are interned first and
 * bound in the global frame.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

struct symbol_entry {
    char *name;
    size_t index; /* in the symbol table */
};

struct reader {
    struct vm *vm;
    const char *end, *at;
    int line;
    slot table; /* a pair whose car is the array of interned symbols */
    size_t table_capacity;
    struct symbol_entry *symbols;
    size_t symbol_count, symbol_capacity;
    jmp_buf syntax_error;
};

static const struct {
    const char *name;
    enum form form;
} forms[] = {{"quote", FORM_QUOTE},   {"if", FORM_IF},         {"define", FORM_DEFINE},
             {"set!", FORM_SET},      {"lambda", FORM_LAMBDA}, {"begin", FORM_BEGIN},
             {"atomic", FORM_ATOMIC}, {"and", FORM_AND},       {"or", FORM_OR}};

_Noreturn static void syntax_error(struct reader *r, int line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

_Noreturn static void syntax_error(struct reader *r, int line, const char *format, ...) {
    int used = snprintf(r->vm->error, sizeof r->vm->error, "%s:%d: syntax error: ",
                        r->vm->rt->file, line);
    va_list args;
    va_start(args, format);
    vsnprintf(r->vm->error + used, sizeof r->vm->error - (size_t)used, format, args);
    va_end(args);
    longjmp(r->syntax_error, 1);
}

/* Pushes the symbol named name, made at its first use. */
static slot intern(struct reader *r, const char *name, size_t length) {
    struct vm *vm = r->vm;
    for (size_t i = 0; i < r->symbol_count; i++) {
        if (strlen(r->symbols[i].name) == length && memcmp(r->symbols[i].name, name, length) == 0)
            return push(vm, element(vm, ref_of(vm, at(vm, r->table), 0), r->symbols[i].index));
    }
    enum form form = FORM_NONE;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (strlen(forms[i].name) == length && memcmp(forms[i].name, name, length) == 0)
            form = forms[i].form;
    }
    if (r->symbol_count == r->symbol_capacity) {
        r->symbol_capacity = r->symbol_capacity ? 2 * r->symbol_capacity : 64;
        r->symbols = realloc(r->symbols, r->symbol_capacity * sizeof *r->symbols);
        if (r->symbols == NULL) abort();
    }
    if (r->symbol_count == r->table_capacity) {
        r->table_capacity = r->table_capacity ? 2 * r->table_capacity : 64;
        slot bigger = new_refs(vm, r->table_capacity);
        for (size_t i = 0; i < r->symbol_count; i++)
            set_element_value(vm, bigger, i, element(vm, ref_of(vm, at(vm, r->table), 0), i));
        set_ref(vm, r->table, 0, bigger);
        drop_to(vm, bigger);
    }
    char *copy = malloc(length + 1);
    if (copy == NULL) abort();
    memcpy(copy, name, length);
    copy[length] = 0;
    slot s = new_text(vm, TAG_SYMBOL, (int64_t)(text_hash(name, length) << 8) | form, name, length);
    slot array = push(vm, ref_of(vm, at(vm, r->table), 0));
    set_element(vm, array, r->symbol_count, s);
    drop_to(vm, array);
    r->symbols[r->symbol_count] = (struct symbol_entry){copy, r->symbol_count};
    r->symbol_count++;
    return s;
}

/* Whether obj is the symbol named name. */
static bool symbol_is(struct reader *r, const void *obj, const char *name) {
    if (tag_of(r->vm, obj) != TAG_SYMBOL) return false;
    size_t length;
    const char *text = text_of(r->vm, obj, &length);
    return length == strlen(name) && memcmp(text, name, length) == 0;
}

static void skip_space(struct reader *r) {
    while (r->at < r->end) {
        if (*r->at == ';') {
            while (r->at < r->end && *r->at != '\n') r->at++;
        } else if (isspace((unsigned char)*r->at)) {
            if (*r->at == '\n') r->line++;
            r->at++;
        } else {
            return;
        }
    }
}

static bool is_delimiter(char c) {
    return isspace((unsigned char)c) || c == '(' || c == ')' || c == '"' || c == ';' || c == '\'';
}

/* A list of the values in slots first..vm->sp, replacing them. */
static slot make_list(struct vm *vm, slot first, int line) {
    slot rest = NO_SLOT;
    for (slot i = vm->sp; i-- > first;) {
        rest = new_cell(vm, TAG_PAIR, line, i, rest, NO_SLOT);
    }
    void *list = rest == NO_SLOT ? NULL : at(vm, rest);
    drop_to(vm, first);
    return push(vm, list);
}

static slot read_form(struct reader *r);

/* The elements of a list up to its ')', pushed; returns how many. */
static size_t read_elements(struct reader *r, int open_line) {
    size_t count = 0;
    for (;;) {
        skip_space(r);
        if (r->at == r->end)
            syntax_error(r, r->line, "expected ')' to close the list opened at line %d",
                         open_line);
        if (*r->at == ')') {
            r->at++;
            return count;
        }
        read_form(r);
        count++;
    }
}

static enum form form_of(struct reader *r, slot s) {
    const struct cell *c = read_cell(r->vm, at(r->vm, s));
    return c->tag == TAG_SYMBOL ? (enum form)(c->num & 0xff) : FORM_NONE;
}

static bool is_symbol(struct reader *r, slot s) {
    return tag_of(r->vm, at(r->vm, s)) == TAG_SYMBOL;
}

static void check_parameters(struct reader *r, void *list, int line, const char *what) {
    for (; list != NULL; list = ref_of(r->vm, list, 1)) {
        if (tag_of(r->vm, list) != TAG_PAIR)
            syntax_error(r, line, "%s: expected a list of parameter names", what);
        if (tag_of(r->vm, ref_of(r->vm, list, 0)) != TAG_SYMBOL)
            syntax_error(r, line, "%s: expected a parameter name (a symbol)", what);
    }
}

/* Checks a special form whose elements are in slots first.. and rewrites
 * the two derived ones; the result is a list, pushed at first. */
static slot finish_form(struct reader *r, slot first, size_t count, int line) {
    struct vm *vm = r->vm;
    enum form form = form_of(r, first);
    size_t args = count - 1;
    switch (form) {
    case FORM_QUOTE:
        if (args != 1) syntax_error(r, line, "quote: expected one datum, got %zu", args);
        break;
    case FORM_IF:
        if (args < 2 || args > 3)
            syntax_error(r, line, "if: expected (if test then [else]), got %zu parts", args);
        break;
    case FORM_SET:
        if (args != 2 || !is_symbol(r, first + 1))
            syntax_error(r, line, "set!: expected (set! name value)");
        break;
    case FORM_LAMBDA:
        if (args < 2) syntax_error(r, line, "lambda: expected (lambda (params) body ...)");
        check_parameters(r, at(vm, first + 1), line, "lambda");
        break;
    case FORM_ATOMIC:
    case FORM_BEGIN:
        if (args < 1) syntax_error(r, line, "%s: expected at least one expression",
                                   form == FORM_ATOMIC ? "atomic" : "begin");
        break;
    case FORM_DEFINE:
        if (args >= 2 && tag_of(vm, at(vm, first + 1)) == TAG_PAIR) {
            /* (define (name params ...) body ...) */
            void *head = at(vm, first + 1);
            if (tag_of(vm, ref_of(vm, head, 0)) != TAG_SYMBOL)
                syntax_error(r, line, "define: expected a procedure name (a symbol)");
            check_parameters(r, ref_of(vm, head, 1), line, "define");
            slot name = push(vm, ref_of(vm, at(vm, first + 1), 0));
            slot start = intern(r, "lambda", 6);
            push(vm, ref_of(vm, at(vm, first + 1), 1));
            for (size_t i = 2; i < count; i++) push(vm, at(vm, first + i));
            make_list(vm, start, line);
            void *define_symbol = at(vm, first), *name_symbol = at(vm, name);
            void *function = at(vm, start);
            drop_to(vm, first);
            push(vm, define_symbol);
            push(vm, name_symbol);
            push(vm, function);
            return make_list(vm, first, line);
        }
        if (args != 2 || !is_symbol(r, first + 1))
            syntax_error(r, line, "define: expected (define name value) or "
                                  "(define (name params ...) body ...)");
        break;
    case FORM_AND:
    case FORM_OR:
    case FORM_NONE:
        break;
    }
    return make_list(vm, first, line);
}

/* (let ((name value) ...) body ...) as ((lambda (name ...) body ...) value ...) */
static slot rewrite_let(struct reader *r, slot first, size_t count, int line) {
    struct vm *vm = r->vm;
    if (count < 3) syntax_error(r, line, "let: expected (let ((name value) ...) body ...)");
    slot names = vm->sp;
    for (void *b = at(vm, first + 1); b != NULL; b = ref_of(vm, b, 1)) {
        void *binding = tag_of(vm, b) == TAG_PAIR ? ref_of(vm, b, 0) : NULL;
        if (tag_of(vm, binding) != TAG_PAIR || tag_of(vm, ref_of(vm, binding, 0)) != TAG_SYMBOL ||
            tag_of(vm, ref_of(vm, binding, 1)) != TAG_PAIR ||
            ref_of(vm, ref_of(vm, binding, 1), 1) != NULL)
            syntax_error(r, line, "let: expected a binding (name value)");
        push(vm, ref_of(vm, binding, 0));
    }
    make_list(vm, names, line);
    slot lambda = intern(r, "lambda", 6);
    push(vm, at(vm, names));
    for (size_t i = 2; i < count; i++) push(vm, at(vm, first + i));
    make_list(vm, lambda, line);
    slot call = push(vm, at(vm, lambda));
    for (void *b = at(vm, first + 1); b != NULL; b = ref_of(vm, b, 1))
        push(vm, ref_of(vm, ref_of(vm, ref_of(vm, b, 0), 1), 0));
    make_list(vm, call, line);
    void *result = at(vm, call);
    drop_to(vm, first);
    return push(vm, result);
}

static slot read_atom(struct reader *r) {
    struct vm *vm = r->vm;
    const char *start = r->at;
    if (*r->at == '"') {
        char *text = malloc((size_t)(r->end - r->at));
        if (text == NULL) abort();
        size_t length = 0;
        int line = r->line;
        for (r->at++;; r->at++) {
            if (r->at == r->end) {
                free(text);
                syntax_error(r, line, "expected '\"' to end the string begun here");
            }
            char c = *r->at;
            if (c == '"') break;
            if (c == '\n') r->line++;
            if (c == '\\' && r->at + 1 < r->end) {
                c = *++r->at;
                switch (c) {
                case 'n': c = '\n'; break;
                case 't': c = '\t'; break;
                case '"': case '\\': break;
                default:
                    free(text);
                    syntax_error(r, r->line, "unknown escape '\\%c' in a string", c);
                }
            }
            text[length++] = c;
        }
        r->at++;
        slot s = new_text(vm, TAG_STRING, 0, text, length);
        free(text);
        return s;
    }
    while (r->at < r->end && !is_delimiter(*r->at)) r->at++;
    size_t length = (size_t)(r->at - start);
    char token[64];
    if (length < sizeof token) {
        memcpy(token, start, length);
        token[length] = 0;
        if (strcmp(token, "#t") == 0) return new_bool(vm, true);
        if (strcmp(token, "#f") == 0) return new_bool(vm, false);
        const char *digits = token[0] == '-' ? token + 1 : token;
        if (isdigit((unsigned char)digits[0])) {
            char *after;
            errno = 0;
            long long value = strtoll(token, &after, 10);
            if (*after != 0) syntax_error(r, r->line, "expected an integer, got '%s'", token);
            if (errno == ERANGE) syntax_error(r, r->line, "integer '%s' is too large", token);
            return new_int(vm, value);
        }
        if (token[0] == '#') syntax_error(r, r->line, "expected #t or #f, got '%s'", token);
    }
    return intern(r, start, length);
}

static slot read_form(struct reader *r) {
    struct vm *vm = r->vm;
    skip_space(r);
    if (r->at == r->end) syntax_error(r, r->line, "expected an expression, got the end of the file");
    char c = *r->at;
    int line = r->line;
    if (c == ')') syntax_error(r, line, "unexpected ')'");
    if (c == '\'') {
        r->at++;
        slot start = intern(r, "quote", 5);
        read_form(r);
        return make_list(vm, start, line);
    }
    if (c != '(') return read_atom(r);
    r->at++;
    slot first = vm->sp;
    size_t count = read_elements(r, line);
    if (count == 0) return make_list(vm, first, line);
    if (symbol_is(r, at(vm, first), "let")) return rewrite_let(r, first, count, line);
    return finish_form(r, first, count, line);
}

slot read_program(struct vm *vm, const char *source, size_t length, slot *global_frame) {
    struct reader r = {.vm = vm, .end = source + length, .at = source, .line = 1};
    slot result = NO_SLOT;
    if (setjmp(r.syntax_error) == 0) {
        *global_frame = new_frame(vm, NO_SLOT);
        r.table = new_cell(vm, TAG_PAIR, 0, NO_SLOT, NO_SLOT, NO_SLOT);
        for (size_t i = 0; i < builtin_count; i++) {
            slot name = intern(&r, builtins[i].name, strlen(builtins[i].name));
            slot value = new_cell(vm, TAG_PRIM, (int64_t)i, NO_SLOT, NO_SLOT, NO_SLOT);
            bind(vm, *global_frame, name, value);
            drop_to(vm, name);
        }
        /* (begin form ...), so that the program runs as one sequence. */
        slot first = intern(&r, "begin", 5);
        for (;;) {
            skip_space(&r);
            if (r.at == r.end) break;
            read_form(&r);
        }
        make_list(vm, first, 1);
        /* The table goes: the program and the global frame hold the symbols. */
        void *program = at(vm, first);
        drop_to(vm, r.table);
        result = push(vm, program);
    }
    for (size_t i = 0; i < r.symbol_count; i++) free(r.symbols[i].name);
    free(r.symbols);
    return result;
}
