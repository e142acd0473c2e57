/* SPDX-License-Identifier: MPL-2.0 */
/* json.h: a JSON text parser that accepts exactly what Python's json.loads() accepts (NaN,
 * Infinity, lone surrogate escapes included) and reports errors with json.loads()'s own
 * messages and positions, because AsyncShutdownTimeout annotations are JSON text whose parse
 * errors appear verbatim in signature notes. Values are built in a struct sig_arena. */
#ifndef SIG_JSON_H
#define SIG_JSON_H

#include <stddef.h>

#include "signature/value.h"
#include "sym/err.h"

/* Nesting deeper than this is refused the way Python's recursion limit refuses it. */
#define SIG_JSON_MAX_DEPTH 900

struct sig_json_error {
    /* SYM_EPARSE: a ValueError in Python (msg is the JSONDecodeError text, e.g.
     * "Expecting value: line 1 column 1 (char 0)"). SYM_ELIMIT: nesting past
     * SIG_JSON_MAX_DEPTH (Python raises RecursionError). */
    sym_err code;
    char msg[160];
};

/* Parses text[0..len) (UTF-8) into *out, allocating in arena.
 * Returns SYM_OK; SYM_EPARSE or SYM_ELIMIT with *err filled (err may be NULL); SYM_ENOMEM when
 * the arena is exhausted. *out is written only on success and lives as long as the arena. */
sym_err sig_json_parse(const char *text, size_t len, struct sig_arena *arena, struct sig_value *out,
                       struct sig_json_error *err) SYM_MUST_CHECK;

#endif
