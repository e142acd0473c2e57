/* SPDX-License-Identifier: MPL-2.0 */
/* symfile.c: the streaming Breakpad .sym parser (grammar and policies in sym/symfile.h). It
 * splits chunks into lines with its own vectorised splitter, parses each complete line in place,
 * carries only a line cut by a chunk boundary, and hands every record to the image builder
 * (build.c). Depends on libc only. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "build_int.h"
#include "sym/symfile.h"

struct sym_parser {
    struct sym_parse_opts opts;
    struct builder b;
    struct vec carry;    /* u8: the start of a line cut by a chunk boundary */
    bool carry_overflow; /* that line is over max_line_len: drop it up to its end */
    bool started;        /* the first non-blank line has passed the "is a .sym" check */
    bool header_zone;    /* no FILE, FUNC or PUBLIC yet (the PE-name rule looks only here) */
    bool pe_checked;     /* the first INFO CODE_ID line has been seen */
    bool finished;
    sym_err fatal;
    char fatal_msg[200];
    uint64_t fatal_line;
    uint64_t newlines; /* '\n' seen so far: the current line is newlines + 1 */
    struct vec tokens; /* u64: numeric fields of an INLINE record */
    struct sym_parse_stats st;
};

/* ============================================================================================
 * Options, lifecycle
 * ========================================================================================== */

void sym_parse_opts_init(struct sym_parse_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_line_len = SYM_MAX_SYM_LINE;
    o->max_errors = SYM_MAX_SYM_ERRORS;
}

sym_err sym_parser_new(const struct sym_parse_opts *opts, struct sym_parser **out)
{
    if (out == NULL)
        return SYM_EINVAL;
    struct sym_parser *p = sym_calloc(1, sizeof(*p));
    if (p == NULL)
        return SYM_ENOMEM;
    if (opts != NULL)
        p->opts = *opts;
    else
        sym_parse_opts_init(&p->opts);
    if (p->opts.max_line_len == 0)
        p->opts.max_line_len = SYM_MAX_SYM_LINE;
    if (p->opts.max_errors == 0)
        p->opts.max_errors = SYM_MAX_SYM_ERRORS;
    p->header_zone = true;
    sym_err rc = bld_init(&p->b, &p->opts);
    if (rc != SYM_OK) {
        sym_parser_free(p);
        return rc;
    }
    *out = p;
    return SYM_OK;
}

void sym_parser_free(struct sym_parser *p)
{
    if (p == NULL)
        return;
    bld_cleanup(&p->b);
    vec_free(&p->carry);
    vec_free(&p->tokens);
    sym_free(p);
}

static sym_err fail(struct sym_parser *p, sym_err rc, const char *fmt, ...) SYM_PRINTF(3, 4);

static sym_err fail(struct sym_parser *p, sym_err rc, const char *fmt, ...)
{
    if (p->fatal != SYM_OK)
        return p->fatal;
    p->fatal = rc;
    p->fatal_line = p->newlines + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->fatal_msg, sizeof(p->fatal_msg), fmt, ap);
    va_end(ap);
    return rc;
}

static sym_err fail_builder(struct sym_parser *p, sym_err rc)
{
    if (rc == SYM_ENOMEM)
        return fail(p, rc, "out of memory while building the symcache");
    return fail(p, rc,
                "the symbol file exceeds a configured limit or the symcache format's "
                "32-bit tables");
}

static void warn(struct sym_parser *p, const char *why)
{
    p->st.n_warnings++;
    if (p->st.first_warning_line == 0) {
        p->st.first_warning_line = p->newlines + 1;
        snprintf(p->st.first_warning, sizeof(p->st.first_warning), "%s", why);
    }
    if (p->st.n_warnings > p->opts.max_errors)
        fail(p, SYM_EPARSE,
             "more than %llu malformed lines (the first, on line %llu: %s); not a usable symbol "
             "file",
             (unsigned long long)p->opts.max_errors, (unsigned long long)p->st.first_warning_line,
             p->st.first_warning);
}

/* ============================================================================================
 * Field scanning. A line is [p, end); fields are separated by runs of spaces, and a record's
 * last field ("rest") starts right after the single space that ends the field before it.
 * ========================================================================================== */

struct lc {
    const char *p, *end;
    const char *avail; /* readable up to here (>= end): lets a field load 8 bytes at a time */
};

/* A hex digit's value + 1, so that the zero-initialised entries mean "not a digit". */
static const uint8_t hexval[256] = {
    ['0'] = 0 + 1,  ['1'] = 1 + 1,  ['2'] = 2 + 1,  ['3'] = 3 + 1,  ['4'] = 4 + 1,  ['5'] = 5 + 1,
    ['6'] = 6 + 1,  ['7'] = 7 + 1,  ['8'] = 8 + 1,  ['9'] = 9 + 1,  ['a'] = 10 + 1, ['b'] = 11 + 1,
    ['c'] = 12 + 1, ['d'] = 13 + 1, ['e'] = 14 + 1, ['f'] = 15 + 1, ['A'] = 10 + 1, ['B'] = 11 + 1,
    ['C'] = 12 + 1, ['D'] = 13 + 1, ['E'] = 14 + 1, ['F'] = 15 + 1,
};

static inline void skip_spaces(struct lc *c)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
}

#define SWAR_ONES 0x0101010101010101ull
#define SWAR_HIGH 0x8080808080808080ull

/* High bit of each byte of w set when that byte is in [lo, hi] (both below 0x80). */
static inline uint64_t swar_in_range(uint64_t w, unsigned lo, unsigned hi)
{
    uint64_t m = w & ~SWAR_HIGH;
    uint64_t ge = m + (0x80 - lo) * SWAR_ONES, gt = m + (0x7f - hi) * SWAR_ONES;
    return ge & ~gt & ~w & SWAR_HIGH;
}

/* Index of the first byte whose high bit is clear in mask (8 if none). */
static inline unsigned swar_first_clear(uint64_t mask)
{
    uint64_t clear = ~mask & SWAR_HIGH;
    return clear ? (unsigned)__builtin_ctzll(clear) / 8 : 8;
}

/* The common case of a hex field: 1 to 7 digits, 8 readable bytes at p (little-endian host).
 * Returns the digit count, or 0 to leave the field to the byte loop. */
static inline unsigned hex_swar(const char *p, uint64_t *out)
{
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t ok = swar_in_range(w, '0', '9') | swar_in_range(w | 0x20 * SWAR_ONES, 'a', 'f');
    unsigned k = swar_first_clear(ok);
    if (k == 0 || k == 8)
        return 0;
    /* Digit value per byte: the low nibble, plus 9 for a letter (bit 6 set). */
    uint64_t nib = (w & 0x0f * SWAR_ONES) + 9 * ((w >> 6) & SWAR_ONES);
    uint64_t r = __builtin_bswap64(nib << (8 * (8 - k)));
    r = (r | (r >> 4)) & 0x00ff00ff00ff00ffull;
    r = (r | (r >> 8)) & 0x0000ffff0000ffffull;
    r = (r | (r >> 16)) & 0x00000000ffffffffull;
    *out = r;
    return k;
}

/* The same for a decimal field of 1 to 7 digits. */
static inline unsigned dec_swar(const char *p, uint32_t *out)
{
    uint64_t w;
    memcpy(&w, p, 8);
    unsigned k = swar_first_clear(swar_in_range(w, '0', '9'));
    if (k == 0 || k == 8)
        return 0;
    /* Digits in the top k bytes, first digit most significant: combine pairs, quads, octets. */
    uint64_t x = (w - '0' * SWAR_ONES) << (8 * (8 - k));
    x = ((x & 0x0f0f0f0f0f0f0f0full) * 2561) >> 8;
    x = ((x & 0x00ff00ff00ff00ffull) * 6553601) >> 16;
    x = ((x & 0x0000ffff0000ffffull) * 42949672960001ull) >> 32;
    *out = (uint32_t)x;
    return k;
}

/* A hex number field (up to 16 significant digits). */
static inline bool hex_field(struct lc *c, uint64_t *out)
{
    skip_spaces(c);
    if (c->avail - c->p >= 8 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        unsigned k = hex_swar(c->p, out);
        if (k != 0) {
            const char *e = c->p + k;
            if (e < c->end && *e != ' ')
                return false;
            c->p = e;
            return true;
        }
    }
    const unsigned char *s = (const unsigned char *)c->p, *e = (const unsigned char *)c->end;
    const unsigned char *start = s;
    while (s < e && *s == '0')
        s++;
    uint64_t v = 0;
    unsigned nd = 0;
    for (; s < e; s++) {
        uint8_t d = hexval[*s];
        if (d == 0)
            break;
        v = v << 4 | (uint64_t)(d - 1);
        nd++;
    }
    if (s == start || nd > 16 || (s < e && *s != ' '))
        return false;
    c->p = (const char *)s;
    *out = v;
    return true;
}

/* An unsigned decimal field that fits in 32 bits. */
static inline bool dec_field(struct lc *c, uint32_t *out)
{
    skip_spaces(c);
    if (c->avail - c->p >= 8 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
        unsigned k = dec_swar(c->p, out);
        if (k != 0) {
            const char *e = c->p + k;
            if (e < c->end && *e != ' ')
                return false;
            c->p = e;
            return true;
        }
    }
    const char *s = c->p;
    uint64_t v = 0;
    while (s < c->end && (unsigned)(*s - '0') < 10) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX)
            return false;
        s++;
    }
    if (s == c->p || (s < c->end && *s != ' '))
        return false;
    c->p = s;
    *out = (uint32_t)v;
    return true;
}

/* A field of any non-space bytes. */
static inline bool word_field(struct lc *c, const char **w, size_t *n)
{
    skip_spaces(c);
    const char *s = c->p;
    while (s < c->end && *s != ' ')
        s++;
    if (s == c->p)
        return false;
    *w = c->p;
    *n = (size_t)(s - c->p);
    c->p = s;
    return true;
}

/* The rest of the line after the single separating space; false when there is no separator
 * (the field is missing), true with n == 0 for an empty last field. */
static inline bool rest_field(struct lc *c, const char **r, size_t *n)
{
    if (c->p >= c->end || *c->p != ' ')
        return false;
    *r = c->p + 1;
    *n = (size_t)(c->end - c->p - 1);
    return true;
}

static inline bool at_end(struct lc *c)
{
    skip_spaces(c);
    return c->p == c->end;
}

/* Consumes the word kw when it is the next field and a space follows it; the cursor is then on
 * that space. */
static inline bool keyword(struct lc *c, const char *kw, size_t n)
{
    skip_spaces(c);
    if ((size_t)(c->end - c->p) <= n || memcmp(c->p, kw, n) != 0 || c->p[n] != ' ')
        return false;
    c->p += n;
    return true;
}
#define KEYWORD(c, lit) keyword((c), lit, sizeof(lit) - 1)

/* Consumes an `m ` flag token. */
static inline bool multiple_flag(struct lc *c)
{
    skip_spaces(c);
    if (c->end - c->p >= 2 && c->p[0] == 'm' && c->p[1] == ' ') {
        c->p += 1;
        return true;
    }
    return false;
}

static void trim_spaces(const char **s, size_t *n)
{
    while (*n > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* ============================================================================================
 * Records
 * ========================================================================================== */

enum line_result {
    LINE_OK,      /* a record (kept or dropped by policy) */
    LINE_BAD,     /* malformed: warning */
    LINE_UNKNOWN, /* an unknown record type: skipped */
    LINE_FATAL,   /* p->fatal is set */
};

/* Maps a builder result: SYM_EPARSE is a rejected record (warning with its reason). */
static enum line_result built(struct sym_parser *p, sym_err rc, const char **why)
{
    if (rc == SYM_OK)
        return LINE_OK;
    if (rc == SYM_EPARSE) {
        *why = p->b.warn;
        return LINE_BAD;
    }
    fail_builder(p, rc);
    return LINE_FATAL;
}

/* <address> <size> <line> <file_id>; *well_formed tells a syntactically valid record. */
static enum line_result line_record(struct sym_parser *p, struct lc *c, const char **why,
                                    bool *well_formed)
{
    uint64_t addr, size;
    uint32_t line, file;
    if (!hex_field(c, &addr) || !hex_field(c, &size) || !dec_field(c, &line) ||
        !dec_field(c, &file) || !at_end(c)) {
        *why = "malformed line record";
        return LINE_BAD;
    }
    *well_formed = true;
    return built(p, bld_line(&p->b, addr, size, line, file), why);
}

static enum line_result func_record(struct sym_parser *p, struct lc *c, const char **why)
{
    bool m = multiple_flag(c);
    uint64_t addr, size, param;
    const char *name;
    size_t n;
    if (!hex_field(c, &addr) || !hex_field(c, &size) || !hex_field(c, &param) ||
        !rest_field(c, &name, &n)) {
        *why = "malformed FUNC record";
        return LINE_BAD;
    }
    p->header_zone = false;
    return built(p, bld_func(&p->b, addr, size, param, m, name, n), why);
}

static enum line_result public_record(struct sym_parser *p, struct lc *c, const char **why)
{
    bool m = multiple_flag(c);
    uint64_t addr, param;
    const char *name;
    size_t n;
    if (!hex_field(c, &addr) || !hex_field(c, &param) || !rest_field(c, &name, &n)) {
        *why = "malformed PUBLIC record";
        return LINE_BAD;
    }
    p->header_zone = false;
    return built(p, bld_public(&p->b, addr, param, m, name, n), why);
}

static enum line_result file_record(struct sym_parser *p, struct lc *c, const char **why)
{
    uint32_t id;
    const char *name;
    size_t n;
    if (!dec_field(c, &id) || !rest_field(c, &name, &n)) {
        *why = "malformed FILE record";
        return LINE_BAD;
    }
    p->header_zone = false;
    return built(p, bld_file(&p->b, id, name, n), why);
}

/* True when [s, s+n) is an integer with an optional leading '-'. */
static bool is_integer(const char *s, size_t n)
{
    if (n > 0 && *s == '-') {
        s++;
        n--;
    }
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned)(s[i] - '0') >= 10)
            return false;
    return true;
}

static enum line_result origin_record(struct sym_parser *p, struct lc *c, const char **why)
{
    uint32_t id;
    const char *name, *w;
    size_t n, wn;
    if (!dec_field(c, &id)) {
        *why = "malformed INLINE_ORIGIN record";
        return LINE_BAD;
    }
    /* Old form `INLINE_ORIGIN <id> <file_id> <name>`: the token after the id is an integer
     * (Breakpad's test) and a name follows it. The file id is not used for lookups. */
    struct lc probe = *c;
    if (word_field(&probe, &w, &wn) && is_integer(w, wn) && rest_field(&probe, &name, &n))
        return built(p, bld_origin(&p->b, id, name, n), why);
    if (!rest_field(c, &name, &n)) {
        *why = "INLINE_ORIGIN record without a name";
        return LINE_BAD;
    }
    return built(p, bld_origin(&p->b, id, name, n), why);
}

static enum line_result inline_record(struct sym_parser *p, struct lc *c, const char **why)
{
    /* New form: depth call_line call_file origin (addr size)+, an even count of fields; the
     * old form has no call_file, an odd count (Breakpad's rule). */
    struct lc probe = *c;
    const char *w;
    size_t wn, k = 0;
    while (word_field(&probe, &w, &wn))
        k++;
    bool new_form = k % 2 == 0;
    size_t hdr = new_form ? 4 : 3;
    uint32_t depth, call_line, call_file = 0, origin;
    if (k < hdr + 2 || !dec_field(c, &depth) || !dec_field(c, &call_line) ||
        (new_form && !dec_field(c, &call_file)) || !dec_field(c, &origin)) {
        *why = "malformed INLINE record";
        return LINE_BAD;
    }
    size_t n_ranges = (k - hdr) / 2;
    p->tokens.len = 0;
    if (!vec_reserve(&p->tokens, sizeof(uint64_t), 2 * n_ranges)) {
        fail_builder(p, SYM_ENOMEM);
        return LINE_FATAL;
    }
    uint64_t *r = p->tokens.data;
    for (size_t i = 0; i < 2 * n_ranges; i++) {
        if (!hex_field(c, &r[i])) {
            *why = "malformed INLINE address range";
            return LINE_BAD;
        }
    }
    return built(p, bld_inline(&p->b, depth, call_line, new_form, call_file, origin, r, n_ranges),
                 why);
}

/* A CFI rule list must start with a `<register>:` token. */
static bool rules_ok(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != ' ')
        i++;
    return i >= 2 && s[i - 1] == ':';
}

static enum line_result stack_record(struct sym_parser *p, struct lc *c, const char **why)
{
    const char *rest;
    size_t n;
    if (KEYWORD(c, "CFI")) {
        bool init = KEYWORD(c, "INIT");
        uint64_t addr, size = 0;
        if (!hex_field(c, &addr) || (init && !hex_field(c, &size)) || !rest_field(c, &rest, &n)) {
            *why = init ? "malformed STACK CFI INIT record" : "malformed STACK CFI record";
            return LINE_BAD;
        }
        trim_spaces(&rest, &n);
        if (!rules_ok(rest, n)) {
            *why = "STACK CFI record without a `register:` rule";
            return LINE_BAD;
        }
        if (init)
            return built(p, bld_cfi_init(&p->b, addr, size, rest, n), why);
        return built(p, bld_cfi_delta(&p->b, addr, rest, n), why);
    }
    if (KEYWORD(c, "WIN")) {
        uint64_t type, f[8], has_program;
        bool ok = hex_field(c, &type);
        for (int i = 0; ok && i < 8; i++)
            ok = hex_field(c, &f[i]);
        ok = ok && hex_field(c, &has_program) && has_program <= 1 && type <= UINT32_MAX;
        if (!ok || !rest_field(c, &rest, &n)) {
            *why = "malformed STACK WIN record";
            return LINE_BAD;
        }
        uint64_t abp = 0;
        if (has_program) {
            trim_spaces(&rest, &n);
        } else {
            struct lc r = {rest, rest + n, rest + n};
            if (!hex_field(&r, &abp) || abp > 1 || !at_end(&r)) {
                *why = "malformed STACK WIN allocates_base_pointer field";
                return LINE_BAD;
            }
        }
        return built(p, bld_win(&p->b, (uint32_t)type, f, has_program, abp, rest, n), why);
    }
    *why = "unknown STACK record";
    return LINE_BAD;
}

static enum line_result module_record(struct sym_parser *p, struct lc *c, const char **why)
{
    const char *os, *arch, *id, *file;
    size_t os_n, arch_n, id_n, file_n;
    if (!word_field(c, &os, &os_n) || !word_field(c, &arch, &arch_n) ||
        !word_field(c, &id, &id_n) || !rest_field(c, &file, &file_n)) {
        *why = "malformed MODULE record";
        return LINE_BAD;
    }
    if (p->b.has_module || p->started) {
        /* Breakpad ignores MODULE lines; only the first line's is the module's identity. */
        return LINE_OK;
    }
    return built(p, bld_module(&p->b, os, os_n, arch, arch_n, id, id_n, file, file_n), why);
}

/* Eliot's PE-name rule on a whole INFO CODE_ID line: trimmed, split on single spaces, exactly
 * four tokens -> the fourth. */
static void pe_name_rule(struct sym_parser *p, const char *line, size_t n)
{
    static const char ws[] = " \t\v\f";
    while (n > 0 && memchr(ws, line[0], sizeof(ws) - 1))
        line++, n--;
    while (n > 0 && memchr(ws, line[n - 1], sizeof(ws) - 1))
        n--;
    size_t spaces = 0, last = 0;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == ' ') {
            spaces++;
            last = i;
        }
    }
    if (spaces == 3 && last + 1 < n) {
        sym_err rc = bld_module_field(&p->b, IMG_M_PE_NAME, line + last + 1, n - last - 1);
        if (rc != SYM_OK)
            fail_builder(p, rc);
    }
}

static enum line_result info_record(struct sym_parser *p, struct lc *c, const char *line,
                                    size_t line_n, const char **why)
{
    const char *id, *rest;
    size_t id_n, n;
    if (KEYWORD(c, "CODE_ID")) {
        if (!word_field(c, &id, &id_n)) {
            *why = "INFO CODE_ID without an id";
            return LINE_BAD;
        }
        if (p->header_zone && !p->pe_checked) {
            p->pe_checked = true;
            pe_name_rule(p, line, line_n);
            if (p->fatal != SYM_OK)
                return LINE_FATAL;
        }
        sym_err rc = bld_module_field(&p->b, IMG_M_CODE_ID, id, id_n);
        if (rc == SYM_OK && rest_field(c, &rest, &n)) {
            trim_spaces(&rest, &n);
            rc = bld_module_field(&p->b, IMG_M_CODE_FILE, rest, n);
        }
        return built(p, rc, why);
    }
    if (KEYWORD(c, "GENERATOR")) {
        if (!rest_field(c, &rest, &n))
            return LINE_OK;
        trim_spaces(&rest, &n);
        return built(p, bld_module_field(&p->b, IMG_M_GENERATOR, rest, n), why);
    }
    return LINE_OK; /* INFO URL, INFO RELEASECHANNEL, ...: not needed */
}

/* True for a token made of upper-case letters, digits and '_' starting with a letter: the
 * shape of a record keyword. */
static bool looks_like_keyword(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != ' ') {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || ch == '_' || (i > 0 && ch >= '0' && ch <= '9')))
            return false;
        i++;
    }
    return i > 0;
}

/* Parses one non-empty line. *recognised tells whether it is a symbol-file line at all (a
 * record keyword, or a syntactically valid line record), for the "is this a .sym" check. */
static enum line_result dispatch(struct sym_parser *p, const char *s, size_t n, const char *avail,
                                 const char **why, bool *recognised)
{
    struct lc c = {s, s + n, avail};
    *recognised = true;
    switch (s[0]) {
    case 'F':
        if (KEYWORD(&c, "FUNC"))
            return func_record(p, &c, why);
        if (KEYWORD(&c, "FILE"))
            return file_record(p, &c, why);
        break;
    case 'P':
        if (KEYWORD(&c, "PUBLIC"))
            return public_record(p, &c, why);
        break;
    case 'S':
        if (KEYWORD(&c, "STACK"))
            return stack_record(p, &c, why);
        break;
    case 'I':
        if (KEYWORD(&c, "INLINE"))
            return inline_record(p, &c, why);
        if (KEYWORD(&c, "INLINE_ORIGIN"))
            return origin_record(p, &c, why);
        if (KEYWORD(&c, "INFO"))
            return info_record(p, &c, s, n, why);
        break;
    case 'M':
        if (KEYWORD(&c, "MODULE"))
            return module_record(p, &c, why);
        break;
    default:
        break;
    }
    *recognised = false;
    if (hexval[(unsigned char)s[0]] != 0) {
        c.p = s;
        enum line_result r = line_record(p, &c, why, recognised);
        if (*recognised || r != LINE_BAD)
            return r;
    }
    if (looks_like_keyword(s, n))
        return LINE_UNKNOWN;
    if (*why == NULL)
        *why = "unrecognised line";
    return LINE_BAD;
}

/* ============================================================================================
 * Lines and chunks
 * ========================================================================================== */

static void reject_input(struct sym_parser *p, const char *s, size_t n)
{
    if (n >= 2 && (uint8_t)s[0] == 0x1f && (uint8_t)s[1] == 0x8b) {
        fail(p, SYM_EPARSE, "not a Breakpad symbol file: the input is gzip-compressed");
        return;
    }
    char shown[48];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(shown); i++)
        shown[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    shown[k] = '\0';
    fail(p, SYM_EPARSE, "not a Breakpad symbol file: the first line starts with \"%s\"", shown);
}

/* Parses the line [s, s + n); the bytes up to avail are readable (the rest of the chunk). */
static void process_line(struct sym_parser *p, const char *s, size_t n, const char *avail)
{
    if (!p->started && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
        s += 3; /* a UTF-8 byte-order mark */
        n -= 3;
    }
    if (n == 0)
        return;
    const char *why = NULL;
    bool recognised;
    uint64_t nul_before = p->b.strings.nul_replaced;
    enum line_result r = dispatch(p, s, n, avail, &why, &recognised);
    if (!p->started) {
        if (!recognised) {
            reject_input(p, s, n);
            return;
        }
        p->started = true;
    }
    switch (r) {
    case LINE_OK:
        if (p->b.strings.nul_replaced != nul_before)
            warn(p, "NUL byte in a name (replaced by '_')");
        break;
    case LINE_BAD:
        warn(p, why ? why : "malformed line");
        break;
    case LINE_UNKNOWN:
        p->st.n_unknown++;
        break;
    case LINE_FATAL:
        break;
    }
}

/* The first '\n' or '\r' in [s, end), or end. */
static const char *find_eol(const char *s, const char *end)
{
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    while (end - s >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)));
        if (m != 0)
            return s + __builtin_ctz((unsigned)m);
        s += 16;
    }
#endif
    while (s < end && *s != '\n' && *s != '\r')
        s++;
    return s;
}

/* Parses the carried line, with 8 zero bytes after it so that fields load 8 bytes at a time
 * (a zero byte ends any field). */
static void process_carry(struct sym_parser *p)
{
    if (!vec_reserve(&p->carry, 1, 8)) {
        fail_builder(p, SYM_ENOMEM);
        return;
    }
    char *d = p->carry.data;
    memset(d + p->carry.len, 0, 8);
    process_line(p, d, p->carry.len, d + p->carry.len + 8);
}

static void too_long(struct sym_parser *p)
{
    warn(p, "line longer than the configured maximum (skipped)");
}

sym_err sym_parser_feed(struct sym_parser *p, const void *data, size_t len)
{
    if (p == NULL || (data == NULL && len > 0))
        return SYM_EINVAL;
    if (p->fatal != SYM_OK)
        return p->fatal;
    if (p->finished)
        return SYM_EINVAL;
    if (p->opts.max_input_bytes != 0 && len > p->opts.max_input_bytes - p->st.input_bytes)
        return fail(p, SYM_ELIMIT,
                    "the symbol file is larger than the configured maximum "
                    "(%llu bytes)",
                    (unsigned long long)p->opts.max_input_bytes);
    p->st.input_bytes += len;
    const char *s = data, *end = s + len;
    size_t max_line = p->opts.max_line_len;

    if (p->carry.len > 0 || p->carry_overflow) {
        const char *t = find_eol(s, end);
        size_t part = (size_t)(t - s);
        if (!p->carry_overflow) {
            if (part > max_line - p->carry.len) {
                p->carry_overflow = true;
                p->carry.len = 0;
            } else if (!vec_append(&p->carry, s, part)) {
                return fail_builder(p, SYM_ENOMEM);
            }
        }
        if (t == end)
            return SYM_OK;
        if (p->carry_overflow)
            too_long(p);
        else
            process_carry(p);
        p->carry.len = 0;
        p->carry_overflow = false;
        s = t;
    }
    while (s < end && p->fatal == SYM_OK) {
        while (s < end && (*s == '\n' || *s == '\r')) {
            p->newlines += *s == '\n';
            s++;
        }
        if (s == end)
            break;
        const char *t = find_eol(s, end);
        size_t n = (size_t)(t - s);
        if (t == end) {
            if (n > max_line)
                p->carry_overflow = true;
            else if (!vec_append(&p->carry, s, n))
                return fail_builder(p, SYM_ENOMEM);
            break;
        }
        if (n > max_line)
            too_long(p);
        else
            process_line(p, s, n, end);
        s = t;
    }
    return p->fatal;
}

/* ============================================================================================
 * Finishing and sinks
 * ========================================================================================== */

static void fill_diag(const struct sym_parser *p, struct sym_diag *d)
{
    if (d == NULL)
        return;
    sym_diag_set(d, p->fatal, "%s", p->fatal_msg);
    d->line = p->fatal_line > UINT32_MAX ? UINT32_MAX : (uint32_t)p->fatal_line;
}

static sym_err finish(struct sym_parser *p, struct sink *sink, struct sym_parse_stats *stats,
                      struct sym_diag *d)
{
    sym_err rc = p->fatal;
    if (rc == SYM_OK && p->finished)
        rc = SYM_EINVAL;
    p->finished = true;
    if (rc == SYM_OK) {
        if (p->carry_overflow)
            too_long(p);
        else if (p->carry.len > 0)
            process_carry(p);
        p->carry.len = 0;
        rc = p->fatal;
    }
    if (rc == SYM_OK && !p->started)
        rc = fail(p, SYM_EPARSE, "not a Breakpad symbol file: the input is empty");
    struct sym_image_counts kept;
    memset(&kept, 0, sizeof(kept));
    if (rc == SYM_OK) {
        rc = bld_finish(&p->b, p->st.input_bytes, p->st.n_warnings, sink, &kept);
        if (rc != SYM_OK && p->fatal == SYM_OK) {
            if (rc == SYM_EIO)
                fail(p, rc, "cannot write the symcache: %s", strerror(errno));
            else if (rc == SYM_ELIMIT && p->opts.max_image_bytes != 0)
                fail(p, rc, "the symcache would exceed the configured maximum of %llu bytes",
                     (unsigned long long)p->opts.max_image_bytes);
            else
                fail_builder(p, rc);
        }
    }
    if (stats != NULL) {
        *stats = p->st;
        stats->input_lines = p->newlines + (p->st.input_bytes > 0 ? 1 : 0);
        stats->read = p->b.read;
        stats->n_win_other = p->b.n_win_other;
        stats->kept = kept;
    }
    if (rc != SYM_OK)
        fill_diag(p, d);
    return rc;
}

struct mem_sink {
    struct sink base;
    struct sym_buf *out;
    char *data;
    uint64_t cap, len;
};

static sym_err mem_begin(struct sink *s, uint64_t total)
{
    struct mem_sink *m = (struct mem_sink *)s;
    if (total > m->out->max_len || total >= SIZE_MAX)
        return SYM_ELIMIT;
    m->data = sym_malloc((size_t)total + 1);
    if (m->data == NULL)
        return SYM_ENOMEM;
    m->cap = total;
    return SYM_OK;
}

static sym_err mem_write(struct sink *s, const void *p, size_t n)
{
    struct mem_sink *m = (struct mem_sink *)s;
    if (n > m->cap - m->len)
        return SYM_EINTERNAL;
    memcpy(m->data + m->len, p, n);
    m->len += n;
    return SYM_OK;
}

sym_err sym_parser_finish(struct sym_parser *p, struct sym_buf *image_out,
                          struct sym_parse_stats *stats, struct sym_diag *d)
{
    if (p == NULL || image_out == NULL)
        return SYM_EINVAL;
    struct mem_sink m = {{mem_begin, mem_write}, image_out, NULL, 0, 0};
    sym_err rc = finish(p, &m.base, stats, d);
    if (rc != SYM_OK) {
        sym_free(m.data);
        return rc;
    }
    m.data[m.len] = '\0';
    sym_buf_cleanup(image_out);
    image_out->data = m.data;
    image_out->len = (size_t)m.len;
    image_out->cap = (size_t)m.len + 1;
    image_out->err = SYM_OK;
    if (stats != NULL)
        stats->image_bytes = m.len;
    return SYM_OK;
}

/* A sink writing into memory the caller reserves once the size is known. */
struct into_sink {
    struct sink base;
    sym_err (*reserve)(void *ctx, uint64_t total, void **dst);
    void *ctx;
    char *data;
    uint64_t cap, len;
};

static sym_err into_begin(struct sink *s, uint64_t total)
{
    struct into_sink *m = (struct into_sink *)s;
    void *dst = NULL;
    sym_err rc = m->reserve(m->ctx, total, &dst);
    if (rc == SYM_OK && dst == NULL)
        rc = SYM_EINTERNAL;
    if (rc != SYM_OK)
        return rc;
    m->data = dst;
    m->cap = total;
    return SYM_OK;
}

static sym_err into_write(struct sink *s, const void *p, size_t n)
{
    struct into_sink *m = (struct into_sink *)s;
    if (n > m->cap - m->len)
        return SYM_EINTERNAL;
    memcpy(m->data + m->len, p, n);
    m->len += n;
    return SYM_OK;
}

sym_err sym_parser_finish_into(struct sym_parser *p,
                               sym_err (*reserve)(void *ctx, uint64_t total, void **dst), void *ctx,
                               struct sym_parse_stats *stats, struct sym_diag *d)
{
    if (p == NULL || reserve == NULL)
        return SYM_EINVAL;
    struct into_sink m = {{into_begin, into_write}, reserve, ctx, NULL, 0, 0};
    sym_err rc = finish(p, &m.base, stats, d);
    if (rc == SYM_OK && stats != NULL)
        stats->image_bytes = m.len;
    return rc;
}

#define FD_STAGE (1u << 20)

struct fd_sink {
    struct sink base;
    int fd;
    char *stage;
    size_t used;
    uint64_t total;
};

static sym_err write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return SYM_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return SYM_OK;
}

static sym_err fd_begin(struct sink *s, uint64_t total)
{
    struct fd_sink *f = (struct fd_sink *)s;
    f->total = total;
    return SYM_OK;
}

static sym_err fd_write(struct sink *s, const void *p, size_t n)
{
    struct fd_sink *f = (struct fd_sink *)s;
    if (n >= FD_STAGE) {
        sym_err rc = write_all(f->fd, f->stage, f->used);
        f->used = 0;
        return rc == SYM_OK ? write_all(f->fd, p, n) : rc;
    }
    if (n > FD_STAGE - f->used) {
        sym_err rc = write_all(f->fd, f->stage, f->used);
        f->used = 0;
        if (rc != SYM_OK)
            return rc;
    }
    memcpy(f->stage + f->used, p, n);
    f->used += n;
    return SYM_OK;
}

sym_err sym_parser_finish_fd(struct sym_parser *p, int fd, struct sym_parse_stats *stats,
                             struct sym_diag *d)
{
    if (p == NULL || fd < 0)
        return SYM_EINVAL;
    struct fd_sink f = {{fd_begin, fd_write}, fd, sym_malloc(FD_STAGE), 0, 0};
    if (f.stage == NULL) {
        fail(p, SYM_ENOMEM, "out of memory");
        fill_diag(p, d);
        return SYM_ENOMEM;
    }
    sym_err rc = finish(p, &f.base, stats, d);
    if (rc == SYM_OK) {
        rc = write_all(fd, f.stage, f.used);
        if (rc != SYM_OK) {
            fail(p, rc, "cannot write the symcache: %s", strerror(errno));
            fill_diag(p, d);
        }
    }
    sym_free(f.stage);
    if (rc == SYM_OK && stats != NULL)
        stats->image_bytes = f.total;
    return rc;
}

/* ============================================================================================
 * Conveniences
 * ========================================================================================== */

sym_err sym_parse_buffer(const void *data, size_t len, const struct sym_parse_opts *opts,
                         struct sym_buf *image_out, struct sym_parse_stats *stats,
                         struct sym_diag *d)
{
    struct sym_parser *p;
    sym_err rc = sym_parser_new(opts, &p);
    if (rc != SYM_OK)
        return sym_diag_set(d, rc, "out of memory");
    rc = sym_parser_feed(p, data, len);
    if (rc == SYM_OK)
        rc = sym_parser_finish(p, image_out, stats, d);
    else {
        /* finish() reports the diagnostic and the counts gathered so far. */
        struct sym_buf unused;
        sym_buf_init(&unused, 0);
        sym_err again = sym_parser_finish(p, &unused, stats, d);
        (void)again; /* the same error as rc */
        sym_buf_cleanup(&unused);
    }
    sym_parser_free(p);
    return rc;
}

#define READ_CHUNK (1u << 20)

sym_err sym_convert_file(const char *sym_path, const char *out_path,
                         const struct sym_parse_opts *opts, struct sym_parse_stats *stats,
                         struct sym_diag *d)
{
    if (sym_path == NULL || out_path == NULL)
        return SYM_EINVAL;
    sym_err rc = SYM_OK;
    struct sym_parser *p = NULL;
    char *chunk = NULL, *tmp = NULL;
    int in = -1, out = -1;

    in = open(sym_path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = errno == ENOENT ? SYM_ENOTFOUND : SYM_EIO;
        sym_diag_set(d, rc, "cannot open %s: %s", sym_path, strerror(errno));
        goto out;
    }
    (void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    size_t tlen = strlen(out_path) + sizeof(".tmp.XXXXXX");
    tmp = sym_malloc(tlen);
    chunk = sym_malloc(READ_CHUNK);
    if (tmp == NULL || chunk == NULL) {
        rc = sym_diag_set(d, SYM_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(tmp, tlen, "%s.tmp.XXXXXX", out_path);
    out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0) {
        rc = sym_diag_set(d, SYM_EIO, "cannot create %s: %s", tmp, strerror(errno));
        tmp[0] = '\0';
        goto out;
    }
    rc = sym_parser_new(opts, &p);
    if (rc != SYM_OK) {
        sym_diag_set(d, rc, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = read(in, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sym_diag_set(d, SYM_EIO, "cannot read %s: %s", sym_path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (sym_parser_feed(p, chunk, (size_t)n) != SYM_OK)
            break; /* finish reports the error with its diagnostic */
    }
    rc = sym_parser_finish_fd(p, out, stats, d);
    if (rc != SYM_OK)
        goto out;
    if (fchmod(out, 0644) != 0 || fsync(out) != 0 || close(out) != 0) {
        out = -1;
        rc = sym_diag_set(d, SYM_EIO, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    out = -1;
    if (rename(tmp, out_path) != 0) {
        rc = sym_diag_set(d, SYM_EIO, "cannot rename %s to %s: %s", tmp, out_path, strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
out:
    if (out >= 0)
        close(out);
    if (tmp != NULL && tmp[0] != '\0')
        unlink(tmp);
    if (in >= 0)
        close(in);
    sym_parser_free(p);
    sym_free(chunk);
    sym_free(tmp);
    return rc;
}
