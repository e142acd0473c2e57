/* SPDX-License-Identifier: MPL-2.0 */
/* storefile.h: storing one prepared file and recording it, shared by POST /upload/ and
 * `sigil import` (one path, so both write the same objects, attributes and rows).
 *
 * For member i of an ingest (a zip member, or a plain file through fileprep.h):
 *   1. HEAD the object at [try/]v1/<key>;
 *   2. skip it when it is already there unchanged: same size for files stored as they are; same
 *      original_size and original_md5_hash metadata for compressed ones (or, for an object
 *      without that metadata, the same stored size as the new gzip);
 *   3. otherwise compress (when the extension says so) and PUT it atomically, with Content-Type,
 *      Content-Encoding gzip, Cache-Control no-transform and the original_* metadata;
 *   4. only then insert its file_uploads row, with the .sym header fields, so no row ever points
 *      at a missing object. Two concurrent uploads of the same file insert one row
 *      (db_file_record()); the later one reports the file as skipped;
 *   5. a skipped .sym that has no row at all (its object was stored by a run that died before
 *      recording it) gets its row now, so a retry completes the work and the code-id lookup finds
 *      the file; only once the object is SRV_STOREFILE_SETTLE_S old, so that an upload storing
 *      it concurrently is the one that records it;
 *   6. drops the key from the server's download caches (when given), so a download right after
 *      the upload finds the file.
 * Thread-safe: distinct members may be stored concurrently from several threads. */
#ifndef SRV_UPLOAD_STOREFILE_H
#define SRV_UPLOAD_STOREFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"
#include "storage/store.h"
#include "sym/err.h"
#include "upload/error.h"
#include "upload/ingest.h"

struct srv_app;
struct srv_ttlcache;

/* Age (seconds, by the object's Last-Modified) after which a stored object without a row is
 * taken for the leftover of a run that died, and recorded. */
#define SRV_STOREFILE_SETTLE_S 60

/* Where and how to store; all borrowed, read-only, shared by the threads of one upload. */
struct srv_storefile_target {
    struct store *store;
    struct db_pool *db;
    const char *bucket_name; /* recorded in the rows */
    bool try_storage;        /* try/v1/ prefix and try_symbols rows */
    int64_t upload_id;       /* the uploads row the files belong to */
    struct srv_app *app;     /* the server's caches and metrics; NULL for the CLI */
};

struct srv_storefile_result {
    bool skipped;         /* nothing written (already stored, or stored concurrently) */
    bool update;          /* an object existed at the key before */
    bool compressed;      /* stored gzip-compressed */
    uint64_t size;        /* original bytes */
    uint64_t stored_size; /* bytes of the object (0 when skipped) */
    int64_t file_id;      /* the file_uploads row written, 0 when none */
    char key[512];        /* the storage key without prefix (debug id upper-cased) */
};

/* Stores member i of ing (extracted, not released) as above; *out is written only on success.
 * The member's temporary files are left for the caller to release. Errors, with the message in
 * err (its reason is IO for storage and database failures):
 *   SYM_EINVAL   the member breaks strict mode (HEADER_MISMATCH) or cannot be stored under its
 *                key (the storage refuses it);
 *   SYM_EUNAVAIL storage or database unreachable (retryable);
 *   SYM_EIO      reading the member, or storage refused the request;
 *   SYM_EEXISTS  local folder only: the key runs through an existing object;
 *   SYM_ENOMEM, SYM_EINTERNAL. */
SYM_MUST_CHECK sym_err srv_storefile_member(const struct srv_storefile_target *t,
                                            struct symup_ingest *ing, size_t i,
                                            struct srv_storefile_result *out,
                                            struct symup_error *err);

#endif
