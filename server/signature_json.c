/* SPDX-License-Identifier: MPL-2.0 */
/* signature_json.c: JSON front end of the signature library for the server and the CLI. */
#include "signature_json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashdata.h"
#include "sym/alloc.h"

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *srv_signature_builtin_dir(char *buf, size_t buf_len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int w = snprintf(buf, buf_len, "%s/../share/sigil/signature-rules", exe);
            if (w > 0 && (size_t)w < buf_len && is_dir(buf))
                return buf;
        }
    }
    return sig_lists_default_dir();
}

const char *srv_signature_rules_dir(const char *configured, char *buf, size_t buf_len)
{
    if (configured && *configured)
        return configured;
    const char *env = getenv("SIGIL_SIGNATURE_RULES");
    if (env && *env)
        return env;
    return srv_signature_builtin_dir(buf, buf_len);
}

sym_err srv_signature_init(struct srv_signature *s, const char *rules_dir, struct sym_diag *diag)
{
    char buf[4096], bbuf[4096];
    const char *dir = srv_signature_rules_dir(rules_dir, buf, sizeof(buf));
    const char *builtin = srv_signature_builtin_dir(bbuf, sizeof(bbuf));
    return sig_lists_cell_init(&s->cell, dir, builtin, diag);
}

sym_err srv_signature_reload(struct srv_signature *s, struct sym_diag *diag)
{
    return sig_lists_cell_reload(&s->cell, diag);
}

void srv_signature_cleanup(struct srv_signature *s)
{
    if (s)
        sig_lists_cell_cleanup(&s->cell);
}

json_t *srv_json_stringn_lossy(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j != NULL)
        return j;
    /* Not UTF-8: keep the ASCII and mark every other byte, rather than fail the response. */
    char *copy = sym_malloc(n * 3 + 1);
    if (copy == NULL)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            copy[w++] = (char)c;
        } else {
            copy[w++] = (char)0xef;
            copy[w++] = (char)0xbf;
            copy[w++] = (char)0xbd;
        }
    }
    j = json_stringn(copy, w);
    sym_free(copy);
    return j;
}

static json_t *strlist_json(const struct sig_strlist *l)
{
    json_t *a = json_array();
    if (a == NULL)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        size_t n;
        const char *e = sig_strlist_get(l, i, &n);
        if (json_array_append_new(a, srv_json_stringn_lossy(e, n)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Runs the generator on converted crash data. */
static sym_err generate(struct srv_signature *s, struct sig_generator *g, const json_t *crash_data,
                        bool debug, struct sig_result *r, struct sym_diag *diag)
{
    struct srv_crashdata cd;
    sym_err rc = srv_crashdata_from_json(crash_data, &cd, diag);
    if (rc != SYM_OK)
        return rc;
    struct sig_lists *lists, *builtin;
    sig_lists_cell_acquire(&s->cell, &lists, &builtin);
    rc = sig_generate(g, lists, builtin, &cd.root, debug ? SIG_GEN_DEBUG : 0, r);
    sig_lists_unref(lists);
    sig_lists_unref(builtin);
    srv_crashdata_cleanup(&cd);
    if (rc != SYM_OK)
        return sym_diag_set(diag, rc, "signature generation failed: %s", sym_strerror(rc));
    return SYM_OK;
}

sym_err srv_signature_json(struct srv_signature *s, struct sig_generator *g,
                           const json_t *crash_data, bool debug, json_t **out,
                           struct sym_diag *diag)
{
    struct sig_result r;
    sig_result_init(&r);
    sym_err rc = generate(s, g, crash_data, debug, &r, diag);
    json_t *o = NULL;
    if (rc == SYM_OK) {
        o = json_object();
        int bad = o == NULL;
        if (!bad) {
            bad |= json_object_set_new(o, "signature",
                                       srv_json_stringn_lossy(r.signature.data, r.signature.len));
            bad |= json_object_set_new(o, "notes", strlist_json(&r.notes));
            bad |= json_object_set_new(
                o, "proto_signature",
                r.has_proto ? srv_json_stringn_lossy(r.proto_signature.data, r.proto_signature.len)
                            : json_null());
            if (debug)
                bad |= json_object_set_new(o, "debug_log", strlist_json(&r.debug_log));
        }
        if (bad) {
            json_decref(o);
            rc = sym_diag_set(diag, SYM_ENOMEM, "out of memory");
        }
    }
    sig_result_cleanup(&r);
    if (rc == SYM_OK)
        *out = o;
    return rc;
}

sym_err srv_signature_process(struct srv_signature *s, struct sig_generator *g, json_t *stackwalk,
                              const json_t *annotations, bool debug, json_t **out,
                              struct sym_diag *diag)
{
    json_t *cd = NULL;
    sym_err rc = srv_crashdata_build(stackwalk, annotations, &cd);
    if (rc != SYM_OK)
        return sym_diag_set(diag, rc, "out of memory");
    json_t *sig = NULL;
    rc = srv_signature_json(s, g, cd, debug, &sig, diag);
    if (rc != SYM_OK) {
        json_decref(cd);
        return rc;
    }
    json_t *o = json_object();
    int bad = o == NULL;
    if (!bad) {
        bad |= json_object_set(o, "json_dump", stackwalk ? stackwalk : json_null());
        bad |= json_object_set_new(o, "crash_data", cd);
        cd = NULL;
        bad |= json_object_set(o, "signature", json_object_get(sig, "signature"));
        bad |= json_object_set(o, "proto_signature", json_object_get(sig, "proto_signature"));
        bad |= json_object_set(o, "signature_notes", json_object_get(sig, "notes"));
        if (debug) {
            json_t *log = json_object_get(sig, "debug_log");
            size_t total = 0, i;
            json_t *line;
            json_array_foreach(log, i, line) total += json_string_length(line) + 1;
            char *text = sym_malloc(total + 1);
            bad |= text == NULL;
            if (text) {
                size_t w = 0;
                json_array_foreach(log, i, line)
                {
                    if (w)
                        text[w++] = '\n';
                    memcpy(text + w, json_string_value(line), json_string_length(line));
                    w += json_string_length(line);
                }
                bad |= json_object_set_new(o, "signature_debug", json_stringn(text, w));
                sym_free(text);
            }
        }
    }
    json_decref(cd);
    json_decref(sig);
    if (bad) {
        json_decref(o);
        return sym_diag_set(diag, SYM_ENOMEM, "out of memory");
    }
    *out = o;
    return SYM_OK;
}
