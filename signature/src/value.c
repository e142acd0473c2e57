/* SPDX-License-Identifier: MPL-2.0 */
/* value.c: crash-data value helpers and the arena that owns converted trees. */
#include "signature/value.h"

#include <string.h>

#include "sym/alloc.h"

bool sig_value_truthy(const struct sig_value *v)
{
    if (v == NULL)
        return false;
    switch (v->type) {
    case SIG_T_NULL:
        return false;
    case SIG_T_BOOL:
        return v->u.b;
    case SIG_T_INT:
        return v->u.i != 0;
    case SIG_T_REAL:
        return v->u.r != 0.0; /* NaN is truthy in Python too */
    case SIG_T_STR:
        return v->u.s.len != 0;
    case SIG_T_LIST:
        return v->u.list.n != 0;
    case SIG_T_OBJ:
        return v->u.obj.n != 0;
    }
    return false;
}

const struct sig_value *sig_value_get(const struct sig_value *v, const char *key)
{
    if (v == NULL || v->type != SIG_T_OBJ)
        return NULL;
    size_t klen = strlen(key);
    /* Backwards so the last duplicate wins, like a dict built from the document. */
    for (size_t i = v->u.obj.n; i-- > 0;) {
        const struct sig_member *m = &v->u.obj.members[i];
        if (m->key_len == klen && memcmp(m->key, key, klen) == 0)
            return &m->value;
    }
    return NULL;
}

bool sig_value_str(const struct sig_value *v, const char **s, size_t *len)
{
    if (v == NULL || v->type != SIG_T_STR)
        return false;
    if (s)
        *s = v->u.s.p;
    if (len)
        *len = v->u.s.len;
    return true;
}

struct sig_value sig_value_null(void)
{
    struct sig_value v;
    memset(&v, 0, sizeof(v));
    return v;
}

struct sig_value sig_value_bool(bool b)
{
    struct sig_value v = sig_value_null();
    v.type = SIG_T_BOOL;
    v.u.b = b;
    return v;
}

struct sig_value sig_value_int(int64_t i)
{
    struct sig_value v = sig_value_null();
    v.type = SIG_T_INT;
    v.u.i = i;
    return v;
}

struct sig_value sig_value_real(double r)
{
    struct sig_value v = sig_value_null();
    v.type = SIG_T_REAL;
    v.u.r = r;
    return v;
}

struct sig_value sig_value_strn(const char *s, size_t len)
{
    struct sig_value v = sig_value_null();
    v.type = SIG_T_STR;
    v.u.s.p = s;
    v.u.s.len = len;
    return v;
}

struct sig_value sig_value_cstr(const char *s)
{
    return sig_value_strn(s, strlen(s));
}

/* ---- arena ---- */

struct sig_arena_chunk {
    struct sig_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(max_align_t) unsigned char data[];
};

#define ARENA_CHUNK_MIN 16384u
#define ARENA_ALIGN     _Alignof(max_align_t)

void sig_arena_init(struct sig_arena *a, size_t max_total)
{
    a->head = NULL;
    a->used_total = 0;
    a->max_total = max_total ? max_total : (size_t)256 << 20;
}

void sig_arena_cleanup(struct sig_arena *a)
{
    if (a == NULL)
        return;
    struct sig_arena_chunk *c = a->head;
    while (c) {
        struct sig_arena_chunk *next = c->next;
        sym_free(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void *sig_arena_alloc(struct sig_arena *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > a->max_total - a->used_total || size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size_t rounded = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct sig_arena_chunk *c = a->head;
    if (c == NULL || c->size - c->used < rounded) {
        size_t csize = rounded > ARENA_CHUNK_MIN ? rounded : ARENA_CHUNK_MIN;
        c = sym_malloc(sizeof(*c) + csize);
        if (c == NULL)
            return NULL;
        c->size = csize;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += rounded;
    a->used_total += rounded;
    memset(p, 0, size);
    return p;
}

char *sig_arena_strndup(struct sig_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = sig_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
