/* SPDX-License-Identifier: MPL-2.0 */
/* store_s3_config.c: the S3 storage URL and its settings:
 *
 *     s3://<bucket>[/<prefix>][?endpoint=<http(s) URL>&region=<region>&public_url=<URL>
 *                               &path_style=1]
 *
 * Values are %-decoded; unknown or repeated parameters are errors, so that a typo never falls
 * back silently on a default. Makes no request and holds no libcurl state. */
#include <string.h>
#include <strings.h>

#include "storage/sigv4.h"
#include "storage/store_int.h"
#include "storage/store_s3_int.h"
#include "sym/alloc.h"
#include "sym/buf.h"

#define S3_MAX_SECRET 256

/* The query parameters, as given (decoded), before defaults apply. */
struct s3_query {
    char *endpoint, *region, *public_url;
};

static sym_err oom(struct sym_diag *d)
{
    return sym_diag_set(d, SYM_ENOMEM, "out of memory opening storage");
}

static char *dup_str(const char *s)
{
    return sym_strndup(s, strlen(s));
}

static bool bucket_name_ok(const char *s, size_t len)
{
    if (len < 3 || len > 63)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && ((c != '.' && c != '-') || i == 0 || i == len - 1))
            return false;
    }
    return true;
}

/* "bucket[/prefix]" up to the query. */
static sym_err parse_location(const char *s, size_t len, struct store_s3_settings *out,
                              struct sym_diag *d)
{
    size_t blen = strcspn(s, "/?");
    if (blen > len)
        blen = len;
    if (!bucket_name_ok(s, blen))
        return sym_diag_set(d, SYM_EINVAL,
                            "S3 bucket name must be 3-63 lower-case letters, digits, '.' or '-'");
    out->bucket = sym_strndup(s, blen);
    if (out->bucket == NULL)
        return oom(d);
    const char *pre = s + blen + (blen < len && s[blen] == '/');
    size_t plen = len - (size_t)(pre - s);
    while (plen > 0 && pre[plen - 1] == '/')
        plen--;
    sym_err rc = store_pct_decode(pre, plen, &out->prefix);
    if (rc == SYM_EINVAL)
        return sym_diag_set(d, rc, "S3 key prefix has a malformed %%-escape");
    if (rc != SYM_OK)
        return oom(d);
    struct sym_diag why = {0};
    if (out->prefix[0] != '\0' && store_key_check(out->prefix, &why) != SYM_OK)
        return sym_diag_set(d, SYM_EINVAL, "S3 key prefix is not valid: %s", why.msg);
    return SYM_OK;
}

/* One "name=value" parameter into q. */
static sym_err parse_param(const char *p, size_t len, struct s3_query *q, struct sym_diag *d)
{
    const char *eq = memchr(p, '=', len);
    if (eq == NULL)
        return sym_diag_set(d, SYM_EINVAL, "S3 storage URL parameter without '=' value");
    size_t nlen = (size_t)(eq - p), vlen = len - nlen - 1;
    int shown = (int)(nlen < 40 ? nlen : 40);
    char **slot;
    if (nlen == 8 && memcmp(p, "endpoint", 8) == 0) {
        slot = &q->endpoint;
    } else if (nlen == 6 && memcmp(p, "region", 6) == 0) {
        slot = &q->region;
    } else if (nlen == 10 && memcmp(p, "public_url", 10) == 0) {
        slot = &q->public_url;
    } else if (nlen == 10 && memcmp(p, "path_style", 10) == 0) {
        if (vlen == 1 && eq[1] == '1')
            return SYM_OK;
        return sym_diag_set(d, SYM_EINVAL,
                            "only path-style S3 requests are supported (path_style=1)");
    } else {
        return sym_diag_set(d, SYM_EINVAL, "unknown S3 storage URL parameter '%.*s'", shown, p);
    }
    if (*slot != NULL)
        return sym_diag_set(d, SYM_EINVAL, "S3 storage URL parameter '%.*s' given twice", shown, p);
    sym_err rc = store_pct_decode(eq + 1, vlen, slot);
    if (rc == SYM_ENOMEM)
        return oom(d);
    if (rc != SYM_OK)
        return sym_diag_set(d, SYM_EINVAL, "S3 storage URL parameter '%.*s' is malformed", shown,
                            p);
    if ((*slot)[0] == '\0')
        return sym_diag_set(d, SYM_EINVAL, "S3 storage URL parameter '%.*s' is empty", shown, p);
    return SYM_OK;
}

/* Splits an http(s) URL into base, its path part and the Host header a client sends for it. */
static sym_err parse_endpoint(const char *url, struct store_s3_settings *out, struct sym_diag *d)
{
    size_t skip;
    const char *default_port;
    if (strncasecmp(url, "http://", 7) == 0) {
        skip = 7;
        default_port = ":80";
    } else if (strncasecmp(url, "https://", 8) == 0) {
        skip = 8;
        default_port = ":443";
    } else {
        return sym_diag_set(d, SYM_EINVAL, "S3 endpoint must be an http:// or https:// URL");
    }
    const char *auth = url + skip;
    size_t alen = strcspn(auth, "/?#");
    const char *path = auth + alen;
    if (alen == 0 || strpbrk(path, "?#") != NULL)
        return sym_diag_set(d, SYM_EINVAL, "S3 endpoint must be scheme://host[:port][/path]");
    for (size_t i = 0; i < alen; i++) {
        char c = auth[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return sym_diag_set(d, SYM_EINVAL,
                                "S3 endpoint host may hold only letters, digits, '.', '-', "
                                "':' and brackets (no credentials)");
    }
    if (!store_attr_text_ok(path, strlen(path)) || strchr(path, ' ') != NULL)
        return sym_diag_set(d, SYM_EINVAL, "S3 endpoint path must be printable, without spaces");
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    /* Scheme and host are case-insensitive: lower-cased, they sign the same for every client. */
    struct sym_buf b;
    sym_buf_init(&b, STORE_S3_MAX_URL);
    for (size_t i = 0; i < skip + alen; i++) {
        char c = url[i];
        sym_buf_append_char(&b, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
    }
    size_t host_len = alen, dlen = strlen(default_port);
    if (host_len > dlen && memcmp(auth + alen - dlen, default_port, dlen) == 0)
        host_len -= dlen;
    out->host = b.data ? sym_strndup(b.data + skip, host_len) : NULL;
    out->base_path = sym_strndup(path, plen);
    sym_buf_append(&b, path, plen);
    out->base = sym_buf_steal(&b, NULL);
    if (out->host == NULL || out->base_path == NULL || out->base == NULL)
        return oom(d);
    return SYM_OK;
}

static sym_err check_region(const char *r, struct sym_diag *d)
{
    for (const char *c = r; *c != '\0'; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return sym_diag_set(d, SYM_EINVAL, "S3 region must be lower-case letters, digits, '-'");
    return SYM_OK;
}

/* Takes ownership of url: trailing '/' removed, checked, stored. */
static sym_err set_public_url(char *url, struct store_s3_settings *out, struct sym_diag *d)
{
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    out->public_url = url;
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        !store_attr_text_ok(url, len) || strpbrk(url, " ?#") != NULL)
        return sym_diag_set(d, SYM_EINVAL,
                            "S3 public URL must be an http(s) URL without query or spaces");
    return SYM_OK;
}

/* Credentials, public URL override and numbers from cfg. */
static sym_err apply_config(const struct store_config *cfg, struct store_s3_settings *out,
                            struct sym_diag *d)
{
    bool has_ak = cfg->access_key != NULL && cfg->access_key[0] != '\0';
    bool has_sk = cfg->secret_key != NULL && cfg->secret_key[0] != '\0';
    if (has_ak != has_sk)
        return sym_diag_set(d, SYM_EINVAL, "S3 access key and secret key go together");
    if (has_sk && strlen(cfg->secret_key) > S3_MAX_SECRET)
        return sym_diag_set(d, SYM_EINVAL, "S3 secret key is longer than %d bytes", S3_MAX_SECRET);
    if (has_ak) {
        out->access_key = dup_str(cfg->access_key);
        out->secret_key = dup_str(cfg->secret_key);
        if (out->access_key == NULL || out->secret_key == NULL)
            return oom(d);
    }
    out->presign_expiry_s =
        cfg->presign_expiry_s ? cfg->presign_expiry_s : STORE_S3_DEFAULT_PRESIGN_S;
    if (out->presign_expiry_s > STORE_SIGV4_MAX_EXPIRES)
        return sym_diag_set(d, SYM_EINVAL, "presigned URL lifetime exceeds %d seconds",
                            STORE_SIGV4_MAX_EXPIRES);
    out->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : STORE_S3_DEFAULT_TIMEOUT_MS;
    out->connect_timeout_ms =
        cfg->connect_timeout_ms ? cfg->connect_timeout_ms : STORE_S3_DEFAULT_CONNECT_MS;
    out->retries = cfg->retries;
    if (out->retries > STORE_S3_MAX_RETRIES)
        return sym_diag_set(d, SYM_EINVAL, "S3 retries exceed %d", STORE_S3_MAX_RETRIES);
    return SYM_OK;
}

sym_err store_s3_settings_parse(const char *rest, const struct store_config *cfg,
                                struct store_s3_settings *out, struct sym_diag *d)
{
    struct s3_query q = {NULL, NULL, NULL};
    struct sym_buf b;
    if (strchr(rest, '#') != NULL)
        return sym_diag_set(d, SYM_EINVAL, "S3 storage URL takes no fragment");
    size_t loc_len = strcspn(rest, "?");
    sym_err rc = parse_location(rest, loc_len, out, d);
    for (const char *p = rest + loc_len + (rest[loc_len] == '?'); rc == SYM_OK && *p != '\0';) {
        size_t len = strcspn(p, "&");
        if (len > 0)
            rc = parse_param(p, len, &q, d);
        p += len + (p[len] == '&');
    }
    if (rc != SYM_OK)
        goto out;

    out->region = q.region ? q.region : dup_str("us-east-1");
    q.region = NULL;
    if (out->region == NULL) {
        rc = oom(d);
        goto out;
    }
    rc = check_region(out->region, d);
    if (rc != SYM_OK)
        goto out;
    sym_buf_init(&b, 256);
    sym_buf_printf(&b, "aws:amz:%s:s3", out->region);
    out->sigv4 = sym_buf_steal(&b, NULL);
    if (q.endpoint == NULL) {
        sym_buf_init(&b, 256);
        sym_buf_printf(&b, "https://s3.%s.amazonaws.com", out->region);
        q.endpoint = sym_buf_steal(&b, NULL);
    }
    if (out->sigv4 == NULL || q.endpoint == NULL) {
        rc = oom(d);
        goto out;
    }
    rc = parse_endpoint(q.endpoint, out, d);
    if (rc == SYM_OK)
        rc = apply_config(cfg, out, d);
    if (rc != SYM_OK)
        goto out;
    /* The config's public URL overrides the storage URL's. */
    if (cfg->public_url != NULL && cfg->public_url[0] != '\0') {
        sym_free(q.public_url);
        q.public_url = dup_str(cfg->public_url);
        if (q.public_url == NULL) {
            rc = oom(d);
            goto out;
        }
    }
    if (q.public_url != NULL) {
        rc = set_public_url(q.public_url, out, d);
        q.public_url = NULL;
    }
out:
    sym_free(q.endpoint);
    sym_free(q.region);
    sym_free(q.public_url);
    return rc;
}

void store_s3_settings_cleanup(struct store_s3_settings *s)
{
    if (s->secret_key != NULL)
        memset(s->secret_key, 0, strlen(s->secret_key));
    char **strs[] = {&s->bucket, &s->prefix, &s->base,       &s->base_path,  &s->host,
                     &s->region, &s->sigv4,  &s->access_key, &s->secret_key, &s->public_url};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        sym_free(*strs[i]);
        *strs[i] = NULL;
    }
}
