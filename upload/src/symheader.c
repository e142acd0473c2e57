/* SPDX-License-Identifier: MPL-2.0 */
/* symheader.c: the MODULE / INFO header lines of a .sym file, for the file-upload row. Matches
 * Tecken's reading: lines split as Python's str.split() does, a "starts with" test per line, and
 * all-or-nothing results. */
#include "upload/symheader.h"

#include <string.h>

#include "upload_int.h"

#define MAX_TOKENS 5

struct tok {
    const char *p;
    size_t len;
};

/* Python's str.isspace() for the code points a decoded line can hold. */
static bool py_space(uint32_t c)
{
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F))
        return true;
    if (c < 0x85)
        return false;
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Length of the whitespace run at s[pos] (0 when none); -1 on invalid UTF-8. */
static long space_len(const char *s, size_t len, size_t pos)
{
    size_t p = pos;
    while (p < len) {
        size_t q = p;
        uint32_t c;
        if (!symup__utf8_next(s, len, &q, &c))
            return -1;
        if (!py_space(c))
            break;
        p = q;
    }
    return (long)(p - pos);
}

/* Splits a line on whitespace runs. Stores at most max_out tokens and returns how many there are
 * in all (so a count above max_out is visible), or -1 on invalid UTF-8. When rest is non-NULL,
 * stops after splitting off max_out - 1 tokens and makes the remainder, right-trimmed, the last
 * token (Python's split(maxsplit=max_out - 1) on a stripped line). */
static int split(const char *s, size_t len, struct tok *out, int max_out, bool rest)
{
    int n = 0;
    size_t pos = 0;
    for (;;) {
        long sp = space_len(s, len, pos);
        if (sp < 0)
            return -1;
        pos += (size_t)sp;
        if (pos >= len)
            return n;
        size_t start = pos;
        if (rest && n == max_out - 1) {
            /* trim trailing whitespace by scanning forward: remember the end of the last
             * non-space code point */
            size_t end = pos;
            while (pos < len) {
                uint32_t c;
                if (!symup__utf8_next(s, len, &pos, &c))
                    return -1;
                if (!py_space(c))
                    end = pos;
            }
            out[n].p = s + start;
            out[n].len = end - start;
            return n + 1;
        }
        while (pos < len) {
            size_t q = pos;
            uint32_t c;
            if (!symup__utf8_next(s, len, &q, &c))
                return -1;
            if (py_space(c))
                break;
            pos = q;
        }
        if (n < max_out) {
            out[n].p = s + start;
            out[n].len = pos - start;
        }
        if (n < 1000)
            n++;
    }
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static bool copy_field(char *dst, size_t cap, struct tok t, bool upper)
{
    if (t.len >= cap)
        return false;
    memcpy(dst, t.p, t.len);
    dst[t.len] = '\0';
    if (upper)
        for (size_t i = 0; i < t.len; i++)
            if (dst[i] >= 'a' && dst[i] <= 'z')
                dst[i] = (char)(dst[i] - 'a' + 'A');
    return true;
}

/* Copies at most SYMUP_HEADER_GENERATOR_MAX code points (the database column width). */
static void copy_generator(char *dst, struct tok t)
{
    size_t pos = 0, cps = 0;
    uint32_t c;
    while (pos < t.len && cps < SYMUP_HEADER_GENERATOR_MAX &&
           symup__utf8_next(t.p, t.len, &pos, &c))
        cps++;
    memcpy(dst, t.p, pos);
    dst[pos] = '\0';
}

/* Applies one header line; returns 1 to go on, 0 at the end of the header, -1 on error. */
static int header_line(const char *s, size_t len, struct symup_header *h)
{
    struct tok t[MAX_TOKENS];
    bool header = starts_with(s, len, "MODULE") || starts_with(s, len, "INFO");
    /* a NUL would silently cut a field short (and the database refuses it) */
    if (header && memchr(s, '\0', len) != NULL)
        return -1;
    if (starts_with(s, len, "MODULE")) {
        if (split(s, len, t, 5, false) != 5)
            return -1;
        if (!copy_field(h->debug_id, sizeof(h->debug_id), t[3], true) ||
            !copy_field(h->debug_filename, sizeof(h->debug_filename), t[4], false))
            return -1;
        h->has_module = true;
        return 1;
    }
    if (starts_with(s, len, "INFO CODE_ID")) {
        int n = split(s, len, t, 4, false);
        if (n != 3 && n != 4)
            return -1;
        if (!copy_field(h->code_id, sizeof(h->code_id), t[2], true))
            return -1;
        if (n == 3)
            h->code_file[0] = '\0';
        else if (!copy_field(h->code_file, sizeof(h->code_file), t[3], false))
            return -1;
        return 1;
    }
    if (starts_with(s, len, "INFO GENERATOR")) {
        if (split(s, len, t, 3, true) != 3)
            return -1;
        copy_generator(h->generator, t[2]);
        return 1;
    }
    if (starts_with(s, len, "INFO"))
        return symup__utf8_valid(s, len) ? 1 : -1;
    return 0;
}

void symup_header_parse(const char *data, size_t len, struct symup_header *out)
{
    memset(out, 0, sizeof(*out));
    out->valid = true;
    if (data == NULL)
        len = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && data[end] != '\n' && data[end] != '\r')
            end++;
        int r = header_line(data + pos, end - pos, out);
        if (r < 0) {
            memset(out, 0, sizeof(*out));
            return;
        }
        if (r == 0)
            break;
        pos = end;
        if (pos < len && data[pos] == '\r')
            pos++;
        if (pos < len && data[pos] == '\n' && (pos == end || data[pos - 1] == '\r'))
            pos++;
    }
}

static const char *field(const struct symup_header *h, const char *f)
{
    return h != NULL && h->valid ? f : NULL;
}

const char *symup_header_debug_filename(const struct symup_header *h)
{
    return field(h, h ? h->debug_filename : NULL);
}

const char *symup_header_debug_id(const struct symup_header *h)
{
    return field(h, h ? h->debug_id : NULL);
}

const char *symup_header_code_file(const struct symup_header *h)
{
    return field(h, h ? h->code_file : NULL);
}

const char *symup_header_code_id(const struct symup_header *h)
{
    return field(h, h ? h->code_id : NULL);
}

const char *symup_header_generator(const struct symup_header *h)
{
    return field(h, h ? h->generator : NULL);
}
