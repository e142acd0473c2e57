/* SPDX-License-Identifier: MPL-2.0 */
/* response.h: the v5 and v4 response bodies of a validated request, given the outcome of looking
 * up each of its modules. Frames follow tecken-api.md 3.3-3.6: hex as Python's hex(), optional
 * keys absent when unknown, the outer function first and its inlines innermost first, the PE
 * module name when the symbol file gives one, found_modules true/false/null, and the samply
 * dialect's function_size for frames inside a FUNC. Lookups run on open images (sym/image.h);
 * nothing here fetches, blocks or keeps a pointer past the call. */
#ifndef SRV_SYMB_RESPONSE_H
#define SRV_SYMB_RESPONSE_H

#include <stdbool.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/image.h"
#include "symbolicate/request.h"

enum srv_symb_found {
    SRV_SYMB_UNCHECKED = 0, /* never looked up: null */
    SRV_SYMB_FOUND,         /* true */
    SRV_SYMB_MISSING,       /* looked up, no usable symbol file: false */
};

/* What the Debug statistics report for one looked-up module (seconds). */
struct srv_symb_timing {
    bool cache_hit;
    double cache_s;
    bool downloaded; /* a source returned a file */
    bool download_failed;
    uint64_t download_bytes; /* uncompressed .sym bytes */
    double download_s;
    bool parsed, parse_failed;
    double parse_s;
    bool saved;
    double save_s;
};

/* The outcome for one group of the request (same index as srv_symb_request.groups). */
struct srv_symb_resolved {
    enum srv_symb_found found;
    const struct sym_image *img; /* FOUND: open image, borrowed for the call */
    struct srv_symb_timing timing;
};

/* Debug statistics of the whole request (v5 with a Debug header). */
struct srv_symb_debug {
    double total_s;
};

/* Counts of the body just written. */
struct srv_symb_write_stats {
    uint64_t frames_symbolicated; /* frames that got a function */
    uint64_t lookup_errors;       /* lookups that met a corrupt image (frames left bare) */
};

/* Appends the v5 body {"results": [...]} (with "debug" when debug is non-NULL) to out. Returns
 * the error of out (SYM_ENOMEM, SYM_ELIMIT). stats (optional) receives the counts. */
sym_err srv_symb_write_v5(const struct srv_symb_request *req, const struct srv_symb_resolved *res,
                          const struct srv_symb_debug *debug, struct sym_buf *out,
                          struct srv_symb_write_stats *stats) SYM_MUST_CHECK;

/* Appends the v4 body {"symbolicatedStacks": [...], "knownModules": [...]} (request of one job). */
sym_err srv_symb_write_v4(const struct srv_symb_request *req, const struct srv_symb_resolved *res,
                          struct sym_buf *out, struct srv_symb_write_stats *stats) SYM_MUST_CHECK;

#endif
