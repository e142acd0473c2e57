/* SPDX-License-Identifier: MPL-2.0 */
/* upload_int.h: helpers shared by the files of the upload library, not part of its API. */
#ifndef SYMUP_UPLOAD_INT_H
#define SYMUP_UPLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"
#include "sym/err.h"
#include "upload/error.h"

/* Fills *e (when non-NULL) and returns code. */
sym_err symup__fail(struct symup_error *e, sym_err code, enum symup_reason reason, const char *fmt,
                    ...) SYM_PRINTF(4, 5);

/* Starts a message in b (a fresh buffer) for messages that quote names with symup_pyrepr();
 * symup__fail_buf() then moves it into *e, or reports SYM_ENOMEM when the buffer failed. */
void symup__msg_init(struct sym_buf *b);
sym_err symup__fail_buf(struct symup_error *e, sym_err code, enum symup_reason reason,
                        struct sym_buf *b);

/* Decodes one UTF-8 code point at s[*pos] (len bytes in all), strictly: no overlong forms, no
 * surrogates, nothing above U+10FFFF. Advances *pos and returns true, or returns false. */
bool symup__utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp);
bool symup__utf8_valid(const char *s, size_t len);

/* ASCII case-insensitive "s ends with suffix" (suffix lower case). */
bool symup__ends_with_ci(const char *s, size_t len, const char *suffix);

/* fileprep.c's entry into ingest.c: an ingest of one member named `name` (size bytes) whose data
 * is the existing file at path, which the ingest never writes or removes; a compressed copy goes
 * to gz_path. Errors are those of symup_ingest_open() for that one name. */
struct symup_config;
struct symup_ingest;
sym_err symup__ingest_single(const char *path, const char *name, uint64_t size, const char *gz_path,
                             const struct symup_config *cfg, struct symup_ingest **out,
                             struct symup_error *err);

#endif
