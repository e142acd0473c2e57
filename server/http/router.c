/* SPDX-License-Identifier: MPL-2.0 */
/* router.c: the route table, path matching, method checks, and per-request bookkeeping. */
#include "http/router.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "handlers/handlers.h"
#include "http/bodyreq.h"
#include "http/pathutil.h"
#include "http/respond.h"

#define GET_HEAD (SRV_GET | SRV_HEAD)

/* Order matters: the first template that matches wins, so fixed paths come before the
 * catch-all download templates. */
static const struct srv_route routes[] = {
    {.name = "lbheartbeat",
     .template = "/__lbheartbeat__",
     .methods = GET_HEAD,
     .handler = srv_handle_lbheartbeat},
    {.name = "heartbeat",
     .template = "/__heartbeat__",
     .methods = GET_HEAD,
     .handler = srv_handle_heartbeat},
    {.name = "version",
     .template = "/__version__",
     .methods = GET_HEAD,
     .handler = srv_handle_version},
    {.name = "metrics", .template = "/metrics", .methods = SRV_GET, .handler = srv_handle_metrics},
    {.name = "object",
     .template = "/objects/v1/{debug_filename}/{debug_id}/{filename}",
     .methods = GET_HEAD,
     .handler = srv_handle_object},
    {.name = "object_try",
     .template = "/objects/try/v1/{debug_filename}/{debug_id}/{filename}",
     .methods = GET_HEAD,
     .handler = srv_handle_object},
    {.name = "signature",
     .template = "/signature",
     .methods = SRV_POST,
     .handler = srv_handle_signature},
    {.name = "symbolicate_v5",
     .template = "/symbolicate/v5",
     .methods = SRV_POST | SRV_OPTIONS,
     .handler = srv_handle_symbolicate_v5},
    {.name = "symbolicate_v4",
     .template = "/symbolicate/v4",
     .methods = SRV_POST | SRV_OPTIONS,
     .handler = srv_handle_symbolicate_v4},
    {.name = "upload",
     .template = "/upload/",
     .methods = SRV_POST,
     .body_handler = srv_handle_upload},
    {.name = "api_tokens",
     .template = "/api/tokens/",
     .methods = SRV_GET | SRV_POST,
     .handler = srv_handle_api_tokens},
    {.name = "api_token",
     .template = "/api/tokens/token/{id}",
     .methods = SRV_DELETE,
     .handler = srv_handle_api_token},
    {.name = "api_token_extend",
     .template = "/api/tokens/token/{id}/extend",
     .methods = SRV_POST,
     .handler = srv_handle_api_token_extend},
    {.name = "api_uploads",
     .template = "/api/uploads/",
     .methods = SRV_GET,
     .handler = srv_handle_api_uploads},
    {.name = "api_upload",
     .template = "/api/uploads/upload/{id}",
     .methods = SRV_GET,
     .handler = srv_handle_api_upload},
    {.name = "api_files",
     .template = "/api/uploads/files/",
     .methods = SRV_GET,
     .handler = srv_handle_api_files},
    {.name = "api_file",
     .template = "/api/uploads/files/file/{id}",
     .methods = SRV_GET,
     .handler = srv_handle_api_file},
    {.name = "api_syminfo",
     .template = "/api/syminfo/{debug_filename}/{debug_id}",
     .methods = SRV_GET,
     .handler = srv_handle_api_syminfo},
    {.name = "stackwalk",
     .template = "/stackwalk",
     .methods = SRV_POST,
     .body_handler = srv_handle_stackwalk},
    {.name = "process",
     .template = "/process",
     .methods = SRV_POST,
     .body_handler = srv_handle_process},
    {.name = "download_try",
     .template = "/try/{debug_filename}/{debug_id}/{filename}",
     .methods = GET_HEAD,
     .handler = srv_handle_download},
    {.name = "download",
     .template = "/{debug_filename}/{debug_id}/{filename}",
     .methods = GET_HEAD,
     .handler = srv_handle_download},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Statuses that get their own series; the rest are counted as "other". */
static const int tracked_statuses[] = {200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405,
                                       408, 409, 413, 414, 415, 429, 499, 500, 502, 503, 504};
#define N_STATUSES (sizeof(tracked_statuses) / sizeof(tracked_statuses[0]))

struct srv_route_metrics {
    struct srv_counter *by_status[N_STATUSES + 1]; /* last: other */
    struct srv_histogram *latency;
};

struct router_handler {
    h2o_handler_t super;
    struct srv_app *app;
};

static const struct {
    const char *name;
    unsigned bit;
} method_names[] = {{"GET", SRV_GET},    {"HEAD", SRV_HEAD},     {"POST", SRV_POST},
                    {"PUT", SRV_PUT},    {"DELETE", SRV_DELETE}, {"OPTIONS", SRV_OPTIONS},
                    {"PATCH", SRV_PATCH}};

static unsigned method_bit(const char *method, size_t len)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (h2o_memis(method, len, method_names[i].name, strlen(method_names[i].name)))
            return method_names[i].bit;
    return 0;
}

/* Matches decoded segments against a template; on success fills the parameters. */
static bool match_template(const char *tmpl, struct srv_path *path, struct srv_route_match *rc)
{
    size_t seg = 0, n_params = 0;
    const char *t = tmpl;
    if (*t != '/')
        return false;
    while (*t == '/') {
        t++;
        const char *end = strchr(t, '/');
        size_t len = end ? (size_t)(end - t) : strlen(t);
        if (seg >= path->n_segments)
            return false;
        const char *s = path->segments[seg];
        size_t slen = path->segment_lens[seg];
        if (len >= 2 && t[0] == '{' && t[len - 1] == '}') {
            if (slen == 0 || n_params >= SRV_MAX_PARAMS)
                return false;
            rc->params[n_params] = s;
            rc->param_lens[n_params] = slen;
            n_params++;
        } else if (len != slen || memcmp(t, s, len) != 0) {
            return false;
        }
        seg++;
        t += len;
    }
    if (seg != path->n_segments)
        return false;
    rc->n_params = n_params;
    return true;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (tracked_statuses[i] == status)
            return i;
    return N_STATUSES;
}

/* Runs when the request's memory pool is released: the response is complete (or the client
 * went away), so this is where a request stops being in flight. */
static void on_request_disposed(void *p)
{
    struct srv_reqctx *rc = *(struct srv_reqctx **)p;
    h2o_req_t *req = rc->owner;
    struct srv_app *app = rc->app;
    uint64_t elapsed_us = srv_now_us() - rc->started_us;
    int status = req->res.status ? req->res.status : 499;
    srv_router_observe(rc->metrics, status, elapsed_us);
    if (app->cfg->access_log && srv_log_enabled(&app->log, SRV_LOG_INFO)) {
        json_t *f = json_object();
        if (f != NULL) {
            json_object_set_new(f, "method", json_stringn(rc->log_method.base, rc->log_method.len));
            json_object_set_new(f, "path", json_stringn(rc->log_path.base, rc->log_path.len));
            json_object_set_new(f, "route", json_string(rc->route ? rc->route->name : "none"));
            json_object_set_new(f, "status", json_integer(status));
            json_object_set_new(f, "bytes", json_integer((json_int_t)req->bytes_sent));
            json_object_set_new(f, "duration_ms", json_real((double)elapsed_us / 1000.0));
            json_object_set_new(f, "request_id", json_string(rc->request_id));
            if (rc->cache_state != NULL)
                json_object_set_new(f, "cache", json_string(rc->cache_state));
            struct srv_worker *w = rc->worker;
            bool was_empty = w->access_log.len == 0;
            srv_log_append(&app->log, SRV_LOG_INFO, "access", f, &w->access_log);
            /* Lines go out in batches: when the buffer is large, else within 100 ms. */
            if (w->access_log.len >= 32768)
                srv_log_flush_buf(&w->access_log);
            else if (was_empty && w->access_log.len > 0 &&
                     !h2o_timeout_is_linked(&w->access_log_flush))
                h2o_timeout_link(w->ctx.loop, &w->ctx.hundred_ms_timeout, &w->access_log_flush);
        }
    }
    rc->worker->inflight--;
}

static void assign_request_id(struct srv_reqctx *rc, h2o_req_t *req)
{
    size_t len;
    const char *given = srv_req_header(req, "x-request-id", &len);
    bool ok = given != NULL && len > 0 && len < sizeof(rc->request_id);
    for (size_t i = 0; ok && i < len; i++) {
        char c = given[i];
        ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             c == '-' || c == '_' || c == '.';
    }
    if (ok) {
        memcpy(rc->request_id, given, len);
        rc->request_id[len] = '\0';
    } else {
        snprintf(rc->request_id, sizeof(rc->request_id), "%08" PRIx32 "-%02x-%010" PRIx64,
                 rc->app->boot_id, rc->worker->id & 0xff, rc->worker->next_req_id++);
    }
    srv_add_header(req, "x-request-id", rc->request_id);
}

static void respond_not_found(h2o_req_t *req)
{
    json_t *body = json_object();
    if (body != NULL) {
        size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
        json_object_set_new(body, "error", json_string("Not Found"));
        json_object_set_new(body, "path", json_stringn(req->path.base, n > 1024 ? 1024 : n));
    }
    srv_respond_json(req, 404, body);
}

static void respond_method_not_allowed(h2o_req_t *req, const struct srv_route *route)
{
    char allow[80];
    srv_router_allow(route, allow, sizeof(allow));
    srv_add_header(req, "allow", allow);
    size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    char msg[1200];
    snprintf(msg, sizeof(msg), "Method Not Allowed (%.*s): %.*s",
             (int)(req->method.len > 16 ? 16 : req->method.len), req->method.base,
             (int)(n > 1024 ? 1024 : n), req->path.base);
    srv_respond_error(req, 405, msg);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct router_handler *h = (struct router_handler *)self;
    struct srv_worker *worker = srv_worker_of(req);
    struct srv_reqctx *rc = h2o_mem_alloc_pool(&req->pool, sizeof(*rc));
    memset(rc, 0, sizeof(*rc));
    rc->app = h->app;
    rc->worker = worker;
    rc->owner = req;
    rc->started_us = srv_now_us();
    rc->is_head = srv_req_is(req, "HEAD");
    /* The parsed request line may live in the connection's input buffer, which can be gone by
     * the time the request is disposed and logged. */
    rc->log_method =
        h2o_strdup(&req->pool, req->method.base, req->method.len > 16 ? 16 : req->method.len);
    rc->log_path =
        h2o_strdup(&req->pool, req->path.base, req->path.len > 1024 ? 1024 : req->path.len);
    struct srv_reqctx **hook = h2o_mem_alloc_shared(&req->pool, sizeof(*hook), on_request_disposed);
    *hook = rc;
    worker->inflight++;
    assign_request_id(rc, req);

    size_t path_len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    struct srv_route_match match;
    srv_router_match(&req->pool, req->method.base, req->method.len, req->path.base, path_len,
                     &match);
    if (match.route != NULL) {
        rc->route = match.route;
        rc->metrics = &h->app->route_metrics[match.route_index];
        rc->n_params = match.n_params;
        for (size_t i = 0; i < match.n_params; i++) {
            rc->params[i] = match.params[i];
            rc->param_lens[i] = match.param_lens[i];
        }
    }
    switch (match.status) {
    case 0:
        break;
    case 414:
        srv_respond_error(req, 414, "URI Too Long");
        return 0;
    case 405:
        respond_method_not_allowed(req, match.route);
        return 0;
    default:
        respond_not_found(req);
        return 0;
    }
    if (match.route->body_handler != NULL && (srv_req_is(req, "POST") || srv_req_is(req, "PUT")))
        srv_body_route_h2o(rc, req, match.route->body_handler);
    else
        match.route->handler(rc, req);
    return 0;
}

void srv_router_match(h2o_mem_pool_t *pool, const char *method, size_t method_len, const char *path,
                      size_t path_len, struct srv_route_match *out)
{
    memset(out, 0, sizeof(*out));
    struct srv_path split;
    enum srv_path_result pr = srv_path_split(pool, path, path_len, &split);
    if (pr != SRV_PATH_OK) {
        out->status = pr == SRV_PATH_TOO_LONG ? 414 : 404;
        return;
    }
    unsigned m = method_bit(method, method_len);
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!match_template(routes[i].template, &split, out))
            continue;
        out->route = &routes[i];
        out->route_index = i;
        out->status = (routes[i].methods & m) ? 0 : 405;
        return;
    }
    out->status = 404;
}

void srv_router_allow(const struct srv_route *route, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
        if (!(route->methods & method_names[i].bit))
            continue;
        if (out[0])
            strncat(out, ", ", cap - strlen(out) - 1);
        strncat(out, method_names[i].name, cap - strlen(out) - 1);
    }
}

struct srv_route_metrics *srv_router_metrics(struct srv_app *app, size_t route_index)
{
    return &app->route_metrics[route_index];
}

void srv_router_observe(struct srv_route_metrics *m, int status, uint64_t elapsed_us)
{
    if (m == NULL)
        return;
    srv_counter_inc(m->by_status[status_slot(status)]);
    srv_histogram_observe_us(m->latency, elapsed_us);
}

void srv_router_setup(struct srv_app *app)
{
    app->route_metrics = calloc(N_ROUTES, sizeof(*app->route_metrics));
    for (size_t i = 0; app->route_metrics && i < N_ROUTES; i++) {
        char labels[160];
        for (size_t s = 0; s <= N_STATUSES; s++) {
            if (s < N_STATUSES)
                snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%d\"", routes[i].name,
                         tracked_statuses[s]);
            else
                snprintf(labels, sizeof(labels), "route=\"%s\",status=\"other\"", routes[i].name);
            app->route_metrics[i].by_status[s] =
                srv_metrics_counter(app->metrics, "sigil_http_requests_total",
                                    "HTTP requests by route and status", labels);
        }
        snprintf(labels, sizeof(labels), "route=\"%s\"", routes[i].name);
        app->route_metrics[i].latency =
            srv_metrics_histogram(app->metrics, "sigil_http_request_duration_seconds",
                                  "Time from request start to the end of the response", labels);
    }
    h2o_hostconf_t *host =
        h2o_config_register_host(&app->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    struct router_handler *h =
        (struct router_handler *)h2o_create_handler(pathconf, sizeof(struct router_handler));
    h->super.on_req = on_req;
    h->app = app;
}

void srv_router_cleanup(struct srv_app *app)
{
    free(app->route_metrics);
    app->route_metrics = NULL;
}

void srv_router_list(FILE *out)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        for (size_t m = 0; m < sizeof(method_names) / sizeof(method_names[0]); m++)
            if (routes[i].methods & method_names[m].bit)
                fprintf(out, "%s %s\n", method_names[m].name, routes[i].template);
}
