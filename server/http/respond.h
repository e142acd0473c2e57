/* SPDX-License-Identifier: MPL-2.0 */
/* respond.h: the one place that writes responses. Every handler answers through these, so headers,
 * JSON bodies and the sym_err -> HTTP status mapping stay uniform. All run on the request's event
 * loop; each request is answered exactly once. */
#ifndef SRV_RESPOND_H
#define SRV_RESPOND_H

#define H2O_USE_LIBUV 0
#include <stddef.h>

#include <h2o.h>
#include <jansson.h>

#include "sym/err.h"

/* Adds a response header (name and value are copied into the request pool). */
void srv_add_header(h2o_req_t *req, const char *name, const char *value);
void srv_add_header_n(h2o_req_t *req, const char *name, const char *value, size_t value_len);

/* Sends body as-is with the given content type (HEAD requests get the headers only). */
void srv_respond_body(h2o_req_t *req, int status, const char *content_type, const void *body,
                      size_t len);
void srv_respond_text(h2o_req_t *req, int status, const char *content_type, const char *body);
void srv_respond_empty(h2o_req_t *req, int status);
/* Serializes body (stolen) as compact JSON, Content-Type application/json. */
void srv_respond_json(h2o_req_t *req, int status, json_t *body);
/* {"error": message} with status. */
void srv_respond_error(h2o_req_t *req, int status, const char *message);
/* 302-style redirect with an empty body. */
void srv_respond_redirect(h2o_req_t *req, int status, const char *location, size_t location_len);
/* Maps an error to a status: NOTFOUND 404, INVAL/PARSE 400, LIMIT 413, DENIED 403, EXISTS 409,
 * UNAVAIL 503 (+ Retry-After), everything else 500. The body is {"error": <message>, "code":
 * <name>}; the message is the diag's for client errors, a generic text for server errors (whose
 * details go to the log, never to the client). */
void srv_respond_sym_err(h2o_req_t *req, sym_err e, const struct sym_diag *d);
int srv_status_for_err(sym_err e);
/* The JSON body and status srv_respond_sym_err() sends, for responders outside h2o. The caller
 * adds Retry-After when the status is 503. NULL body on allocation failure. */
json_t *srv_error_body(sym_err e, const struct sym_diag *d, int *status_out);
/* "OK", "Not Found", ... ("" for unusual codes). */
const char *srv_reason_phrase(int status);

/* Method helpers. */
bool srv_req_is(const h2o_req_t *req, const char *method);

/* Returns the value of a request header, or NULL; *len_out gets its length. */
const char *srv_req_header(const h2o_req_t *req, const char *name, size_t *len_out);

/* Query string after '?', or an empty iovec. */
h2o_iovec_t srv_req_query(const h2o_req_t *req);
/* True when the query string has the key (with or without a value). */
bool srv_query_has(h2o_iovec_t query, const char *key);

#endif
