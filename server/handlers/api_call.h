/* SPDX-License-Identifier: MPL-2.0 */
/* api_call.h: the JSON API endpoints under /api/ (tokens, upload listing, syminfo) share this
 * runner: the request's Auth-Token, query string, body and path parameters are copied, the
 * endpoint runs on a blocking thread with the authenticated principal and one database
 * connection, and its JSON answer is sent from the event loop. Authentication follows
 * upload/auth.h (403 texts, Vary: Auth-Token whenever the header was present); server errors
 * are answered through srv_respond_sym_err() with details only in the log. */
#ifndef SRV_HANDLERS_API_CALL_H
#define SRV_HANDLERS_API_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "http/async.h"
#include "http/router.h"
#include "upload/auth.h"

/* An endpoint: runs on a blocking thread; answers through the srv_api_* setters below. */
struct srv_api_call;
typedef void (*srv_api_fn)(struct srv_api_call *call, PGconn *conn);

enum srv_api_auth {
    SRV_API_PUBLIC, /* no authentication (a token, when given, is still checked) */
    SRV_API_LOGIN,  /* an authenticated token is required */
};

struct srv_api_call {
    struct srv_req_job base;
    /* The request, copied (valid off the loop). */
    char *token;
    size_t token_len;
    char *query; /* raw, without '?' */
    char *body;  /* raw entity */
    size_t body_len;
    char *method;
    char *params[SRV_MAX_PARAMS];
    size_t n_params;
    char *base_url; /* scheme://host of the request, or public-url */
    /* Filled before the endpoint runs. */
    bool authenticated;
    struct srv_principal who;
    /* The answer. */
    int status;
    json_t *json; /* answered as JSON when set */
    char *text;   /* else a text/plain body (malloc'd), when set */
    bool cors;    /* Access-Control-Allow-Origin: * */
    sym_err rc;   /* a server error: answered with srv_respond_sym_err() */
    struct sym_diag diag;
    /* Internal. */
    enum srv_api_auth auth;
    int permission_id;
    srv_api_fn fn;
    char *args[32]; /* decoded values handed out by srv_api_arg() */
    size_t n_args;
};

/* Runs fn for req after authentication (permission_id 0: none needed, else 403 "Forbidden"
 * without it). Answers the request in every case. */
void srv_api_submit(struct srv_reqctx *rc, h2o_req_t *req, enum srv_api_auth auth,
                    int permission_id, srv_api_fn fn);

/* Answer setters (each replaces what was set before). */
void srv_api_json(struct srv_api_call *call, int status, json_t *body); /* steals body */
void srv_api_error(struct srv_api_call *call, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Django-style form errors: 400 {"errors": {field: [message]}}. */
void srv_api_form_error(struct srv_api_call *call, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void srv_api_fail(struct srv_api_call *call, sym_err rc, const struct sym_diag *d);

/* A decoded query-string (or form body, when from_body) value; NULL when absent. Valid until
 * the call ends. *present tells "key=" from no key. */
const char *srv_api_arg(struct srv_api_call *call, const char *key, bool from_body, bool *present);

/* Parses a decimal integer value: false for anything else (sign, spaces, overflow). */
bool srv_api_int(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
