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

/* The same through a parser fed chunk bytes at a time (0: the text whole). */
static inline void st_build_fed(struct st_image *s, const char *text, size_t len, size_t chunk)
{
    memset(s, 0, sizeof(*s));
    sym_buf_init(&s->buf, 0);
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    size_t step = chunk != 0 ? chunk : len;
    for (size_t off = 0; off < len; off += step)
        T_ASSERT_OK(sym_parser_feed(p, text + off, len - off < step ? len - off : step));
    T_ASSERT_OK(sym_parser_finish(p, &s->buf, &s->stats, NULL));
    sym_parser_free(p);
    T_ASSERT_OK(sym_image_open(s->buf.data, s->buf.len, &s->img, NULL));
}

/* Requires the two images (a text built two ways) to be byte-identical, then frees both. */
static inline void st_same_images(struct st_image img[2])
{
    T_ASSERT_EQ(img[0].buf.len, img[1].buf.len);
    T_ASSERT_MEM_EQ(img[0].buf.data, img[1].buf.data, img[1].buf.len);
    st_free(&img[0]);
    st_free(&img[1]);
}

static inline void st_build(struct st_image *s, const char *text)
{
    st_build_n(s, text, strlen(text));
}

/* How st_run hands the text over: sym_parser_feed, the parser's own buffers
 * (sym_parser_buffer + sym_parser_commit), or the two in turn. */
enum st_feeding { ST_FEED, ST_BUFFER, ST_MIXED };

/* One parse with the given options, fed in chunks of `chunk` bytes (0: all at once; through
 * the parser's buffers, at most what each offers). */
struct st_run {
    sym_err rc;
    struct sym_buf image;
    struct sym_parse_stats stats;
    struct sym_diag diag;
};

static inline void st_run_fed(struct st_run *r, const char *text, size_t len, size_t chunk,
                              const struct sym_parse_opts *opts, enum st_feeding how)
{
    memset(r, 0, sizeof(*r));
    sym_buf_init(&r->image, 0);
    sym_diag_clear(&r->diag);
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(opts, &p));
    size_t step = chunk ? chunk : (len ? len : 1);
    unsigned turn = 0;
    for (size_t at = 0; at < len;) {
        size_t n = len - at < step ? len - at : step;
        if (how == ST_FEED || (how == ST_MIXED && turn++ % 2 == 1)) {
            if (sym_parser_feed(p, text + at, n) != SYM_OK)
                break; /* finish reports it */
        } else {
            void *buf = NULL;
            size_t cap = 0;
            if (sym_parser_buffer(p, &buf, &cap) != SYM_OK)
                break;
            T_ASSERT(cap > 0);
            if (n > cap)
                n = cap;
            memcpy(buf, text + at, n);
            if (sym_parser_commit(p, n) != SYM_OK)
                break;
        }
        at += n;
    }
    r->rc = sym_parser_finish(p, &r->image, &r->stats, &r->diag);
    sym_parser_free(p);
}

static inline void st_run(struct st_run *r, const char *text, size_t len, size_t chunk,
                          const struct sym_parse_opts *opts)
{
    st_run_fed(r, text, len, chunk, opts, ST_FEED);
}

/* Two parses, with options o1 fed as how1 and o2 fed as how2, must give exactly the same
 * result, image bytes, statistics and diagnostic. With keep, the first run is left there (the
 * caller cleans up its image); otherwise both are cleaned up. */
static inline void st_check_fed_agree(const char *text, size_t len, size_t chunk,
                                      const struct sym_parse_opts *o1, enum st_feeding how1,
                                      const struct sym_parse_opts *o2, enum st_feeding how2,
                                      struct st_run *keep)
{
    struct st_run a, b;
    st_run_fed(&a, text, len, chunk, o1, how1);
    st_run_fed(&b, text, len, chunk, o2, how2);
    if (a.rc != b.rc)
        T_FAIL("chunk %zu: threads %u fed %d %s (%s), threads %u fed %d %s (%s)", chunk,
               o1->threads, (int)how1, sym_errname(a.rc), a.diag.msg, o2->threads, (int)how2,
               sym_errname(b.rc), b.diag.msg);
    if (a.rc != SYM_OK) {
        T_ASSERT_STR_EQ(a.diag.msg, b.diag.msg);
        T_ASSERT_EQ(a.diag.line, b.diag.line);
    } else {
        T_ASSERT_EQ(a.image.len, b.image.len);
        T_ASSERT(memcmp(a.image.data, b.image.data, a.image.len) == 0);
    }
    T_ASSERT_U64_EQ(a.stats.first_warning_line, b.stats.first_warning_line);
    T_ASSERT_STR_EQ(a.stats.first_warning, b.stats.first_warning);
    if (a.rc == SYM_OK) {
        /* After a failure the counts say how far each got, and the second thread may have read
         * ahead of the failing line. */
        T_ASSERT_U64_EQ(a.stats.n_warnings, b.stats.n_warnings);
        T_ASSERT_U64_EQ(a.stats.n_unknown, b.stats.n_unknown);
        T_ASSERT_U64_EQ(a.stats.input_lines, b.stats.input_lines);
        T_ASSERT(memcmp(&a.stats.read, &b.stats.read, sizeof(a.stats.read)) == 0);
        T_ASSERT(memcmp(&a.stats.kept, &b.stats.kept, sizeof(a.stats.kept)) == 0);
    }
    sym_buf_cleanup(&b.image);
    if (keep != NULL)
        *keep = a;
    else
        sym_buf_cleanup(&a.image);
}

static inline void st_check_runs_agree(const char *text, size_t len, size_t chunk,
                                       const struct sym_parse_opts *o1,
                                       const struct sym_parse_opts *o2, struct st_run *keep)
{
    st_check_fed_agree(text, len, chunk, o1, ST_FEED, o2, ST_FEED, keep);
}

/* The two-thread parse must give exactly what the one-thread parse gives, however it is fed. */
static inline void st_check_threads_agree(const char *text, size_t len, size_t chunk,
                                          const struct sym_parse_opts *base)
{
    struct sym_parse_opts o1, o2;
    if (base != NULL)
        o1 = *base;
    else
        sym_parse_opts_init(&o1);
    o2 = o1;
    o1.threads = 1;
    o2.threads = 2;
    st_check_runs_agree(text, len, chunk, &o1, &o2, NULL);
    /* The parser's own buffers, alone and mixed with sym_parser_feed, on both modes. */
    st_check_fed_agree(text, len, chunk, &o1, ST_FEED, &o2, ST_BUFFER, NULL);
    st_check_fed_agree(text, len, chunk, &o1, ST_FEED, &o2, ST_MIXED, NULL);
    st_check_fed_agree(text, len, chunk, &o1, ST_FEED, &o1, ST_MIXED, NULL);
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

/* Requires two lookups' answers (a batch's and a single lookup's, say) to agree field for
 * field, inline frames included. */
static inline void st_same_lookup(const struct sym_lookup *a, const struct sym_lookup *b)
{
    T_ASSERT_EQ(a->found, b->found);
    T_ASSERT_EQ(a->is_public, b->is_public);
    T_ASSERT_EQ(a->has_line, b->has_line);
    T_ASSERT_EQ(a->has_size, b->has_size);
    T_ASSERT_EQ(a->is_multiple, b->is_multiple);
    T_ASSERT_EQ(a->param_size, b->param_size);
    T_ASSERT(sym_slice_eq(a->function, b->function));
    T_ASSERT(sym_slice_eq(a->file, b->file));
    T_ASSERT_U64_EQ(a->function_start, b->function_start);
    T_ASSERT_U64_EQ(a->function_size, b->function_size);
    T_ASSERT_U64_EQ(a->line_start, b->line_start);
    T_ASSERT_EQ(a->line, b->line);
    T_ASSERT_EQ(a->n_inlines, b->n_inlines);
    for (size_t k = 0; k < a->n_inlines; k++) {
        T_ASSERT(sym_slice_eq(a->inlines[k].function, b->inlines[k].function));
        T_ASSERT(sym_slice_eq(a->inlines[k].file, b->inlines[k].file));
        T_ASSERT_U64_EQ(a->inlines[k].function_start, b->inlines[k].function_start);
        T_ASSERT_EQ(a->inlines[k].line, b->inlines[k].line);
    }
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
