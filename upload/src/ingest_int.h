/* SPDX-License-Identifier: MPL-2.0 */
/* ingest_int.h: the ingest's data, shared by ingest.c (listing, rules, extraction, cleanup) and
 * prepare.c (per-member digest and gzip). Not part of the API. */
#ifndef SYMUP_INGEST_INT_H
#define SYMUP_INGEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"
#include "upload/ingest.h"
#include "upload/key.h"

#define IO_CHUNK (256u * 1024u)
/* The first read of a member must hold the whole .sym header window. */
_Static_assert(IO_CHUNK >= SYMUP_HEADER_WINDOW, "read chunk smaller than the header window");

/* One file entry of the archive, duplicates included; name is an offset into names. */
struct rec {
    size_t name_off;
    size_t name_len;
    uint64_t size;
    uint32_t zip_index;
};

/* One distinct file name. */
struct uniq {
    size_t first; /* rec of the first occurrence (archive order) */
    size_t last;  /* rec of the last occurrence: the copy that is extracted */
    enum symup_name_kind kind;
};

struct slot {
    struct symup_member m;
    char *block;   /* key, debug_file, debug_id, file, NUL-separated */
    char *path;    /* "<dir>/m<i>", set before the file is created */
    char *gz_path; /* "<dir>/m<i>.gz", same */
    bool created;  /* path may exist on disk */
    bool extracted;
    bool gz_created;
    bool gz_done;
    bool released;
    uint64_t gz_size;
};

struct symup_ingest {
    struct symup_config cfg;
    char *zip_path;
    struct sym_buf names; /* every file name, NUL-terminated, back to back */
    struct rec *recs;
    size_t n_recs;
    struct slot *slots;
    size_t n_slots;
    const char **ignored;
    size_t n_ignored;
    char content_hash[31];
    bool extract_started;
    char *dir;
};

/* Helpers of ingest.c used by prepare.c. */
sym_err symup__nomem(struct symup_error *err);
sym_err symup__io_fail(struct symup_error *err, const char *what, const char *path, int e);
sym_err symup__changed(struct symup_error *err);
bool symup__write_full(int fd, const void *buf, size_t len);
void symup__hex(const unsigned char *d, size_t n, char *out);

#endif
