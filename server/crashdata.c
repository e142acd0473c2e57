/* SPDX-License-Identifier: MPL-2.0 */
/* crashdata.c: jansson trees -> signature input trees; Socorro-style crash_data assembly. */
#include "crashdata.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct conv {
    struct sig_arena *arena;
    size_t nodes;
    struct sym_diag *diag;
};

static sym_err convert(struct conv *c, const json_t *j, struct sig_value *out, int depth)
{
    if (depth > SRV_CRASHDATA_MAX_DEPTH)
        return sym_diag_set(c->diag, SYM_ELIMIT, "crash data nested deeper than %d levels",
                            SRV_CRASHDATA_MAX_DEPTH);
    if (++c->nodes > SRV_CRASHDATA_MAX_NODES)
        return sym_diag_set(c->diag, SYM_ELIMIT, "crash data has more than %zu values",
                            SRV_CRASHDATA_MAX_NODES);
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(j);
        struct sig_member *m = n ? sig_arena_alloc(c->arena, n * sizeof(*m)) : NULL;
        if (n && m == NULL)
            return sym_diag_set(c->diag, SYM_ENOMEM, "out of memory");
        size_t i = 0;
        const char *key;
        size_t key_len;
        json_t *v;
        void *tmp;
        json_object_keylen_foreach_safe((json_t *)j, tmp, key, key_len, v)
        {
            if (i >= n)
                break;
            m[i].key = key; /* borrowed: lives as long as j */
            m[i].key_len = key_len;
            sym_err rc = convert(c, v, &m[i].value, depth + 1);
            if (rc != SYM_OK)
                return rc;
            i++;
        }
        *out = sig_value_null();
        out->type = SIG_T_OBJ;
        out->u.obj.members = m;
        out->u.obj.n = i;
        return SYM_OK;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        struct sig_value *items = n ? sig_arena_alloc(c->arena, n * sizeof(*items)) : NULL;
        if (n && items == NULL)
            return sym_diag_set(c->diag, SYM_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            sym_err rc = convert(c, json_array_get(j, i), &items[i], depth + 1);
            if (rc != SYM_OK)
                return rc;
        }
        *out = sig_value_null();
        out->type = SIG_T_LIST;
        out->u.list.items = items;
        out->u.list.n = n;
        return SYM_OK;
    }
    case JSON_STRING: {
        /* Borrowed, not copied: the tree is only used while j is alive. */
        *out = sig_value_strn(json_string_value(j), json_string_length(j));
        return SYM_OK;
    }
    case JSON_INTEGER:
        *out = sig_value_int((int64_t)json_integer_value(j));
        return SYM_OK;
    case JSON_REAL:
        *out = sig_value_real(json_real_value(j));
        return SYM_OK;
    case JSON_TRUE:
        *out = sig_value_bool(true);
        return SYM_OK;
    case JSON_FALSE:
        *out = sig_value_bool(false);
        return SYM_OK;
    case JSON_NULL:
    default:
        *out = sig_value_null();
        return SYM_OK;
    }
}

sym_err srv_crashdata_from_json(const json_t *j, struct srv_crashdata *out, struct sym_diag *diag)
{
    if (out == NULL)
        return sym_diag_set(diag, SYM_EINVAL, "missing argument");
    sig_arena_init(&out->arena, 0);
    out->root = sig_value_null();
    if (j == NULL)
        return sym_diag_set(diag, SYM_EINVAL, "missing crash data");
    struct conv c = {&out->arena, 0, diag};
    struct sig_value root;
    sym_err rc = convert(&c, j, &root, 0);
    if (rc != SYM_OK) {
        sig_arena_cleanup(&out->arena);
        return rc;
    }
    out->root = root;
    return SYM_OK;
}

void srv_crashdata_cleanup(struct srv_crashdata *cd)
{
    if (cd == NULL)
        return;
    sig_arena_cleanup(&cd->arena);
    cd->root = sig_value_null();
}

/* ---- crash_data assembly ---- */

static int set_copy(json_t *dst, const char *key, json_t *v)
{
    if (v == NULL)
        return 0;
    json_t *copy = json_deep_copy(v);
    if (copy == NULL)
        return -1;
    return json_object_set_new(dst, key, copy);
}

/* Socorro's int-or-null for OOMAllocationSize. */
static json_t *int_or_null(json_t *v)
{
    if (json_is_integer(v))
        return json_integer(json_integer_value(v));
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno == 0 && end != s && *end == '\0')
            return json_integer(n);
    }
    return json_null();
}

static json_t *split_minidumps(json_t *v)
{
    if (json_is_array(v))
        return json_deep_copy(v);
    json_t *list = json_array();
    if (list == NULL || !json_is_string(v))
        return list;
    const char *s = json_string_value(v);
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n && (s[0] == ' ')) {
            s++;
            n--;
        }
        while (n && s[n - 1] == ' ')
            n--;
        if (n && json_array_append_new(list, json_stringn(s, n)) != 0) {
            json_decref(list);
            return NULL;
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    return list;
}

sym_err srv_crashdata_build(const json_t *stackwalk, const json_t *annotations, json_t **out)
{
    static const struct {
        const char *annotation, *key;
    } copied[] = {
        {"AbortMessage", "abort_message"},
        {"AsyncShutdownTimeout", "async_shutdown_timeout"},
        {"IPCChannelError", "ipc_channel_error"},
        {"IPCMessageName", "ipc_message_name"},
        {"JSLargeAllocationFailure", "js_large_allocation_failure"},
        {"JavaStackTrace", "java_stack_trace"},
        {"MozCrashReason", "moz_crash_reason"},
        {"Hang", "hang"},
    };
    json_t *cd = json_object();
    if (cd == NULL)
        return SYM_ENOMEM;
    int rc = 0;
    json_t *sw = json_is_object(stackwalk) ? (json_t *)stackwalk : NULL;
    json_t *ann = json_is_object(annotations) ? (json_t *)annotations : NULL;
    if (sw) {
        json_t *ci = json_object_get(sw, "crash_info");
        json_t *si = json_object_get(sw, "system_info");
        rc |= set_copy(cd, "crashing_thread", json_object_get(ci, "crashing_thread"));
        rc |= set_copy(cd, "reason", json_object_get(ci, "type"));
        rc |= set_copy(cd, "threads", json_object_get(sw, "threads"));
        rc |= set_copy(cd, "os", json_object_get(si, "os"));
        json_t *status = json_object_get(sw, "status");
        if (json_is_string(status) && strcmp(json_string_value(status), "OK") != 0)
            rc |= set_copy(cd, "mdsw_status_string", status);
    }
    if (ann) {
        for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
            rc |= set_copy(cd, copied[i].key, json_object_get(ann, copied[i].annotation));
        json_t *oom = json_object_get(ann, "OOMAllocationSize");
        if (oom)
            rc |= json_object_set_new(cd, "oom_allocation_size", int_or_null(oom));
        json_t *je = json_object_get(ann, "JavaException");
        if (json_is_string(je)) {
            json_t *parsed = json_loads(json_string_value(je), JSON_DECODE_ANY, NULL);
            if (parsed)
                rc |= json_object_set_new(cd, "java_exception", parsed);
        } else if (je) {
            rc |= set_copy(cd, "java_exception", je);
        }
        json_t *md = json_object_get(ann, "additional_minidumps");
        if (md) {
            json_t *list = split_minidumps(md);
            rc |= list ? json_object_set_new(cd, "additional_minidumps", list) : -1;
        }
    }
    if (rc != 0) {
        json_decref(cd);
        return SYM_ENOMEM;
    }
    *out = cd;
    return SYM_OK;
}
