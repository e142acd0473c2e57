/* SPDX-License-Identifier: MPL-2.0 */
/* store.c: the backend-neutral half of the storage layer: store_open() dispatch on the URL
 * scheme, key validation and building, checks of stored attributes, and the percent-encoding
 * used for S3 URLs and presigned queries. Knows nothing of files or HTTP. */
#include "storage/store.h"

#include <string.h>

#include "storage/store_int.h"
#include "sym/alloc.h"

/* ------------------------------------------------------------------------------------------ */
/* Opening and closing                                                                        */
/* ------------------------------------------------------------------------------------------ */

sym_err store_open(const struct store_config *cfg, struct store *out, struct sym_diag *d)
{
    if (cfg == NULL || cfg->url == NULL || out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "storage URL is missing");
    if (strncmp(cfg->url, "file://", 7) == 0)
        return store_fs_open(cfg->url + 7, out, d);
    if (strncmp(cfg->url, "s3://", 5) == 0)
        return store_s3_open(cfg->url + 5, cfg, out, d);
    return sym_diag_set(d, SYM_EINVAL,
                        "storage URL must start with file:// (local folder) or s3:// (bucket)");
}

void store_close(struct store *s)
{
    if (s == NULL || s->ops == NULL)
        return;
    s->ops->close(s->impl);
    s->ops = NULL;
    s->impl = NULL;
}

sym_err store_fs_open_read(const struct store *s, const char *key, int *fd_out,
                           struct store_object_info *info_out, struct sym_diag *d)
{
    if (s == NULL || s->ops == NULL || s->ops->open_read == NULL || fd_out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "only local-folder storage serves objects itself");
    return s->ops->open_read(s->impl, key, fd_out, info_out, d);
}

/* ------------------------------------------------------------------------------------------ */
/* Keys                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Length of the UTF-8 sequence at s (at most n bytes), 0 when it is not well-formed: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    unsigned cp = c & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Checks one key component s[0..len); what names the component in messages. */
static sym_err component_check(const char *s, size_t len, const char *what, struct sym_diag *d)
{
    if (len == 0)
        return sym_diag_set(d, SYM_EINVAL, "%s is empty", what);
    if (len > STORE_MAX_COMPONENT_LEN)
        return sym_diag_set(d, SYM_EINVAL, "%s is longer than %d bytes", what,
                            STORE_MAX_COMPONENT_LEN);
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return sym_diag_set(d, SYM_EINVAL, "%s may not be \".\" or \"..\"", what);
    size_t plen = strlen(STORE_TMP_PREFIX);
    if (len >= plen && memcmp(s, STORE_TMP_PREFIX, plen) == 0)
        return sym_diag_set(d, SYM_EINVAL, "%s may not start with \"%s\"", what, STORE_TMP_PREFIX);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return sym_diag_set(d, SYM_EINVAL, "%s contains a control character", what);
        if (u[i] == '/')
            return sym_diag_set(d, SYM_EINVAL, "%s contains '/'", what);
        size_t n = utf8_seq_len(u + i, len - i);
        if (n == 0)
            return sym_diag_set(d, SYM_EINVAL, "%s is not valid UTF-8", what);
        i += n;
    }
    return SYM_OK;
}

sym_err store_key_check(const char *key, struct sym_diag *d)
{
    if (key == NULL)
        return sym_diag_set(d, SYM_EINVAL, "object key is missing");
    size_t len = strnlen(key, STORE_MAX_KEY_LEN + 1);
    if (len == 0)
        return sym_diag_set(d, SYM_EINVAL, "object key is empty");
    if (len > STORE_MAX_KEY_LEN)
        return sym_diag_set(d, SYM_EINVAL, "object key is longer than %d bytes", STORE_MAX_KEY_LEN);
    /* Splitting on '/' yields empty components for a leading, trailing or doubled '/', which
     * component_check() rejects. */
    const char *p = key, *end = key + len;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash ? slash : end;
        sym_err rc = component_check(p, (size_t)(stop - p), "an object key component", d);
        if (rc != SYM_OK)
            return rc;
        if (slash == NULL)
            return SYM_OK;
        p = slash + 1;
    }
}

sym_err store_key_build(struct sym_buf *out, bool try_storage, const char *debug_file,
                        const char *debug_id, const char *file)
{
    if (out == NULL || debug_file == NULL || debug_id == NULL || file == NULL)
        return SYM_EINVAL;
    sym_err rc = component_check(debug_file, strlen(debug_file), "debug file name", NULL);
    if (rc == SYM_OK)
        rc = component_check(debug_id, strlen(debug_id), "debug id", NULL);
    if (rc == SYM_OK)
        rc = component_check(file, strlen(file), "file name", NULL);
    if (rc != SYM_OK)
        return rc;
    if (sym_buf_err(out) != SYM_OK)
        return sym_buf_err(out);
    sym_buf_printf(out, "%sv1/%s/%s/%s", try_storage ? "try/" : "", debug_file, debug_id, file);
    return sym_buf_err(out);
}

/* ------------------------------------------------------------------------------------------ */
/* Stored attributes                                                                          */
/* ------------------------------------------------------------------------------------------ */

bool store_attr_text_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

bool store_md5_hex_ok(const char *s, size_t len)
{
    if (len != 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool store_attr_copy(char *dst, size_t cap, const char *s, size_t len)
{
    if (len >= cap || !store_attr_text_ok(s, len))
        return false;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return true;
}

/* Checks one optional attribute string against the field it will be read back into. */
static sym_err attr_check(const char *s, size_t cap, const char *what, struct sym_diag *d)
{
    if (s == NULL)
        return SYM_OK;
    size_t len = strnlen(s, cap);
    if (len >= cap)
        return sym_diag_set(d, SYM_EINVAL, "%s is longer than %zu bytes", what, cap - 1);
    if (!store_attr_text_ok(s, len))
        return sym_diag_set(d, SYM_EINVAL, "%s must be printable ASCII", what);
    return SYM_OK;
}

sym_err store_put_opts_check(const struct store_put_opts *opts, struct sym_diag *d)
{
    struct store_object_info info;
    if (opts == NULL)
        return SYM_OK;
    sym_err rc = attr_check(opts->content_type, sizeof(info.content_type), "content type", d);
    if (rc == SYM_OK)
        rc = attr_check(opts->content_encoding, sizeof(info.content_encoding), "content encoding",
                        d);
    if (rc == SYM_OK)
        rc = attr_check(opts->cache_control, sizeof(info.cache_control), "cache control", d);
    if (rc != SYM_OK)
        return rc;
    if (opts->original_md5 != NULL && opts->original_md5[0] != '\0' &&
        !store_md5_hex_ok(opts->original_md5, strnlen(opts->original_md5, 33)))
        return sym_diag_set(d, SYM_EINVAL, "original MD5 must be 32 lowercase hex digits");
    return SYM_OK;
}

const char *store_put_content_type(const struct store_put_opts *opts)
{
    if (opts == NULL || opts->content_type == NULL || opts->content_type[0] == '\0')
        return STORE_DEFAULT_CONTENT_TYPE;
    return opts->content_type;
}

/* ------------------------------------------------------------------------------------------ */
/* Percent-encoding                                                                           */
/* ------------------------------------------------------------------------------------------ */

void store_uri_encode(struct sym_buf *out, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
        if (plain) {
            sym_buf_append_char(out, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            sym_buf_append(out, esc, 3);
        }
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

sym_err store_pct_decode(const char *s, size_t len, char **out)
{
    char *r = sym_malloc(len + 1);
    if (r == NULL)
        return SYM_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            r[n++] = s[i];
            continue;
        }
        if (len - i < 3 || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0 ||
            (s[i + 1] == '0' && s[i + 2] == '0')) {
            sym_free(r);
            return SYM_EINVAL;
        }
        r[n++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
        i += 2;
    }
    r[n] = '\0';
    *out = r;
    return SYM_OK;
}
