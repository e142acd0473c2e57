/* SPDX-License-Identifier: MPL-2.0 */
/* zipw.c: the test zip writer (local headers, central directory, end record; stored or
 * raw-deflated data). */
#include "zipw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "t.h"

struct zbuf {
    unsigned char *p;
    size_t len, cap;
};

struct zipw {
    struct zbuf local, central;
    size_t count;
    long eocd_count;
};

static void put(struct zbuf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL)
            T_FAIL("zipw: out of memory");
        b->p = p;
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void put16(struct zbuf *b, uint32_t v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, x, 2);
}

static void put32(struct zbuf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(b, x, 4);
}

struct zipw *zipw_new(void)
{
    struct zipw *z = calloc(1, sizeof(*z));
    if (z == NULL)
        T_FAIL("zipw: out of memory");
    z->eocd_count = -1;
    return z;
}

static unsigned char *raw_deflate(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        T_FAIL("zipw: deflateInit2");
    size_t cap = deflateBound(&zs, (uLong)len) + 16;
    unsigned char *out = malloc(cap);
    if (out == NULL)
        T_FAIL("zipw: out of memory");
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        T_FAIL("zipw: deflate");
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static bool ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

void zipw_add(struct zipw *z, const char *name, size_t name_len, const void *data, size_t len,
              const struct zipw_opts *opts)
{
    struct zipw_opts def = {0};
    if (opts == NULL) {
        def.flags = ascii(name, name_len) ? 0 : ZIPW_UTF8;
        opts = &def;
    }
    uint32_t mode = opts->mode ? opts->mode : 0100644;
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)len);
    if (opts->bad_crc)
        crc ^= 0x5a5a5a5a;
    size_t clen = len;
    unsigned char *cdata = NULL;
    const void *payload = data;
    if (opts->deflate) {
        cdata = raw_deflate(data, len, &clen);
        payload = cdata;
    }
    uint32_t usize = opts->override_size ? opts->size : (uint32_t)len;
    uint16_t method = opts->method ? opts->method : opts->deflate ? 8 : 0;
    uint32_t offset = (uint32_t)z->local.len;

    put32(&z->local, 0x04034b50);
    put16(&z->local, 20);
    put16(&z->local, opts->flags);
    put16(&z->local, method);
    put16(&z->local, 0);
    put16(&z->local, 0x21);
    put32(&z->local, crc);
    put32(&z->local, (uint32_t)clen);
    put32(&z->local, usize);
    put16(&z->local, (uint32_t)name_len);
    put16(&z->local, 0);
    put(&z->local, name, name_len);
    put(&z->local, payload, clen);

    put32(&z->central, 0x02014b50);
    put16(&z->central, 0x031e); /* made by Unix, spec 3.0 */
    put16(&z->central, 20);
    put16(&z->central, opts->flags);
    put16(&z->central, method);
    put16(&z->central, 0);
    put16(&z->central, 0x21);
    put32(&z->central, crc);
    put32(&z->central, (uint32_t)clen);
    put32(&z->central, usize);
    put16(&z->central, (uint32_t)name_len);
    put16(&z->central, 0);
    put16(&z->central, 0);
    put16(&z->central, 0);
    put16(&z->central, 0);
    put32(&z->central, mode << 16);
    put32(&z->central, offset);
    put(&z->central, name, name_len);
    z->count++;
    free(cdata);
}

void zipw_file(struct zipw *z, const char *name, const char *text)
{
    zipw_add(z, name, strlen(name), text, strlen(text), NULL);
}

void zipw_dir(struct zipw *z, const char *name)
{
    struct zipw_opts o = {.mode = 040755};
    zipw_add(z, name, strlen(name), NULL, 0, &o);
}

void zipw_set_eocd_count(struct zipw *z, long count)
{
    z->eocd_count = count;
}

void zipw_write(struct zipw *z, const char *path)
{
    struct zbuf end = {0};
    uint32_t n = z->eocd_count >= 0 ? (uint32_t)z->eocd_count : (uint32_t)z->count;
    put32(&end, 0x06054b50);
    put16(&end, 0);
    put16(&end, 0);
    put16(&end, n);
    put16(&end, n);
    put32(&end, (uint32_t)z->central.len);
    put32(&end, (uint32_t)z->local.len);
    put16(&end, 0);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        T_FAIL("zipw: cannot create %s", path);
    if ((z->local.len && fwrite(z->local.p, 1, z->local.len, f) != z->local.len) ||
        (z->central.len && fwrite(z->central.p, 1, z->central.len, f) != z->central.len) ||
        fwrite(end.p, 1, end.len, f) != end.len || fclose(f) != 0)
        T_FAIL("zipw: cannot write %s", path);
    free(z->local.p);
    free(z->central.p);
    free(end.p);
    free(z);
}
