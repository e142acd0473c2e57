/* SPDX-License-Identifier: MPL-2.0 */
/* form.h: application/x-www-form-urlencoded bodies and query strings: the value of one key,
 * decoded ('+' is a space, %XX a byte; a malformed escape is kept as it is, as browsers and
 * Django do). Bounded by the input length. */
#ifndef SRV_UPLOAD_FORM_H
#define SRV_UPLOAD_FORM_H

#include <stdbool.h>
#include <stddef.h>

/* The first value of key in data[0..len), decoded, NUL-terminated, malloc'd (free()); NULL when
 * absent (*present false) or out of memory (*present true). A key without '=' has the value "".
 * The decoded value may contain NUL bytes; *value_len (optional) gets its length. */
char *srv_form_value(const char *data, size_t len, const char *key, bool *present,
                     size_t *value_len);

#endif
