/* SPDX-License-Identifier: MPL-2.0 */
/* arena.c: the block arena behind every string and array a parsed minidump owns, so a dump is
 * released with one call and no per-field bookkeeping. */
#include <stdint.h>

#include "md_int.h"
#include "sym/alloc.h"

struct md_arena_block {
    struct md_arena_block *next;
    size_t cap;
    _Alignas(8) unsigned char data[];
};

#define BLOCK_MIN 16384u

void md_arena_init(struct md_arena *a)
{
    a->head = NULL;
    a->used = a->cap = 0;
    a->total = 0;
    a->limit = 0;
    a->over_limit = false;
}

void md_arena_free(struct md_arena *a)
{
    struct md_arena_block *b = a->head;
    while (b != NULL) {
        struct md_arena_block *next = b->next;
        sym_free(b);
        b = next;
    }
    md_arena_init(a);
}

void *md_arena_alloc(struct md_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = (n + 7u) & ~(size_t)7u;
    if (need == 0)
        need = 8;
    if (a->head == NULL || a->cap - a->used < need) {
        size_t cap = need > BLOCK_MIN ? need : BLOCK_MIN;
        if (a->limit != 0 && (a->total > a->limit || cap > a->limit - a->total)) {
            a->over_limit = true;
            return NULL;
        }
        struct md_arena_block *b = sym_malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
        /* A large one-off allocation goes behind the current block so the current block's
         * free space is not wasted. */
        if (a->head != NULL && need > BLOCK_MIN && a->cap - a->used >= 64) {
            b->next = a->head->next;
            a->head->next = b;
            a->total += cap;
            memset(b->data, 0, n);
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->cap = cap;
        a->total += cap;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    memset(p, 0, n);
    return p;
}

char *md_arena_strndup(struct md_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = md_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
