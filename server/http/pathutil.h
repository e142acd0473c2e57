/* SPDX-License-Identifier: MPL-2.0 */
/* pathutil.h: request-path splitting and the character rules of symbol paths. Paths are split on
 * '/' and each segment is percent-decoded; a decoded segment may not contain '/' or NUL. The
 * component rule is Tecken's: any character except C0 controls, U+0080..U+00FF, and
 * \ ^ ` > < { } [ ] # % " ' | / ; space and DEL are allowed, as are code points above U+00FF
 * (decoded from valid UTF-8). */
#ifndef SRV_PATHUTIL_H
#define SRV_PATHUTIL_H

#define H2O_USE_LIBUV 0
#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>

#define SRV_MAX_PATH_LEN 4096
#define SRV_MAX_SEGMENTS 16

struct srv_path {
    size_t n_segments;
    const char *segments[SRV_MAX_SEGMENTS]; /* decoded, NUL-terminated, in the request pool */
    size_t segment_lens[SRV_MAX_SEGMENTS];
};

enum srv_path_result {
    SRV_PATH_OK,
    SRV_PATH_TOO_LONG,
    SRV_PATH_INVALID, /* bad percent-encoding, too many segments, NUL or '/' once decoded */
};

/* Splits path[0..len) (the part before '?'); decoded segments go into pool. */
enum srv_path_result srv_path_split(h2o_mem_pool_t *pool, const char *path, size_t len,
                                    struct srv_path *out);

/* Percent-decodes in[0..n) into out (capacity >= n + 1, NUL-terminated); returns the decoded
 * length, or -1 for a malformed escape, an encoded NUL or an encoded '/'. */
long srv_percent_decode(const char *in, size_t n, char *out);

/* Tecken's rule for debug file and file name components (see above). */
bool srv_component_valid(const char *s, size_t n);
/* One or more of [0-9A-Fa-f]. */
bool srv_hex_valid(const char *s, size_t n);

/* Percent-encodes s for a URL path: keeps unreserved characters (A-Z a-z 0-9 - . _ ~) and '/',
 * encodes every other byte as %XX (upper-case hex), as Python's quote() does. Appends to out
 * (pool memory) and returns the encoded iovec. */
h2o_iovec_t srv_percent_encode_path(h2o_mem_pool_t *pool, const char *s, size_t n);

/* Finds the first `key` parameter of an application/x-www-form-urlencoded text (a query string
 * or a form body): true and its raw value (a slice of data, empty for "key" or "key=") when
 * present. */
bool srv_form_find(const char *data, size_t len, const char *key, const char **value,
                   size_t *value_len);
/* Form-decodes in[0..n) into out (capacity >= n + 1, NUL-terminated) as browsers and Python's
 * parse_qs do: '+' is a space, valid %XX escapes are decoded, anything else is kept as is.
 * Returns the decoded length. */
size_t srv_form_decode(const char *in, size_t n, char *out);

/* Value of the first `key` parameter of a query string, form-decoded, copied into pool. False
 * when absent. */
bool srv_query_get(h2o_mem_pool_t *pool, h2o_iovec_t query, const char *key, h2o_iovec_t *out);

#endif
