/* SPDX-License-Identifier: MPL-2.0 */
/* value.h: the input model of signature generation. Crash data is a JSON-shaped tree (the dict
 * Socorro's generator reads), so the rules can reproduce Python's behaviour for every type a
 * field may hold, garbage included. Trees are built by the caller (server/crashdata.c converts
 * a JSON document; tests build them by hand) usually inside a struct sig_arena.
 * No dependency beyond libc and sym (err/alloc). */
#ifndef SIG_VALUE_H
#define SIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/err.h"

enum sig_type {
    SIG_T_NULL = 0, /* JSON null; a zeroed struct sig_value is null */
    SIG_T_BOOL,
    SIG_T_INT,
    SIG_T_REAL,
    SIG_T_STR,
    SIG_T_LIST,
    SIG_T_OBJ,
};

struct sig_member;

/* A value. Strings are UTF-8 with an explicit length (they may contain NUL bytes); nothing is
 * owned by the struct itself: the builder (an arena, a static table) owns the memory. */
struct sig_value {
    enum sig_type type;
    union {
        bool b;
        int64_t i;
        double r;
        struct {
            const char *p;
            size_t len;
        } s;
        struct {
            const struct sig_value *items;
            size_t n;
        } list;
        struct {
            const struct sig_member *members; /* in document order; on duplicate keys the last
                                                 one wins, as with a Python dict */
            size_t n;
        } obj;
    } u;
};

struct sig_member {
    const char *key;
    size_t key_len;
    struct sig_value value;
};

/* Python truthiness: NULL (a missing key), null, false, 0, 0.0, "", [] and {} are false. */
bool sig_value_truthy(const struct sig_value *v);
/* Member lookup: the value of key in an object, or NULL when v is NULL, not an object, or has no
 * such key. The last of duplicate keys wins. */
const struct sig_value *sig_value_get(const struct sig_value *v, const char *key);
/* True when v is a string; then *s and *len (both optional) receive it. */
bool sig_value_str(const struct sig_value *v, const char **s, size_t *len);

/* Value constructors for callers that build trees by hand. */
struct sig_value sig_value_null(void);
struct sig_value sig_value_bool(bool b);
struct sig_value sig_value_int(int64_t i);
struct sig_value sig_value_real(double r);
struct sig_value sig_value_strn(const char *s, size_t len); /* borrows s */
struct sig_value sig_value_cstr(const char *s);             /* borrows s */

/* A bump allocator for value trees: one free for a whole tree. Chunks come from sym_malloc; the
 * total is capped so a hostile document cannot allocate without bound. Not thread-safe. */
struct sig_arena_chunk;
struct sig_arena {
    struct sig_arena_chunk *head;
    size_t used_total; /* bytes handed out, for the cap */
    size_t max_total;  /* 0: 256 MiB */
};

void sig_arena_init(struct sig_arena *a, size_t max_total);
/* Frees every chunk; the arena may be reused after. NULL is a no-op. */
void sig_arena_cleanup(struct sig_arena *a);
/* size bytes aligned for any value type, zeroed; NULL when out of memory or over the cap. */
void *sig_arena_alloc(struct sig_arena *a, size_t size);
/* A NUL-terminated copy of s[0..len); NULL on failure. */
char *sig_arena_strndup(struct sig_arena *a, const char *s, size_t len);

#endif
