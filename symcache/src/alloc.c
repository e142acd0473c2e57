/* SPDX-License-Identifier: MPL-2.0 */
/* alloc.c: checked allocation with a fault-injection hook for the allocation-failure tests. */
#include "sym/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The only global of the core: test-only fault injection, documented in alloc.h. */
static _Atomic unsigned long alloc_fail_at;
static _Atomic unsigned long alloc_count;

static int should_fail(void)
{
    /* Relaxed atomics: the counters are exact only in single-threaded tests, but servers that
     * allocate from many threads must not race on them. */
    unsigned long n = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
    unsigned long at = atomic_load_explicit(&alloc_fail_at, memory_order_relaxed);
    return at != 0 && n == at;
}

void *sym_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *sym_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *sym_realloc(void *p, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void *sym_reallocarray(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return sym_realloc(p, n * size);
}

char *sym_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *out = sym_malloc(len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

void sym_free(void *p)
{
    free(p);
}

void sym_alloc_fail_at(unsigned long fail_at)
{
    atomic_store(&alloc_fail_at, fail_at);
    atomic_store(&alloc_count, 0);
}

unsigned long sym_alloc_count(void)
{
    return atomic_load(&alloc_count);
}
