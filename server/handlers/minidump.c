/* SPDX-License-Identifier: MPL-2.0 */
/* minidump.c: POST /stackwalk and POST /process, the crash processor's calls. Both take a
 * multipart body with the minidump in the field crash reporters use, upload_file_minidump,
 * spooled to disk by the body transport and walked on that blocking thread with symbols from
 * this server's storage and the configured upstream servers.
 *   /stackwalk answers rust-minidump's `minidump-stackwalk --json` document;
 *   /process adds the crash annotations (an `extra` JSON part, or one form field per
 *   annotation) and answers the processed crash: the stackwalk JSON, the crash_data built from
 *   it and the annotations, and the Socorro signature, proto signature and notes. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "handlers/handlers.h"
#include "http/bodyreq.h"
#include "http/pathutil.h"
#include "http/respond.h"
#include "stackwalk_json.h"
#include "symsource/http_source.h"
#include "symsource/store_source.h"

#define MINIDUMP_FIELD "upload_file_minidump"
#define MAX_FORM_FIELD (1024 * 1024)

/* Reads the body and walks the minidump part. On failure the response is already set. */
static bool walk_upload(struct srv_body_req *br, json_t **stackwalk)
{
    struct srv_app *app = br->app;
    const struct srv_config *cfg = app->cfg;
    struct srv_body_limits lim = {
        .max_body = cfg->minidump_max_bytes + MAX_FORM_FIELD * 4,
        .max_field = MAX_FORM_FIELD,
        .max_parts = 256,
        .files_to_disk = true,
    };
    struct sym_diag d = {0};
    sym_err rc = srv_br_read_body(br, &lim, &d);
    if (rc != SYM_OK) {
        srv_br_respond_sym_err(br, rc, &d);
        return false;
    }
    const struct srv_body_part *part = srv_br_part(br, MINIDUMP_FIELD);
    if (br->n_parts == 0 && br->raw_len > 0) {
        srv_br_respond_error(br, 400,
                             "Must be multipart form data with the minidump in the "
                             "upload_file_minidump field");
        return false;
    }
    if (part == NULL || (part->path == NULL && part->data == NULL)) {
        srv_br_respond_error(br, 400, "No minidump: the form has no upload_file_minidump file");
        return false;
    }
    if (part->size > cfg->minidump_max_bytes) {
        srv_br_respond_error(br, 413, "The minidump is larger than SIGIL_MINIDUMP_MAX_BYTES");
        return false;
    }
    const void *dump = part->data;
    size_t len = part->size;
    void *map = NULL;
    if (part->path != NULL && len > 0) {
        int fd = open(part->path, O_RDONLY | O_CLOEXEC);
        map = fd >= 0 ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
        if (fd >= 0)
            close(fd);
        if (map == MAP_FAILED) {
            srv_br_respond_sym_err(br, SYM_EIO, NULL);
            return false;
        }
        dump = map;
    }
    struct sw_supplier suppliers[2];
    size_t n = 0;
    suppliers[n++] = srv_store_source_supplier(app->sym_store_source);
    if (app->sym_http_source != NULL)
        suppliers[n++] = srv_http_source_supplier(app->sym_http_source);
    struct srv_stackwalk_limits wl = {.max_dump_bytes = (size_t)cfg->minidump_max_bytes,
                                      .max_frames = cfg->stackwalk_max_frames};
    rc = srv_stackwalk_dump(dump, len, suppliers, n, &wl, stackwalk, &d);
    if (map != NULL)
        munmap(map, len);
    if (rc != SYM_OK) {
        if (rc == SYM_EPARSE)
            srv_br_respond_error(br, 400, d.msg[0] ? d.msg : "The minidump cannot be read");
        else
            srv_br_respond_sym_err(br, rc, &d);
        return false;
    }
    return true;
}

static bool wants(const struct srv_body_req *br, const char *key)
{
    return srv_query_has(h2o_iovec_init(br->query, strlen(br->query)), key);
}

static void respond_document(struct srv_body_req *br, json_t *doc)
{
    size_t flags = JSON_SORT_KEYS | (wants(br, "pretty") ? JSON_INDENT(2) : JSON_COMPACT);
    char *text = json_dumps(doc, flags);
    json_decref(doc);
    if (text == NULL) {
        srv_br_respond_sym_err(br, SYM_ENOMEM, NULL);
        return;
    }
    srv_br_respond(br, 200, "application/json", text, strlen(text));
    free(text);
}

void srv_handle_stackwalk(struct srv_body_req *br)
{
    json_t *stackwalk = NULL;
    if (walk_upload(br, &stackwalk))
        respond_document(br, stackwalk);
}

/* The crash annotations: an `extra` part holding the JSON object crash reporters send, merged
 * with individual form fields (which win). The minidump and other file parts are not
 * annotations. */
static json_t *annotations_of(struct srv_body_req *br, struct sym_diag *d)
{
    json_t *ann = NULL;
    const struct srv_body_part *extra = srv_br_part(br, "extra");
    if (extra != NULL) {
        json_error_t jerr;
        if (extra->data != NULL)
            ann = json_loads(extra->data, JSON_ALLOW_NUL, &jerr);
        else if (extra->path != NULL)
            ann = json_load_file(extra->path, JSON_ALLOW_NUL, &jerr);
        if (ann == NULL || !json_is_object(ann)) {
            json_decref(ann);
            sym_diag_set(d, SYM_EINVAL, "The extra field is not a JSON object");
            return NULL;
        }
    } else {
        ann = json_object();
    }
    for (size_t i = 0; ann != NULL && i < br->n_parts; i++) {
        const struct srv_body_part *p = &br->parts[i];
        if (p->data == NULL || p->has_filename || strcmp(p->name, "extra") == 0 ||
            strcmp(p->name, MINIDUMP_FIELD) == 0 || p->name[0] == '\0')
            continue;
        json_object_set_new(ann, p->name, json_stringn(p->data, p->size));
    }
    return ann;
}

void srv_handle_process(struct srv_body_req *br)
{
    struct srv_app *app = br->app;
    json_t *stackwalk = NULL;
    if (!walk_upload(br, &stackwalk))
        return;
    struct sym_diag d = {0};
    json_t *ann = annotations_of(br, &d);
    if (ann == NULL) {
        json_decref(stackwalk);
        if (d.code == SYM_EINVAL)
            srv_br_respond_error(br, 400, d.msg);
        else
            srv_br_respond_sym_err(br, SYM_ENOMEM, NULL);
        return;
    }
    bool debug = wants(br, "debug") || srv_br_header(br, "debug", NULL) != NULL;
    struct sig_generator *g = srv_app_sig_generator(app);
    json_t *out = NULL;
    sym_err rc =
        g ? srv_signature_process(&app->signature, g, stackwalk, ann, debug, &out, &d) : SYM_ENOMEM;
    json_decref(ann);
    json_decref(stackwalk);
    if (rc != SYM_OK) {
        srv_br_respond_sym_err(br, rc, &d);
        return;
    }
    respond_document(br, out);
}
