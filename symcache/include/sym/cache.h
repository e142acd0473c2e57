/* SPDX-License-Identifier: MPL-2.0 */
/* cache.h: the symcache store: built images kept on local disk in LMDB, keyed by
 * (debug_filename, debug_id), so that a module is parsed once and then served zero-copy from
 * the memory map. The only part of symcache/ that links lmdb (target sym_cache).
 *
 * - Size-bounded: stored bytes stay under max_bytes; the least recently used entries are
 *   evicted when a put needs room. Use is recorded by readers without a write transaction and
 *   applied by the next writer, so recency is exact to touch_granularity_s.
 * - Negative entries ("this module has no symbols") with a TTL: reported as SYM_CACHE_NEGATIVE
 *   until they expire, then as a miss.
 * - Concurrency: any number of reader threads, each with its own struct sym_cache_reader, and
 *   writers in any thread (LMDB serialises write transactions). Not for several processes
 *   sharing one directory (the use log lives in this process).
 * - Durable: committed entries survive a restart (unless opts.no_sync, for tests).
 * - Versioned: the store records the symcache format version; opening it with another version
 *   drops every entry (they are caches, rebuilt on demand).
 * Keys are the raw bytes given (callers normalise debug ids); neither part may contain a NUL,
 * and together they are limited to SYM_CACHE_MAX_KEY bytes. */
#ifndef SYM_CACHE_H
#define SYM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/err.h"
#include "sym/slice.h"

#define SYM_CACHE_MAX_KEY 400 /* debug_filename + debug_id bytes (LMDB keys max out at 511) */

struct sym_cache;
struct sym_cache_reader;

struct sym_cache_opts {
    uint64_t max_bytes;           /* bound on stored bytes (entries + keys); 0: 1 GiB */
    uint64_t map_bytes;           /* LMDB map size; 0: 2 * max_bytes + 64 MiB */
    uint32_t max_readers;         /* concurrent reader transactions; 0: 126 */
    uint32_t negative_ttl_s;      /* default TTL of negative entries; 0: 3600 */
    uint32_t touch_granularity_s; /* record a use when the last one is older than this */
    uint32_t format_version;      /* 0: SYM_IMAGE_VERSION (tests override it) */
    bool no_sync;                 /* skip fsync on commit (tests, throw-away caches) */
};

void sym_cache_opts_init(struct sym_cache_opts *o);

/* Opens (creating dir and the store when missing) the cache in directory dir. Returns SYM_OK
 * and *out (close with sym_cache_close), SYM_EINVAL (bad options), SYM_EIO / SYM_EDENIED
 * (directory or file errors), SYM_ECORRUPT (not an LMDB store), SYM_ENOMEM. The message in d
 * carries LMDB's text. */
SYM_MUST_CHECK sym_err sym_cache_open(const char *dir, const struct sym_cache_opts *opts,
                                      struct sym_cache **out, struct sym_diag *d);

/* Applies recorded uses and closes. Every reader must have been freed. NULL is a no-op. */
void sym_cache_close(struct sym_cache *c);

/* ---- Reading -------------------------------------------------------------------------------- */

/* One per reading thread: holds a reusable LMDB read transaction. Returns SYM_OK, SYM_ENOMEM. */
SYM_MUST_CHECK sym_err sym_cache_reader_new(struct sym_cache *c, struct sym_cache_reader **out);
/* Releases the snapshot and frees the reader. NULL is a no-op. */
void sym_cache_reader_free(struct sym_cache_reader *r);

enum sym_cache_kind {
    SYM_CACHE_IMAGE = 1,    /* a symcache image */
    SYM_CACHE_NEGATIVE = 2, /* the module is known to have no symbols (until expires_at) */
};

struct sym_cache_value {
    enum sym_cache_kind kind;
    const void *data; /* IMAGE: the image bytes, zero-copy from the map (any alignment; open
                         them with sym_image_open); valid until sym_cache_release or
                         sym_cache_reader_free on this reader */
    size_t len;
    uint64_t stored_at;  /* seconds, the now_s of the put */
    uint64_t expires_at; /* NEGATIVE: seconds; 0 for images */
};

/* Looks the key up in the reader's snapshot (started if needed). now_s is the current time in
 * seconds (for TTLs and recency). Returns SYM_OK and *out (an image, or an unexpired negative
 * entry), SYM_ENOTFOUND (absent, or an expired negative entry), SYM_EINVAL (bad key),
 * SYM_ECORRUPT (an entry that fails validation, treat as a miss), SYM_EUNAVAIL (no free reader
 * slot; retry), SYM_EIO. *out is written only on SYM_OK. */
SYM_MUST_CHECK sym_err sym_cache_get(struct sym_cache_reader *r, struct sym_slice debug_file,
                                     struct sym_slice debug_id, uint64_t now_s,
                                     struct sym_cache_value *out);

/* Ends the reader's snapshot: values returned by sym_cache_get become invalid. Keeping a
 * snapshot open keeps old pages from being reused, so release it once done with the values. */
void sym_cache_release(struct sym_cache_reader *r);

/* ---- Writing -------------------------------------------------------------------------------- */

/* Stores an image under the key, replacing any entry, and evicts least recently used entries
 * as needed to stay under max_bytes. Returns SYM_OK, SYM_EINVAL (bad key), SYM_ELIMIT (the
 * entry alone exceeds max_bytes or the map), SYM_EIO, SYM_ENOMEM. */
SYM_MUST_CHECK sym_err sym_cache_put(struct sym_cache *c, struct sym_slice debug_file,
                                     struct sym_slice debug_id, const void *image, size_t len,
                                     uint64_t now_s);

/* Ends the parser (as sym_parser_finish) straight into the store: the image is written once,
 * into a value reserved in the map, with no copy on the heap. Everything else is as
 * sym_cache_put; parse errors are those of sym_parser_finish (nothing is stored then, and the
 * caller may store a negative entry). The write transaction stays open while the image is
 * built, so other writers wait for it. stats and d are optional. */
struct sym_parser;
struct sym_parse_stats;
SYM_MUST_CHECK sym_err sym_cache_put_parsed(struct sym_cache *c, struct sym_slice debug_file,
                                            struct sym_slice debug_id, struct sym_parser *p,
                                            uint64_t now_s, struct sym_parse_stats *stats,
                                            struct sym_diag *d);

/* Stores a negative entry that expires at now_s + ttl_s (ttl_s 0: opts.negative_ttl_s). */
SYM_MUST_CHECK sym_err sym_cache_put_negative(struct sym_cache *c, struct sym_slice debug_file,
                                              struct sym_slice debug_id, uint64_t now_s,
                                              uint32_t ttl_s);

/* Removes an entry. SYM_OK, SYM_ENOTFOUND, SYM_EINVAL, SYM_EIO. */
SYM_MUST_CHECK sym_err sym_cache_delete(struct sym_cache *c, struct sym_slice debug_file,
                                        struct sym_slice debug_id);

struct sym_cache_stats {
    uint64_t entries, negative_entries, bytes, max_bytes;
    uint64_t evictions;                   /* since the store was created */
    uint64_t hits, negative_hits, misses; /* since this process opened it */
};

/* Applies recorded uses and reports the counters. SYM_OK, SYM_EIO. */
SYM_MUST_CHECK sym_err sym_cache_stats(struct sym_cache *c, struct sym_cache_stats *out);

#endif
