/* SPDX-License-Identifier: MPL-2.0 */
/* form.c: urlencoded form decoding. */
#include "upload/form.h"

#include <stdlib.h>
#include <string.h>

#include "http/pathutil.h"

char *srv_form_value(const char *data, size_t len, const char *key, bool *present,
                     size_t *value_len)
{
    const char *v;
    size_t n;
    *present = srv_form_find(data, len, key, &v, &n);
    if (!*present)
        return NULL;
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t o = srv_form_decode(v, n, out);
    if (value_len != NULL)
        *value_len = o;
    return out;
}
