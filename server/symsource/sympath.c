/* SPDX-License-Identifier: MPL-2.0 */
/* sympath.c: symbol-store path construction with validation (see sympath.h). */
#include "symsource/sympath.h"

#include <stdio.h>
#include <string.h>

#include "stackwalk/minidump.h"

static bool part_ok(const char *s)
{
    if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == '%')
            return false;
    return true;
}

static bool ends_with_ci(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++) {
        char a = s[n - k + i], b = suf[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

sym_err srv_sym_path(const char *name, const char *id, bool by_code_file, char *out, size_t out_len)
{
    if (name == NULL || id == NULL)
        return SYM_EINVAL;
    const char *base = sw_basename(name);
    if (!part_ok(base) || !part_ok(id))
        return SYM_EINVAL;
    size_t n = strlen(base), stem = n;
    if (by_code_file) {
        if (ends_with_ci(base, n, ".exe") || ends_with_ci(base, n, ".dll"))
            stem = n - 4;
    } else if (ends_with_ci(base, n, ".pdb")) {
        stem = n - 4;
    }
    if (stem == 0)
        return SYM_EINVAL;
    char idbuf[256];
    size_t idn = strlen(id);
    if (idn >= sizeof(idbuf))
        return SYM_EINVAL;
    for (size_t i = 0; i <= idn; i++) {
        char c = id[i];
        if (by_code_file && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        idbuf[i] = c;
    }
    int w = snprintf(out, out_len, "%s/%s/%.*s.sym", base, idbuf, (int)stem, base);
    if (w < 0 || (size_t)w >= out_len)
        return SYM_ELIMIT;
    return SYM_OK;
}

sym_err srv_sym_find(const struct sw_module_key *key, bool upper_debug_id, srv_sym_try_fn try_rel,
                     void *ctx, struct sw_symbols *out)
{
    char rel[1024], id[256];
    sym_err rc = SYM_ENOTFOUND;
    const char *debug_file = key->debug_file[0] ? key->debug_file : key->code_file;
    size_t id_len = strlen(key->debug_id);
    if (id_len > 0 && id_len < sizeof(id)) {
        for (size_t i = 0; i <= id_len; i++) {
            char c = key->debug_id[i];
            id[i] = upper_debug_id && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        }
        if (srv_sym_path(debug_file, id, false, rel, sizeof(rel)) == SYM_OK) {
            rc = try_rel(ctx, rel, out);
            if (rc != SYM_ENOTFOUND)
                return rc;
        }
    }
    if (key->code_id[0] != '\0' &&
        srv_sym_path(key->code_file, key->code_id, true, rel, sizeof(rel)) == SYM_OK)
        rc = try_rel(ctx, rel, out);
    return rc;
}

void srv_sym_from_cache(const struct srv_cached_image *ci, struct sw_symbols *out)
{
    out->image = ci->image;
    out->corrupt = ci->corrupt;
    out->url = ci->url;
    out->debug_file = ci->debug_file;
    out->debug_id = ci->debug_id;
    out->handle = ci->ref;
}
