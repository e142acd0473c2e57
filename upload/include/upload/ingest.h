/* SPDX-License-Identifier: MPL-2.0 */
/* ingest.h: a symbols zip, from the spooled request body to files ready for storage, with
 * Tecken's validation rules and error texts. No network, no database: the server takes the
 * results from here to object storage and to the upload tables.
 *
 * Three steps, so that the server can spread the expensive one over a bounded worker pool:
 *   1. symup_ingest_open()    reads the zip directory only (no decompression), applies every
 *                             rule and lists the members to store, the ignored names and the
 *                             upload's content hash. All 400 answers about names come from here.
 *   2. symup_ingest_extract() decompresses each member to store into its own temporary file in a
 *                             caller-given directory, one stream, under the size/ratio limits;
 *                             a callback announces each finished member.
 *   3. symup_member_digest()  per member and independent of the others (thread-safe for
 *      symup_member_compress() distinct members): size + MD5 + .sym header, and the gzip file.
 *      symup_prepare()        (both in one read pass)
 * symup_ingest_free() removes every temporary file the ingest created, whatever happened.
 *
 * Divergences from Tecken, on purpose (see the reference notes, section 9):
 *   - an archive with nothing to store (empty, or only directories and ignored files) is refused
 *     (SYMUP_R_EMPTY) instead of creating an empty upload;
 *   - the debug id is upper-cased in the stored key (member.key), so that the download route,
 *     which upper-cases ids, reaches it; two names that then collide are refused (KEY_CONFLICT);
 *   - "first offending member" in messages is the first in archive order, not arbitrary;
 *   - members are never written under their own names: absolute paths, "." and "..", symlinks
 *     and other non-regular entries are refused rather than sanitised;
 *   - keys are capped at 255 bytes per component and 300 in all (the database column). */
#ifndef SYMUP_INGEST_H
#define SYMUP_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/err.h"
#include "upload/error.h"
#include "upload/symheader.h"
#include "upload/zip.h"

/* Content type stored for a (lower-case) last extension. */
struct symup_mime {
    const char *ext;          /* without the dot, lower case: "sym" */
    const char *content_type; /* "text/plain" */
};

/* Upload settings. Strings and arrays are borrowed: they must outlive every ingest opened with
 * this config (the server keeps them in its process-lifetime config). */
struct symup_config {
    struct symup_zip_limits limits;
    /* A member name containing one of these substrings refuses the upload (SYMUP_R_SNIPPET).
     * Default: "qcom/proprietary". */
    const char *const *disallowed_snippets;
    size_t n_disallowed_snippets;
    /* Members whose lower-cased last extension is listed are stored gzip-compressed with
     * Content-Encoding gzip and the original_size / original_md5_hash metadata. Default: "sym". */
    const char *const *compress_extensions;
    size_t n_compress_extensions;
    /* Content types by extension; others get none (storage default). Default: sym -> text/plain. */
    const struct symup_mime *mime_overrides;
    size_t n_mime_overrides;
    int gzip_level; /* zlib level 1..9; default SYMUP_DEFAULT_GZIP_LEVEL */
    /* Off by default, as in Tecken. When on, a .sym member whose MODULE line does not name the
     * path's debug file and debug id (or whose INFO CODE_ID line does not name the path's code
     * file and code id) is refused (SYMUP_R_HEADER_MISMATCH). */
    bool strict_header;
};

#define SYMUP_DEFAULT_GZIP_LEVEL 6

/* Fills *cfg with the defaults above (static storage for the default lists). */
void symup_config_init(struct symup_config *cfg);

/* A member to store. All strings are owned by the ingest and live until symup_ingest_free(). */
struct symup_member {
    const char *name;       /* member name as in the zip (UTF-8) */
    const char *key;        /* storage key without prefix: name with the debug id upper-cased */
    const char *debug_file; /* the three components of key */
    const char *debug_id;
    const char *file;
    uint64_t size;            /* uncompressed size recorded in the zip */
    bool compress;            /* stored gzip-compressed (extension in compress_extensions) */
    bool is_sym;              /* name ends ".sym" (any case): the header is parsed */
    const char *content_type; /* from mime_overrides, or NULL for none */
    uint32_t zip_index;       /* position in the archive of the copy that is extracted */
};

struct symup_ingest;

/* Step 1. Opens the zip at zip_path (the spooled body; the server keeps it unchanged until
 * symup_ingest_free()) and checks it. Checks run in Tecken's order; within a check the first
 * member in archive order is reported:
 *   - not a zip: SYM_EPARSE NOT_ZIP "File is not a zip file";
 *   - every symup_zip_next() check (limits, damage, unsafe paths, symlinks...);
 *   - duplicates: same name and size are kept once (the last copy, as extraction over the same
 *     path would leave); different sizes: SYM_EINVAL DUPLICATE
 *     "The zipfile buffer contains two files both called <name> and they have difference sizes
 *     (<later size> != <earlier size>)";
 *   - directories are dropped;
 *   - forbidden snippets: SYM_EINVAL SNIPPET
 *     "Content of archive file contains the snippet '<snippet>' which is not allowed";
 *   - name patterns (key.h): SYM_EINVAL PATTERN "Unrecognized file pattern. Should only be
 *     <module>/<hex>/<file> or <name>-symbols.txt and nothing else. (First unrecognized pattern
 *     was <Python repr of the name>)";
 *   - key length caps: SYM_EINVAL KEY_TOO_LONG; upper-cased ids colliding: SYM_EINVAL
 *     KEY_CONFLICT (ignored names are capped at SYMUP_MAX_KEY_LEN too: they are recorded);
 *   - nothing left to store: SYM_EINVAL EMPTY.
 * Also SYM_EINVAL CONFIG (bad cfg), SYM_EIO, SYM_ENOMEM. *out is written only on success; free
 * it with symup_ingest_free(). Not thread-safe on one ingest, except step 3 as described. */
SYM_MUST_CHECK sym_err symup_ingest_open(const char *zip_path, const struct symup_config *cfg,
                                         struct symup_ingest **out, struct symup_error *err);

/* Members to store, in archive order (first occurrence). i < symup_ingest_n_members(). */
size_t symup_ingest_n_members(const struct symup_ingest *ing);
const struct symup_member *symup_ingest_member(const struct symup_ingest *ing, size_t i);

/* Ignored names (-symbols.txt, .DS_Store) for ignored_keys, archive order, no duplicates. */
size_t symup_ingest_n_ignored(const struct symup_ingest *ing);
const char *symup_ingest_ignored(const struct symup_ingest *ing, size_t i);

/* The upload's content_hash: the first 30 hex digits of the MD5 of the lines "<name>:<size>" of
 * every file member (ignored ones included, duplicates once), sorted by name, joined by "\n".
 * NUL-terminated, owned by the ingest. */
const char *symup_ingest_content_hash(const struct symup_ingest *ing);

/* Called by symup_ingest_extract() once member i is complete on disk. From then on step 3 may
 * run for i on any thread while extraction goes on. A non-SYM_OK return stops the extraction,
 * which returns that code (reason CONFIG, message "extraction stopped by the caller"). */
typedef sym_err (*symup_extracted_fn)(void *ctx, size_t i);

/* Step 2. Decompresses every member to store into "<dir>/m<i>" (created 0600, exclusively; dir
 * must exist and belongs to the caller, who removes it after symup_ingest_free()). Ignored
 * members are not extracted. cb may be NULL. Errors: every symup_zip_read() error on the real
 * bytes (MEMBER_TOO_LARGE, TOTAL_TOO_LARGE, RATIO, CORRUPT), SYM_EIO (cannot write, disk full,
 * the archive changed since step 1), SYM_ENOMEM, SYM_EINVAL CONFIG (called twice, dir NULL),
 * or cb's code. Members extracted before an error stay valid for step 3. Call once. */
SYM_MUST_CHECK sym_err symup_ingest_extract(struct symup_ingest *ing, const char *dir,
                                            symup_extracted_fn cb, void *ctx,
                                            struct symup_error *err);

/* Path of member i's extracted file, or NULL before extraction or after release. */
const char *symup_member_path(const struct symup_ingest *ing, size_t i);

/* Step 3. The functions below may run concurrently for distinct i (each touches only member i's
 * slot), never for the same i at once, and only once member i is extracted.
 * Errors common to them: SYM_EINVAL CONFIG (i out of range, not extracted, released),
 * SYM_EIO (read/write failure, or the file no longer has the extracted size), SYM_ENOMEM. */

/* What the database and the skip-if-unchanged check need. */
struct symup_digest {
    uint64_t size;              /* original (uncompressed) bytes */
    char md5[33];               /* lowercase hex MD5 of the original bytes */
    struct symup_header header; /* header.valid == false (all NULL) unless member.is_sym */
};

/* One read of the extracted file: size, MD5 and, for .sym, the header (first
 * SYMUP_HEADER_WINDOW bytes). In strict mode also SYM_EINVAL HEADER_MISMATCH. */
SYM_MUST_CHECK sym_err symup_member_digest(struct symup_ingest *ing, size_t i,
                                           struct symup_digest *out, struct symup_error *err);

/* What to send to storage. */
struct symup_stored {
    const char *path;             /* file holding the bytes to store; owned by the ingest */
    uint64_t size;                /* its size: the stored size (gzip size when compressed) */
    bool compressed;              /* gzip: set Content-Encoding and the original_* metadata */
    const char *content_type;     /* NULL for none */
    const char *content_encoding; /* "gzip" or NULL */
};

/* For a compress member, gzips the extracted file (streaming, zlib at gzip_level, no name or
 * time in the gzip header, so equal input gives equal output) into "<dir>/m<i>.gz"; otherwise
 * just describes the extracted file. Calling it again returns the same result. */
SYM_MUST_CHECK sym_err symup_member_store_file(struct symup_ingest *ing, size_t i,
                                               struct symup_stored *out, struct symup_error *err);

/* Both of the above in one read of the extracted file. */
struct symup_prepared {
    struct symup_digest digest;
    struct symup_stored stored;
};
SYM_MUST_CHECK sym_err symup_prepare(struct symup_ingest *ing, size_t i, struct symup_prepared *out,
                                     struct symup_error *err);

/* Deletes member i's temporary files early (once stored), to keep disk use down; later step-3
 * calls for i fail with CONFIG. Same threading rule as step 3. Idempotent. */
void symup_member_release(struct symup_ingest *ing, size_t i);

/* Removes every temporary file this ingest created, then frees it; NULL is a no-op. Call it
 * only when no step-3 call is running. */
void symup_ingest_free(struct symup_ingest *ing);

#endif
