/* SPDX-License-Identifier: MPL-2.0 */
/* alloc.h: the allocator of the core libraries (symcache, stackwalk, signature, upload). It never
 * aborts: a NULL return is reported by the caller as SYM_ENOMEM. A process-wide fault hook lets
 * tests fail the k-th allocation to prove every failure path; it is the one documented global. */
#ifndef SYM_ALLOC_H
#define SYM_ALLOC_H

#include <stddef.h>

/* Each returns NULL on failure (or when the fault hook says so). sym_free(NULL) is a no-op. */
void *sym_malloc(size_t size);
void *sym_calloc(size_t n, size_t size); /* NULL also when n * size overflows */
void *sym_realloc(void *p, size_t size); /* on failure p is untouched and still owned */
void *sym_reallocarray(void *p, size_t n, size_t size);
char *sym_strndup(const char *s, size_t n); /* copies at most n bytes and NUL-terminates */
void sym_free(void *p);

/* Large growable regions (tables of many megabytes): an anonymous mapping that grows without
 * copying, advised to use transparent huge pages from 2 MiB on. sym_region_grow(NULL, 0, n) creates
 * one of at least n bytes (zero-filled); sym_region_grow(p, old, n) grows the region p created with
 * size old to at least n bytes and returns its possibly moved address (contents kept, new bytes
 * zero). On failure it returns NULL and p is untouched and still owned. Free with
 * sym_region_free(p, size) with the size last passed to sym_region_grow. The fault hook applies. */
void *sym_region_grow(void *p, size_t old_size, size_t new_size);
void sym_region_free(void *p, size_t size); /* NULL is a no-op */

/* The region page size: sym_region_give moves whole pages of this many bytes. */
#define SYM_REGION_PAGE ((size_t)4096)

/* Memory for a large block whose pages may later receive region pages (sym_region_give):
 * starts on a page boundary; free with sym_free. NULL on failure; the fault hook applies. */
void *sym_malloc_pages(size_t size);

/* Hands the first n bytes of region p (size bytes, n a multiple of SYM_REGION_PAGE and at
 * most size) to dst without copying them: the pages move, and dst's previous pages in
 * [dst, dst + n) are released. dst must be page-aligned memory from sym_malloc_pages (private
 * and anonymous: never a file mapping). On success the region is what is left,
 * [p + n, p + size), to be freed as a region of size - n bytes (nothing when size == n), and
 * it returns 1. It returns 0 when the pages cannot move (a misaligned dst, a system page size
 * other than SYM_REGION_PAGE, builds whose regions are heap blocks, a refusal of the kernel):
 * the region is unchanged and dst still writable, so the caller copies. It returns -1 when the
 * kernel refused and [dst, dst + n) could not be mapped again: that memory is unusable and the
 * caller must free the block without touching it (out of memory). */
int sym_region_give(void *p, size_t size, void *dst, size_t n);

/* Test hook: when fail_at > 0, the fail_at-th allocation from now returns NULL (once).
 * sym_alloc_count() returns the allocations made since the last sym_alloc_fail_at() call.
 * Not thread-safe; for single-threaded tests only. */
void sym_alloc_fail_at(unsigned long fail_at);
unsigned long sym_alloc_count(void);

#endif
