/* SPDX-License-Identifier: MPL-2.0 */
/* key.c: member-name rules (storage keys, ignored names) and Python-style quoting of names. */
#include "upload/key.h"

#include <string.h>

#include "upload_int.h"

/* Characters of a debug-file or file component: the complement of U+0000-U+001F,
 * U+0080-U+00FF and the ASCII characters listed below (plus '/', the separator). */
static bool component_char(uint32_t c)
{
    if (c > 0xFF)
        return true;
    if (c < 0x20 || c >= 0x80)
        return false;
    return strchr("\\^`><{}[]#%\"'|/", (int)c) == NULL;
}

static bool hex_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool valid_component(const char *s, size_t len)
{
    if (len == 0)
        return false;
    size_t pos = 0;
    uint32_t c;
    while (pos < len) {
        if (!symup__utf8_next(s, len, &pos, &c) || !component_char(c))
            return false;
    }
    return true;
}

static bool valid_hex(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!hex_char(s[i]))
            return false;
    return true;
}

/* Splits name into exactly three components; false when there are more or fewer. */
static bool split3(const char *name, size_t len, size_t lens[3])
{
    const char *a = memchr(name, '/', len);
    if (a == NULL)
        return false;
    size_t rest = len - (size_t)(a - name) - 1;
    const char *b = memchr(a + 1, '/', rest);
    if (b == NULL)
        return false;
    size_t tail = len - (size_t)(b - name) - 1;
    if (memchr(b + 1, '/', tail) != NULL)
        return false;
    lens[0] = (size_t)(a - name);
    lens[1] = (size_t)(b - a - 1);
    lens[2] = tail;
    return true;
}

static bool is_key_pattern(const char *name, size_t len)
{
    size_t lens[3];
    if (!split3(name, len, lens))
        return false;
    return valid_component(name, lens[0]) && valid_hex(name + lens[0] + 1, lens[1]) &&
           valid_component(name + lens[0] + lens[1] + 2, lens[2]);
}

static bool basename_is_ds_store(const char *name, size_t len)
{
    static const char ds[] = ".DS_Store";
    size_t n = sizeof(ds) - 1;
    if (len < n || memcmp(name + len - n, ds, n) != 0)
        return false;
    return len == n || name[len - n - 1] == '/';
}

static bool symbols_txt(const char *name, size_t len)
{
    return symup__ends_with_ci(name, len, "-symbols.txt");
}

enum symup_name_kind symup_name_classify(const char *name, size_t len)
{
    if (name == NULL || !symup__utf8_valid(name, len))
        return SYMUP_NAME_INVALID;
    bool root_symbols =
        symbols_txt(name, len) && len > strlen("-symbols.txt") && memchr(name, '/', len) == NULL;
    bool ds_store = basename_is_ds_store(name, len);
    if (!root_symbols && !ds_store && !is_key_pattern(name, len))
        return SYMUP_NAME_INVALID;
    if (ds_store || symbols_txt(name, len))
        return SYMUP_NAME_IGNORED;
    return SYMUP_NAME_KEY;
}

sym_err symup_key_normalize(const char *name, size_t len, struct sym_buf *out)
{
    if (name == NULL || out == NULL || len > SYMUP_MAX_KEY_LEN ||
        symup_name_classify(name, len) != SYMUP_NAME_KEY)
        return SYM_EINVAL;
    size_t lens[3];
    if (!split3(name, len, lens))
        return SYM_EINVAL;
    for (int k = 0; k < 3; k++)
        if (lens[k] > SYMUP_MAX_COMPONENT_LEN)
            return SYM_EINVAL;
    size_t start = out->len;
    sym_buf_append(out, name, len);
    if (sym_buf_err(out) != SYM_OK)
        return sym_buf_err(out);
    char *id = out->data + start + lens[0] + 1;
    for (size_t i = 0; i < lens[1]; i++)
        if (id[i] >= 'a' && id[i] <= 'f')
            id[i] = (char)(id[i] - 'a' + 'A');
    return SYM_OK;
}

/* ---- Python repr ------------------------------------------------------------------------ */

/* Code points above U+00A0 that Python's str.isprintable() rejects: spaces other than U+0020
 * (Zs), line and paragraph separators, format characters (Cf), private use (Co) and
 * noncharacters, plus the planes that hold no assigned characters. Sorted, inclusive. */
static const uint32_t nonprintable[][2] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},    {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},    {0x08E2, 0x08E2},   {0x1680, 0x1680},
    {0x180E, 0x180E},   {0x2000, 0x200F},    {0x2028, 0x202F},   {0x205F, 0x206F},
    {0x3000, 0x3000},   {0xD800, 0xF8FF},    {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},
    {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},    {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},  {0x1D173, 0x1D17A}, {0x40000, 0xDFFFF},
    {0xE0000, 0xE00FF}, {0xE01F0, 0x10FFFF},
};

static bool printable(uint32_t c)
{
    if (c < 0x20 || (c >= 0x7F && c <= 0xA0))
        return false;
    if ((c & 0xFFFE) == 0xFFFE)
        return false;
    size_t lo = 0, hi = sizeof(nonprintable) / sizeof(nonprintable[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < nonprintable[mid][0])
            hi = mid;
        else if (c > nonprintable[mid][1])
            lo = mid + 1;
        else
            return false;
    }
    return true;
}

static void append_escape(struct sym_buf *out, uint32_t c)
{
    if (c <= 0xFF)
        sym_buf_printf(out, "\\x%02x", (unsigned)c);
    else if (c <= 0xFFFF)
        sym_buf_printf(out, "\\u%04x", (unsigned)c);
    else
        sym_buf_printf(out, "\\U%08x", (unsigned)c);
}

void symup_pyrepr(struct sym_buf *out, const char *s, size_t len)
{
    bool has_single = memchr(s, '\'', len) != NULL;
    bool has_double = memchr(s, '"', len) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    sym_buf_append_char(out, quote);
    size_t pos = 0;
    while (pos < len) {
        size_t start = pos;
        uint32_t c;
        if (!symup__utf8_next(s, len, &pos, &c)) {
            sym_buf_printf(out, "\\x%02x", (unsigned)(unsigned char)s[start]);
            pos = start + 1;
            continue;
        }
        if (c == (uint32_t)quote || c == '\\') {
            sym_buf_append_char(out, '\\');
            sym_buf_append_char(out, (char)c);
        } else if (c == '\t') {
            sym_buf_append_str(out, "\\t");
        } else if (c == '\n') {
            sym_buf_append_str(out, "\\n");
        } else if (c == '\r') {
            sym_buf_append_str(out, "\\r");
        } else if (!printable(c)) {
            append_escape(out, c);
        } else {
            sym_buf_append(out, s + start, pos - start);
        }
    }
    sym_buf_append_char(out, quote);
}
