/* SPDX-License-Identifier: MPL-2.0 */
/* md_streams.c: the minidump reader's auxiliary streams: Linux text streams (cpuinfo, status,
 * lsb-release, maps...), Crashpad info and annotations, handle data, and the Mozilla macOS and
 * Linux streams. Shares the bounds-checked helpers of minidump.c through md_int.h. */
#include <inttypes.h>
#include <string.h>

#include "md_int.h"
#include "stackwalk/minidump.h"
#include "sym/alloc.h"

/* ---------------------------------------------------------------------------------------------
 * Linux text streams
 * ------------------------------------------------------------------------------------------- */

/* Iterates over the lines of a text stream, returning each line without its newline. */
static bool next_line(const struct sw_bytes *b, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= b->n)
        return false;
    const char *s = (const char *)b->p + *pos;
    size_t rest = b->n - *pos;
    const char *nl = memchr(s, '\n', rest);
    size_t n = nl ? (size_t)(nl - s) : rest;
    *line = s;
    *len = n;
    *pos += n + (nl ? 1 : 0);
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t' || (*s)[0] == '\r')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
                      (*s)[*n - 1] == '\0'))
        (*n)--;
}

static bool key_is(const char *k, size_t kn, const char *lit)
{
    return kn == strlen(lit) && memcmp(k, lit, kn) == 0;
}

static sym_err parse_lsb_release(struct sw_minidump *md)
{
    struct sw_md_linux *li = &md->linux_info;
    struct md_arena *a = &md_priv_of(md)->arena;
    const char *fields[4] = {NULL, NULL, NULL, NULL}; /* id release codename description */
    int prio[4] = {0, 0, 0, 0};
    size_t pos = 0;
    const char *line;
    size_t len;
    /* lsb-release keys win over os-release keys when both are present. */
    static const struct {
        const char *key;
        int field, prio;
    } keys[] = {
        {"DISTRIB_ID", 0, 2},          {"ID", 0, 1},
        {"DISTRIB_RELEASE", 1, 2},     {"VERSION_ID", 1, 1},
        {"DISTRIB_CODENAME", 2, 2},    {"VERSION_CODENAME", 2, 1},
        {"DISTRIB_DESCRIPTION", 3, 2}, {"PRETTY_NAME", 3, 1},
    };
    while (next_line(&li->lsb_release, &pos, &line, &len)) {
        const char *eq = memchr(line, '=', len);
        if (eq == NULL)
            continue;
        const char *k = line, *v = eq + 1;
        size_t kn = (size_t)(eq - line), vn = len - kn - 1;
        trim(&k, &kn);
        trim(&v, &vn);
        if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
            v++;
            vn -= 2;
        }
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if (!key_is(k, kn, keys[i].key) || prio[keys[i].field] >= keys[i].prio)
                continue;
            char *s = md_arena_strndup(a, v, vn);
            if (s == NULL)
                return SYM_ENOMEM;
            fields[keys[i].field] = s;
            prio[keys[i].field] = keys[i].prio;
        }
    }
    li->lsb.id = fields[0] ? fields[0] : "";
    li->lsb.release = fields[1] ? fields[1] : "";
    li->lsb.codename = fields[2] ? fields[2] : "";
    li->lsb.description = fields[3] ? fields[3] : "";
    li->has_lsb = true;
    return SYM_OK;
}

sym_err md_parse_linux(struct sw_minidump *md)
{
    struct sw_md_linux *li = &md->linux_info;
    struct md_arena *a = &md_priv_of(md)->arena;
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_CPU_INFO, &li->cpu_info);
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_PROC_STATUS, &li->proc_status);
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_LSB_RELEASE, &li->lsb_release);
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_CMD_LINE, &li->cmd_line);
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_ENVIRON, &li->environ);
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_AUXV, &li->auxv);
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_MAPS, &li->maps);
    (void)sw_minidump_stream(md, SW_STREAM_LINUX_DSO_DEBUG, &li->dso_debug);

    if (li->lsb_release.p != NULL) {
        sym_err rc = parse_lsb_release(md);
        if (rc != SYM_OK)
            return rc;
    }
    const char *line;
    size_t len, pos = 0;
    while (li->proc_status.p != NULL && next_line(&li->proc_status, &pos, &line, &len)) {
        if (len < 4 || memcmp(line, "Pid:", 4) != 0)
            continue;
        const char *v = line + 4;
        size_t vn = len - 4;
        trim(&v, &vn);
        uint64_t pid = 0;
        size_t i = 0;
        for (; i < vn && i < 10 && v[i] >= '0' && v[i] <= '9'; i++)
            pid = pid * 10 + (uint64_t)(v[i] - '0');
        if (i > 0 && i == vn && pid <= UINT32_MAX) {
            li->pid = (uint32_t)pid;
            li->has_pid = true;
        }
        break;
    }
    if (li->maps.p != NULL) {
        pos = 0;
        while (next_line(&li->maps, &pos, &line, &len)) {
            trim(&line, &len);
            if (len > 0)
                li->maps_count++;
        }
        li->has_maps = true;
    }
    pos = 0;
    while (li->cpu_info.p != NULL && next_line(&li->cpu_info, &pos, &line, &len)) {
        const char *colon = memchr(line, ':', len);
        if (colon == NULL)
            continue;
        const char *k = line, *v = colon + 1;
        size_t kn = (size_t)(colon - line), vn = len - kn - 1;
        trim(&k, &kn);
        trim(&v, &vn);
        if (!key_is(k, kn, "microcode") || vn == 0)
            continue;
        li->cpu_microcode_version = md_arena_strndup(a, v, vn);
        if (li->cpu_microcode_version == NULL)
            return SYM_ENOMEM;
        break;
    }
    return SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Crashpad info
 * ------------------------------------------------------------------------------------------- */

/* MinidumpUTF8String: u32 length + bytes + NUL. */
static char *read_utf8_string(struct sw_minidump *md, uint32_t rva)
{
    struct md_priv *pv = md_priv_of(md);
    uint32_t n;
    if (!md_u32(&pv->whole, rva, &n) || n > pv->lim.max_string_bytes ||
        !md_has(&pv->whole, (uint64_t)rva + 4, n))
        return NULL;
    return md_arena_strndup(&pv->arena, (const char *)pv->whole.p + rva + 4, n);
}

/* A MinidumpSimpleStringDictionary: u32 count + {key rva, value rva}. */
static bool read_kv_dict(struct sw_minidump *md, struct sw_bytes loc, size_t *budget,
                         struct sw_md_kv **out, size_t *n_out)
{
    struct md_rd r = {loc.p, loc.n, md->big_endian};
    uint32_t count;
    if (!md_u32(&r, 0, &count) || (r.len - 4) / 8 < count || count > *budget)
        return false;
    *budget -= count;
    if (count == 0)
        return true;
    struct sw_md_kv *kv = md_arena_alloc(&md_priv_of(md)->arena, count * sizeof(*kv));
    if (kv == NULL)
        return false;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t krva = 0, vrva = 0;
        (void)md_u32(&r, 4 + 8 * (uint64_t)i, &krva);
        (void)md_u32(&r, 8 + 8 * (uint64_t)i, &vrva);
        kv[i].key = read_utf8_string(md, krva);
        kv[i].value = read_utf8_string(md, vrva);
        if (kv[i].key == NULL || kv[i].value == NULL)
            return false;
    }
    *out = kv;
    *n_out = count;
    return true;
}

static bool read_crashpad_module(struct sw_minidump *md, struct sw_bytes loc, size_t *budget,
                                 struct sw_md_crashpad_module *cm)
{
    struct md_rd r = {loc.p, loc.n, md->big_endian};
    struct md_arena *a = &md_priv_of(md)->arena;
    struct sw_bytes b;
    uint32_t version;
    if (!md_u32(&r, 0, &version))
        return false;
    /* list_annotations: a MinidumpRVAList of UTF-8 strings. */
    if (md_read_location(md, &r, 4, &b)) {
        struct md_rd l = {b.p, b.n, md->big_endian};
        uint32_t count;
        if (!md_u32(&l, 0, &count) || (l.len - 4) / 4 < count || count > *budget)
            return false;
        *budget -= count;
        if (count > 0) {
            cm->list_annotations = md_arena_alloc(a, count * sizeof(char *));
            if (cm->list_annotations == NULL)
                return false;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t rva = 0;
                (void)md_u32(&l, 4 + 4 * (uint64_t)i, &rva);
                cm->list_annotations[i] = read_utf8_string(md, rva);
                if (cm->list_annotations[i] == NULL)
                    return false;
            }
            cm->n_list_annotations = count;
        }
    }
    if (md_read_location(md, &r, 12, &b) &&
        !read_kv_dict(md, b, budget, &cm->simple_annotations, &cm->n_simple_annotations))
        return false;
    /* annotation_objects: u32 count + {name rva, type u16, reserved u16, value rva}. */
    if (md_read_location(md, &r, 20, &b)) {
        struct md_rd l = {b.p, b.n, md->big_endian};
        uint32_t count;
        if (!md_u32(&l, 0, &count) || (l.len - 4) / 12 < count || count > *budget)
            return false;
        *budget -= count;
        if (count > 0) {
            cm->annotation_objects = md_arena_alloc(a, count * sizeof(*cm->annotation_objects));
            if (cm->annotation_objects == NULL)
                return false;
            for (uint32_t i = 0; i < count; i++) {
                struct sw_md_annotation_object *o = &cm->annotation_objects[i];
                uint32_t nrva = 0, vrva = 0, vlen = 0;
                uint64_t off = 4 + 12 * (uint64_t)i;
                (void)md_u32(&l, off, &nrva);
                (void)md_u16(&l, off + 4, &o->type);
                (void)md_u32(&l, off + 8, &vrva);
                o->name = read_utf8_string(md, nrva);
                if (o->name == NULL)
                    return false;
                /* The value is a MinidumpByteArray: u32 length + bytes. */
                if (vrva != 0 && md_u32(&md_priv_of(md)->whole, vrva, &vlen) &&
                    md_has(&md_priv_of(md)->whole, (uint64_t)vrva + 4, vlen)) {
                    o->value.p = md_priv_of(md)->whole.p + vrva + 4;
                    o->value.n = vlen;
                }
            }
            cm->n_annotation_objects = count;
        }
    }
    return true;
}

void md_parse_crashpad(struct sw_minidump *md)
{
    struct md_rd r;
    struct sw_md_crashpad_info *ci = &md->crashpad;
    if (!md_stream_rd(md, SW_STREAM_CRASHPAD_INFO, &r))
        return;
    size_t budget = md_priv_of(md)->lim.max_annotations;
    if (r.len < 52 || !md_u32(&r, 0, &ci->version)) {
        md_warn(md, SW_STREAM_CRASHPAD_INFO, SYM_EPARSE, "Crashpad info stream too short");
        return;
    }
    memcpy(ci->report_id, r.p + 4, 16);
    memcpy(ci->client_id, r.p + 20, 16);
    struct sw_bytes b;
    if (md_read_location(md, &r, 36, &b) &&
        !read_kv_dict(md, b, &budget, &ci->simple_annotations, &ci->n_simple_annotations)) {
        md_warn(md, SW_STREAM_CRASHPAD_INFO, SYM_EPARSE, "malformed Crashpad simple annotations");
        ci->n_simple_annotations = 0;
    }
    if (md_read_location(md, &r, 44, &b)) {
        struct md_rd l = {b.p, b.n, md->big_endian};
        uint32_t count;
        if (!md_u32(&l, 0, &count) || (l.len - 4) / 12 < count || count > budget) {
            md_warn(md, SW_STREAM_CRASHPAD_INFO, SYM_EPARSE, "malformed Crashpad module list");
        } else if (count > 0) {
            ci->modules = md_arena_alloc(&md_priv_of(md)->arena, count * sizeof(*ci->modules));
            if (ci->modules != NULL) {
                size_t k = 0;
                for (uint32_t i = 0; i < count; i++) {
                    struct sw_md_crashpad_module *cm = &ci->modules[k];
                    struct sw_bytes mb;
                    uint64_t off = 4 + 12 * (uint64_t)i;
                    (void)md_u32(&l, off, &cm->module_index);
                    if (!md_read_location(md, &l, off + 4, &mb))
                        continue;
                    if (!read_crashpad_module(md, mb, &budget, cm)) {
                        md_warn(md, SW_STREAM_CRASHPAD_INFO, SYM_EPARSE,
                                "malformed Crashpad annotations of module %u", cm->module_index);
                        memset(cm, 0, sizeof(*cm));
                        continue;
                    }
                    k++;
                }
                ci->n_modules = k;
            }
        }
    }
    ci->present = true;
}

/* ---------------------------------------------------------------------------------------------
 * Handles and Mozilla streams
 * ------------------------------------------------------------------------------------------- */

sym_err md_parse_handles(struct sw_minidump *md)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r;
    if (!md_stream_rd(md, SW_STREAM_HANDLE_DATA, &r))
        return SYM_OK;
    uint32_t hdr, entry, count;
    if (!md_u32(&r, 0, &hdr) || !md_u32(&r, 4, &entry) || !md_u32(&r, 8, &count) || hdr < 16 ||
        entry < 32 || hdr > r.len || (r.len - hdr) / entry < count) {
        md_warn(md, SW_STREAM_HANDLE_DATA, SYM_EPARSE, "malformed handle data stream");
        return SYM_OK;
    }
    if (count > pv->lim.max_handles) {
        md_warn(md, SW_STREAM_HANDLE_DATA, SYM_ELIMIT, "%u handles (limit %u)", count,
                pv->lim.max_handles);
        return SYM_OK;
    }
    md->has_handle_stream = true;
    if (count == 0)
        return SYM_OK;
    md->handles = md_arena_alloc(&pv->arena, (size_t)count * sizeof(*md->handles));
    if (md->handles == NULL)
        return SYM_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t off = hdr + (uint64_t)i * entry;
        struct sw_md_handle *h = &md->handles[i];
        uint32_t trva = 0, orva = 0;
        (void)md_u64(&r, off, &h->handle);
        (void)md_u32(&r, off + 8, &trva);
        (void)md_u32(&r, off + 12, &orva);
        (void)md_u32(&r, off + 16, &h->attributes);
        (void)md_u32(&r, off + 20, &h->granted_access);
        (void)md_u32(&r, off + 24, &h->handle_count);
        (void)md_u32(&r, off + 28, &h->pointer_count);
        h->type_name = trva ? md_read_string(md, trva) : NULL;
        h->object_name = orva ? md_read_string(md, orva) : NULL;
    }
    md->n_handles = count;
    return SYM_OK;
}

#define MAC_CRASH_MAX_RECORDS 20
#define MAC_CRASH_MAX_STRING  8192

sym_err md_parse_mac_crash_info(struct sw_minidump *md)
{
    struct md_rd r;
    if (!md_stream_rd(md, SW_STREAM_MOZ_MACOS_CRASH_INFO, &r))
        return SYM_OK;
    uint32_t count, start;
    if (!md_u32(&r, 4, &count) || !md_u32(&r, 8, &start) || r.len < 12 + 8 * 20 ||
        count > MAC_CRASH_MAX_RECORDS || start < 16) {
        md_warn(md, SW_STREAM_MOZ_MACOS_CRASH_INFO, SYM_EPARSE, "malformed macOS crash info");
        return SYM_OK;
    }
    md->has_mac_crash_info = true;
    if (count == 0)
        return SYM_OK;
    struct md_arena *a = &md_priv_of(md)->arena;
    md->mac_crash_records = md_arena_alloc(a, count * sizeof(*md->mac_crash_records));
    if (md->mac_crash_records == NULL)
        return SYM_ENOMEM;
    size_t k = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct sw_bytes b;
        if (!md_read_location(md, &r, 12 + 8 * (uint64_t)i, &b))
            continue;
        struct md_rd rec = {b.p, b.n, md->big_endian};
        struct sw_md_mac_crash_record *mr = &md->mac_crash_records[k];
        if (!md_u64(&rec, 8, &mr->version) || start > rec.len)
            continue;
        if (mr->version >= 4 && start >= 32) {
            mr->has_thread_fields =
                md_u64(&rec, 16, &mr->thread) && md_u64(&rec, 24, &mr->dialog_mode);
        }
        if (mr->version >= 5 && start >= 40)
            mr->has_abort_cause = md_u64(&rec, 32, &mr->abort_cause);
        if (mr->version >= 4) {
            const char **strs[5] = {&mr->module_path, &mr->message, &mr->signature_string,
                                    &mr->backtrace, &mr->message2};
            uint64_t off = start;
            for (unsigned s = 0; s < 5; s++) {
                char *v = md_read_cstring(a, &rec, off, MAC_CRASH_MAX_STRING);
                if (v == NULL)
                    break;
                *strs[s] = v;
                off += strlen(v) + 1;
            }
        }
        k++;
    }
    md->n_mac_crash_records = k;
    return SYM_OK;
}

void md_parse_mozilla(struct sw_minidump *md)
{
    struct md_rd r;
    if (md_stream_rd(md, SW_STREAM_MOZ_MACOS_BOOTARGS, &r)) {
        uint64_t rva;
        if (md_u64(&r, 4, &rva) && rva <= UINT32_MAX)
            md->mac_boot_args = md_read_string(md, rva);
    }
    (void)sw_minidump_stream(md, SW_STREAM_MOZ_LINUX_LIMITS, &md->proc_limits);
    (void)sw_minidump_stream(md, SW_STREAM_MOZ_SOFT_ERRORS, &md->soft_errors);
}
