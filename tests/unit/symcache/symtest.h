/* SPDX-License-Identifier: MPL-2.0 */
/* symtest.h: helpers shared by the symcache unit tests: build an image from .sym text and look
 * offsets up with short assertions. Header-only; each test executable includes it once. */
#ifndef SYMTEST_H
#define SYMTEST_H

#include <stdio.h>
#include <string.h>

#include "sym/image.h"
#include "sym/symfile.h"
#include "t.h"

/* A built and opened image; free with st_free. */
struct st_image {
    struct sym_buf buf;
    struct sym_image *img;
    struct sym_parse_stats stats;
};

static inline void st_free(struct st_image *s)
{
    sym_image_close(s->img);
    sym_buf_cleanup(&s->buf);
    memset(s, 0, sizeof(*s));
}

/* Parses text (len bytes; -1 for strlen) and opens the image; fails the test on error. */
static inline void st_build_n(struct st_image *s, const char *text, size_t len)
{
    memset(s, 0, sizeof(*s));
    sym_buf_init(&s->buf, 0);
    struct sym_diag d;
    sym_diag_clear(&d);
    sym_err rc = sym_parse_buffer(text, len, NULL, &s->buf, &s->stats, &d);
    if (rc != SYM_OK)
        T_FAIL("parse failed: %s: %s (line %u)", sym_errname(rc), d.msg, (unsigned)d.line);
    rc = sym_image_open(s->buf.data, s->buf.len, &s->img, &d);
    if (rc != SYM_OK)
        T_FAIL("open failed: %s: %s", sym_errname(rc), d.msg);
}

static inline void st_build(struct st_image *s, const char *text)
{
    st_build_n(s, text, strlen(text));
}

static inline struct sym_lookup *st_lookup(const struct st_image *s, uint64_t off)
{
    static _Thread_local struct sym_lookup l;
    T_ASSERT_OK(sym_image_lookup(s->img, off, &l));
    return &l;
}

/* A slice as a NUL-terminated string in a rotating static buffer (for T_ASSERT_STR_EQ). */
static inline const char *st_str(struct sym_slice sl)
{
    static _Thread_local char bufs[8][512];
    static _Thread_local unsigned k;
    char *b = bufs[k++ % 8];
    snprintf(b, 512, "%.*s", SYM_SLICE_FMT_ARGS(sl));
    return b;
}

/* Asserts function, file and line of a lookup ("" and 0 for "none"). */
#define ST_ASSERT_SYM(s, off, want_fn, want_file, want_line) \
    do {                                                     \
        struct sym_lookup *l_ = st_lookup((s), (off));       \
        T_ASSERT(l_->found == (strcmp((want_fn), "") != 0)); \
        T_ASSERT_STR_EQ(st_str(l_->function), (want_fn));    \
        T_ASSERT_STR_EQ(st_str(l_->file), (want_file));      \
        T_ASSERT_EQ(l_->line, (want_line));                  \
    } while (0)

/* The CFI rules at off as a string, or "-" when none. */
static inline const char *st_cfi(const struct st_image *s, uint64_t off)
{
    static _Thread_local char out[65536];
    struct sym_buf b;
    sym_buf_init(&b, 0);
    sym_err rc = sym_image_cfi_rules(s->img, off, &b);
    if (rc == SYM_ENOTFOUND)
        snprintf(out, sizeof(out), "-");
    else if (rc != SYM_OK)
        snprintf(out, sizeof(out), "error %s", sym_errname(rc));
    else
        snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    sym_buf_cleanup(&b);
    return out;
}

#endif
