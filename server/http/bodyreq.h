/* SPDX-License-Identifier: MPL-2.0 */
/* bodyreq.h: requests whose body may be large (symbol zips, minidumps) and is consumed on a
 * blocking thread, streamed to temporary files, never held in memory whole.
 *
 * Two transports deliver such a request to the same handler:
 *   - the stream transport: when the first request of a new connection is a POST to a body
 *     route, the connection is taken from h2o right after its headers, and a blocking thread reads
 *     the body from the socket (Content-Length or chunked, Expect: 100-continue honoured), writes
 *     the response itself and closes the connection;
 *   - the h2o transport: a body-route request that arrives later on a keep-alive connection has
 *     been read by h2o; its body is fed to the same parser from memory.
 * Either way the handler runs on a blocking thread with a struct srv_body_req: it may answer
 * before reading the body (the rest is then read and discarded, so that the client sees the
 * answer), or read it with limits: multipart parts go to files in the spool directory, other
 * bodies to memory. The response is built in the struct and sent by the transport. */
#ifndef SRV_BODYREQ_H
#define SRV_BODYREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/router.h"
#include "sym/buf.h"
#include "sym/err.h"

struct srv_app;

struct srv_body_part {
    char name[256];
    char filename[256];
    char content_type[128];
    bool has_filename;
    char *path; /* file parts: spooled file (owned, removed with the request) */
    char *data; /* other parts: the value, NUL-terminated (owned) */
    uint64_t size;
};

struct srv_body_limits {
    uint64_t max_body;  /* whole body; over it: SYM_ELIMIT (413) */
    uint64_t max_field; /* a non-file part, or a non-multipart body, kept in memory */
    size_t max_parts;   /* multipart parts */
    bool files_to_disk; /* file parts to spooled files (else to memory, within max_field) */
};

struct srv_body_header {
    const char *name; /* lower-case */
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct srv_body_req {
    /* Request (read-only for handlers). */
    struct srv_app *app;
    const struct srv_route *route;
    const char *method;
    const char *path;                   /* raw, without the query */
    const char *query;                  /* raw, without '?', "" when none */
    const char *params[SRV_MAX_PARAMS]; /* decoded path parameters */
    size_t n_params;
    struct srv_body_header *headers;
    size_t n_headers;
    char request_id[40];
    uint64_t started_us;

    /* Body, after srv_br_read_body(). */
    char content_type[256];
    struct srv_body_part *parts; /* multipart/form-data */
    size_t n_parts;
    char *raw; /* any other body, NUL-terminated */
    size_t raw_len;
    uint64_t body_bytes; /* bytes received */

    /* Response, built by the handler. */
    int status;
    struct sym_buf res_headers; /* "name: value\r\n" lines */
    struct sym_buf res_body;
    const char *res_content_type;

    /* Transport (internal). */
    void *transport;
    bool body_consumed;
};

/* Header value or NULL (name in lower case). */
const char *srv_br_header(const struct srv_body_req *br, const char *name, size_t *len_out);

/* Reads the whole body under lim. SYM_ELIMIT when it is larger than lim->max_body (or a field
 * larger than max_field), SYM_EPARSE for a malformed multipart or chunked body, SYM_EIO when the
 * client went away or timed out, SYM_ENOMEM; the message is in d. Called at most once. */
sym_err srv_br_read_body(struct srv_body_req *br, const struct srv_body_limits *lim,
                         struct sym_diag *d) SYM_MUST_CHECK;
/* The first part with that name, or NULL. */
const struct srv_body_part *srv_br_part(const struct srv_body_req *br, const char *name);

/* Response builders (each replaces what was set before). */
void srv_br_add_header(struct srv_body_req *br, const char *name, const char *value);
void srv_br_respond(struct srv_body_req *br, int status, const char *content_type, const void *body,
                    size_t len);
void srv_br_respond_json(struct srv_body_req *br, int status, json_t *body); /* steals body */
void srv_br_respond_error(struct srv_body_req *br, int status, const char *message);
/* Maps like srv_respond_sym_err(). */
void srv_br_respond_sym_err(struct srv_body_req *br, sym_err e, const struct sym_diag *d);

/* Creates the spool directory and removes what an earlier process left in it. */
sym_err srv_body_spool_init(const char *dir, struct sym_diag *d) SYM_MUST_CHECK;

/* Called by the accept path of each event loop for a new connection: sniffs the first request
 * and either takes it over (stream transport) or hands the socket to h2o. */
void srv_body_accept(struct srv_worker *worker, h2o_socket_t *sock);

/* The h2o transport: the router calls this for a body route reached through h2o. */
void srv_body_route_h2o(struct srv_reqctx *rc, h2o_req_t *req, srv_body_handler_fn handler);

#endif
