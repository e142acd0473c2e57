/* SPDX-License-Identifier: MPL-2.0 */
/* image.h: a built symcache ("image"), read in place without copying. An image is the binary
 * form of one Breakpad .sym file (see sym/symfile.h for how one is built): sorted address tables
 * for FUNC, PUBLIC, STACK CFI and STACK WIN records, per-function line and inline data, and a
 * deduplicated string table. Opening validates the header and section bounds only (O(1));
 * every offset read from a record is checked when it is used, so a corrupt or truncated image
 * gives SYM_ECORRUPT, never a crash or an out-of-bounds read.
 *
 * Addresses are module-relative offsets ("rel" = frame address - module base). All lookups are
 * O(log n) and allocation-free; an open image is immutable, so any number of threads may query
 * it concurrently. Depends on libc only. */
#ifndef SYM_IMAGE_H
#define SYM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/err.h"
#include "sym/slice.h"

struct sym_image; /* opaque */

/* Format version written by this build. A change of the on-disk layout bumps it; images of
 * another version fail sym_image_open() with SYM_ECORRUPT (caches then rebuild them). */
#define SYM_IMAGE_VERSION 6u

/* ---- Opening ------------------------------------------------------------------------------ */

/* Opens an image held in memory. data is borrowed and must stay valid and unchanged until
 * sym_image_close(); it need not be aligned (an LMDB value is fine). Validates the header and
 * section table in O(1), with no per-record work.
 * Returns SYM_OK and *out (free with sym_image_close), or:
 *   SYM_EINVAL   data/out NULL;
 *   SYM_ECORRUPT not an image, wrong format version, truncated, or inconsistent section table;
 *   SYM_ENOMEM   the small handle could not be allocated.
 * *out is written only on success; d (optional) receives a message on failure. */
SYM_MUST_CHECK sym_err sym_image_open(const void *data, size_t len, struct sym_image **out,
                                      struct sym_diag *d);

/* Maps the file at path read-only and opens it as above. The mapping is owned by the image.
 * Returns SYM_OK, SYM_ENOTFOUND (no such file), SYM_EIO (cannot open/stat/map), SYM_ECORRUPT,
 * SYM_ENOMEM or SYM_EINVAL. */
SYM_MUST_CHECK sym_err sym_image_open_file(const char *path, struct sym_image **out,
                                           struct sym_diag *d);

/* True when data starts like a symcache image (its magic), whatever its version: tools use it
 * to tell an image from .sym text. */
bool sym_image_sniff(const void *data, size_t len);

/* Releases the handle (and the mapping of sym_image_open_file). NULL is a no-op. */
void sym_image_close(struct sym_image *img);

/* The bytes the image was opened on (for storing it elsewhere, e.g. in the cache store). */
const void *sym_image_data(const struct sym_image *img, size_t *len_out);

/* ---- Module information ------------------------------------------------------------------- */

/* Slices point into the image; empty when the .sym had no such field. */
struct sym_module_info {
    struct sym_slice os, arch, debug_id, debug_file; /* MODULE <os> <arch> <id> <file> */
    struct sym_slice code_id, code_file;             /* INFO CODE_ID <id> [<file>] */
    struct sym_slice generator;                      /* INFO GENERATOR <rest> */
    /* The PE module name by Eliot's rule: among the lines before the first FILE, FUNC or PUBLIC
     * record, the first `INFO CODE_ID` line that splits on single spaces (after trimming
     * whitespace at both ends) into exactly 4 tokens gives its 4th token, e.g. `xul.dll`.
     * Empty otherwise (3-token CODE_ID lines, code files with spaces, no INFO line). */
    struct sym_slice pe_name;
    bool has_module; /* a MODULE record was present */
};
void sym_image_module(const struct sym_image *img, struct sym_module_info *out);

/* The module name the symbolication API reports for frames of this module: pe_name when the
 * rule above gives one, else debug_filename (the name the client asked for). */
struct sym_slice sym_image_module_name(const struct sym_image *img,
                                       struct sym_slice debug_filename);

/* Record counts. In an image these are the records kept (after dropping zero-size, overlapping
 * and duplicate records); sym_parse_stats also reports the counts read. */
struct sym_image_counts {
    uint64_t files, inline_origins, funcs, lines, inlines, publics;
    uint64_t cfi_inits, cfi_deltas, win_fpo, win_framedata;
};

struct sym_image_info {
    uint32_t version;
    bool wide_addresses;  /* some offset needed more than 32 bits */
    uint64_t image_bytes; /* total size */
    uint64_t string_bytes;
    uint64_t source_bytes;   /* size of the .sym text it was built from */
    uint64_t parse_warnings; /* malformed lines skipped while building */
    struct sym_image_counts counts;
};
void sym_image_info(const struct sym_image *img, struct sym_image_info *out);

/* ---- Symbol lookup -------------------------------------------------------------------------- */

#define SYM_MAX_INLINE_DEPTH 64

struct sym_inline_frame {
    struct sym_slice function; /* INLINE_ORIGIN name; empty when the origin id is unknown */
    struct sym_slice file;     /* empty when unknown */
    uint32_t line;             /* 0 when unknown */
    uint64_t function_start;   /* start of the INLINE range that contains the offset */
};

struct sym_lookup {
    bool found;       /* false: no FUNC and no PUBLIC covers the offset */
    bool is_public;   /* true when the answer comes from a PUBLIC record */
    bool has_size;    /* FUNC hit: function_size valid */
    bool is_multiple; /* FUNC/PUBLIC had the `m` flag (identical code folding) */
    struct sym_slice function;
    uint64_t function_start; /* module-relative */
    uint64_t function_size;
    uint32_t param_size;   /* FUNC/PUBLIC parameter size (used by x86 STACK WIN unwinding) */
    struct sym_slice file; /* empty when unknown */
    uint32_t line;         /* 0 when unknown */
    bool has_line;         /* a line record covers the offset */
    uint64_t line_start;   /* start of that line record (Breakpad's source_line_base) */
    size_t n_inlines;      /* inline chain, innermost FIRST, outer function excluded */
    struct sym_inline_frame inlines[SYM_MAX_INLINE_DEPTH];
};

/* Looks up one module offset. Semantics (Breakpad's, which Eliot's cases also expect):
 * - the FUNC whose [address, address+size) contains offset gives function, start, size,
 *   parameter size; the line record containing offset gives line_start and the innermost
 *   file/line;
 * - inlines: for depth 0, 1, 2, ... the INLINE range of that depth that contains offset is
 *   taken (of overlapping ones the first in the file), stopping at the first depth without
 *   one (Breakpad's and rust-minidump's common result). The outer
 *   function's file/line is the call site of the outermost inline, each inline frame's file/line
 *   is the call site of the next inner one, and the innermost inline gets the line record's
 *   file/line. With old-form INLINE records (no call-site file) the file is the line record's
 *   throughout. Chains deeper than SYM_MAX_INLINE_DEPTH are cut at that depth (the deepest
 *   kept frame then shows the call site of the first frame cut);
 * - otherwise the PUBLIC with the greatest address <= offset, unless a FUNC starts at or above
 *   that address and at or below offset (the PUBLIC ended there): no file, line or size;
 * - otherwise out->found is false.
 * Only the fields named above and inlines[0 .. n_inlines) are written; out need not be zeroed.
 * Returns SYM_OK (found or not), SYM_EINVAL for NULL arguments, SYM_ECORRUPT when a record of a
 * corrupt image points outside its section (out is then unspecified). */
SYM_MUST_CHECK sym_err sym_image_lookup(const struct sym_image *img, uint64_t offset,
                                        struct sym_lookup *out);

/* The same for n offsets (any order); outs[i] answers offsets[i]. Returns the first error
 * (later entries are then unspecified). */
SYM_MUST_CHECK sym_err sym_image_lookup_many(const struct sym_image *img, const uint64_t *offsets,
                                             size_t n, struct sym_lookup *outs);

/* ---- Unwind rules (for the stackwalker) ----------------------------------------------------- */

/* Finds the STACK CFI INIT record covering offset and appends to out the INIT rule text
 * followed by the rule text of every STACK CFI delta whose address is >= the INIT address and
 * <= offset (in address order), separated by single spaces, e.g.
 * ".cfa: $rsp 8 + .ra: .cfa -8 + ^ .cfa: $rsp 16 + $rbp: .cfa -16 + ^".
 * As in Breakpad, deltas are keyed by address for the whole file (not by the INIT line they
 * follow), a later delta at the same address replaces an earlier one, and of overlapping INIT
 * records the first in the file wins. Returns SYM_OK, SYM_ENOTFOUND (no CFI
 * covers offset; out untouched), SYM_ECORRUPT, or the error of out (SYM_ENOMEM/SYM_ELIMIT). */
SYM_MUST_CHECK sym_err sym_image_cfi_rules(const struct sym_image *img, uint64_t offset,
                                           struct sym_buf *out);

struct sym_win_frame {
    uint32_t type; /* 0 FPO, 4 FRAME_DATA (types 1-3 are dropped when building) */
    uint64_t rva, code_size;
    uint32_t prolog_size, epilog_size, parameter_size, saved_register_size, local_size,
        max_stack_size;
    bool has_program; /* program string form */
    bool allocates_base_pointer;
    struct sym_slice program; /* postfix program when has_program */
};

/* The STACK WIN record covering offset: a FRAME_DATA (type 4) record is preferred over an FPO
 * (type 0) one, as Breakpad does. Within a type, nested ranges are allowed and the innermost
 * wins; a record that partially overlaps an earlier one of its type, or repeats its range, is
 * dropped (Breakpad's contained range map). Returns SYM_OK and *out, SYM_ENOTFOUND, or
 * SYM_ECORRUPT. */
SYM_MUST_CHECK sym_err sym_image_win_frame(const struct sym_image *img, uint64_t offset,
                                           struct sym_win_frame *out);

/* ---- Enumeration (tools and tests) --------------------------------------------------------- */

struct sym_func_info {
    uint64_t start, size;
    uint32_t param_size;
    bool is_multiple;
    struct sym_slice name;
    uint64_t n_lines; /* line records kept for this function */
};

/* Records in address order; i < the matching count of sym_image_info. SYM_EINVAL for i out of
 * range, SYM_ECORRUPT for a corrupt record. */
SYM_MUST_CHECK sym_err sym_image_func_at(const struct sym_image *img, size_t i,
                                         struct sym_func_info *out);

struct sym_public_info {
    uint64_t address;
    uint32_t param_size;
    bool is_multiple;
    struct sym_slice name;
};
SYM_MUST_CHECK sym_err sym_image_public_at(const struct sym_image *img, size_t i,
                                           struct sym_public_info *out);

/* FILE records, in the order their ids were first seen; a FILE id that line records use but no
 * FILE record names gives an empty path. */
SYM_MUST_CHECK sym_err sym_image_file_at(const struct sym_image *img, size_t i,
                                         struct sym_slice *out);

#endif
