/* SPDX-License-Identifier: MPL-2.0 */
/* router.h: THE route table. One h2o handler receives every request, splits and percent-decodes
 * the path, matches it against the table, enforces methods (405 with Allow), and hands the request
 * to the route's handler with the decoded path parameters. It also owns the per-request
 * bookkeeping: request id, in-flight count (for graceful shutdown), one access-log line and the
 * request metrics, all done when the request is disposed. */
#ifndef SRV_ROUTER_H
#define SRV_ROUTER_H

#define H2O_USE_LIBUV 0
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <h2o.h>

struct srv_app;
struct srv_worker;

#define SRV_MAX_PARAMS 4

enum srv_method {
    SRV_GET = 1 << 0,
    SRV_HEAD = 1 << 1,
    SRV_POST = 1 << 2,
    SRV_PUT = 1 << 3,
    SRV_DELETE = 1 << 4,
    SRV_OPTIONS = 1 << 5,
    SRV_PATCH = 1 << 6,
};

struct srv_route;

/* Per-request state, allocated in the request pool. */
struct srv_reqctx {
    struct srv_app *app;
    struct srv_worker *worker;
    const struct srv_route *route;
    uint64_t started_us;
    char request_id[40];
    const char *cache_state; /* "hit", "miss", "negative" or NULL, for the access log */
    size_t n_params;
    const char *params[SRV_MAX_PARAMS]; /* decoded, NUL-terminated, in the request pool */
    size_t param_lens[SRV_MAX_PARAMS];
    struct srv_route_metrics *metrics;
    h2o_req_t *owner;
    h2o_iovec_t log_method, log_path; /* copies in the request pool, for the access log */
    bool is_head;
};

typedef void (*srv_handler_fn)(struct srv_reqctx *rc, h2o_req_t *req);

struct srv_body_req;
typedef void (*srv_body_handler_fn)(struct srv_body_req *br);

struct srv_route {
    const char *name;     /* metrics label and log field */
    const char *template; /* OpenAPI path, e.g. "/try/{debug_filename}/{debug_id}/{filename}" */
    unsigned methods;     /* SRV_* bits; other methods get 405 */
    srv_handler_fn handler;
    /* For routes whose body may be large: runs on a blocking thread (see http/bodyreq.h), for
     * POST and PUT; handler is then not used for those methods. */
    srv_body_handler_fn body_handler;
};

/* Result of matching a request line against the route table. */
struct srv_route_match {
    const struct srv_route *route; /* NULL: no route (status 404 or 414) */
    size_t route_index;
    int status; /* 0 when routed and the method is allowed; else 404/405/414 */
    size_t n_params;
    const char *params[SRV_MAX_PARAMS]; /* decoded, NUL-terminated, in pool */
    size_t param_lens[SRV_MAX_PARAMS];
};

/* Matches (method, path without query) against the table; decoded parameters go into pool. */
void srv_router_match(h2o_mem_pool_t *pool, const char *method, size_t method_len, const char *path,
                      size_t path_len, struct srv_route_match *out);
/* "Method Not Allowed (PUT): /path" style text and the Allow list of a route. */
void srv_router_allow(const struct srv_route *route, char *out, size_t cap);

/* Registers the router as the handler of every path on the app's h2o configuration and creates
 * the per-route metrics. */
void srv_router_setup(struct srv_app *app);
void srv_router_cleanup(struct srv_app *app);

/* The per-route metrics of a matched route, for requests served outside h2o. */
struct srv_route_metrics *srv_router_metrics(struct srv_app *app, size_t route_index);
/* Counts a finished request in the route's metrics. */
void srv_router_observe(struct srv_route_metrics *m, int status, uint64_t elapsed_us);

/* Prints "METHOD TEMPLATE" for every route, one per line (for `sigil serve --list-routes`). */
void srv_router_list(FILE *out);

#endif
