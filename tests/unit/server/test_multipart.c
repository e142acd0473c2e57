/* SPDX-License-Identifier: MPL-2.0 */
/* test_multipart.c: the incremental multipart/form-data parser, fed whole and in every chunk
 * size, with delimiters straddling chunks, binary data resembling delimiters, and bad input. */
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/multipart.h"

struct collected {
    int n_parts;
    char names[8][256];
    char filenames[8][256];
    char data[8][4096];
    size_t lens[8];
    bool ended[8];
};

static sym_err on_begin(void *ctx, const struct srv_mp_part_info *info)
{
    struct collected *c = ctx;
    if (c->n_parts >= 8)
        return SYM_ELIMIT;
    snprintf(c->names[c->n_parts], 256, "%s", info->name);
    snprintf(c->filenames[c->n_parts], 256, "%s", info->filename);
    c->n_parts++;
    return SYM_OK;
}

static sym_err on_data(void *ctx, const char *data, size_t len)
{
    struct collected *c = ctx;
    int i = c->n_parts - 1;
    if (c->lens[i] + len > sizeof(c->data[i]))
        return SYM_ELIMIT;
    memcpy(c->data[i] + c->lens[i], data, len);
    c->lens[i] += len;
    return SYM_OK;
}

static sym_err on_end(void *ctx)
{
    struct collected *c = ctx;
    c->ended[c->n_parts - 1] = true;
    return SYM_OK;
}

static const struct srv_mp_callbacks cbs = {on_begin, on_data, on_end};

static sym_err parse_in_chunks(const char *body, size_t len, size_t chunk, struct collected *c)
{
    memset(c, 0, sizeof(*c));
    struct srv_multipart *mp = srv_mp_new("XyZ123", 16, &cbs, c);
    T_ASSERT(mp != NULL);
    struct sym_diag d = {0};
    sym_err rc = SYM_OK;
    for (size_t off = 0; off < len && rc == SYM_OK; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = srv_mp_feed(mp, body + off, n, &d);
    }
    if (rc == SYM_OK)
        rc = srv_mp_finish(mp, &d);
    srv_mp_free(mp);
    return rc;
}

static const char body[] = "preamble to ignore\r\n"
                           "--XyZ123\r\n"
                           "Content-Disposition: form-data; name=\"try\"\r\n"
                           "\r\n"
                           "1\r\n"
                           "--XyZ123\r\n"
                           "Content-Disposition: form-data; name=\"symbols.zip\"; "
                           "filename=\"a b.zip\"\r\n"
                           "Content-Type: application/zip\r\n"
                           "\r\n"
                           "PK\x03\x04 data with \r\n--XyZ12 and \r\n-- lookalikes\r\n"
                           "--XyZ123\r\n"
                           "Content-Disposition: form-data; name=\"empty\"\r\n"
                           "\r\n"
                           "\r\n"
                           "--XyZ123--\r\n"
                           "epilogue";

static void test_every_chunk_size(void)
{
    size_t len = sizeof(body) - 1;
    for (size_t chunk = 1; chunk <= len; chunk++) {
        struct collected c;
        sym_err rc = parse_in_chunks(body, len, chunk, &c);
        if (rc != SYM_OK)
            T_FAIL("chunk %zu: error %d", chunk, rc);
        T_ASSERT_EQ(c.n_parts, 3);
        T_ASSERT_STR_EQ(c.names[0], "try");
        T_ASSERT_EQ(c.lens[0], 1);
        T_ASSERT_MEM_EQ(c.data[0], "1", 1);
        T_ASSERT_STR_EQ(c.names[1], "symbols.zip");
        T_ASSERT_STR_EQ(c.filenames[1], "a b.zip");
        const char want[] = "PK\x03\x04 data with \r\n--XyZ12 and \r\n-- lookalikes";
        if (c.lens[1] != sizeof(want) - 1 || memcmp(c.data[1], want, c.lens[1]) != 0)
            T_FAIL("chunk %zu: file data differs (%zu bytes)", chunk, c.lens[1]);
        T_ASSERT_STR_EQ(c.names[2], "empty");
        T_ASSERT_EQ(c.lens[2], 0);
        T_ASSERT(c.ended[0] && c.ended[1] && c.ended[2]);
    }
}

static void test_truncated_and_malformed(void)
{
    struct collected c;
    size_t len = sizeof(body) - 1;
    /* Cut before the closing delimiter. */
    T_ASSERT_ERR(parse_in_chunks(body, len - 30, 7, &c), SYM_EPARSE);
    const char bad[] = "--XyZ123\r\nNo-Disposition: x\r\n\r\ndata\r\n--XyZ123--";
    T_ASSERT_ERR(parse_in_chunks(bad, sizeof(bad) - 1, 5, &c), SYM_EPARSE);
    const char junk[] = "--XyZ123garbage";
    T_ASSERT_ERR(parse_in_chunks(junk, sizeof(junk) - 1, 3, &c), SYM_EPARSE);
    T_ASSERT_ERR(parse_in_chunks("", 0, 1, &c), SYM_EPARSE);
}

static void test_header_and_part_limits(void)
{
    char *big = malloc(40000);
    size_t n = (size_t)snprintf(big, 40000, "--XyZ123\r\nContent-Disposition: form-data; name=\"");
    memset(big + n, 'a', 20000);
    n += 20000;
    memcpy(big + n, "\"\r\n\r\nx\r\n--XyZ123--", 18);
    n += 18;
    struct collected c;
    T_ASSERT_ERR(parse_in_chunks(big, n, 1000, &c), SYM_ELIMIT);
    free(big);

    struct sym_diag d = {0};
    memset(&c, 0, sizeof(c));
    struct srv_multipart *mp = srv_mp_new("XyZ123", 2, &cbs, &c);
    const char three[] = "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                         "--XyZ123\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
                         "--XyZ123\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n"
                         "--XyZ123--";
    T_ASSERT_ERR(srv_mp_feed(mp, three, sizeof(three) - 1, &d), SYM_ELIMIT);
    srv_mp_free(mp);
}

static void test_boundary_from_content_type(void)
{
    char b[SRV_MP_MAX_BOUNDARY + 1];
    const char *ct = "multipart/form-data; boundary=----abc123";
    T_ASSERT_OK(srv_mp_boundary(ct, strlen(ct), b));
    T_ASSERT_STR_EQ(b, "----abc123");
    ct = "Multipart/Form-Data; charset=utf-8; boundary=\"quoted value\"";
    T_ASSERT_OK(srv_mp_boundary(ct, strlen(ct), b));
    T_ASSERT_STR_EQ(b, "quoted value");
    ct = "application/x-www-form-urlencoded";
    T_ASSERT_ERR(srv_mp_boundary(ct, strlen(ct), b), SYM_EINVAL);
    ct = "multipart/form-data";
    T_ASSERT_ERR(srv_mp_boundary(ct, strlen(ct), b), SYM_EINVAL);
}

T_LIST(T_TEST(test_every_chunk_size), T_TEST(test_truncated_and_malformed),
       T_TEST(test_header_and_part_limits), T_TEST(test_boundary_from_content_type))
