/* SPDX-License-Identifier: MPL-2.0 */
/* handlers.h: the request handlers named in the route table (http/router.c). Each answers its
 * request exactly once, directly or from a job's done() callback. */
#ifndef SRV_HANDLERS_H
#define SRV_HANDLERS_H

#include "http/bodyreq.h"
#include "http/router.h"

/* health.c */
void srv_handle_lbheartbeat(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_heartbeat(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_version(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_metrics(struct srv_reqctx *rc, h2o_req_t *req);

/* download.c: GET|HEAD /{debug_filename}/{debug_id}/{filename} and /try/... */
void srv_handle_download(struct srv_reqctx *rc, h2o_req_t *req);

/* objects.c: objects of the local-folder backend, served with their stored headers */
void srv_handle_object(struct srv_reqctx *rc, h2o_req_t *req);

/* signature.c: POST /signature */
void srv_handle_signature(struct srv_reqctx *rc, h2o_req_t *req);

/* symbolicate.c: POST|OPTIONS /symbolicate/v5 and /symbolicate/v4 */
void srv_handle_symbolicate_v5(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_symbolicate_v4(struct srv_reqctx *rc, h2o_req_t *req);

/* upload.c: POST /upload/ (a body route: runs on a body thread) */
struct srv_body_req;
void srv_handle_upload(struct srv_body_req *br);

/* tokens.c: /api/tokens/, /api/tokens/token/{id}, /api/tokens/token/{id}/extend */
void srv_handle_api_tokens(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_api_token(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_api_token_extend(struct srv_reqctx *rc, h2o_req_t *req);

/* uploads_api.c: /api/uploads/..., /api/syminfo/{debug_filename}/{debug_id} */
void srv_handle_api_uploads(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_api_upload(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_api_files(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_api_file(struct srv_reqctx *rc, h2o_req_t *req);
void srv_handle_api_syminfo(struct srv_reqctx *rc, h2o_req_t *req);

/* minidump.c: body routes (see http/bodyreq.h) */
void srv_handle_stackwalk(struct srv_body_req *br);
void srv_handle_process(struct srv_body_req *br);

#endif
