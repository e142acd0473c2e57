/* SPDX-License-Identifier: MPL-2.0 */
/* alloc.c: checked allocation with a fault-injection hook for the allocation-failure tests. */
#include "sym/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The only global of the core: test-only fault injection, documented in alloc.h. */
static unsigned long alloc_fail_at;
static unsigned long alloc_count;

static int should_fail(void)
{
    alloc_count++;
    if (alloc_fail_at != 0 && alloc_count == alloc_fail_at)
        return 1;
    return 0;
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
    alloc_fail_at = fail_at;
    alloc_count = 0;
}

unsigned long sym_alloc_count(void)
{
    return alloc_count;
}
