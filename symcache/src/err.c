/* SPDX-License-Identifier: MPL-2.0 */
/* err.c: names and texts of the sym_err codes, and sym_diag formatting. */
#include "sym/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sym_strerror(sym_err e)
{
    switch (e) {
    case SYM_OK:
        return "success";
#define SYM_ERR_TEXT(name, val, msg) \
    case SYM_E##name:                \
        return msg;
        SYM_ERR_MAP(SYM_ERR_TEXT)
#undef SYM_ERR_TEXT
    }
    return "unknown error";
}

const char *sym_errname(sym_err e)
{
    switch (e) {
    case SYM_OK:
        return "SYM_OK";
#define SYM_ERR_NAME(name, val, msg) \
    case SYM_E##name:                \
        return "SYM_E" #name;
        SYM_ERR_MAP(SYM_ERR_NAME)
#undef SYM_ERR_NAME
    }
    return "SYM_EUNKNOWN";
}

bool sym_err_retryable(sym_err e)
{
    return e == SYM_EUNAVAIL || e == SYM_EIO;
}

sym_err sym_diag_set(struct sym_diag *d, sym_err code, const char *fmt, ...)
{
    if (d == NULL)
        return code;
    d->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    return code;
}

void sym_diag_clear(struct sym_diag *d)
{
    if (d == NULL)
        return;
    memset(d, 0, sizeof(*d));
}
