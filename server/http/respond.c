/* SPDX-License-Identifier: MPL-2.0 */
/* respond.c: response helpers and the error mapping table. */
#include "http/respond.h"

#include <stdlib.h>
#include <string.h>

void srv_add_header_n(h2o_req_t *req, const char *name, const char *value, size_t value_len)
{
    size_t name_len = strlen(name);
    char *n = h2o_mem_alloc_pool(&req->pool, name_len + 1);
    memcpy(n, name, name_len + 1);
    h2o_iovec_t v = h2o_strdup(&req->pool, value, value_len);
    h2o_add_header_by_str(&req->pool, &req->res.headers, n, name_len, 1, NULL, v.base, v.len);
}

void srv_add_header(h2o_req_t *req, const char *name, const char *value)
{
    srv_add_header_n(req, name, value, strlen(value));
}

bool srv_req_is(const h2o_req_t *req, const char *method)
{
    return h2o_memis(req->method.base, req->method.len, method, strlen(method));
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    }
    return "";
}

const char *srv_reason_phrase(int status)
{
    return reason_phrase(status);
}

/* HEAD responses have no body to generate, but h2o wants a generator to finish them. */
static h2o_generator_t no_body_generator = {NULL, NULL};

void srv_respond_body(h2o_req_t *req, int status, const char *content_type, const void *body,
                      size_t len)
{
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    req->res.content_length = len;
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    if (srv_req_is(req, "HEAD")) {
        /* Same headers as GET would give, no body. */
        h2o_start_response(req, &no_body_generator);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    h2o_iovec_t copy = h2o_strdup(&req->pool, body ? body : "", len);
    h2o_send_inline(req, copy.base, copy.len);
}

void srv_respond_text(h2o_req_t *req, int status, const char *content_type, const char *body)
{
    srv_respond_body(req, status, content_type, body, strlen(body));
}

void srv_respond_empty(h2o_req_t *req, int status)
{
    srv_respond_body(req, status, NULL, "", 0);
}

void srv_respond_json(h2o_req_t *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (text == NULL) {
        static const char oom[] = "{\"error\":\"Internal Server Error\"}";
        srv_respond_body(req, 500, "application/json", oom, sizeof(oom) - 1);
        return;
    }
    srv_respond_body(req, status, "application/json", text, strlen(text));
    free(text);
}

void srv_respond_error(h2o_req_t *req, int status, const char *message)
{
    json_t *body = json_object();
    if (body != NULL)
        json_object_set_new(body, "error", json_string(message));
    srv_respond_json(req, status, body);
}

void srv_respond_redirect(h2o_req_t *req, int status, const char *location, size_t location_len)
{
    h2o_iovec_t loc = h2o_strdup(&req->pool, location, location_len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, loc.base, loc.len);
    srv_respond_empty(req, status);
}

int srv_status_for_err(sym_err e)
{
    switch (e) {
    case SYM_OK:
        return 200;
    case SYM_ENOTFOUND:
        return 404;
    case SYM_EINVAL:
    case SYM_EPARSE:
        return 400;
    case SYM_ELIMIT:
        return 413;
    case SYM_EDENIED:
        return 403;
    case SYM_EEXISTS:
        return 409;
    case SYM_EUNAVAIL:
        return 503;
    case SYM_ENOMEM:
    case SYM_EIO:
    case SYM_ECORRUPT:
    case SYM_EINTERNAL:
        break;
    }
    return 500;
}

json_t *srv_error_body(sym_err e, const struct sym_diag *d, int *status_out)
{
    int status = srv_status_for_err(e);
    const char *message;
    if (status < 500)
        message = d && d->msg[0] ? d->msg : sym_strerror(e);
    else if (status == 503)
        message = "Service Unavailable: a backend did not answer; retry later";
    else
        message = "Internal Server Error";
    *status_out = status;
    json_t *body = json_object();
    if (body != NULL) {
        json_object_set_new(body, "error", json_string(message));
        json_object_set_new(body, "code", json_string(sym_errname(e)));
    }
    return body;
}

void srv_respond_sym_err(h2o_req_t *req, sym_err e, const struct sym_diag *d)
{
    int status;
    json_t *body = srv_error_body(e, d, &status);
    if (status == 503)
        srv_add_header(req, "retry-after", "5");
    srv_respond_json(req, status, body);
}

const char *srv_req_header(const h2o_req_t *req, const char *name, size_t *len_out)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    const h2o_header_t *h = req->headers.entries + i;
    if (len_out)
        *len_out = h->value.len;
    return h->value.base;
}

h2o_iovec_t srv_req_query(const h2o_req_t *req)
{
    if (req->query_at == SIZE_MAX || req->query_at >= req->path.len)
        return h2o_iovec_init("", 0);
    return h2o_iovec_init(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
}

bool srv_query_has(h2o_iovec_t query, const char *key)
{
    size_t klen = strlen(key);
    const char *p = query.base, *end = query.base + query.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == klen && memcmp(p, key, klen) == 0)
            return true;
        p = stop + 1;
    }
    return false;
}
