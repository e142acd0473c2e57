/* SPDX-License-Identifier: MPL-2.0 */
/* test_support.c: scratch directories, hashing and gunzip for checks, and a minimal reader for
 * the fixed layout of the corpus's upload-outcomes.json. */
#include "test_support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "t.h"

void scratch_init(struct scratch *s)
{
    snprintf(s->dir, sizeof(s->dir), "%s", t_tmpdir());
    snprintf(s->zip, sizeof(s->zip), "%s/a.zip", s->dir);
    snprintf(s->out, sizeof(s->out), "%s/out", s->dir);
    if (mkdir(s->out, 0700) != 0)
        T_FAIL("mkdir %s: %s", s->out, strerror(errno));
}

void scratch_done(struct scratch *s)
{
    unlink(s->zip);
    if (rmdir(s->out) != 0)
        T_FAIL("temporary files left in %s (%s)", s->out, strerror(errno));
    rmdir(s->dir);
}

char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap + 1);
        }
        size_t k = fread(data + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

void md5_hex(const void *data, size_t len, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if (EVP_Digest(data, len, d, &dlen, EVP_md5(), NULL) != 1)
        T_FAIL("MD5 failed");
    for (unsigned i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

char *gunzip(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 31) != Z_OK)
        T_FAIL("inflateInit2");
    size_t cap = len * 4 + 1024, n = 0;
    char *out = malloc(cap);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    int r;
    do {
        if (n == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        zs.next_out = (Bytef *)out + n;
        zs.avail_out = (uInt)(cap - n);
        r = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
            T_FAIL("bad gzip data (%d)", r);
        if (r == Z_BUF_ERROR && zs.avail_in == 0)
            T_FAIL("truncated gzip data");
    } while (r != Z_STREAM_END);
    if (zs.avail_in != 0)
        T_FAIL("trailing bytes after the gzip stream");
    inflateEnd(&zs);
    *out_len = n;
    return out;
}

/* ---- upload-outcomes.json ---- */

static const char *case_start(const char *p)
{
    return strstr(p, "{\n      \"name\": \"");
}

bool json_next_case(const char **pos, struct jcase *c)
{
    const char *p = case_start(*pos);
    if (p == NULL)
        return false;
    const char *next = case_start(p + 1);
    c->p = p;
    c->end = next ? next : p + strlen(p);
    *pos = c->end;
    return true;
}

const char *json_find(const struct jcase *c, const char *from, const char *field)
{
    char pat[128];
    snprintf(pat, sizeof(pat), "\"%s\":", field);
    const char *p = strstr(from ? from : c->p, pat);
    if (p == NULL || p >= c->end)
        return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == '\n')
        p++;
    return p;
}

/* Decodes the JSON string at p (after its opening quote); returns the end or NULL. */
static const char *json_unescape(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    while (*p && *p != '"') {
        char c = *p++;
        if (c == '\\') {
            char e = *p++;
            switch (e) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                unsigned v = 0;
                if (sscanf(p, "%4x", &v) != 1)
                    return NULL;
                p += 4;
                if (v < 0x80) {
                    c = (char)v;
                } else {
                    char tmp[4];
                    size_t k = 0;
                    if (v < 0x800) {
                        tmp[k++] = (char)(0xC0 | (v >> 6));
                    } else {
                        tmp[k++] = (char)(0xE0 | (v >> 12));
                        tmp[k++] = (char)(0x80 | ((v >> 6) & 0x3F));
                    }
                    tmp[k++] = (char)(0x80 | (v & 0x3F));
                    for (size_t i = 0; i < k && n + 1 < cap; i++)
                        out[n++] = tmp[i];
                    continue;
                }
                break;
            }
            default:
                c = e;
            }
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
    out[n] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

bool json_str(const struct jcase *c, const char *from, const char *field, char *out, size_t cap)
{
    const char *p = json_find(c, from, field);
    if (p == NULL || *p != '"')
        return false;
    return json_unescape(p + 1, out, cap) != NULL;
}

bool json_int(const struct jcase *c, const char *from, const char *field, long long *out)
{
    const char *p = json_find(c, from, field);
    if (p == NULL)
        return false;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    return true;
}

bool json_bool(const struct jcase *c, const char *from, const char *field, bool *out)
{
    const char *p = json_find(c, from, field);
    if (p == NULL)
        return false;
    if (strncmp(p, "true", 4) == 0)
        *out = true;
    else if (strncmp(p, "false", 5) == 0)
        *out = false;
    else
        return false;
    return true;
}

int json_str_array(const struct jcase *c, const char *field, char **items, int max)
{
    const char *p = json_find(c, NULL, field);
    if (p == NULL || *p != '[')
        return -1;
    p++;
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == ',')
            p++;
        if (*p != '"')
            break;
        char buf[1024];
        p = json_unescape(p + 1, buf, sizeof(buf));
        if (p == NULL)
            return -1;
        if (n < max)
            items[n++] = strdup(buf);
    }
    return n;
}
