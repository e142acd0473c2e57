/* SPDX-License-Identifier: MPL-2.0 */
/* symstream.c: gzip-sniffing, size-capped feeding of symbol files (see symstream.h). */
#include "symsource/symstream.h"

#include <stdint.h>
#include <string.h>

void srv_symstream_init(struct srv_symstream *s, struct sym_parser *parser, struct sym_buf *text,
                        size_t max)
{
    memset(s, 0, sizeof(*s));
    s->parser = parser;
    s->text = text;
    s->max = max ? max : SIZE_MAX;
}

static sym_err emit(struct srv_symstream *s, const char *p, size_t n)
{
    if (n > s->max - s->total)
        return s->err = SYM_ELIMIT;
    s->total += n;
    if (s->parser != NULL) {
        sym_err rc = sym_parser_feed(s->parser, p, n);
        if (rc != SYM_OK)
            s->err = rc;
        return rc;
    }
    sym_buf_append(s->text, p, n);
    return s->err = sym_buf_err(s->text);
}

static sym_err inflate_into(struct srv_symstream *s, const unsigned char *p, size_t n)
{
    char out[65536];
    while (n > 0 && !s->zdone) {
        /* avail_in is a uInt: large inputs go in pieces. */
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
        s->zs.next_in = (Bytef *)(uintptr_t)p;
        s->zs.avail_in = piece;
        for (;;) {
            s->zs.next_out = (Bytef *)out;
            s->zs.avail_out = sizeof(out);
            int z = inflate(&s->zs, Z_NO_FLUSH);
            if (z != Z_OK && z != Z_STREAM_END && z != Z_BUF_ERROR)
                return s->err = z == Z_MEM_ERROR ? SYM_ENOMEM : SYM_EPARSE;
            size_t got = sizeof(out) - s->zs.avail_out;
            if (got > 0 && emit(s, out, got) != SYM_OK)
                return s->err;
            if (z == Z_STREAM_END) {
                s->zdone = true; /* bytes after the gzip member are ignored */
                break;
            }
            /* Go on while input is left or the output buffer came back full. */
            if (s->zs.avail_in == 0 && s->zs.avail_out != 0)
                break;
            if (got == 0 && z == Z_BUF_ERROR)
                break;
        }
        size_t used = piece - s->zs.avail_in;
        if (used == 0 && !s->zdone)
            break;
        p += used;
        n -= used;
    }
    return SYM_OK;
}

sym_err srv_symstream_feed(struct srv_symstream *s, const void *data, size_t len)
{
    if (s->err != SYM_OK)
        return s->err;
    const unsigned char *p = data;
    if (!s->started && len > 0) {
        s->started = true;
        /* A gzip member, whether the server declared it or not. (One byte cannot tell; symbol
         * files never start with 0x1f.) */
        if (p[0] == 0x1f && (len < 2 || p[1] == 0x8b)) {
            s->gzip = true;
            memset(&s->zs, 0, sizeof(s->zs));
            if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK)
                return s->err = SYM_ENOMEM;
            s->zinit = true;
        }
    }
    if (s->gzip)
        return inflate_into(s, p, len);
    return emit(s, (const char *)p, len);
}

sym_err srv_symstream_finish(struct srv_symstream *s)
{
    if (s->err == SYM_OK && s->gzip && !s->zdone)
        s->err = SYM_EPARSE;
    return s->err;
}

void srv_symstream_cleanup(struct srv_symstream *s)
{
    if (s->zinit)
        inflateEnd(&s->zs);
    s->zinit = false;
}
