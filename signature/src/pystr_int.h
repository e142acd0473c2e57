/* SPDX-License-Identifier: MPL-2.0 */
/* pystr_int.h: the handful of Python str semantics the signature rules depend on (Unicode
 * whitespace, strip, splitlines, lower, int() parsing, str()/repr() of values), on UTF-8 bytes.
 * Internal to signature/. Decoding never reads out of bounds: an invalid byte decodes as one
 * code point of its own value, so malformed input degrades instead of failing. */
#ifndef SIG_PYSTR_INT_H
#define SIG_PYSTR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signature/value.h"
#include "sym/buf.h"

/* Decodes the code point at s[i] (i < len); returns it and sets *n to its byte length (>= 1). */
uint32_t py_decode(const char *s, size_t len, size_t i, size_t *n);
/* Byte index of the start of the code point that ends at s[end - 1] (end > 0). */
size_t py_prev(const char *s, size_t end);
/* Python str.isspace() for one code point. */
bool py_isspace(uint32_t cp);
/* Python str.strip() with no argument: trims Unicode whitespace; returns the kept span. */
void py_strip(const char *s, size_t len, size_t *start, size_t *end);
/* Number of code points. */
size_t py_cplen(const char *s, size_t len);
/* Byte length of the first n code points (the whole string when it has fewer). */
size_t py_cpprefix(const char *s, size_t len, size_t n);
/* Appends Python str.lower() of s. */
void py_lower(struct sym_buf *out, const char *s, size_t len);
/* True when s contains the needle (byte-wise, which equals code-point-wise for UTF-8). */
bool py_contains(const char *s, size_t len, const char *needle, size_t nlen);
const char *py_find(const char *s, size_t len, const char *needle, size_t nlen);
bool py_startswith(const char *s, size_t len, const char *prefix);
bool py_endswith(const char *s, size_t len, const char *suffix);

/* Python int() of a str in base 10 or 16 (base 16 accepts a 0x prefix). On success writes the
 * canonical digits (no sign, no leading zeros, lowercase; "0" for zero) to *digits (borrowed
 * from s or a static "0") and the sign; returns false for what Python rejects. */
struct py_int {
    bool negative;
    const char *digits; /* not NUL-terminated */
    size_t n_digits;
    const char *alloc; /* non-NULL when digits were copied to drop underscores (sym_free it) */
};
bool py_parse_int(const char *s, size_t len, int base, struct py_int *out, bool *nomem);
void py_int_release(struct py_int *v);
/* Saturating conversion of a parsed decimal to int64. */
int64_t py_int_to_i64(const struct py_int *v);

/* Python str(value) and repr(value) for the JSON-shaped values crash data carries. */
void py_str(struct sym_buf *out, const struct sig_value *v);
void py_repr(struct sym_buf *out, const struct sig_value *v);
void py_repr_str(struct sym_buf *out, const char *s, size_t len);
/* Python repr(float), the shortest text that reads back as the same double. */
void py_float_repr(struct sym_buf *out, double d);
/* Python type name of a value, as used in exception texts ("NoneType", "int", "list", ...). */
const char *py_type_name(const struct sig_value *v);

#endif
