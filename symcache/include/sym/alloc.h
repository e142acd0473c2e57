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
 * copying. sym_region_grow(NULL, 0, n) creates one of at least n bytes (zero-filled);
 * sym_region_grow(p, old, n) grows the region p created with size old to at least n bytes and
 * returns its possibly moved address (contents kept, new bytes zero). On failure it returns
 * NULL and p is untouched and still owned. Free with sym_region_free(p, size) with the size
 * last passed to sym_region_grow. The fault hook applies. */
void *sym_region_grow(void *p, size_t old_size, size_t new_size);
void sym_region_free(void *p, size_t size); /* NULL is a no-op */

/* Test hook: when fail_at > 0, the fail_at-th allocation from now returns NULL (once).
 * sym_alloc_count() returns the allocations made since the last sym_alloc_fail_at() call.
 * Not thread-safe; for single-threaded tests only. */
void sym_alloc_fail_at(unsigned long fail_at);
unsigned long sym_alloc_count(void);

#endif
