/* SPDX-License-Identifier: MPL-2.0 */
/* api_call.c: the runner of the /api/ endpoints. */
#include "handlers/api_call.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http/respond.h"
#include "upload/form.h"

static char *dup_n(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out != NULL) {
        if (n > 0)
            memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

void srv_api_json(struct srv_api_call *call, int status, json_t *body)
{
    json_decref(call->json);
    call->json = body;
    call->status = body != NULL ? status : 500;
    if (body == NULL)
        call->rc = SYM_ENOMEM;
}

static json_t *error_body(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static json_t *error_body(const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    json_t *body = json_object();
    if (body != NULL)
        json_object_set_new(body, "error", json_string(msg));
    return body;
}

void srv_api_error(struct srv_api_call *call, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *body = error_body(fmt, ap);
    va_end(ap);
    srv_api_json(call, status, body);
}

void srv_api_form_error(struct srv_api_call *call, const char *field, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *errors = json_object(), *body = json_object(), *list = json_array();
    if (errors == NULL || body == NULL || list == NULL) {
        json_decref(errors);
        json_decref(body);
        json_decref(list);
        srv_api_json(call, 400, NULL);
        return;
    }
    json_array_append_new(list, json_string(msg));
    json_object_set_new(errors, field, list);
    json_object_set_new(body, "errors", errors);
    srv_api_json(call, 400, body);
}

void srv_api_fail(struct srv_api_call *call, sym_err rc, const struct sym_diag *d)
{
    call->rc = rc == SYM_OK ? SYM_EINTERNAL : rc;
    if (d != NULL)
        call->diag = *d;
}

const char *srv_api_arg(struct srv_api_call *call, const char *key, bool from_body, bool *present)
{
    bool p = false;
    size_t len = 0;
    const char *src = from_body ? call->body : call->query;
    size_t src_len = from_body ? call->body_len : strlen(call->query);
    char *v = src != NULL ? srv_form_value(src, src_len, key, &p, &len) : NULL;
    if (present != NULL)
        *present = p;
    if (v == NULL)
        return NULL;
    if (call->n_args == sizeof(call->args) / sizeof(call->args[0]) || len != strlen(v)) {
        free(v); /* too many arguments, or an encoded NUL: treated as absent */
        if (present != NULL)
            *present = false;
        return NULL;
    }
    call->args[call->n_args++] = v;
    return v;
}

bool srv_api_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static void api_work(struct srv_req_job *job)
{
    struct srv_api_call *call = (struct srv_api_call *)job;
    struct srv_app *app = job->app;
    enum srv_auth_status st = SRV_AUTH_ANONYMOUS;
    sym_err rc =
        srv_auth_token(app->db, call->token, call->token_len, &st, &call->who, &call->diag);
    if (rc != SYM_OK) {
        srv_api_fail(call, rc, NULL);
        return;
    }
    if (st != SRV_AUTH_OK && st != SRV_AUTH_ANONYMOUS) {
        srv_api_error(call, 403, "%s", srv_auth_message(st));
        return;
    }
    call->authenticated = st == SRV_AUTH_OK;
    if (!call->authenticated && call->auth == SRV_API_LOGIN) {
        srv_api_error(call, 403, "%s", SRV_AUTH_REQUIRED);
        return;
    }
    if (call->permission_id != 0 && !srv_principal_can(&call->who, call->permission_id)) {
        srv_api_error(call, 403, "%s", SRV_AUTH_FORBIDDEN);
        return;
    }
    PGconn *conn;
    uint64_t t0 = srv_now_us();
    rc = db_acquire(app->db, &conn, &call->diag);
    if (rc != SYM_OK) {
        srv_app_db_observe(app, t0, rc);
        srv_api_fail(call, rc, NULL);
        return;
    }
    call->fn(call, conn);
    db_release(app->db, conn);
    srv_app_db_observe(app, t0, call->rc);
}

static void api_done(struct srv_req_job *job, h2o_req_t *req)
{
    struct srv_api_call *call = (struct srv_api_call *)job;
    struct srv_app *app = job->app;
    if (call->token != NULL)
        srv_add_header(req, "vary", "Auth-Token");
    if (call->cors)
        srv_add_header(req, "access-control-allow-origin", "*");
    if (call->rc != SYM_OK) {
        srv_log_json(&app->log, SRV_LOG_ERROR, "api_failed", NULL, "%s: %s", sym_errname(call->rc),
                     call->diag.msg);
        srv_respond_sym_err(req, call->rc == SYM_ENOTFOUND ? SYM_EINTERNAL : call->rc, NULL);
    } else if (call->json != NULL) {
        srv_respond_json(req, call->status, call->json);
        call->json = NULL;
    } else if (call->text != NULL) {
        srv_respond_text(req, call->status, "text/plain; charset=utf-8", call->text);
    } else {
        srv_respond_empty(req, call->status ? call->status : 204);
    }
}

static void api_free(struct srv_req_job *job)
{
    struct srv_api_call *call = (struct srv_api_call *)job;
    free(call->token);
    free(call->query);
    free(call->body);
    free(call->method);
    free(call->base_url);
    for (size_t i = 0; i < call->n_params; i++)
        free(call->params[i]);
    for (size_t i = 0; i < call->n_args; i++)
        free(call->args[i]);
    json_decref(call->json);
    free(call->text);
    free(call);
}

void srv_api_submit(struct srv_reqctx *rc, h2o_req_t *req, enum srv_api_auth auth,
                    int permission_id, srv_api_fn fn)
{
    struct srv_app *app = rc->app;
    struct srv_api_call *call = calloc(1, sizeof(*call));
    if (call == NULL) {
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    call->auth = auth;
    call->permission_id = permission_id;
    call->fn = fn;
    size_t tlen = 0;
    const char *token = srv_req_header(req, "auth-token", &tlen);
    h2o_iovec_t q = srv_req_query(req);
    bool ok = true;
    if (token != NULL) {
        call->token = dup_n(token, tlen);
        call->token_len = tlen;
        ok = call->token != NULL;
    }
    call->query = dup_n(q.base ? q.base : "", q.len);
    call->body = dup_n(req->entity.base ? req->entity.base : "", req->entity.len);
    call->body_len = req->entity.len;
    call->method = dup_n(req->method.base, req->method.len);
    for (size_t i = 0; i < rc->n_params; i++) {
        call->params[i] = dup_n(rc->params[i], rc->param_lens[i]);
        ok = ok && call->params[i] != NULL;
        call->n_params = i + 1;
    }
    /* Absolute links: the configured public URL, else what the client called. */
    if (app->cfg->public_url[0] != '\0') {
        size_t n = strlen(app->cfg->public_url);
        while (n > 0 && app->cfg->public_url[n - 1] == '/')
            n--;
        call->base_url = dup_n(app->cfg->public_url, n);
    } else {
        char buf[600];
        snprintf(buf, sizeof(buf), "%s://%.*s",
                 req->scheme == &H2O_URL_SCHEME_HTTPS ? "https" : "http",
                 (int)(req->authority.len > 512 ? 512 : req->authority.len), req->authority.base);
        call->base_url = dup_n(buf, strlen(buf));
    }
    if (!ok || call->query == NULL || call->body == NULL || call->method == NULL ||
        call->base_url == NULL) {
        api_free(&call->base);
        srv_respond_sym_err(req, SYM_ENOMEM, NULL);
        return;
    }
    srv_req_job_submit(rc, req, &call->base, api_work, api_done, api_free);
}
