/* SPDX-License-Identifier: MPL-2.0 */
/* sym.c: `sigil sym`: offline tools over the symbol core. `stats` parses a .sym (plain or
 * gzip-compressed, streamed) or opens a symcache and reports record counts, sizes and parse
 * time; `lookup` resolves module offsets to function, file, line and inline frames; `convert`
 * writes a symcache file. Text output by default, JSON (jansson) with --json. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "cli/cli.h"
#include "sym/image.h"
#include "sym/symfile.h"

static const char usage_text[] =
    "usage: sigil sym stats [--json] FILE.sym|FILE.sym.gz|FILE.symc\n"
    "       sigil sym lookup [--json] [--unwind] FILE.sym|FILE.symc OFFSET...\n"
    "       sigil sym convert [--json] FILE.sym|FILE.sym.gz OUT.symc\n\n"
    "Breakpad symbol files and symcaches (the compact binary form the server caches).\n\n"
    "  stats    record counts (read and kept), sizes, parse time and warnings\n"
    "  lookup   function, offset in function, file, line and inline frames (innermost\n"
    "           first) of each module OFFSET (hex, with or without 0x)\n"
    "  convert  build a symcache file from a .sym file\n\n"
    "Options:\n"
    "  --json      one JSON document on stdout\n"
    "  --unwind    lookup: also print the STACK CFI rules and the STACK WIN record\n"
    "  -h, --help  this text\n\n"
    "Exit status: 0 success, 1 failure (unreadable or invalid input), 2 usage error.\n";

#define CHUNK (1u << 20)

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- JSON helpers --------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else
        return 0;
    if (len > n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* A JSON string from bytes that may not be UTF-8 (symbol names are not guaranteed to be):
 * ill-formed bytes become U+FFFD. */
static json_t *jstr(struct sym_slice s)
{
    json_t *j = json_stringn(s.n ? s.p : "", s.n);
    if (j != NULL)
        return j;
    struct sym_buf b;
    sym_buf_init(&b, 0);
    const unsigned char *p = (const unsigned char *)s.p;
    for (size_t i = 0; i < s.n;) {
        size_t len = utf8_len(p + i, s.n - i);
        if (len > 0) {
            sym_buf_append(&b, p + i, len);
            i += len;
        } else {
            sym_buf_append(&b, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    j = json_stringn(b.data ? b.data : "", b.len);
    sym_buf_cleanup(&b);
    return j;
}

static json_t *jhex(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "0x%" PRIx64, v);
    return json_string(s);
}

static int print_json(json_t *doc)
{
    if (doc == NULL) {
        fprintf(stderr, "sigil sym: out of memory\n");
        return 1;
    }
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : 1;
    fputc('\n', stdout);
    json_decref(doc);
    return rc;
}

static json_t *counts_json(const struct sym_image_counts *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "files", json_integer((json_int_t)c->files));
    json_object_set_new(o, "inline_origins", json_integer((json_int_t)c->inline_origins));
    json_object_set_new(o, "funcs", json_integer((json_int_t)c->funcs));
    json_object_set_new(o, "lines", json_integer((json_int_t)c->lines));
    json_object_set_new(o, "inlines", json_integer((json_int_t)c->inlines));
    json_object_set_new(o, "publics", json_integer((json_int_t)c->publics));
    json_object_set_new(o, "cfi_inits", json_integer((json_int_t)c->cfi_inits));
    json_object_set_new(o, "cfi_deltas", json_integer((json_int_t)c->cfi_deltas));
    json_object_set_new(o, "win_fpo", json_integer((json_int_t)c->win_fpo));
    json_object_set_new(o, "win_framedata", json_integer((json_int_t)c->win_framedata));
    return o;
}

static json_t *module_json(const struct sym_image *img)
{
    struct sym_module_info m;
    sym_image_module(img, &m);
    json_t *o = json_object();
    json_object_set_new(o, "os", jstr(m.os));
    json_object_set_new(o, "arch", jstr(m.arch));
    json_object_set_new(o, "debug_id", jstr(m.debug_id));
    json_object_set_new(o, "debug_file", jstr(m.debug_file));
    json_object_set_new(o, "code_id", jstr(m.code_id));
    json_object_set_new(o, "code_file", jstr(m.code_file));
    json_object_set_new(o, "generator", jstr(m.generator));
    json_object_set_new(o, "pe_name", jstr(m.pe_name));
    return o;
}

/* ---- Text helpers --------------------------------------------------------------------------- */

/* One row per record type; read is NULL for a symcache (only the kept counts are known). */
static void print_counts(const struct sym_image_counts *read, const struct sym_image_counts *kept)
{
    const struct {
        const char *name;
        size_t off;
    } rows[] = {
        {"FILE", offsetof(struct sym_image_counts, files)},
        {"INLINE_ORIGIN", offsetof(struct sym_image_counts, inline_origins)},
        {"FUNC", offsetof(struct sym_image_counts, funcs)},
        {"line records", offsetof(struct sym_image_counts, lines)},
        {"INLINE", offsetof(struct sym_image_counts, inlines)},
        {"PUBLIC", offsetof(struct sym_image_counts, publics)},
        {"STACK CFI INIT", offsetof(struct sym_image_counts, cfi_inits)},
        {"STACK CFI", offsetof(struct sym_image_counts, cfi_deltas)},
        {"STACK WIN 0 (FPO)", offsetof(struct sym_image_counts, win_fpo)},
        {"STACK WIN 4 (FRAME_DATA)", offsetof(struct sym_image_counts, win_framedata)},
    };
    printf("%-26s %12s %12s\n", "records", read ? "read" : "", "kept");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint64_t k, r = 0;
        memcpy(&k, (const char *)kept + rows[i].off, sizeof(k));
        if (read != NULL)
            memcpy(&r, (const char *)read + rows[i].off, sizeof(r));
        if (read != NULL)
            printf("  %-24s %12" PRIu64 " %12" PRIu64 "\n", rows[i].name, r, k);
        else
            printf("  %-24s %12s %12" PRIu64 "\n", rows[i].name, "", k);
    }
}

static void print_module(const struct sym_image *img)
{
    struct sym_module_info m;
    sym_image_module(img, &m);
    if (m.has_module)
        printf("module: %.*s %.*s %.*s %.*s\n", SYM_SLICE_FMT_ARGS(m.os),
               SYM_SLICE_FMT_ARGS(m.arch), SYM_SLICE_FMT_ARGS(m.debug_id),
               SYM_SLICE_FMT_ARGS(m.debug_file));
    else
        printf("module: (no MODULE record)\n");
    if (m.code_id.n)
        printf("code: %.*s%s%.*s\n", SYM_SLICE_FMT_ARGS(m.code_id), m.code_file.n ? " " : "",
               SYM_SLICE_FMT_ARGS(m.code_file));
    if (m.pe_name.n)
        printf("PE name: %.*s\n", SYM_SLICE_FMT_ARGS(m.pe_name));
    if (m.generator.n)
        printf("generator: %.*s\n", SYM_SLICE_FMT_ARGS(m.generator));
}

/* ---- Loading --------------------------------------------------------------------------------- */

/* Feeds the file at path into p, inflating it when it is gzip-compressed. Returns 0, or 1
 * after printing an error (a parse error is left for sym_parser_finish to report). */
static int feed_file(const char *path, struct sym_parser *p)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "sigil sym: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    unsigned char *in = malloc(CHUNK), *out = malloc(CHUNK);
    int rc = 0;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    bool gz = false, first = true;
    if (in == NULL || out == NULL) {
        fprintf(stderr, "sigil sym: out of memory\n");
        rc = 1;
        goto done;
    }
    for (;;) {
        ssize_t n = read(fd, in, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "sigil sym: cannot read %s: %s\n", path, strerror(errno));
            rc = 1;
            break;
        }
        if (n == 0)
            break;
        if (first && n >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
            gz = true;
            if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
                fprintf(stderr, "sigil sym: zlib initialisation failed\n");
                rc = 1;
                break;
            }
        }
        first = false;
        if (!gz) {
            if (sym_parser_feed(p, in, (size_t)n) != SYM_OK)
                break;
            continue;
        }
        zs.next_in = in;
        zs.avail_in = (uInt)n;
        int z = Z_OK;
        while (zs.avail_in > 0 && z != Z_STREAM_END) {
            zs.next_out = out;
            zs.avail_out = CHUNK;
            z = inflate(&zs, Z_NO_FLUSH);
            if (z != Z_OK && z != Z_STREAM_END && z != Z_BUF_ERROR) {
                fprintf(stderr, "sigil sym: %s: corrupt gzip data (%s)\n", path,
                        zs.msg ? zs.msg : "inflate failed");
                rc = 1;
                goto done;
            }
            if (sym_parser_feed(p, out, CHUNK - zs.avail_out) != SYM_OK)
                goto done;
        }
    }
done:
    if (gz)
        inflateEnd(&zs);
    free(in);
    free(out);
    close(fd);
    return rc;
}

/* A parsed or opened image. For .sym input the image lives in buf. */
struct loaded {
    struct sym_buf buf;
    struct sym_image *img;
    bool from_text;
    struct sym_parse_stats stats;
    double parse_s;
};

static void loaded_free(struct loaded *l)
{
    sym_image_close(l->img);
    sym_buf_cleanup(&l->buf);
}

static bool file_is_image(const char *path)
{
    unsigned char head[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    return n == (ssize_t)sizeof(head) && sym_image_sniff(head, sizeof(head));
}

/* Opens a symcache or parses .sym text. Returns 0 or 1 (error printed). */
static int load(const char *path, struct loaded *l)
{
    memset(l, 0, sizeof(*l));
    sym_buf_init(&l->buf, 0);
    struct sym_diag d;
    sym_diag_clear(&d);
    if (file_is_image(path)) {
        sym_err rc = sym_image_open_file(path, &l->img, &d);
        if (rc != SYM_OK) {
            fprintf(stderr, "sigil sym: %s: %s\n", path, d.msg);
            return 1;
        }
        return 0;
    }
    l->from_text = true;
    struct sym_parser *p;
    if (sym_parser_new(NULL, &p) != SYM_OK) {
        fprintf(stderr, "sigil sym: out of memory\n");
        return 1;
    }
    double t0 = now_s();
    int rc = feed_file(path, p);
    sym_err err = rc == 0 ? sym_parser_finish(p, &l->buf, &l->stats, &d) : SYM_EIO;
    l->parse_s = now_s() - t0;
    sym_parser_free(p);
    if (rc != 0)
        return 1;
    if (err != SYM_OK) {
        if (d.line)
            fprintf(stderr, "sigil sym: %s:%u: %s\n", path, (unsigned)d.line, d.msg);
        else
            fprintf(stderr, "sigil sym: %s: %s\n", path, d.msg);
        return 1;
    }
    err = sym_image_open(l->buf.data, l->buf.len, &l->img, &d);
    if (err != SYM_OK) {
        fprintf(stderr, "sigil sym: %s: %s\n", path, d.msg);
        return 1;
    }
    return 0;
}

/* ---- stats ---------------------------------------------------------------------------------- */

static int cmd_stats(const char *path, bool json)
{
    struct loaded l;
    if (load(path, &l) != 0) {
        loaded_free(&l);
        return 1;
    }
    struct sym_image_info info;
    sym_image_info(l.img, &info);
    const struct sym_parse_stats *st = &l.stats;
    double mb_s = l.parse_s > 0 ? (double)st->input_bytes / 1e6 / l.parse_s : 0;
    int rc = 0;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(path));
        json_object_set_new(o, "kind", json_string(l.from_text ? "sym" : "symcache"));
        json_object_set_new(o, "format_version", json_integer(info.version));
        json_object_set_new(o, "module", module_json(l.img));
        json_object_set_new(o, "source_bytes", json_integer((json_int_t)info.source_bytes));
        json_object_set_new(o, "symcache_bytes", json_integer((json_int_t)info.image_bytes));
        json_object_set_new(o, "string_bytes", json_integer((json_int_t)info.string_bytes));
        json_object_set_new(o, "size_ratio",
                            json_real(info.source_bytes
                                          ? (double)info.image_bytes / (double)info.source_bytes
                                          : 0));
        json_object_set_new(o, "wide_addresses", json_boolean(info.wide_addresses));
        json_object_set_new(o, "warnings", json_integer((json_int_t)info.parse_warnings));
        if (l.from_text) {
            json_object_set_new(o, "input_lines", json_integer((json_int_t)st->input_lines));
            json_object_set_new(o, "parse_seconds", json_real(l.parse_s));
            json_object_set_new(o, "parse_mb_per_s", json_real(mb_s));
            json_object_set_new(o, "unknown_records", json_integer((json_int_t)st->n_unknown));
            json_object_set_new(o, "win_other_types", json_integer((json_int_t)st->n_win_other));
            if (st->n_warnings) {
                json_t *w = json_object();
                json_object_set_new(w, "line", json_integer((json_int_t)st->first_warning_line));
                json_object_set_new(w, "message", json_string(st->first_warning));
                json_object_set_new(o, "first_warning", w);
            }
            json_object_set_new(o, "read", counts_json(&st->read));
        }
        json_object_set_new(o, "kept", counts_json(&info.counts));
        rc = print_json(o);
    } else {
        printf("%s: %s, symcache format %u\n", path, l.from_text ? "Breakpad .sym" : "symcache",
               (unsigned)info.version);
        print_module(l.img);
        printf("source: %" PRIu64 " bytes", info.source_bytes);
        if (l.from_text)
            printf(", %" PRIu64 " lines, parsed in %.3f s (%.0f MB/s)", st->input_lines, l.parse_s,
                   mb_s);
        printf("\nsymcache: %" PRIu64 " bytes (%.3f of the source; strings %" PRIu64 ")%s\n",
               info.image_bytes,
               info.source_bytes ? (double)info.image_bytes / (double)info.source_bytes : 0.0,
               info.string_bytes, info.wide_addresses ? ", 64-bit offsets" : "");
        printf("warnings: %" PRIu64, info.parse_warnings);
        if (l.from_text && st->n_warnings)
            printf(" (first, line %" PRIu64 ": %s)", st->first_warning_line, st->first_warning);
        printf("\n");
        if (l.from_text && st->n_unknown)
            printf("unknown records skipped: %" PRIu64 "\n", st->n_unknown);
        print_counts(l.from_text ? &st->read : NULL, &info.counts);
    }
    loaded_free(&l);
    return rc;
}

/* ---- lookup --------------------------------------------------------------------------------- */

static bool parse_offset(const char *s, uint64_t *out)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (*s == '\0' || strlen(s) > 16)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 16);
    if (errno != 0 || *end != '\0' || *s == '-' || *s == '+')
        return false;
    *out = v;
    return true;
}

static json_t *unwind_json(const struct sym_image *img, uint64_t off)
{
    json_t *o = json_object();
    struct sym_buf rules;
    sym_buf_init(&rules, 0);
    if (sym_image_cfi_rules(img, off, &rules) == SYM_OK)
        json_object_set_new(o, "cfi", jstr(sym_slice_make(rules.data, rules.len)));
    else
        json_object_set_new(o, "cfi", json_null());
    sym_buf_cleanup(&rules);
    struct sym_win_frame w;
    if (sym_image_win_frame(img, off, &w) == SYM_OK) {
        json_t *wj = json_object();
        json_object_set_new(wj, "type", json_integer(w.type));
        json_object_set_new(wj, "rva", jhex(w.rva));
        json_object_set_new(wj, "code_size", jhex(w.code_size));
        json_object_set_new(wj, "prolog_size", json_integer(w.prolog_size));
        json_object_set_new(wj, "epilog_size", json_integer(w.epilog_size));
        json_object_set_new(wj, "parameter_size", json_integer(w.parameter_size));
        json_object_set_new(wj, "saved_register_size", json_integer(w.saved_register_size));
        json_object_set_new(wj, "local_size", json_integer(w.local_size));
        json_object_set_new(wj, "max_stack_size", json_integer(w.max_stack_size));
        if (w.has_program)
            json_object_set_new(wj, "program", jstr(w.program));
        else
            json_object_set_new(wj, "allocates_base_pointer",
                                json_boolean(w.allocates_base_pointer));
        json_object_set_new(o, "stack_win", wj);
    } else {
        json_object_set_new(o, "stack_win", json_null());
    }
    return o;
}

static json_t *lookup_json(const struct sym_image *img, uint64_t off, const struct sym_lookup *l,
                           bool unwind)
{
    json_t *o = json_object();
    json_object_set_new(o, "module_offset", jhex(off));
    json_object_set_new(o, "found", json_boolean(l->found));
    if (l->found) {
        json_object_set_new(o, "function", jstr(l->function));
        json_object_set_new(o, "function_offset", jhex(off - l->function_start));
        json_object_set_new(o, "function_start", jhex(l->function_start));
        if (l->has_size)
            json_object_set_new(o, "function_size", jhex(l->function_size));
        json_object_set_new(o, "public", json_boolean(l->is_public));
        if (l->file.n)
            json_object_set_new(o, "file", jstr(l->file));
        if (l->line)
            json_object_set_new(o, "line", json_integer(l->line));
        if (l->n_inlines) {
            json_t *arr = json_array();
            for (size_t i = 0; i < l->n_inlines; i++) {
                const struct sym_inline_frame *f = &l->inlines[i];
                json_t *fj = json_object();
                json_object_set_new(fj, "function", jstr(f->function));
                if (f->file.n)
                    json_object_set_new(fj, "file", jstr(f->file));
                if (f->line)
                    json_object_set_new(fj, "line", json_integer(f->line));
                json_array_append_new(arr, fj);
            }
            json_object_set_new(o, "inlines", arr);
        }
    }
    if (unwind)
        json_object_set_new(o, "unwind", unwind_json(img, off));
    return o;
}

static void print_location(struct sym_slice file, uint32_t line)
{
    if (file.n && line)
        printf(" [%.*s:%u]", SYM_SLICE_FMT_ARGS(file), (unsigned)line);
    else if (file.n)
        printf(" [%.*s]", SYM_SLICE_FMT_ARGS(file));
}

static void lookup_text(const struct sym_image *img, uint64_t off, const struct sym_lookup *l,
                        bool unwind)
{
    char head[24];
    int w = snprintf(head, sizeof(head), "0x%" PRIx64, off);
    printf("%s  ", head);
    if (!l->found) {
        printf("(no symbol)\n");
    } else {
        /* Innermost frame first, as a stack is read. */
        for (size_t i = 0; i < l->n_inlines; i++) {
            const struct sym_inline_frame *f = &l->inlines[i];
            printf("%.*s", SYM_SLICE_FMT_ARGS(f->function));
            print_location(f->file, f->line);
            printf(" (inlined)\n%*s", w + 2, "");
        }
        printf("%.*s + 0x%" PRIx64, SYM_SLICE_FMT_ARGS(l->function), off - l->function_start);
        print_location(l->file, l->line);
        printf("%s\n", l->is_public ? " (PUBLIC)" : "");
    }
    if (!unwind)
        return;
    struct sym_buf rules;
    sym_buf_init(&rules, 0);
    if (sym_image_cfi_rules(img, off, &rules) == SYM_OK)
        printf("%*sSTACK CFI: %s\n", w + 2, "", rules.data);
    sym_buf_cleanup(&rules);
    struct sym_win_frame wf;
    if (sym_image_win_frame(img, off, &wf) == SYM_OK) {
        printf("%*sSTACK WIN %u %" PRIx64 " %" PRIx64 " params %x saved %x locals %x: ", w + 2, "",
               (unsigned)wf.type, wf.rva, wf.code_size, (unsigned)wf.parameter_size,
               (unsigned)wf.saved_register_size, (unsigned)wf.local_size);
        if (wf.has_program)
            printf("%.*s\n", SYM_SLICE_FMT_ARGS(wf.program));
        else
            printf("%s\n", wf.allocates_base_pointer ? "(FPO, allocates ebp)" : "(FPO)");
    }
}

static int cmd_lookup(const char *path, char **offs, int n_offs, bool json, bool unwind)
{
    uint64_t *values = calloc((size_t)n_offs, sizeof(uint64_t));
    struct sym_lookup *res = calloc((size_t)n_offs, sizeof(struct sym_lookup));
    if (values == NULL || res == NULL) {
        free(values);
        free(res);
        fprintf(stderr, "sigil sym: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n_offs; i++) {
        if (!parse_offset(offs[i], &values[i])) {
            fprintf(stderr, "sigil sym: '%s' is not a hex module offset\n", offs[i]);
            free(values);
            free(res);
            return 2;
        }
    }
    struct loaded l;
    int rc = load(path, &l);
    if (rc == 0) {
        sym_err err = sym_image_lookup_many(l.img, values, (size_t)n_offs, res);
        if (err != SYM_OK) {
            fprintf(stderr, "sigil sym: %s: %s (corrupt symcache)\n", path, sym_strerror(err));
            rc = 1;
        }
    }
    if (rc == 0 && json) {
        json_t *o = json_object();
        json_object_set_new(o, "file", json_string(path));
        json_object_set_new(o, "module", module_json(l.img));
        json_t *arr = json_array();
        for (int i = 0; i < n_offs; i++)
            json_array_append_new(arr, lookup_json(l.img, values[i], &res[i], unwind));
        json_object_set_new(o, "results", arr);
        rc = print_json(o);
    } else if (rc == 0) {
        for (int i = 0; i < n_offs; i++)
            lookup_text(l.img, values[i], &res[i], unwind);
    }
    loaded_free(&l);
    free(values);
    free(res);
    return rc;
}

/* ---- convert -------------------------------------------------------------------------------- */

static int cmd_convert(const char *in, const char *out, bool json)
{
    if (file_is_image(in)) {
        fprintf(stderr, "sigil sym: %s is already a symcache\n", in);
        return 1;
    }
    /* The image is streamed into a temporary file beside the target, then renamed, so a
     * reader never sees half an image and the whole image is never held in memory. */
    size_t tl = strlen(out) + 16;
    char *tmp = malloc(tl);
    struct sym_parser *p = NULL;
    if (tmp == NULL || sym_parser_new(NULL, &p) != SYM_OK) {
        fprintf(stderr, "sigil sym: out of memory\n");
        free(tmp);
        return 1;
    }
    snprintf(tmp, tl, "%s.tmp.XXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "sigil sym: cannot create %s: %s\n", tmp, strerror(errno));
        sym_parser_free(p);
        free(tmp);
        return 1;
    }
    double t0 = now_s();
    struct sym_parse_stats st;
    struct sym_diag d;
    sym_diag_clear(&d);
    int rc = feed_file(in, p);
    sym_err err = rc == 0 ? sym_parser_finish_fd(p, fd, &st, &d) : SYM_EIO;
    sym_parser_free(p);
    if (rc == 0 && err != SYM_OK) {
        if (d.line)
            fprintf(stderr, "sigil sym: %s:%u: %s\n", in, (unsigned)d.line, d.msg);
        else
            fprintf(stderr, "sigil sym: %s: %s\n", in, d.msg);
        rc = 1;
    }
    if (rc == 0 && (fchmod(fd, 0644) != 0 || fsync(fd) != 0)) {
        fprintf(stderr, "sigil sym: cannot write %s: %s\n", tmp, strerror(errno));
        rc = 1;
    }
    if (close(fd) != 0 && rc == 0) {
        fprintf(stderr, "sigil sym: cannot write %s: %s\n", tmp, strerror(errno));
        rc = 1;
    }
    if (rc == 0 && rename(tmp, out) != 0) {
        fprintf(stderr, "sigil sym: cannot rename %s to %s: %s\n", tmp, out, strerror(errno));
        rc = 1;
    }
    if (rc != 0) {
        unlink(tmp);
        free(tmp);
        return 1;
    }
    free(tmp);
    double total = now_s() - t0;
    double ratio = st.input_bytes ? (double)st.image_bytes / (double)st.input_bytes : 0;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "input", json_string(in));
        json_object_set_new(o, "output", json_string(out));
        json_object_set_new(o, "input_bytes", json_integer((json_int_t)st.input_bytes));
        json_object_set_new(o, "symcache_bytes", json_integer((json_int_t)st.image_bytes));
        json_object_set_new(o, "size_ratio", json_real(ratio));
        json_object_set_new(o, "seconds", json_real(total));
        json_object_set_new(o, "warnings", json_integer((json_int_t)st.n_warnings));
        json_object_set_new(o, "read", counts_json(&st.read));
        json_object_set_new(o, "kept", counts_json(&st.kept));
        return print_json(o);
    }
    printf("%s -> %s: %" PRIu64 " -> %" PRIu64 " bytes (%.3f), %" PRIu64 " warnings, %.3f s\n", in,
           out, st.input_bytes, st.image_bytes, ratio, st.n_warnings, total);
    return 0;
}

/* ---- Dispatch ------------------------------------------------------------------------------- */

int cli_sym_main(int argc, char **argv)
{
    bool json = false, unwind = false;
    const char *cmd = NULL;
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    int n_pos = 0;
    if (pos == NULL)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            free(pos);
            return 0;
        }
        if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--unwind") == 0)
            unwind = true;
        else if (strcmp(a, "--") == 0)
            while (++i < argc)
                pos[n_pos++] = argv[i];
        else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sigil sym: unknown option %s\n\n%s", a, usage_text);
            free(pos);
            return 2;
        } else if (cmd == NULL)
            cmd = a;
        else
            pos[n_pos++] = argv[i];
    }
    int rc = 2;
    if (cmd != NULL && strcmp(cmd, "stats") == 0 && n_pos == 1)
        rc = cmd_stats(pos[0], json);
    else if (cmd != NULL && strcmp(cmd, "lookup") == 0 && n_pos >= 2)
        rc = cmd_lookup(pos[0], pos + 1, n_pos - 1, json, unwind);
    else if (cmd != NULL && strcmp(cmd, "convert") == 0 && n_pos == 2)
        rc = cmd_convert(pos[0], pos[1], json);
    else
        fputs(usage_text, stderr);
    free(pos);
    return rc;
}
