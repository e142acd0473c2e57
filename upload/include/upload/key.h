/* SPDX-License-Identifier: MPL-2.0 */
/* key.h: the member-name rules of symbol uploads, shared by the zip upload and the v2 manifest
 * endpoint: which names are storage keys (<debug_file>/<debug_id>/<file>), which are ignored
 * (<name>-symbols.txt, .DS_Store), and Python-style quoting of names for error messages.
 * Pure functions over UTF-8 strings; no allocation except into the caller's sym_buf. */
#ifndef SYMUP_KEY_H
#define SYMUP_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "sym/buf.h"
#include "sym/err.h"

/* Stored keys: each component at most 255 bytes (a file-name limit), the whole key at most 300
 * bytes (the database's varchar(300), which counts characters, so bytes are the safe bound). */
#define SYMUP_MAX_COMPONENT_LEN 255u
#define SYMUP_MAX_KEY_LEN       300u

enum symup_name_kind {
    SYMUP_NAME_INVALID, /* matches no allowed pattern: the upload is refused */
    SYMUP_NAME_KEY,     /* a storage key */
    SYMUP_NAME_IGNORED, /* allowed but not stored: listed in ignored_keys */
};

/* Classifies a member name (UTF-8, len bytes, no NUL needed) with Tecken's rules:
 * allowed are "<name>-symbols.txt" at the root (suffix case-insensitive), any path whose last
 * component is ".DS_Store", and exactly three '/'-separated components
 * "<debug_file>/<debug_id>/<file>" where debug_id is one or more [0-9A-Fa-f] and the two others
 * are one or more code points, none of them U+0000-U+001F, U+0080-U+00FF, '/' or one of
 * \ ^ ` > < { } [ ] # % " ' | (space, DEL and code points above U+00FF are fine).
 * Of the allowed names, those ending "-symbols.txt" (case-insensitive, any depth) or whose last
 * component is ".DS_Store" are IGNORED, the rest are KEYs. Invalid UTF-8 is INVALID. The length
 * caps above are not part of this test: see symup_key_normalize(). */
enum symup_name_kind symup_name_classify(const char *name, size_t len);

/* Appends to out the stored form of a KEY name: the same text with the debug id upper-cased, so
 * that the download route (which upper-cases ids) reaches it. Errors (out unchanged):
 *   SYM_EINVAL  name is not a KEY per symup_name_classify(), a component is longer than
 *               SYMUP_MAX_COMPONENT_LEN or the whole key longer than SYMUP_MAX_KEY_LEN;
 *   SYM_ENOMEM / SYM_ELIMIT  from the buffer (then out is in its error state). */
SYM_MUST_CHECK sym_err symup_key_normalize(const char *name, size_t len, struct sym_buf *out);

/* Appends Python's repr() of the string: single quotes unless the text contains ' and no ",
 * backslash escapes for \ \t \n \r and the quote, \xNN / \uNNNN / \UNNNNNNNN for control and
 * non-printable code points, other characters as they are. Printability follows Python for
 * Latin-1, spaces, line/paragraph separators, format and private-use characters and
 * noncharacters; other unassigned code points are shown as they are. Bytes that are not valid
 * UTF-8 are shown as \xNN. Errors are those of the buffer (see sym_buf_err()). */
void symup_pyrepr(struct sym_buf *out, const char *s, size_t len);

#endif
