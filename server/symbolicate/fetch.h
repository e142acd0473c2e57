/* SPDX-License-Identifier: MPL-2.0 */
/* fetch.h: getting one module's symbol file from the configured sources, in order, and turning
 * it into a symcache image. The sources are this server's own storage (the regular key, then the
 * try key) and any upstream symbol servers (HTTP, see upstream.h). Bytes stream from the source
 * through a gzip inflater (when the object is compressed) straight into the .sym parser
 * (sym/symfile.h): no symbol file is ever held in memory whole.
 *
 * The first source that has the file decides, as in Eliot: a file that does not parse, or whose
 * MODULE id is not the requested debug id, makes the module "invalid" without trying the next
 * source. Every call blocks (disk, network, parsing): worker threads only. */
#ifndef SRV_SYMB_FETCH_H
#define SRV_SYMB_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"
#include "sym/buf.h"
#include "sym/err.h"
#include "sym/symfile.h"
#include "symbolicate/upstream.h"

struct srv_symb_sources {
    const struct store *store;             /* this server's storage; NULL: none */
    struct srv_upstream *const *upstreams; /* n_upstreams servers, in order */
    size_t n_upstreams;
    uint64_t max_sym_bytes;   /* uncompressed .sym size; larger files are refused */
    uint64_t max_image_bytes; /* 0: no limit beyond the format's */
    bool keep_unwind;         /* keep STACK CFI/WIN records in images (for stack walking) */
};

enum srv_symb_fetch_result {
    SRV_SYMB_FETCH_FOUND,    /* image built */
    SRV_SYMB_FETCH_NOTFOUND, /* every source answered "no such file" */
    SRV_SYMB_FETCH_INVALID,  /* a file was found but is unusable (malformed, wrong module, bad
                                debug id, too large) */
    SRV_SYMB_FETCH_UNAVAIL,  /* no file found and some source failed (down, timed out, 5xx) */
};

/* Where the time of a fetch went (seconds). Large files are parsed on a thread of their own
 * while the source is still read and inflated, so parse_s overlaps the others; held_s is the
 * part of it the fetching thread waited for (parsing inline, handing over, finishing), and
 * fetch_s the rest of the wall time: waiting for the source. */
struct srv_symb_fetch_timing {
    double total_s, fetch_s, inflate_s, parse_s, held_s;
};

struct srv_symb_fetch_out {
    enum srv_symb_fetch_result result;
    struct sym_buf image;  /* FOUND: the image bytes (owned; srv_symb_fetch_out_cleanup) */
    char source[64];       /* which source answered: "storage", "storage-try", "upstream 1" */
    uint64_t sym_bytes;    /* uncompressed .sym bytes read */
    uint64_t stored_bytes; /* bytes as transferred (compressed or not) */
    uint64_t sources_failed;
    struct srv_symb_fetch_timing timing;
    struct sym_parse_stats stats; /* FOUND or INVALID after parsing */
    char reason[200];             /* not FOUND: why, for logs and the debug output */
};

/* Fetches (debug_filename, debug_id) into *out (which it initialises; clean it up whatever the
 * result). The debug id is matched as a decoded Breakpad id (see modkey.h) and upper-cased in
 * storage keys and URLs. Returns SYM_OK with out->result set, or SYM_ENOMEM. */
sym_err srv_symb_fetch(const struct srv_symb_sources *src, const char *debug_filename,
                       const char *debug_id, struct srv_symb_fetch_out *out) SYM_MUST_CHECK;

void srv_symb_fetch_out_cleanup(struct srv_symb_fetch_out *out);

/* Parses an in-memory .sym text (plain or gzip) as a source would deliver it, in pieces of
 * chunk bytes (0: at once), with the same checks; for tests and tools. */
sym_err srv_symb_fetch_from_memory(const struct srv_symb_sources *src, const char *debug_id,
                                   const void *data, size_t len, size_t chunk,
                                   struct srv_symb_fetch_out *out) SYM_MUST_CHECK;

#endif
