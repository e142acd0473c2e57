/* SPDX-License-Identifier: MPL-2.0 */
/* symheader.h: the few header fields of a Breakpad .sym file that go into the file-upload
 * database row (debug_filename, debug_id, code_file, code_id, generator), read with Tecken's
 * rules from the first lines only. No allocation: the fields live in the struct. */
#ifndef SYMUP_SYMHEADER_H
#define SYMUP_SYMHEADER_H

#include <stdbool.h>
#include <stddef.h>

/* How much of a file the upload pipeline hands to symup_header_parse(). */
#define SYMUP_HEADER_WINDOW (64u * 1024u)

/* Field capacities (+1 for the NUL). Ids are at most 40 characters (varchar(40)); file names at
 * most 255 bytes (a file-name limit); the generator is cut to 100 code points (varchar(100)). */
#define SYMUP_HEADER_ID_MAX        40u
#define SYMUP_HEADER_NAME_MAX      255u
#define SYMUP_HEADER_GENERATOR_MAX 100u /* code points; up to 4 bytes each */

struct symup_header {
    /* false: the header could not be parsed and every field is NULL (SQL NULL). true: every
     * field is a string, "" when the line was absent. */
    bool valid;
    bool has_module; /* a MODULE line was seen (meaningful when valid) */
    char debug_filename[SYMUP_HEADER_NAME_MAX + 1];
    char debug_id[SYMUP_HEADER_ID_MAX + 1]; /* upper-cased */
    char code_file[SYMUP_HEADER_NAME_MAX + 1];
    char code_id[SYMUP_HEADER_ID_MAX + 1]; /* upper-cased */
    char generator[SYMUP_HEADER_GENERATOR_MAX * 4 + 1];
};

/* Parses the header lines at the start of data (len bytes, need not be NUL-terminated). data is
 * taken as the whole text: a caller holding only the start of a larger file passes it cut after
 * its last line break (symup_prepare() passes at most SYMUP_HEADER_WINDOW bytes that way).
 * Lines end in "\n", "\r\n" or "\r". Tokens are split on whitespace (ASCII and Unicode spaces, as
 * Python's str.split()). Grammar, line by line from the top, checked in this order: MODULE <os>
 * <arch> <debug_id> <debug_filename>   exactly 5 tokens (any line starting "MODULE"); sets debug_id
 * (upper-cased) and debug_filename; a later one wins INFO CODE_ID <code_id> [<code_file>] 3 or 4
 * tokens; code_id upper-cased, code_file "" when absent INFO GENERATOR <text> generator = rest of
 * the line, trimmed INFO <anything else>                             skipped any other line ends
 * the header Any violation (wrong token count, a value not valid UTF-8 or longer than its field)
 * makes the whole header invalid: out->valid = false, all fields NULL. The upload goes on either
 * way, so this function cannot fail: it always fills *out. Ids are upper-cased in ASCII only. */
void symup_header_parse(const char *data, size_t len, struct symup_header *out);

/* Field accessors for the database layer: NULL when !h->valid, else the field. */
const char *symup_header_debug_filename(const struct symup_header *h);
const char *symup_header_debug_id(const struct symup_header *h);
const char *symup_header_code_file(const struct symup_header *h);
const char *symup_header_code_id(const struct symup_header *h);
const char *symup_header_generator(const struct symup_header *h);

#endif
