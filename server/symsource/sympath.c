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
