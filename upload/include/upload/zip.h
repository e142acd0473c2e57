/* SPDX-License-Identifier: MPL-2.0 */
/* zip.h: member-by-member reading of a zip archive on disk, under limits, with libarchive. This is
 * the zip-bomb and path-safety layer; the upload rules (names, duplicates, hashing) are in
 * ingest.h. Reads only: it never creates a file. Memory stays bounded whatever the archive size:
 * libarchive's central directory (capped through max_members before libarchive sees it), one
 * name, and the caller's read buffer.
 *
 * Member names are decoded as Python's zipfile does: UTF-8 when the entry's UTF-8 flag is set,
 * CP437 otherwise; both come out as UTF-8 (done under a private per-handle C.UTF-8 locale, so the
 * process locale does not matter). A flagged name that is not valid UTF-8 is refused. */
#ifndef SYMUP_ZIP_H
#define SYMUP_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/err.h"
#include "upload/error.h"

/* Limits; every field must be non-zero. See symup_zip_limits_init() for the defaults. */
struct symup_zip_limits {
    uint32_t max_members;     /* entries of any kind, directories included */
    uint64_t max_member_size; /* uncompressed bytes of one member */
    uint64_t max_total_size;  /* uncompressed bytes of all members */
    uint32_t max_ratio;       /* uncompressed / compressed bytes of one member ... */
    uint64_t ratio_min_size;  /* ... checked once the member has produced this many bytes */
    uint32_t max_name_len;    /* bytes of a member name (UTF-8) */
};

#define SYMUP_DEFAULT_MAX_MEMBERS     50000u
#define SYMUP_DEFAULT_MAX_MEMBER_SIZE (4ull << 30)
#define SYMUP_DEFAULT_MAX_TOTAL_SIZE  (16ull << 30)
#define SYMUP_DEFAULT_MAX_RATIO       250u
#define SYMUP_DEFAULT_RATIO_MIN_SIZE  (1ull << 20)
#define SYMUP_DEFAULT_MAX_NAME_LEN    1024u

void symup_zip_limits_init(struct symup_zip_limits *lim);

enum symup_zip_type {
    SYMUP_ZIP_FILE, /* a regular file */
    SYMUP_ZIP_DIR,  /* a directory entry (name ends in '/'); has no data */
};

/* One member, valid until the next symup_zip_next() or symup_zip_close(). */
struct symup_zip_entry {
    const char *name; /* UTF-8, NUL-terminated, exactly as in the archive (directories end '/') */
    size_t name_len;
    uint64_t size; /* uncompressed size recorded in the archive (0 for directories) */
    enum symup_zip_type type;
    uint32_t index; /* 0-based position in archive order, directories included */
};

struct symup_zip;

/* Opens the zip at path. Finds the end-of-central-directory record and counts the directory's
 * headers first (as Python does, by the directory's size, whatever count the end record gives),
 * so that an archive with more than max_members entries is refused before libarchive loads it.
 * Errors (*out untouched):
 *   SYM_EINVAL  path or lim NULL, or a zero limit (reason CONFIG);
 *   SYM_EPARSE  not a zip: "File is not a zip file" (NOT_ZIP), the text the server returns;
 *   SYM_EINVAL  a valid zip with no members at all (EMPTY);
 *   SYM_ELIMIT  more than max_members entries (TOO_MANY_MEMBERS);
 *   SYM_EIO     the file cannot be opened or read;
 *   SYM_ENOMEM.
 * lim is copied. The handle is single-threaded; close it with symup_zip_close(). */
SYM_MUST_CHECK sym_err symup_zip_open(const char *path, const struct symup_zip_limits *lim,
                                      struct symup_zip **out, struct symup_error *err);

/* Advances to the next member, skipping the unread data of the current one (a seek, no
 * decompression). Checks, in this order, before returning the entry:
 *   SYM_ELIMIT  more than max_members entries (TOO_MANY_MEMBERS);
 *   SYM_EPARSE  damaged directory or header (CORRUPT); name not valid UTF-8 (BAD_NAME);
 *   SYM_ELIMIT  name longer than max_name_len (NAME_TOO_LONG);
 *   SYM_EINVAL  absolute name, or a "." or ".." component (UNSAFE_PATH);
 *   SYM_EINVAL  symlink, hard link or any non-regular, non-directory entry (NOT_REGULAR);
 *   SYM_EPARSE  encrypted member (ENCRYPTED);
 *   SYM_ELIMIT  recorded size above max_member_size (MEMBER_TOO_LARGE), or recorded sizes
 *               adding up to more than max_total_size (TOTAL_TOO_LARGE);
 *   SYM_ENOMEM, SYM_EIO.
 * Returns SYM_ENOTFOUND (a result, err untouched) after the last member. After any other error
 * the handle is only good for symup_zip_close(). *out is written only on SYM_OK. */
SYM_MUST_CHECK sym_err symup_zip_next(struct symup_zip *z, struct symup_zip_entry *out,
                                      struct symup_error *err);

/* Reads up to cap bytes of the current member's data into buf; *n_out = 0 at its end. Enforces,
 * on the bytes actually produced:
 *   SYM_ELIMIT  max_member_size (MEMBER_TOO_LARGE), max_total_size over the whole archive
 *               (TOTAL_TOO_LARGE), max_ratio (RATIO);
 *   SYM_EPARSE  more or fewer bytes than the recorded size, bad CRC or damaged compressed data
 *               (CORRUPT);
 *   SYM_EINVAL  no current member, or it is a directory (CONFIG);
 *   SYM_ENOMEM, SYM_EIO.
 * *n_out is written only on SYM_OK. */
SYM_MUST_CHECK sym_err symup_zip_read(struct symup_zip *z, void *buf, size_t cap, size_t *n_out,
                                      struct symup_error *err);

/* Uncompressed bytes produced by symup_zip_read() so far, over all members. */
uint64_t symup_zip_total_read(const struct symup_zip *z);

/* Frees the handle; NULL is a no-op. */
void symup_zip_close(struct symup_zip *z);

#endif
