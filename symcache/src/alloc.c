/* SPDX-License-Identifier: MPL-2.0 */
/* alloc.c: checked allocation with a fault-injection hook for the allocation-failure tests. */
#include "sym/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

void *sym_malloc_pages(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, SYM_REGION_PAGE, size ? size : 1) != 0)
        return NULL;
    return p;
}

/* Growing a table of tens of megabytes with realloc copies it into fresh pages at each
 * doubling, and every fresh page costs a fault, a zeroing and a cgroup charge. A region is an
 * anonymous mapping instead: mremap grows it by moving page tables, never bytes, so each page is
 * faulted in once. A region of 2 MiB or more also asks for transparent huge pages: one fault
 * then brings 2 MiB instead of 4 KiB. On a virtual machine a 4 KiB fault measured 1.5-3.5 us,
 * a quarter of the parser's main thread on a 150 MB file (the string table's slots and bytes
 * most of it); with the advice the parse took 8-10 % less time. Kernels without huge pages,
 * or set to "never", ignore the advice. */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REGIONS_FROM_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REGIONS_FROM_MALLOC 1
#endif
#endif

#ifdef REGIONS_FROM_MALLOC
/* Under AddressSanitizer regions are heap blocks, so that overflows and leaks are caught; under
 * ThreadSanitizer too, whose shadow memory does not follow mremap (a region moved to where
 * another thread's region was unmapped would carry that thread's accesses: false races). */
void *sym_region_grow(void *p, size_t old_size, size_t new_size)
{
    if (p != NULL && new_size <= old_size)
        return p;
    void *q = sym_realloc(p, new_size);
    if (q != NULL)
        memset((char *)q + (p != NULL ? old_size : 0), 0, new_size - (p != NULL ? old_size : 0));
    return q;
}

void sym_region_free(void *p, size_t size)
{
    (void)size;
    sym_free(p);
}

int sym_region_give(void *p, size_t size, void *dst, size_t n)
{
    (void)p;
    (void)size;
    (void)dst;
    (void)n;
    return 0;
}
#else
/* The size from which a region asks for huge pages: the usual huge page (x86-64, arm64 with
 * 4 KiB pages). A smaller mapping could not hold one. */
#define HUGE_ADVICE_MIN ((size_t)2 << 20)

static void *advised(void *q, size_t size)
{
#ifdef MADV_HUGEPAGE
    /* A hint: refused (EINVAL without THP support) or granted, the region works the same. */
    if (q != MAP_FAILED && size >= HUGE_ADVICE_MIN)
        (void)madvise(q, size, MADV_HUGEPAGE);
#else
    (void)size;
#endif
    return q;
}

static size_t region_bytes(size_t size)
{
    size_t page = 4096;
    long sc = sysconf(_SC_PAGESIZE);
    if (sc > 0)
        page = (size_t)sc;
    return size > SIZE_MAX - page ? 0 : (size + page - 1) / page * page;
}

void *sym_region_grow(void *p, size_t old_size, size_t new_size)
{
    size_t want = region_bytes(new_size);
    if (want == 0 || should_fail())
        return NULL;
    void *q;
    if (p == NULL) {
        q = advised(mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                    want);
    } else {
        size_t have = region_bytes(old_size);
        if (want <= have)
            return p;
        /* Advised again: a region that started under the huge-page size has no advice yet. */
        q = advised(mremap(p, have, want, MREMAP_MAYMOVE), want);
    }
    if (q == MAP_FAILED)
        return NULL;
    return q;
}

void sym_region_free(void *p, size_t size)
{
    if (p != NULL)
        (void)munmap(p, region_bytes(size));
}

/* A region's pages are only ever written by the builder, and the block they go to was never
 * touched yet: moving the page tables instead of copying saves both the copy and a fresh page
 * (fault, zeroing, accounting) per page, which on virtual machines is most of its cost. */
int sym_region_give(void *p, size_t size, void *dst, size_t n)
{
    long sc = sysconf(_SC_PAGESIZE);
    if (p == NULL || n == 0 || n > size || sc <= 0 || (size_t)sc != SYM_REGION_PAGE ||
        n % SYM_REGION_PAGE != 0 || (uintptr_t)p % SYM_REGION_PAGE != 0 ||
        (uintptr_t)dst % SYM_REGION_PAGE != 0)
        return 0;
    void *q = mremap(p, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    if (q == dst)
        return 1;
    /* The kernel may have released dst's pages before refusing (too many mappings): put fresh
     * ones back, so that the caller can copy instead. */
    q = mmap(dst, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return q == dst ? 0 : -1;
}
#endif

void sym_alloc_fail_at(unsigned long fail_at)
{
    atomic_store(&alloc_fail_at, fail_at);
    atomic_store(&alloc_count, 0);
}

unsigned long sym_alloc_count(void)
{
    return atomic_load(&alloc_count);
}
