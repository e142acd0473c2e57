/* SPDX-License-Identifier: MPL-2.0 */
/* multipart.c: the state machine behind multipart.h. Delimiters may straddle chunks: the tail of
 * a chunk that could begin a delimiter is held back (at most delimiter length - 1 bytes) and
 * reconsidered with the next chunk. */
#include "http/multipart.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum mp_state {
    MP_PREAMBLE,    /* before the first delimiter */
    MP_AFTER_DELIM, /* just after "--boundary": expect CRLF (part) or "--" (end) */
    MP_HEADERS,     /* part headers up to the empty line */
    MP_DATA,        /* part data up to CRLF--boundary */
    MP_EPILOGUE,    /* after the closing delimiter: ignored */
    MP_FAILED,
};

struct srv_multipart {
    enum mp_state state;
    const struct srv_mp_callbacks *cb;
    void *ctx;
    size_t max_parts, n_parts;
    char delim[SRV_MP_MAX_BOUNDARY + 5]; /* "\r\n--" + boundary */
    size_t delim_len;
    char *held; /* bytes held back between feeds (headers, or a possible delimiter prefix) */
    size_t held_len, held_cap;
    bool in_part;
    size_t header_scanned; /* bytes of held already searched for the end of headers */
};

sym_err srv_mp_boundary(const char *ct, size_t len, char out[SRV_MP_MAX_BOUNDARY + 1])
{
    static const char type[] = "multipart/form-data";
    if (len < sizeof(type) - 1 || strncasecmp(ct, type, sizeof(type) - 1) != 0)
        return SYM_EINVAL;
    const char *p = ct + sizeof(type) - 1, *end = ct + len;
    while (p < end) {
        while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        const char *name = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        size_t name_len = (size_t)(p - name);
        if (p >= end || *p != '=')
            continue;
        p++;
        const char *val;
        size_t val_len;
        if (p < end && *p == '"') {
            val = ++p;
            while (p < end && *p != '"')
                p++;
            val_len = (size_t)(p - val);
            if (p < end)
                p++;
        } else {
            val = p;
            while (p < end && *p != ';' && *p != ' ')
                p++;
            val_len = (size_t)(p - val);
        }
        if (name_len == 8 && strncasecmp(name, "boundary", 8) == 0) {
            if (val_len == 0 || val_len > SRV_MP_MAX_BOUNDARY)
                return SYM_EINVAL;
            memcpy(out, val, val_len);
            out[val_len] = '\0';
            return SYM_OK;
        }
    }
    return SYM_EINVAL;
}

struct srv_multipart *srv_mp_new(const char *boundary, size_t max_parts,
                                 const struct srv_mp_callbacks *cb, void *ctx)
{
    size_t blen = strlen(boundary);
    if (blen == 0 || blen > SRV_MP_MAX_BOUNDARY)
        return NULL;
    struct srv_multipart *mp = calloc(1, sizeof(*mp));
    if (mp == NULL)
        return NULL;
    mp->held_cap = SRV_MP_MAX_HEADER + 2 * sizeof(mp->delim) + 8;
    mp->held = malloc(mp->held_cap);
    if (mp->held == NULL) {
        free(mp);
        return NULL;
    }
    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary, blen);
    mp->delim_len = 4 + blen;
    /* The first delimiter may come without the leading CRLF: pretend one was seen. */
    memcpy(mp->held, "\r\n", 2);
    mp->held_len = 2;
    mp->cb = cb;
    mp->ctx = ctx;
    mp->max_parts = max_parts;
    mp->state = MP_PREAMBLE;
    return mp;
}

void srv_mp_free(struct srv_multipart *mp)
{
    if (mp == NULL)
        return;
    free(mp->held);
    free(mp);
}

static sym_err fail(struct srv_multipart *mp, sym_err e, struct sym_diag *d, const char *msg)
{
    mp->state = MP_FAILED;
    return sym_diag_set(d, e, "%s", msg);
}

/* Copies the value of `key=` (quoted or not) from a Content-Disposition header. */
static void disposition_param(const char *v, size_t n, const char *key, char *out, size_t cap,
                              bool *found)
{
    size_t klen = strlen(key);
    const char *p = v, *end = v + n;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        while (p < stop && (*p == ' ' || *p == '\t'))
            p++;
        if ((size_t)(stop - p) > klen + 1 && strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *val = p + klen + 1;
            size_t len = (size_t)(stop - val);
            if (len >= 2 && val[0] == '"') {
                const char *close = memchr(val + 1, '"', (size_t)(end - val - 1));
                if (close != NULL) {
                    len = (size_t)(close - val - 1);
                    val++;
                    stop = memchr(close, ';', (size_t)(end - close));
                    if (stop == NULL)
                        stop = end;
                }
            }
            if (len >= cap)
                len = cap - 1;
            memcpy(out, val, len);
            out[len] = '\0';
            if (found)
                *found = true;
            return;
        }
        p = stop + 1;
    }
}

static sym_err parse_headers(struct srv_multipart *mp, const char *h, size_t n,
                             struct srv_mp_part_info *info, struct sym_diag *d)
{
    memset(info, 0, sizeof(*info));
    bool has_disposition = false;
    const char *p = h, *end = h + n;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *stop = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(stop - p));
        if (colon != NULL) {
            size_t name_len = (size_t)(colon - p);
            const char *v = colon + 1;
            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            size_t vlen = (size_t)(stop - v);
            if (name_len == 19 && strncasecmp(p, "content-disposition", 19) == 0) {
                if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0)
                    return fail(mp, SYM_EPARSE, d, "a multipart part is not form-data");
                has_disposition = true;
                disposition_param(v, vlen, "name", info->name, sizeof(info->name), NULL);
                disposition_param(v, vlen, "filename", info->filename, sizeof(info->filename),
                                  &info->has_filename);
            } else if (name_len == 12 && strncasecmp(p, "content-type", 12) == 0) {
                size_t len =
                    vlen < sizeof(info->content_type) ? vlen : sizeof(info->content_type) - 1;
                memcpy(info->content_type, v, len);
                info->content_type[len] = '\0';
            }
        }
        p = stop + 2;
    }
    if (!has_disposition)
        return fail(mp, SYM_EPARSE, d, "a multipart part has no Content-Disposition");
    return SYM_OK;
}

static bool held_append(struct srv_multipart *mp, const char *data, size_t len)
{
    if (len > mp->held_cap - mp->held_len)
        return false;
    memcpy(mp->held + mp->held_len, data, len);
    mp->held_len += len;
    return true;
}

/* Longest suffix of buf that is a proper prefix of the delimiter. */
static size_t partial_delim_suffix(const struct srv_multipart *mp, const char *buf, size_t n)
{
    size_t max = n < mp->delim_len - 1 ? n : mp->delim_len - 1;
    for (size_t k = max; k > 0; k--)
        if (memcmp(buf + n - k, mp->delim, k) == 0)
            return k;
    return 0;
}

/* Consumes input (held bytes first, then data); returns how many of data were consumed. */
static sym_err step(struct srv_multipart *mp, const char **data, size_t *len, struct sym_diag *d)
{
    switch (mp->state) {
    case MP_PREAMBLE:
    case MP_DATA: {
        /* Work on held + data without copying data when nothing is held. */
        const char *buf;
        size_t n;
        size_t take = 0;
        if (mp->held_len > 0) {
            take = *len < mp->delim_len ? *len : mp->delim_len;
            if (!held_append(mp, *data, take))
                return fail(mp, SYM_EINTERNAL, d, "multipart buffer overflow");
            *data += take;
            *len -= take;
            buf = mp->held;
            n = mp->held_len;
        } else {
            buf = *data;
            n = *len;
        }
        const char *hit = memmem(buf, n, mp->delim, mp->delim_len);
        size_t emit = hit ? (size_t)(hit - buf) : n - partial_delim_suffix(mp, buf, n);
        if (mp->state == MP_DATA && emit > 0) {
            sym_err rc = mp->cb->part_data(mp->ctx, buf, emit);
            if (rc != SYM_OK) {
                mp->state = MP_FAILED;
                return rc;
            }
        }
        size_t consumed = hit ? emit + mp->delim_len : emit;
        if (buf == mp->held) {
            memmove(mp->held, mp->held + consumed, n - consumed);
            mp->held_len = n - consumed;
        } else {
            *data += consumed;
            *len -= consumed;
            if (!hit) {
                /* Hold back the possible delimiter prefix. */
                if (!held_append(mp, *data, *len))
                    return fail(mp, SYM_EINTERNAL, d, "multipart buffer overflow");
                *data += *len;
                *len = 0;
            }
        }
        if (hit) {
            if (mp->state == MP_DATA) {
                mp->in_part = false;
                sym_err rc = mp->cb->part_end(mp->ctx);
                if (rc != SYM_OK) {
                    mp->state = MP_FAILED;
                    return rc;
                }
            }
            mp->state = MP_AFTER_DELIM;
        }
        return SYM_OK;
    }
    case MP_AFTER_DELIM: {
        /* Need two bytes: CRLF or "--" (transport padding spaces are not supported). */
        if (mp->held_len < 2) {
            size_t take = 2 - mp->held_len < *len ? 2 - mp->held_len : *len;
            held_append(mp, *data, take);
            *data += take;
            *len -= take;
            if (mp->held_len < 2)
                return SYM_OK;
        }
        if (memcmp(mp->held, "--", 2) == 0) {
            mp->state = MP_EPILOGUE;
            mp->held_len = 0;
            return SYM_OK;
        }
        if (memcmp(mp->held, "\r\n", 2) != 0)
            return fail(mp, SYM_EPARSE, d, "malformed multipart delimiter");
        memmove(mp->held, mp->held + 2, mp->held_len - 2);
        mp->held_len -= 2;
        mp->state = MP_HEADERS;
        mp->header_scanned = 0;
        return SYM_OK;
    }
    case MP_HEADERS: {
        size_t before = mp->held_len;
        size_t room = SRV_MP_MAX_HEADER + 4 > before ? SRV_MP_MAX_HEADER + 4 - before : 0;
        size_t take = *len < room ? *len : room;
        held_append(mp, *data, take);
        *data += take;
        *len -= take;
        size_t header_len, used;
        if (mp->held_len >= 2 && memcmp(mp->held, "\r\n", 2) == 0) {
            header_len = 0; /* a part without headers */
            used = 2;
        } else {
            /* A "\r\n\r\n" may straddle two feeds: search from a little before the bytes
             * not searched yet. */
            size_t from = mp->header_scanned > 3 ? mp->header_scanned - 3 : 0;
            const char *end = memmem(mp->held + from, mp->held_len - from, "\r\n\r\n", 4);
            if (end == NULL) {
                mp->header_scanned = mp->held_len;
                if (mp->held_len >= SRV_MP_MAX_HEADER)
                    return fail(mp, SYM_ELIMIT, d, "multipart part headers are too long");
                return SYM_OK;
            }
            header_len = (size_t)(end - mp->held);
            used = header_len + 4;
        }
        if (++mp->n_parts > mp->max_parts)
            return fail(mp, SYM_ELIMIT, d, "too many multipart parts");
        struct srv_mp_part_info info;
        sym_err rc = parse_headers(mp, mp->held, header_len, &info, d);
        if (rc != SYM_OK)
            return rc;
        /* What follows the headers is the start of the part's data: it stays held. */
        memmove(mp->held, mp->held + used, mp->held_len - used);
        mp->held_len -= used;
        mp->state = MP_DATA;
        mp->in_part = true;
        rc = mp->cb->part_begin(mp->ctx, &info);
        if (rc != SYM_OK) {
            mp->state = MP_FAILED;
            return rc;
        }
        return SYM_OK;
    }
    case MP_EPILOGUE:
        *data += *len;
        *len = 0;
        mp->held_len = 0;
        return SYM_OK;
    case MP_FAILED:
        break;
    }
    return fail(mp, SYM_EPARSE, d, "multipart parser used after an error");
}

sym_err srv_mp_feed(struct srv_multipart *mp, const char *data, size_t len, struct sym_diag *d)
{
    if (mp->state == MP_FAILED)
        return sym_diag_set(d, SYM_EPARSE, "multipart parser used after an error");
    /* Held bytes may allow progress even when no new input is left, so loop on progress. */
    for (;;) {
        size_t before = len;
        enum mp_state state = mp->state;
        size_t held = mp->held_len;
        sym_err rc = step(mp, &data, &len, d);
        if (rc != SYM_OK)
            return rc;
        if (len == before && mp->state == state && mp->held_len == held)
            return SYM_OK;
    }
}

sym_err srv_mp_finish(struct srv_multipart *mp, struct sym_diag *d)
{
    if (mp->state == MP_EPILOGUE)
        return SYM_OK;
    if (mp->state == MP_FAILED)
        return sym_diag_set(d, SYM_EPARSE, "malformed multipart body");
    mp->state = MP_FAILED;
    return sym_diag_set(d, SYM_EPARSE, "the multipart body ended before its closing delimiter");
}
