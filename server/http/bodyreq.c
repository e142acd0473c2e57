/* SPDX-License-Identifier: MPL-2.0 */
/* bodyreq.c: the two transports of body routes, and the body collector they share. */
#include "http/bodyreq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "http/async.h"
#include "http/multipart.h"
#include "http/pathutil.h"
#include "http/respond.h"

/* picohttpparser ships inside libh2o (its symbols are exported) but its header is not
 * installed: the declaration below is its documented, stable entry point. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

#define MAX_HEADERS    100
#define MAX_HEAD_BYTES (64 * 1024)
#define IO_CHUNK       (256 * 1024)
#define DISCARD_MAX    ((uint64_t)4 << 30) /* read at most this much to show a client an error */

/* ---------------------------------------------------------------------------------------------
 * The body source: where body bytes come from (socket or memory).
 */

struct body_source {
    /* Socket transport. */
    int fd;
    const char *pre; /* body bytes that arrived with the headers */
    size_t pre_len, pre_off;
    bool chunked;
    uint64_t remaining; /* Content-Length bytes still to read (not chunked) */
    bool expect_continue, continue_sent;
    /* Chunked decoding state. */
    uint64_t chunk_left;
    int chunk_state; /* 0 size line, 1 data, 2 CRLF after data, 3 trailers, 4 done */
    char line[128];
    size_t line_len;
    /* Memory transport. */
    const char *mem;
    size_t mem_len, mem_off;
    bool is_mem;
    bool eof;
};

static ssize_t raw_read(struct body_source *src, char *buf, size_t cap)
{
    if (src->pre_off < src->pre_len) {
        size_t n = src->pre_len - src->pre_off < cap ? src->pre_len - src->pre_off : cap;
        memcpy(buf, src->pre + src->pre_off, n);
        src->pre_off += n;
        return (ssize_t)n;
    }
    if (src->expect_continue && !src->continue_sent) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        src->continue_sent = true;
        if (send(src->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL) < 0)
            return -1;
    }
    for (;;) {
        ssize_t n = recv(src->fd, buf, cap, 0);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

/* Decodes chunked framing in place: reads raw bytes and returns body bytes. */
static ssize_t chunked_read(struct body_source *src, char *buf, size_t cap, struct sym_diag *d)
{
    char raw[16384];
    for (;;) {
        if (src->chunk_state == 4)
            return 0;
        if (src->chunk_state == 1) {
            size_t want = src->chunk_left < cap ? (size_t)src->chunk_left : cap;
            ssize_t n = raw_read(src, buf, want);
            if (n <= 0)
                return n < 0 ? -1 : (sym_diag_set(d, SYM_EIO, "the body ended early"), -1);
            src->chunk_left -= (uint64_t)n;
            if (src->chunk_left == 0)
                src->chunk_state = 2;
            return n;
        }
        /* Line-oriented states: read one byte at a time from the raw stream (lines are short). */
        ssize_t n = raw_read(src, raw, 1);
        if (n <= 0) {
            sym_diag_set(d, SYM_EIO, "the chunked body ended early");
            return -1;
        }
        char c = raw[0];
        if (c != '\n') {
            if (src->line_len + 1 >= sizeof(src->line)) {
                sym_diag_set(d, SYM_EPARSE, "a chunked-encoding line is too long");
                return -2;
            }
            src->line[src->line_len++] = c;
            continue;
        }
        if (src->line_len > 0 && src->line[src->line_len - 1] == '\r')
            src->line_len--;
        src->line[src->line_len] = '\0';
        size_t len = src->line_len;
        src->line_len = 0;
        if (src->chunk_state == 2) {
            if (len != 0) {
                sym_diag_set(d, SYM_EPARSE, "malformed chunked encoding");
                return -2;
            }
            src->chunk_state = 0;
        } else if (src->chunk_state == 0) {
            char *end;
            errno = 0;
            unsigned long long size = strtoull(src->line, &end, 16);
            if (end == src->line || errno != 0 || (*end != '\0' && *end != ';' && *end != ' ')) {
                sym_diag_set(d, SYM_EPARSE, "malformed chunk size");
                return -2;
            }
            src->chunk_left = size;
            src->chunk_state = size == 0 ? 3 : 1;
        } else if (src->chunk_state == 3) {
            if (len == 0)
                src->chunk_state = 4; /* end of trailers */
        }
    }
}

/* Reads body bytes; 0 at the end, -1 on I/O error (d set), -2 on malformed framing. */
static ssize_t source_read(struct body_source *src, char *buf, size_t cap, struct sym_diag *d)
{
    if (src->eof)
        return 0;
    if (src->is_mem) {
        size_t n = src->mem_len - src->mem_off < cap ? src->mem_len - src->mem_off : cap;
        memcpy(buf, src->mem + src->mem_off, n);
        src->mem_off += n;
        if (n == 0)
            src->eof = true;
        return (ssize_t)n;
    }
    if (src->chunked) {
        ssize_t n = chunked_read(src, buf, cap, d);
        if (n == 0)
            src->eof = true;
        return n;
    }
    if (src->remaining == 0) {
        src->eof = true;
        return 0;
    }
    size_t want = src->remaining < cap ? (size_t)src->remaining : cap;
    ssize_t n = raw_read(src, buf, want);
    if (n <= 0) {
        sym_diag_set(d, SYM_EIO, "the client closed the connection or timed out mid-body");
        return -1;
    }
    src->remaining -= (uint64_t)n;
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * The body collector.
 */

struct collector {
    struct srv_body_req *br;
    const struct srv_body_limits *lim;
    const char *spool_dir;
    struct srv_body_part *cur;
    int fd;
    struct sym_buf mem;
    struct sym_diag *d;
};

static sym_err part_begin(void *ctx, const struct srv_mp_part_info *info)
{
    struct collector *c = ctx;
    struct srv_body_req *br = c->br;
    struct srv_body_part *parts = realloc(br->parts, (br->n_parts + 1) * sizeof(*parts));
    if (parts == NULL)
        return sym_diag_set(c->d, SYM_ENOMEM, "out of memory");
    br->parts = parts;
    struct srv_body_part *p = &parts[br->n_parts++];
    memset(p, 0, sizeof(*p));
    memcpy(p->name, info->name, sizeof(p->name));
    memcpy(p->filename, info->filename, sizeof(p->filename));
    memcpy(p->content_type, info->content_type, sizeof(p->content_type));
    p->has_filename = info->has_filename;
    c->cur = p;
    sym_buf_reset(&c->mem);
    if (info->has_filename && c->lim->files_to_disk) {
        char tmpl[4096];
        snprintf(tmpl, sizeof(tmpl), "%s/body-XXXXXX", c->spool_dir);
        c->fd = mkstemp(tmpl);
        if (c->fd < 0)
            return sym_diag_set(c->d, SYM_EIO, "cannot create a spool file: %s", strerror(errno));
        p->path = strdup(tmpl);
        if (p->path == NULL) {
            close(c->fd);
            c->fd = -1;
            unlink(tmpl);
            return sym_diag_set(c->d, SYM_ENOMEM, "out of memory");
        }
    }
    return SYM_OK;
}

static sym_err part_data(void *ctx, const char *data, size_t len)
{
    struct collector *c = ctx;
    struct srv_body_part *p = c->cur;
    p->size += len;
    if (c->fd >= 0) {
        while (len > 0) {
            ssize_t n = write(c->fd, data, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return sym_diag_set(c->d, SYM_EIO, "cannot write the spool file: %s",
                                    strerror(errno));
            data += n;
            len -= (size_t)n;
        }
        return SYM_OK;
    }
    if (p->size > c->lim->max_field)
        return sym_diag_set(c->d, SYM_ELIMIT, "the form field '%.100s' is too large", p->name);
    sym_buf_append(&c->mem, data, len);
    return sym_buf_err(&c->mem) == SYM_OK ? SYM_OK
                                          : sym_diag_set(c->d, SYM_ENOMEM, "out of memory");
}

static sym_err part_end(void *ctx)
{
    struct collector *c = ctx;
    struct srv_body_part *p = c->cur;
    if (c->fd >= 0) {
        int rc = close(c->fd);
        c->fd = -1;
        if (rc != 0)
            return sym_diag_set(c->d, SYM_EIO, "cannot write the spool file");
        return SYM_OK;
    }
    sym_buf_append(&c->mem, "", 0);
    p->data = sym_buf_steal(&c->mem, NULL);
    if (p->data == NULL)
        return sym_diag_set(c->d, SYM_ENOMEM, "out of memory");
    sym_buf_init(&c->mem, c->lim->max_field + 1);
    return SYM_OK;
}

static const struct srv_mp_callbacks collector_callbacks = {part_begin, part_data, part_end};

static sym_err collect(struct srv_body_req *br, struct body_source *src,
                       const struct srv_body_limits *lim, const char *spool_dir, struct sym_diag *d)
{
    size_t ct_len;
    const char *ct = srv_br_header(br, "content-type", &ct_len);
    if (ct != NULL) {
        size_t n = ct_len < sizeof(br->content_type) ? ct_len : sizeof(br->content_type) - 1;
        memcpy(br->content_type, ct, n);
        br->content_type[n] = '\0';
    }
    char boundary[SRV_MP_MAX_BOUNDARY + 1];
    bool multipart = ct != NULL && srv_mp_boundary(ct, ct_len, boundary) == SYM_OK;
    struct collector c = {.br = br, .lim = lim, .spool_dir = spool_dir, .fd = -1, .d = d};
    sym_buf_init(&c.mem, lim->max_field + 1);
    struct srv_multipart *mp =
        multipart ? srv_mp_new(boundary, lim->max_parts, &collector_callbacks, &c) : NULL;
    char *buf = malloc(IO_CHUNK);
    sym_err rc = SYM_OK;
    if (buf == NULL || (multipart && mp == NULL)) {
        rc = sym_diag_set(d, SYM_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = source_read(src, buf, IO_CHUNK, d);
        if (n == 0)
            break;
        if (n < 0) {
            rc = n == -2 ? SYM_EPARSE : SYM_EIO;
            if (d && d->msg[0] == '\0')
                sym_diag_set(d, rc, "reading the request body failed");
            d->code = rc;
            goto out;
        }
        br->body_bytes += (uint64_t)n;
        if (br->body_bytes > lim->max_body) {
            rc = sym_diag_set(d, SYM_ELIMIT, "the request body is larger than %llu bytes",
                              (unsigned long long)lim->max_body);
            goto out;
        }
        if (multipart) {
            rc = srv_mp_feed(mp, buf, (size_t)n, d);
        } else if (br->body_bytes > lim->max_field) {
            rc = sym_diag_set(d, SYM_ELIMIT, "the request body is larger than %llu bytes",
                              (unsigned long long)lim->max_field);
        } else {
            sym_buf_append(&c.mem, buf, (size_t)n);
            rc = sym_buf_err(&c.mem) == SYM_OK ? SYM_OK
                                               : sym_diag_set(d, SYM_ENOMEM, "out of memory");
        }
        if (rc != SYM_OK)
            goto out;
    }
    if (multipart) {
        rc = srv_mp_finish(mp, d);
    } else {
        sym_buf_append(&c.mem, "", 0);
        br->raw_len = c.mem.len;
        br->raw = sym_buf_steal(&c.mem, NULL);
        if (br->raw == NULL)
            rc = sym_diag_set(d, SYM_ENOMEM, "out of memory");
    }
out:
    if (c.fd >= 0)
        close(c.fd);
    srv_mp_free(mp);
    sym_buf_cleanup(&c.mem);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Request state shared by both transports.
 */

struct body_conn {
    struct srv_job job;
    struct srv_body_req br;
    struct srv_app *app;
    srv_body_handler_fn handler;
    struct srv_route_metrics *metrics;
    h2o_mem_pool_t pool; /* decoded path parameters */
    char *head;          /* the request head (socket transport) or a copy of the h2o request */
    size_t head_len;
    struct body_source src;
    /* h2o transport */
    struct srv_req_job h2o_job;
    char *entity;
};

const char *srv_br_header(const struct srv_body_req *br, const char *name, size_t *len_out)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < br->n_headers; i++) {
        const struct srv_body_header *h = &br->headers[i];
        if (h->name_len == n && strncasecmp(h->name, name, n) == 0) {
            if (len_out)
                *len_out = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

const struct srv_body_part *srv_br_part(const struct srv_body_req *br, const char *name)
{
    for (size_t i = 0; i < br->n_parts; i++)
        if (strcmp(br->parts[i].name, name) == 0)
            return &br->parts[i];
    return NULL;
}

sym_err srv_br_read_body(struct srv_body_req *br, const struct srv_body_limits *lim,
                         struct sym_diag *d)
{
    struct body_conn *bc = br->transport;
    if (br->body_consumed)
        return sym_diag_set(d, SYM_EINVAL, "the request body was already read");
    br->body_consumed = true;
    if (!bc->src.is_mem && !bc->src.chunked && bc->src.remaining > lim->max_body)
        return sym_diag_set(d, SYM_ELIMIT, "the request body is larger than %llu bytes",
                            (unsigned long long)lim->max_body);
    return collect(br, &bc->src, lim, bc->app->spool_dir, d);
}

void srv_br_add_header(struct srv_body_req *br, const char *name, const char *value)
{
    /* Values with line breaks would split the response: refuse them. */
    if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
        return;
    sym_buf_printf(&br->res_headers, "%s: %s\r\n", name, value);
}

void srv_br_respond(struct srv_body_req *br, int status, const char *content_type, const void *body,
                    size_t len)
{
    br->status = status;
    br->res_content_type = content_type;
    sym_buf_reset(&br->res_body);
    sym_buf_append(&br->res_body, body, len);
}

void srv_br_respond_json(struct srv_body_req *br, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (text == NULL) {
        static const char oom[] = "{\"error\":\"Internal Server Error\"}";
        srv_br_respond(br, 500, "application/json", oom, sizeof(oom) - 1);
        return;
    }
    srv_br_respond(br, status, "application/json", text, strlen(text));
    free(text);
}

void srv_br_respond_error(struct srv_body_req *br, int status, const char *message)
{
    json_t *body = json_object();
    if (body != NULL)
        json_object_set_new(body, "error", json_string(message));
    srv_br_respond_json(br, status, body);
}

void srv_br_respond_sym_err(struct srv_body_req *br, sym_err e, const struct sym_diag *d)
{
    int status;
    json_t *body = srv_error_body(e, d, &status);
    if (status == 503)
        srv_br_add_header(br, "retry-after", "5");
    srv_br_respond_json(br, status, body);
}

sym_err srv_body_spool_init(const char *dir, struct sym_diag *d)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return sym_diag_set(d, SYM_EIO, "cannot create the spool directory %s: %s", dir,
                            strerror(errno));
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return sym_diag_set(d, SYM_EIO, "cannot open the spool directory %s: %s", dir,
                            strerror(errno));
    /* Files left by a process that was killed mid-request. */
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (strncmp(e->d_name, "body-", 5) == 0 || strncmp(e->d_name, "upload-", 7) == 0) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                char cmd_dir[4096];
                snprintf(cmd_dir, sizeof(cmd_dir), "%s", path);
                /* Upload work directories hold only flat files. */
                DIR *sub = opendir(cmd_dir);
                struct dirent *f;
                while (sub != NULL && (f = readdir(sub)) != NULL) {
                    if (f->d_name[0] == '.')
                        continue;
                    char fp[4096 + 256];
                    snprintf(fp, sizeof(fp), "%s/%s", cmd_dir, f->d_name);
                    unlink(fp);
                }
                if (sub != NULL)
                    closedir(sub);
                rmdir(cmd_dir);
            } else {
                unlink(path);
            }
        }
    }
    closedir(dh);
    return SYM_OK;
}

static void body_req_cleanup(struct srv_body_req *br)
{
    for (size_t i = 0; i < br->n_parts; i++) {
        if (br->parts[i].path != NULL) {
            unlink(br->parts[i].path);
            free(br->parts[i].path);
        }
        free(br->parts[i].data);
    }
    free(br->parts);
    free(br->raw);
    free(br->headers);
    sym_buf_cleanup(&br->res_headers);
    sym_buf_cleanup(&br->res_body);
}

static void log_request(struct body_conn *bc, size_t bytes_out)
{
    struct srv_app *app = bc->app;
    struct srv_body_req *br = &bc->br;
    uint64_t elapsed = srv_now_us() - br->started_us;
    srv_router_observe(bc->metrics, br->status, elapsed);
    if (!app->cfg->access_log || !srv_log_enabled(&app->log, SRV_LOG_INFO))
        return;
    json_t *f = json_object();
    if (f == NULL)
        return;
    json_object_set_new(f, "method", json_string(br->method));
    json_object_set_new(f, "path", json_string(br->path));
    json_object_set_new(f, "route", json_string(br->route ? br->route->name : "none"));
    json_object_set_new(f, "status", json_integer(br->status));
    json_object_set_new(f, "bytes", json_integer((json_int_t)bytes_out));
    json_object_set_new(f, "body_bytes", json_integer((json_int_t)br->body_bytes));
    json_object_set_new(f, "duration_ms", json_real((double)elapsed / 1000.0));
    json_object_set_new(f, "request_id", json_string(br->request_id));
    srv_log_json(&app->log, SRV_LOG_INFO, "access", f, NULL);
}

static void run_handler(struct body_conn *bc)
{
    struct srv_body_req *br = &bc->br;
    br->status = 0;
    bc->handler(br);
    if (br->status == 0)
        srv_br_respond_error(br, 500, "Internal Server Error");
    if (sym_buf_err(&br->res_headers) != SYM_OK || sym_buf_err(&br->res_body) != SYM_OK) {
        sym_buf_reset(&br->res_headers);
        srv_br_respond_error(br, 500, "Internal Server Error");
    }
}

/* ---------------------------------------------------------------------------------------------
 * The stream transport.
 */

static void fill_request_id(struct srv_body_req *br, struct srv_app *app, unsigned worker_id,
                            uint64_t seq)
{
    size_t len;
    const char *given = srv_br_header(br, "x-request-id", &len);
    bool ok = given != NULL && len > 0 && len < sizeof(br->request_id);
    for (size_t i = 0; ok && i < len; i++) {
        char c = given[i];
        ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             c == '-' || c == '_' || c == '.';
    }
    if (ok) {
        memcpy(br->request_id, given, len);
        br->request_id[len] = '\0';
    } else {
        snprintf(br->request_id, sizeof(br->request_id), "%08x-%02x-s%09llx", app->boot_id,
                 worker_id & 0xff, (unsigned long long)seq);
    }
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static size_t write_response(struct body_conn *bc)
{
    struct srv_body_req *br = &bc->br;
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nServer: sigil\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\nx-request-id: %s\r\n",
                     br->status, srv_reason_phrase(br->status), br->res_body.len, br->request_id);
    if (br->res_content_type != NULL)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: %s\r\n",
                      br->res_content_type);
    bool ok = send_all(bc->src.fd, head, (size_t)n) &&
              send_all(bc->src.fd, br->res_headers.data ? br->res_headers.data : "",
                       br->res_headers.len) &&
              send_all(bc->src.fd, "\r\n", 2) &&
              send_all(bc->src.fd, br->res_body.data ? br->res_body.data : "", br->res_body.len);
    return ok ? (size_t)n + br->res_headers.len + 2 + br->res_body.len : 0;
}

/* Reads and drops what is left of the body, so that the client, still sending, sees the answer
 * instead of a reset connection. Bounded by DISCARD_MAX and the socket timeout. */
static void discard_rest(struct body_conn *bc)
{
    if (bc->src.eof)
        return;
    if (bc->src.expect_continue && !bc->src.continue_sent)
        return; /* the client waits for 100 Continue: it sends nothing more */
    if (!bc->src.chunked && bc->src.remaining > DISCARD_MAX)
        return; /* too much to read for nothing: the client sees the answer or a reset */
    char *buf = malloc(IO_CHUNK);
    if (buf == NULL)
        return;
    struct sym_diag d = {0};
    uint64_t total = 0;
    while (total < DISCARD_MAX) {
        ssize_t n = source_read(&bc->src, buf, IO_CHUNK, &d);
        if (n <= 0)
            break;
        total += (uint64_t)n;
    }
    free(buf);
}

static bool parse_head(struct body_conn *bc, struct sym_diag *d)
{
    const char *method, *path;
    size_t method_len, path_len, n_headers = MAX_HEADERS;
    int minor;
    struct phr_header h[MAX_HEADERS];
    int r = phr_parse_request(bc->head, bc->head_len, &method, &method_len, &path, &path_len,
                              &minor, h, &n_headers, 0);
    if (r <= 0) {
        sym_diag_set(d, SYM_EPARSE, "malformed request head");
        return false;
    }
    struct srv_body_req *br = &bc->br;
    br->headers = calloc(n_headers ? n_headers : 1, sizeof(*br->headers));
    char *m = h2o_mem_alloc_pool(&bc->pool, method_len + 1);
    memcpy(m, method, method_len);
    m[method_len] = '\0';
    const char *q = memchr(path, '?', path_len);
    size_t plen = q ? (size_t)(q - path) : path_len;
    char *p = h2o_mem_alloc_pool(&bc->pool, path_len + 2);
    memcpy(p, path, plen);
    p[plen] = '\0';
    char *query = p + plen + 1;
    size_t qlen = q ? path_len - plen - 1 : 0;
    memcpy(query, q ? q + 1 : "", qlen);
    query[qlen] = '\0';
    br->method = m;
    br->path = p;
    br->query = query;
    if (br->headers == NULL) {
        sym_diag_set(d, SYM_ENOMEM, "out of memory");
        return false;
    }
    bool has_length = false;
    for (size_t i = 0; i < n_headers; i++) {
        br->headers[i] =
            (struct srv_body_header){h[i].name, h[i].name_len, h[i].value, h[i].value_len};
        if (h[i].name_len == 14 && strncasecmp(h[i].name, "content-length", 14) == 0) {
            char num[24];
            size_t n = h[i].value_len < sizeof(num) - 1 ? h[i].value_len : sizeof(num) - 1;
            memcpy(num, h[i].value, n);
            num[n] = '\0';
            char *end;
            errno = 0;
            unsigned long long v = strtoull(num, &end, 10);
            if (n == 0 || *end != '\0' || errno != 0 || num[0] == '-') {
                sym_diag_set(d, SYM_EPARSE, "malformed Content-Length");
                return false;
            }
            bc->src.remaining = v;
            has_length = true;
        } else if (h[i].name_len == 17 && strncasecmp(h[i].name, "transfer-encoding", 17) == 0) {
            bc->src.chunked = h[i].value_len >= 7 &&
                              strncasecmp(h[i].value + h[i].value_len - 7, "chunked", 7) == 0;
        } else if (h[i].name_len == 6 && strncasecmp(h[i].name, "expect", 6) == 0) {
            bc->src.expect_continue = true;
        }
    }
    br->n_headers = n_headers;
    if (bc->src.chunked)
        bc->src.remaining = 0;
    else if (!has_length)
        bc->src.remaining = 0; /* no body */
    bc->src.pre = bc->head + r;
    bc->src.pre_len = bc->head_len - (size_t)r;
    return true;
}

static void stream_work(struct srv_job *job)
{
    struct body_conn *bc = H2O_STRUCT_FROM_MEMBER(struct body_conn, job, job);
    struct srv_body_req *br = &bc->br;
    struct srv_app *app = bc->app;
    struct sym_diag d = {0};
    struct timeval tv = {.tv_sec = app->cfg->request_timeout_s};
    setsockopt(bc->src.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(bc->src.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int flags = fcntl(bc->src.fd, F_GETFL);
    if (flags >= 0)
        fcntl(bc->src.fd, F_SETFL, flags & ~O_NONBLOCK);

    if (!parse_head(bc, &d)) {
        srv_br_respond_error(br, 400, d.msg);
    } else {
        fill_request_id(br, app, 0, (uint64_t)atomic_fetch_add(&app->body_seq, 1));
        struct srv_route_match match;
        srv_router_match(&bc->pool, br->method, strlen(br->method), br->path, strlen(br->path),
                         &match);
        if (match.route == NULL || match.status != 0 || match.route->body_handler == NULL) {
            srv_br_respond_error(br, 404, "Not Found");
        } else {
            br->route = match.route;
            bc->metrics = srv_router_metrics(app, match.route_index);
            br->n_params = match.n_params;
            for (size_t i = 0; i < match.n_params; i++)
                br->params[i] = match.params[i];
            bc->handler = match.route->body_handler;
            run_handler(bc);
        }
    }
    /* Unread body (the handler answered first, or stopped at an error) is drained so that a
     * client still sending sees the answer rather than a reset connection. */
    discard_rest(bc);
    size_t sent = write_response(bc);
    shutdown(bc->src.fd, SHUT_WR);
    log_request(bc, sent);
    close(bc->src.fd);
    body_req_cleanup(br);
    h2o_mem_clear_pool(&bc->pool);
    free(bc->head);
    atomic_fetch_sub(&app->body_inflight, 1);
    free(bc);
}

/* The sniffer: reads the first request head of a new connection on the loop. */
struct sniff {
    h2o_socket_t *sock;
    struct srv_worker *worker;
    h2o_timeout_entry_t timeout;
};

static void sniff_free(struct sniff *s)
{
    if (h2o_timeout_is_linked(&s->timeout))
        h2o_timeout_unlink(&s->timeout);
    free(s);
}

static void to_h2o(struct sniff *s)
{
    h2o_socket_t *sock = s->sock;
    struct srv_worker *w = s->worker;
    h2o_socket_read_stop(sock);
    sock->data = NULL;
    sniff_free(s);
    h2o_accept(&w->accept_ctx, sock);
}

static void on_sniff_timeout(h2o_timeout_entry_t *entry)
{
    struct sniff *s = H2O_STRUCT_FROM_MEMBER(struct sniff, timeout, entry);
    h2o_socket_close(s->sock);
    sniff_free(s);
}

static bool is_body_route(h2o_mem_pool_t *pool, const char *method, size_t method_len,
                          const char *path, size_t path_len)
{
    if (!(h2o_memis(method, method_len, H2O_STRLIT("POST")) ||
          h2o_memis(method, method_len, H2O_STRLIT("PUT"))))
        return false;
    const char *q = memchr(path, '?', path_len);
    struct srv_route_match match;
    srv_router_match(pool, method, method_len, path, q ? (size_t)(q - path) : path_len, &match);
    return match.route != NULL && match.status == 0 && match.route->body_handler != NULL;
}

static void take_over(struct sniff *s)
{
    struct srv_worker *w = s->worker;
    struct srv_app *app = w->app;
    h2o_socket_t *sock = s->sock;
    struct body_conn *bc = calloc(1, sizeof(*bc));
    char *head = bc ? malloc(sock->input->size) : NULL;
    if (bc == NULL || head == NULL) {
        free(bc);
        h2o_socket_close(sock);
        sniff_free(s);
        return;
    }
    memcpy(head, sock->input->bytes, sock->input->size);
    bc->head = head;
    bc->head_len = sock->input->size;
    h2o_socket_read_stop(sock);
    sniff_free(s);
    h2o_socket_export_t info;
    if (h2o_socket_export(sock, &info) != 0) {
        free(head);
        free(bc);
        return;
    }
    h2o_buffer_dispose(&info.input);
    bc->src.fd = info.fd;
    bc->app = app;
    bc->br.app = app;
    bc->br.transport = bc;
    bc->br.started_us = srv_now_us();
    sym_buf_init(&bc->br.res_headers, 64 * 1024);
    sym_buf_init(&bc->br.res_body, 64u << 20);
    h2o_mem_init_pool(&bc->pool);
    bc->job.work = stream_work;
    bc->job.done = NULL;
    bc->job.receiver = NULL;
    atomic_fetch_add(&app->body_inflight, 1);
    if (srv_jobs_submit(app->body_jobs, &bc->job) != SYM_OK) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                   "Retry-After: 5\r\nContent-Type: application/json\r\n"
                                   "Content-Length: 35\r\n\r\n"
                                   "{\"error\":\"Service Unavailable\"}   ";
        (void)!send(bc->src.fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(bc->src.fd);
        atomic_fetch_sub(&app->body_inflight, 1);
        h2o_mem_clear_pool(&bc->pool);
        sym_buf_cleanup(&bc->br.res_headers);
        sym_buf_cleanup(&bc->br.res_body);
        free(head);
        free(bc);
    }
}

static void on_sniff_read(h2o_socket_t *sock, const char *err)
{
    struct sniff *s = sock->data;
    if (err != NULL) {
        h2o_socket_close(sock);
        sniff_free(s);
        return;
    }
    const char *method, *path;
    size_t method_len, path_len, n_headers = MAX_HEADERS;
    int minor;
    struct phr_header h[MAX_HEADERS];
    int r = phr_parse_request(sock->input->bytes, sock->input->size, &method, &method_len, &path,
                              &path_len, &minor, h, &n_headers, 0);
    if (r == -2 && sock->input->size < MAX_HEAD_BYTES)
        return; /* incomplete head: wait for more */
    if (r > 0 && !s->worker->stopping) {
        h2o_mem_pool_t pool;
        h2o_mem_init_pool(&pool);
        bool take = is_body_route(&pool, method, method_len, path, path_len);
        h2o_mem_clear_pool(&pool);
        if (take) {
            take_over(s);
            return;
        }
    }
    /* Everything else, malformed heads included, is h2o's to answer. */
    to_h2o(s);
}

void srv_body_accept(struct srv_worker *worker, h2o_socket_t *sock)
{
    struct sniff *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        h2o_socket_close(sock);
        return;
    }
    s->sock = sock;
    s->worker = worker;
    s->timeout.cb = on_sniff_timeout;
    sock->data = s;
    h2o_timeout_link(worker->ctx.loop, &worker->ctx.http1.req_timeout, &s->timeout);
    h2o_socket_read_start(sock, on_sniff_read);
}

/* ---------------------------------------------------------------------------------------------
 * The h2o transport: the body is already in memory.
 */

static void h2o_work(struct srv_req_job *job)
{
    struct body_conn *bc = H2O_STRUCT_FROM_MEMBER(struct body_conn, h2o_job, job);
    run_handler(bc);
}

static void h2o_done(struct srv_req_job *job, h2o_req_t *req)
{
    struct body_conn *bc = H2O_STRUCT_FROM_MEMBER(struct body_conn, h2o_job, job);
    struct srv_body_req *br = &bc->br;
    /* "name: value\r\n" lines back into h2o headers. */
    const char *p = br->res_headers.data, *end = p ? p + br->res_headers.len : NULL;
    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (eol == NULL || colon == NULL || colon > eol)
            break;
        char name[128];
        size_t nlen =
            (size_t)(colon - p) < sizeof(name) - 1 ? (size_t)(colon - p) : sizeof(name) - 1;
        memcpy(name, p, nlen);
        name[nlen] = '\0';
        const char *v = colon + 1;
        while (v < eol && *v == ' ')
            v++;
        srv_add_header_n(req, name, v, (size_t)(eol - v));
        p = eol + 2;
    }
    srv_respond_body(req, br->status, br->res_content_type, br->res_body.data, br->res_body.len);
}

static void h2o_free_job(struct srv_req_job *job)
{
    struct body_conn *bc = H2O_STRUCT_FROM_MEMBER(struct body_conn, h2o_job, job);
    body_req_cleanup(&bc->br);
    h2o_mem_clear_pool(&bc->pool);
    free(bc->head);
    free(bc);
}

void srv_body_route_h2o(struct srv_reqctx *rc, h2o_req_t *req, srv_body_handler_fn handler)
{
    struct srv_app *app = rc->app;
    struct body_conn *bc = calloc(1, sizeof(*bc));
    if (bc == NULL) {
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    /* Copy what the handler reads: the request may be disposed while the job runs. */
    size_t need = req->method.len + req->path.len + req->entity.len + 3;
    for (size_t i = 0; i < req->headers.size; i++)
        need += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 2;
    bc->head = malloc(need);
    bc->br.headers = calloc(req->headers.size ? req->headers.size : 1, sizeof(*bc->br.headers));
    if (bc->head == NULL || bc->br.headers == NULL) {
        free(bc->head);
        free(bc->br.headers);
        free(bc);
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    char *w = bc->head;
#define COPY(dst, src, len)      \
    do {                         \
        memcpy(w, (src), (len)); \
        w[len] = '\0';           \
        (dst) = w;               \
        w += (len) + 1;          \
    } while (0)
    const char *s;
    COPY(s, req->method.base, req->method.len);
    bc->br.method = s;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    COPY(s, req->path.base, plen);
    bc->br.path = s;
    size_t qlen = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0;
    COPY(s, req->query_at != SIZE_MAX ? req->path.base + req->query_at + 1 : "", qlen);
    bc->br.query = s;
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        const char *n, *v;
        COPY(n, h->name->base, h->name->len);
        COPY(v, h->value.base, h->value.len);
        bc->br.headers[i] = (struct srv_body_header){n, h->name->len, v, h->value.len};
    }
    bc->br.n_headers = req->headers.size;
    memcpy(w, req->entity.base ? req->entity.base : "", req->entity.len);
    bc->src.is_mem = true;
    bc->src.mem = w;
    bc->src.mem_len = req->entity.len;
#undef COPY
    bc->app = app;
    bc->br.app = app;
    bc->br.route = rc->route;
    bc->br.transport = bc;
    bc->br.started_us = rc->started_us;
    memcpy(bc->br.request_id, rc->request_id, sizeof(bc->br.request_id));
    bc->br.n_params = rc->n_params;
    h2o_mem_init_pool(&bc->pool);
    for (size_t i = 0; i < rc->n_params; i++)
        bc->br.params[i] = h2o_strdup(&bc->pool, rc->params[i], rc->param_lens[i]).base;
    sym_buf_init(&bc->br.res_headers, 64 * 1024);
    sym_buf_init(&bc->br.res_body, 64u << 20);
    bc->handler = handler;
    srv_req_job_submit_to(app->body_jobs, rc, req, &bc->h2o_job, h2o_work, h2o_done, h2o_free_job);
}
