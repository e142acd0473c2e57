/* SPDX-License-Identifier: MPL-2.0 */
/* form.c: urlencoded form decoding. */
#include "upload/form.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *srv_form_value(const char *data, size_t len, const char *key, bool *present,
                     size_t *value_len)
{
    size_t klen = strlen(key);
    const char *p = data, *end = data + len;
    *present = false;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == klen && memcmp(p, key, klen) == 0) {
            *present = true;
            const char *v = eq ? eq + 1 : stop;
            char *out = malloc((size_t)(stop - v) + 1);
            if (out == NULL)
                return NULL;
            size_t o = 0;
            for (const char *q = v; q < stop; q++) {
                if (*q == '+') {
                    out[o++] = ' ';
                } else if (*q == '%' && stop - q >= 3 && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
                    out[o++] = (char)(hexval(q[1]) * 16 + hexval(q[2]));
                    q += 2;
                } else {
                    out[o++] = *q;
                }
            }
            out[o] = '\0';
            if (value_len != NULL)
                *value_len = o;
            return out;
        }
        p = stop + 1;
    }
    return NULL;
}
