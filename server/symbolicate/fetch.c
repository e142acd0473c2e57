/* SPDX-License-Identifier: MPL-2.0 */
/* fetch.c: source order, the streaming inflate -> parse pipeline, and the module checks. */
#include "symbolicate/fetch.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "sym/alloc.h"
#include "sym/image.h"
#include "symbolicate/feeder.h"
#include "symbolicate/modkey.h"

#define INFLATE_CHUNK (256u * 1024u)
/* Past this much text the parser moves to a thread of its own (feeder.h); smaller files are
 * parsed inline, where a thread would cost more than it saves. */
#define FEEDER_AFTER (8u << 20)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the pipeline: source bytes -> [inflate] -> parser -------------------------------------- */

enum pipe_mode { MODE_UNKNOWN, MODE_PLAIN, MODE_GZIP };

struct pipe {
    struct sym_parse_opts opts;
    struct sym_parser *parser;
    enum pipe_mode mode;
    unsigned char head[2]; /* the first bytes, until the gzip magic can be told */
    size_t head_n;
    z_stream z;
    bool z_ready, z_ended;
    unsigned char *zout;
    struct srv_feeder *feeder; /* the parser's thread, for large files */
    uint64_t in_bytes, out_bytes;
    double inflate_s, parse_s;
    double held_s; /* of the parse time, what this thread spent: inline, waiting, finishing */
    sym_err err;   /* first failure; the sink then refuses everything */
    char msg[160];
};

static sym_err pipe_fail(struct pipe *p, sym_err e, const char *msg)
{
    if (p->err == SYM_OK) {
        p->err = e;
        snprintf(p->msg, sizeof(p->msg), "%.150s", msg);
    }
    return p->err;
}

/* Joins the parser's thread, if there is one: its error, or SYM_OK. */
static sym_err stop_feeder(struct pipe *p)
{
    if (p->feeder == NULL)
        return SYM_OK;
    double parse_s = 0, t0 = now_s();
    sym_err rc = srv_feeder_stop(p->feeder, &parse_s);
    p->held_s += now_s() - t0;
    p->feeder = NULL;
    p->parse_s += parse_s;
    return rc;
}

static sym_err pipe_start(struct pipe *p)
{
    sym_err rc = stop_feeder(p);
    (void)rc; /* starting over: what the old parser thought no longer matters */
    p->mode = MODE_UNKNOWN;
    p->head_n = 0;
    p->in_bytes = p->out_bytes = 0;
    p->inflate_s = p->parse_s = p->held_s = 0;
    p->err = SYM_OK;
    p->msg[0] = '\0';
    p->z_ended = false;
    sym_parser_free(p->parser);
    p->parser = NULL;
    if (sym_parser_new(&p->opts, &p->parser) != SYM_OK)
        return pipe_fail(p, SYM_ENOMEM, "out of memory");
    if (p->z_ready && inflateReset(&p->z) != Z_OK)
        return pipe_fail(p, SYM_ENOMEM, "cannot reset the inflater");
    return SYM_OK;
}

static sym_err pipe_init(struct pipe *p, const struct srv_symb_sources *src)
{
    memset(p, 0, sizeof(*p));
    sym_parse_opts_init(&p->opts);
    p->opts.max_input_bytes = src->max_sym_bytes;
    p->opts.max_image_bytes = src->max_image_bytes;
    p->opts.skip_unwind = !src->keep_unwind;
    /* The parser already has a thread of its own here (the feeder), next to the inflating one;
     * its second thread would make three busy threads, and measured slower on two cores. */
    p->opts.threads = 1;
    return pipe_start(p);
}

static void pipe_cleanup(struct pipe *p)
{
    sym_err rc = stop_feeder(p);
    (void)rc; /* the parser is dropped anyway */
    sym_parser_free(p->parser);
    if (p->z_ready)
        inflateEnd(&p->z);
    sym_free(p->zout);
    memset(p, 0, sizeof(*p));
}

static sym_err feed_text(struct pipe *p, const void *data, size_t len)
{
    if (len == 0)
        return SYM_OK;
    p->out_bytes += len;
    if (p->feeder == NULL && p->out_bytes > FEEDER_AFTER &&
        srv_feeder_start(p->parser, &p->feeder) != SYM_OK)
        p->feeder = NULL; /* no thread: parse here */
    sym_err rc;
    double t0 = now_s();
    if (p->feeder != NULL) {
        rc = srv_feeder_push(p->feeder, data, len);
        p->held_s += now_s() - t0;
    } else {
        rc = sym_parser_feed(p->parser, data, len);
        double dt = now_s() - t0;
        p->parse_s += dt;
        p->held_s += dt;
    }
    if (rc == SYM_EPARSE)
        return pipe_fail(p, rc, "not a symbol file");
    if (rc == SYM_ELIMIT)
        return pipe_fail(p, rc, "the symbol file is larger than this server accepts");
    if (rc != SYM_OK)
        return pipe_fail(p, rc, "out of memory parsing the symbol file");
    return SYM_OK;
}

static sym_err feed_gzip(struct pipe *p, const unsigned char *data, size_t len)
{
    if (!p->z_ready) {
        memset(&p->z, 0, sizeof(p->z));
        p->zout = sym_malloc(INFLATE_CHUNK);
        /* 15 + 32: zlib or gzip header, detected. */
        if (p->zout == NULL || inflateInit2(&p->z, 15 + 32) != Z_OK)
            return pipe_fail(p, SYM_ENOMEM, "out of memory for the inflater");
        p->z_ready = true;
    }
    p->z.next_in = (unsigned char *)data;
    p->z.avail_in = (uInt)len;
    while (p->z.avail_in > 0) {
        if (p->z_ended) {
            /* Another gzip member follows (concatenated gzip files are one stream). */
            if (inflateReset(&p->z) != Z_OK)
                return pipe_fail(p, SYM_EPARSE, "corrupt gzip data");
            p->z_ended = false;
        }
        p->z.next_out = p->zout;
        p->z.avail_out = INFLATE_CHUNK;
        double t0 = now_s();
        int zr = inflate(&p->z, Z_NO_FLUSH);
        p->inflate_s += now_s() - t0;
        size_t produced = INFLATE_CHUNK - p->z.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && produced > 0))
            return pipe_fail(p, SYM_EPARSE, "corrupt gzip data");
        sym_err rc = feed_text(p, p->zout, produced);
        if (rc != SYM_OK)
            return rc;
        if (zr == Z_STREAM_END)
            p->z_ended = true;
    }
    /* Output still held in the inflater's window comes out with the next input or at the end. */
    while (!p->z_ended) {
        p->z.next_out = p->zout;
        p->z.avail_out = INFLATE_CHUNK;
        double t0 = now_s();
        int zr = inflate(&p->z, Z_NO_FLUSH);
        p->inflate_s += now_s() - t0;
        size_t produced = INFLATE_CHUNK - p->z.avail_out;
        sym_err rc = feed_text(p, p->zout, produced);
        if (rc != SYM_OK)
            return rc;
        if (zr == Z_STREAM_END)
            p->z_ended = true;
        if (produced < INFLATE_CHUNK)
            break;
    }
    return SYM_OK;
}

static sym_err pipe_push(struct pipe *p, const unsigned char *data, size_t len)
{
    if (p->err != SYM_OK)
        return p->err;
    p->in_bytes += len;
    if (p->mode == MODE_UNKNOWN) {
        while (p->head_n < 2 && len > 0) {
            p->head[p->head_n++] = *data++;
            len--;
        }
        if (p->head_n < 2)
            return SYM_OK;
        /* A .sym text never starts with the gzip magic 1f 8b. */
        p->mode = p->head[0] == 0x1f && p->head[1] == 0x8b ? MODE_GZIP : MODE_PLAIN;
        sym_err rc = p->mode == MODE_GZIP ? feed_gzip(p, p->head, 2) : feed_text(p, p->head, 2);
        if (rc != SYM_OK)
            return rc;
    }
    return p->mode == MODE_GZIP ? feed_gzip(p, data, len) : feed_text(p, data, len);
}

static int pipe_sink(void *ctx, const void *data, size_t len)
{
    return pipe_push(ctx, data, len) == SYM_OK ? 0 : 1;
}

static void pipe_reset(void *ctx)
{
    struct pipe *p = ctx;
    sym_err rc = pipe_start(p);
    (void)rc; /* a failure stays in p->err and refuses the next bytes */
}

/* Ends the input and builds the image. */
static sym_err pipe_finish(struct pipe *p, struct srv_symb_fetch_out *out)
{
    if (p->err == SYM_OK && p->mode == MODE_UNKNOWN && p->head_n > 0) {
        p->mode = MODE_PLAIN;
        (void)feed_text(p, p->head, p->head_n);
    }
    if (p->err == SYM_OK && p->mode == MODE_GZIP && !p->z_ended)
        pipe_fail(p, SYM_EPARSE, "truncated gzip data");
    sym_err frc = stop_feeder(p);
    if (frc == SYM_EPARSE)
        pipe_fail(p, frc, "not a symbol file");
    else if (frc == SYM_ELIMIT)
        pipe_fail(p, frc, "the symbol file is larger than this server accepts");
    else if (frc != SYM_OK)
        pipe_fail(p, frc, "out of memory parsing the symbol file");
    if (p->err != SYM_OK)
        return p->err;
    struct sym_diag d;
    sym_diag_clear(&d);
    double t0 = now_s();
    sym_err rc = sym_parser_finish(p->parser, &out->image, &out->stats, &d);
    p->parse_s += now_s() - t0;
    p->held_s += now_s() - t0;
    if (rc == SYM_EPARSE)
        return pipe_fail(p, rc, d.msg[0] ? d.msg : "not a symbol file");
    if (rc == SYM_ELIMIT)
        return pipe_fail(p, rc, "the symbol file is larger than this server accepts");
    if (rc != SYM_OK)
        return pipe_fail(p, rc, "out of memory building the symbol cache");
    return SYM_OK;
}

/* ---- checks and source order ----------------------------------------------------------------- */

static void set_reason(struct srv_symb_fetch_out *out, const char *fmt, ...) SYM_PRINTF(2, 3);

static void set_reason(struct srv_symb_fetch_out *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

/* The image must describe the requested module: a MODULE record whose id decodes to the same
 * debug id (Eliot's "sym_debug_id_lookup_error" otherwise). */
static bool module_matches(const struct sym_buf *image, const struct srv_symb_debug_id *want,
                           struct srv_symb_fetch_out *out)
{
    struct sym_image *img;
    if (sym_image_open(image->data, image->len, &img, NULL) != SYM_OK) {
        set_reason(out, "sym_malformed: the built image does not open");
        return false;
    }
    struct sym_module_info info;
    sym_image_module(img, &info);
    struct srv_symb_debug_id have;
    bool ok = info.has_module && srv_symb_debug_id_parse(info.debug_id.p, info.debug_id.n, &have) &&
              srv_symb_debug_id_eq(&have, want);
    if (!ok) {
        char id[80];
        snprintf(id, sizeof(id), "%.*s", SYM_SLICE_FMT_ARGS(info.debug_id));
        set_reason(out, "sym_debug_id_lookup_error: the file's MODULE id is %s",
                   info.has_module ? id : "missing");
    }
    sym_image_close(img);
    return ok;
}

/* Settles out after a source delivered a whole file into p. */
static void settle_found(struct pipe *p, const struct srv_symb_debug_id *want,
                         struct srv_symb_fetch_out *out)
{
    out->stored_bytes = p->in_bytes;
    if (pipe_finish(p, out) != SYM_OK) {
        /* Running out of memory says nothing about the file: not remembered as invalid. */
        out->result = p->err == SYM_ENOMEM ? SRV_SYMB_FETCH_UNAVAIL : SRV_SYMB_FETCH_INVALID;
        set_reason(out, "%s%s",
                   p->err == SYM_ELIMIT ? "sym_too_large: " : "sym_malformed: ", p->msg);
    } else if (!module_matches(&out->image, want, out)) {
        out->result = SRV_SYMB_FETCH_INVALID;
    } else {
        out->result = SRV_SYMB_FETCH_FOUND;
    }
    out->sym_bytes = p->out_bytes;
    out->timing.inflate_s = p->inflate_s;
    out->timing.parse_s = p->parse_s;
    out->timing.held_s = p->held_s;
    if (out->result != SRV_SYMB_FETCH_FOUND)
        sym_buf_cleanup(&out->image);
}

static void init_out(struct srv_symb_fetch_out *out, const struct srv_symb_sources *src)
{
    memset(out, 0, sizeof(*out));
    sym_buf_init(&out->image, src->max_image_bytes);
    out->result = SRV_SYMB_FETCH_NOTFOUND;
}

static void finish_timing(struct srv_symb_fetch_out *out, double t0)
{
    struct srv_symb_fetch_timing *t = &out->timing;
    t->total_s = now_s() - t0;
    t->fetch_s = t->total_s - t->inflate_s - t->held_s;
    if (t->fetch_s < 0)
        t->fetch_s = 0;
}

sym_err srv_symb_fetch(const struct srv_symb_sources *src, const char *debug_filename,
                       const char *debug_id, struct srv_symb_fetch_out *out)
{
    init_out(out, src);
    double t0 = now_s();
    struct srv_symb_debug_id want;
    if (!srv_symb_debug_id_parse(debug_id, strlen(debug_id), &want)) {
        out->result = SRV_SYMB_FETCH_INVALID;
        set_reason(out, "bad_debug_id: '%s' is not a Breakpad debug id", debug_id);
        finish_timing(out, t0);
        return SYM_OK;
    }
    struct sym_buf sym_file, id_upper, key;
    sym_buf_init(&sym_file, 0);
    sym_buf_init(&id_upper, 0);
    sym_buf_init(&key, STORE_MAX_KEY_LEN + 1);
    srv_symb_sym_filename(&sym_file, debug_filename, strlen(debug_filename));
    srv_symb_module_key(&id_upper, "", 0, debug_id, strlen(debug_id));
    struct pipe p;
    sym_err rc = pipe_init(&p, src);
    if (rc == SYM_OK)
        rc = sym_buf_err(&sym_file) != SYM_OK || sym_buf_err(&id_upper) != SYM_OK ? SYM_ENOMEM
                                                                                  : SYM_OK;
    if (rc != SYM_OK)
        goto out;
    const char *id = id_upper.data + 1; /* skip the '/' of "<empty>/<ID>" */
    char failures[200] = "";
    size_t n_sources = (src->store ? 2 : 0) + src->n_upstreams;
    for (size_t s = 0; s < n_sources; s++) {
        struct sym_diag d;
        sym_diag_clear(&d);
        sym_err got;
        bool storage = src->store != NULL && s < 2;
        if (storage) {
            snprintf(out->source, sizeof(out->source), s == 0 ? "storage" : "storage-try");
            sym_buf_reset(&key);
            if (store_key_build(&key, s == 1, debug_filename, id, sym_file.data) != SYM_OK)
                continue; /* no object can have that name */
            got = src->store->ops->get(src->store->impl, key.data, pipe_sink, &p, NULL, &d);
        } else {
            size_t u = s - (src->store ? 2 : 0);
            snprintf(out->source, sizeof(out->source), "upstream %zu", u + 1);
            struct srv_upstream_stats st;
            got = srv_upstream_get(src->upstreams[u], debug_filename, id, sym_file.data, pipe_sink,
                                   pipe_reset, &p, &st, &d);
        }
        if (got == SYM_OK || (got == SYM_ELIMIT && p.err != SYM_OK)) {
            settle_found(&p, &want, out);
            break;
        }
        if (got == SYM_ENOMEM) {
            rc = SYM_ENOMEM;
            goto out;
        }
        if (got != SYM_ENOTFOUND) {
            out->sources_failed++;
            if (failures[0] == '\0')
                snprintf(failures, sizeof(failures), "%.40s: %.150s", out->source,
                         d.msg[0] ? d.msg : sym_strerror(got));
        }
        out->source[0] = '\0';
        rc = pipe_start(&p);
        if (rc != SYM_OK)
            goto out;
    }
    if (out->result == SRV_SYMB_FETCH_NOTFOUND) {
        if (out->sources_failed > 0) {
            out->result = SRV_SYMB_FETCH_UNAVAIL;
            set_reason(out, "source_error: %s", failures);
        } else {
            set_reason(out, "not_found: no source has %s", sym_file.data);
        }
    }
out:
    pipe_cleanup(&p);
    sym_buf_cleanup(&sym_file);
    sym_buf_cleanup(&id_upper);
    sym_buf_cleanup(&key);
    finish_timing(out, t0);
    return rc;
}

sym_err srv_symb_fetch_from_memory(const struct srv_symb_sources *src, const char *debug_id,
                                   const void *data, size_t len, size_t chunk,
                                   struct srv_symb_fetch_out *out)
{
    init_out(out, src);
    double t0 = now_s();
    struct srv_symb_debug_id want;
    if (!srv_symb_debug_id_parse(debug_id, strlen(debug_id), &want)) {
        out->result = SRV_SYMB_FETCH_INVALID;
        set_reason(out, "bad_debug_id: '%s' is not a Breakpad debug id", debug_id);
        finish_timing(out, t0);
        return SYM_OK;
    }
    struct pipe p;
    sym_err rc = pipe_init(&p, src);
    if (rc == SYM_OK) {
        snprintf(out->source, sizeof(out->source), "memory");
        const unsigned char *bytes = data;
        size_t step = chunk ? chunk : len;
        for (size_t off = 0; off < len && p.err == SYM_OK; off += step)
            (void)pipe_push(&p, bytes + off, len - off < step ? len - off : step);
        settle_found(&p, &want, out);
        if (p.err == SYM_ENOMEM)
            rc = SYM_ENOMEM;
    }
    pipe_cleanup(&p);
    finish_timing(out, t0);
    return rc;
}

void srv_symb_fetch_out_cleanup(struct srv_symb_fetch_out *out)
{
    sym_buf_cleanup(&out->image);
}
