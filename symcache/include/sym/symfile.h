/* SPDX-License-Identifier: MPL-2.0 */
/* symfile.h: the Breakpad .sym text parser. It is fed the text in chunks of any size (a file
 * read piece by piece, or the output of an inflater) and builds a symcache image (sym/image.h).
 * Its memory is proportional to the tables it builds, never to the input: lines are parsed in
 * place in the caller's chunk, and only a line split across two chunks and the names of the
 * records of the last megabyte or so are copied.
 * On a large input a second thread of the parser's own tokenizes the text while the caller's
 * thread builds the image (see sym_parse_opts.threads); the image is the same either way.
 * Compressed input (gzip from storage) is inflated by the caller, chunk by chunk; this library
 * depends on libc (with its POSIX threads) only.
 *
 * Accepted grammar (one record per line; `\n`, `\r\n` and a lone `\r` end a line; blank lines
 * are ignored; the last field of a record is the rest of the line and may contain spaces):
 *   MODULE <os> <arch> <debug_id> <debug_file>
 *   INFO CODE_ID <code_id> [<code_file>] | INFO GENERATOR <rest> | INFO <other> ... (skipped)
 *   FILE <id> <path>
 *   INLINE_ORIGIN <id> <name>               (new form)
 *   INLINE_ORIGIN <id> <file_id> <name>     (old form: file_id is an integer, may be -1)
 *   FUNC [m] <address> <size> <param_size> <name>
 *   <address> <size> <line> <file_id>       (line record of the current FUNC)
 *   INLINE <depth> <call_line> <call_file_id> <origin_id> (<address> <size>)+   (new form)
 *   INLINE <depth> <call_line> <origin_id> (<address> <size>)+                  (old form)
 *   PUBLIC [m] <address> <param_size> <name>
 *   STACK CFI INIT <address> <size> <rules>
 *   STACK CFI <address> <rules>
 *   STACK WIN <type> <rva> <code_size> <prolog> <epilog> <params> <saved_regs> <locals>
 *             <max_stack> <has_program> <program | allocates_base_pointer>
 * Addresses and sizes are hex (either case, no 0x), ids, lines and depths decimal. The INLINE
 * and INLINE_ORIGIN forms are told apart as Breakpad does (token-count parity; integer test).
 *
 * Policies (Breakpad's where the reference implementations differ):
 * - a FUNC block (its line and INLINE records) lasts until the next FUNC or PUBLIC;
 * - zero-size FUNC/line/STACK records and address-0 PUBLICs are dropped; so are line and INLINE
 *   records outside any FUNC, and the lines of a dropped FUNC; line and INLINE ranges are
 *   clipped to their FUNC (no lookup can reach beyond it);
 * - overlapping FUNCs, overlapping lines of one FUNC, overlapping CFI INITs, PUBLICs at one
 *   address, duplicate FILE and INLINE_ORIGIN ids: the first in the file wins;
 * - INLINE ranges are indexed per nesting depth (dump_syms does not write them in tree order);
 *   of overlapping ranges at one depth the first wins; old-form INLINE records have no
 *   call-site file (frames take the line record's file);
 * - STACK CFI deltas are keyed by address for the whole file, as in Breakpad (they need not
 *   follow their INIT); see sym_image_cfi_rules();
 * - STACK WIN types 1-3 are read and dropped; see sym_image_win_frame() for overlaps;
 * - MODULE after the first record is ignored; unknown upper-case record types are skipped
 *   (counted in n_unknown, not as warnings);
 * - a malformed line (bad number, missing field, line longer than max_line_len) is skipped and
 *   counted as a warning; more than max_errors warnings fail the parse. A NUL byte in a name is
 *   stored as '_' and counted as a warning (Breakpad does the same).
 * FILE and INLINE_ORIGIN records may come after the records that use them (their blocks are
 * then kept as records until sym_parser_finish).
 * The input is rejected as "not a symbol file" (SYM_EPARSE) when its first non-blank line is
 * neither a known record type nor a well-formed line record, or when it holds no line at all. */
#ifndef SYM_SYMFILE_H
#define SYM_SYMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/err.h"
#include "sym/image.h"

/* Defaults of the limits below. */
#define SYM_MAX_SYM_LINE    (1u << 20)        /* bytes in one line (names of 80 KB+ exist) */
#define SYM_PIECE_BYTES     ((size_t)1 << 19) /* the default of sym_parse_opts.piece_bytes */
#define SYM_MIN_PIECE_BYTES ((size_t)1 << 10)
#define SYM_MAX_PIECE_BYTES ((size_t)1 << 26)
#define SYM_MAX_SYM_ERRORS  100u /* malformed lines tolerated, as Breakpad does */

struct sym_parse_opts {
    size_t max_line_len;      /* 0: SYM_MAX_SYM_LINE; longer lines are skipped with a warning */
    uint64_t max_errors;      /* 0: SYM_MAX_SYM_ERRORS; UINT64_MAX: no limit */
    uint64_t max_input_bytes; /* 0: unlimited; more input fails with SYM_ELIMIT */
    uint64_t max_image_bytes; /* 0: the format limit (4 GiB of strings/blocks); else SYM_ELIMIT */
    bool skip_unwind;         /* drop STACK CFI and STACK WIN (symbolication-only images) */
    /* 1: parse on the caller's thread only. 2: a second thread tokenizes the text (and builds
     * the unwind tables) while the caller's thread builds the rest, from the first byte.
     * 0 (the default): like 2 once more than 4 MiB have been fed, on a machine with more than
     * one CPU. The image is the same in every case. */
    unsigned threads;
    /* 0: SYM_PIECE_BYTES. The input is tokenized in pieces of this many bytes (clamped to
     * [SYM_MIN_PIECE_BYTES, SYM_MAX_PIECE_BYTES]); with two threads, the threads meet once a
     * piece. Smaller pieces only cost time: they let tests reach every path of the two-thread
     * parse (pieces shared between the threads, lines across pieces) with small inputs. The
     * image is the same whatever the size. */
    size_t piece_bytes;
};

/* Fills *o with the defaults. */
void sym_parse_opts_init(struct sym_parse_opts *o);

struct sym_parse_stats {
    uint64_t input_bytes;
    uint64_t input_lines;         /* text lines, blank ones included */
    struct sym_image_counts read; /* well-formed records read, per type */
    struct sym_image_counts kept; /* records in the image */
    uint64_t n_win_other;         /* STACK WIN types 1-3 (dropped) */
    uint64_t n_unknown;           /* lines of unknown record types (skipped) */
    uint64_t n_warnings;          /* malformed lines skipped */
    uint64_t first_warning_line;  /* 1-based line of the first warning, 0 if none */
    char first_warning[160];      /* its description, NUL-terminated ("" if none) */
    uint64_t image_bytes;         /* size of the image built */
};

struct sym_parser;

/* Creates a parser; opts NULL means the defaults (copied). Returns SYM_OK and *out (free with
 * sym_parser_free, which also ends the parser's second thread if it has one), SYM_ENOMEM or
 * SYM_EINVAL. A parser is used by one thread at a time. */
SYM_MUST_CHECK sym_err sym_parser_new(const struct sym_parse_opts *opts, struct sym_parser **out);

/* Parses the next len bytes of text (any split, even inside a line or a CRLF pair). data is
 * only read during the call. Returns SYM_OK, or a fatal error that every later call repeats
 * (with a second thread, an error in the text may be returned by the next call or by finish):
 *   SYM_EPARSE  not a symbol file, or more than max_errors malformed lines;
 *   SYM_ELIMIT  more than max_input_bytes, or a table beyond the format limits;
 *   SYM_ENOMEM. */
SYM_MUST_CHECK sym_err sym_parser_feed(struct sym_parser *p, const void *data, size_t len);

/* Feeding without a copy: *buf receives room for the next *cap bytes of text (at least one
 * byte; the room belongs to the parser, valid until the next call on it), for example for a
 * read(); sym_parser_commit(p, n) then takes the first n of them (n <= *cap). With a second
 * thread the parser tokenizes one piece of its own while the caller fills the next, so a
 * caller that reads the input this way overlaps its reads with the parse. Returns SYM_OK, or
 * the errors of sym_parser_feed; SYM_EINVAL for a commit without a buffer, or of more than
 * *cap bytes. The two ways of feeding may be mixed. */
SYM_MUST_CHECK sym_err sym_parser_buffer(struct sym_parser *p, void **buf, size_t *cap);
SYM_MUST_CHECK sym_err sym_parser_commit(struct sym_parser *p, size_t len);

/* Reads the open file descriptor fd to its end straight into the parser's buffers (as above).
 * For a regular file, its size lets a fresh parser start its second thread and size its
 * tables from the first piece. Returns SYM_OK, SYM_EIO for a failed read (errno says why), or the
 * errors of sym_parser_feed. */
SYM_MUST_CHECK sym_err sym_parser_feed_fd(struct sym_parser *p, int fd);

/* Ends the input, sorts and resolves the tables and writes the image into image_out (its
 * previous contents are replaced; its max_len applies: SYM_ELIMIT when the image is larger).
 * stats (optional) receives the counts, also on failure as far as they got. Returns SYM_OK or
 * the errors of sym_parser_feed; d (optional) describes the failure (with the input line for
 * SYM_EPARSE). The parser can only be freed afterwards. */
SYM_MUST_CHECK sym_err sym_parser_finish(struct sym_parser *p, struct sym_buf *image_out,
                                         struct sym_parse_stats *stats, struct sym_diag *d);

/* Like sym_parser_finish but writes the image to the open file descriptor fd (from its current
 * position) without holding the whole image in memory. Adds SYM_EIO for write errors. */
SYM_MUST_CHECK sym_err sym_parser_finish_fd(struct sym_parser *p, int fd,
                                            struct sym_parse_stats *stats, struct sym_diag *d);

/* Like sym_parser_finish but writes the image into memory the caller provides: reserve(ctx,
 * total, &dst) is called once, with the exact image size, and sets dst to at least total
 * writable bytes (for example a value reserved in the cache store: sym_cache_put_parsed), so the
 * image is written once, in place. An error returned by reserve is returned as is. */
SYM_MUST_CHECK sym_err sym_parser_finish_into(
    struct sym_parser *p, sym_err (*reserve)(void *ctx, uint64_t total, void **dst), void *ctx,
    struct sym_parse_stats *stats, struct sym_diag *d);

/* NULL is a no-op. */
void sym_parser_free(struct sym_parser *p);

/* Whole-buffer convenience: parse len bytes of .sym text into image_out. */
SYM_MUST_CHECK sym_err sym_parse_buffer(const void *data, size_t len,
                                        const struct sym_parse_opts *opts,
                                        struct sym_buf *image_out, struct sym_parse_stats *stats,
                                        struct sym_diag *d);

/* Converts the .sym file at sym_path into an image file at out_path, streaming the input in
 * chunks. The output is written to a temporary file beside out_path, synced and renamed into
 * place, so readers never see a partial image. Returns the errors of sym_parser_finish_fd plus
 * SYM_ENOTFOUND (no input file) and SYM_EIO. */
SYM_MUST_CHECK sym_err sym_convert_file(const char *sym_path, const char *out_path,
                                        const struct sym_parse_opts *opts,
                                        struct sym_parse_stats *stats, struct sym_diag *d);

#endif
