/* SPDX-License-Identifier: MPL-2.0 */
/* modkey.c: debug id decoding and module naming for symbolication. */
#include "symbolicate/modkey.h"

#include <stdio.h>
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

/* Parses a run of hex digits into a 32-bit value; leading zeros are fine, overflow is not. */
static bool parse_u32_hex(const char *s, size_t len, uint32_t *out)
{
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = hexval(s[i]);
        if (d < 0)
            return false;
        v = (v << 4) | (uint64_t)d;
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool srv_symb_debug_id_parse(const char *id, size_t len, struct srv_symb_debug_id *out)
{
    struct srv_symb_debug_id r;
    memset(&r, 0, sizeof(r));
    if (len >= 9 && len <= 16) {
        uint32_t ts;
        if (!parse_u32_hex(id, 8, &ts) || !parse_u32_hex(id + 8, len - 8, &r.appendix))
            return false;
        r.pdb20 = true;
        r.uuid[0] = (uint8_t)(ts >> 24);
        r.uuid[1] = (uint8_t)(ts >> 16);
        r.uuid[2] = (uint8_t)(ts >> 8);
        r.uuid[3] = (uint8_t)ts;
    } else if (len > 32) {
        for (size_t i = 0; i < 16; i++) {
            int hi = hexval(id[2 * i]), lo = hexval(id[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return false;
            r.uuid[i] = (uint8_t)(hi << 4 | lo);
        }
        if (!parse_u32_hex(id + 32, len - 32, &r.appendix))
            return false;
    } else {
        return false;
    }
    *out = r;
    return true;
}

bool srv_symb_debug_id_eq(const struct srv_symb_debug_id *a, const struct srv_symb_debug_id *b)
{
    return a->pdb20 == b->pdb20 && a->appendix == b->appendix &&
           memcmp(a->uuid, b->uuid, sizeof(a->uuid)) == 0;
}

void srv_symb_debug_id_format(const struct srv_symb_debug_id *id, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id->uuid[i] >> 4];
        out[o++] = hex[id->uuid[i] & 15];
    }
    out[o] = '\0';
    if (id->appendix != 0)
        snprintf(out + o, SRV_SYMB_UUID_BUF - o, "-%x", (unsigned)id->appendix);
}

void srv_symb_sym_filename(struct sym_buf *out, const char *debug_filename, size_t len)
{
    if (len >= 4 && memcmp(debug_filename + len - 4, ".pdb", 4) == 0)
        len -= 4;
    sym_buf_append(out, debug_filename, len);
    sym_buf_append(out, ".sym", 4);
}

void srv_symb_module_key(struct sym_buf *out, const char *debug_filename, size_t filename_len,
                         const char *debug_id, size_t id_len)
{
    sym_buf_append(out, debug_filename, filename_len);
    sym_buf_append_char(out, '/');
    for (size_t i = 0; i < id_len; i++) {
        char c = debug_id[i];
        sym_buf_append_char(out, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
    }
}
