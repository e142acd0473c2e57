/* SPDX-License-Identifier: MPL-2.0 */
/* test_property.c: for generated symbol files (random records, overlapping and out of order on
 * purpose, random line ends and chunk sizes), every answer of the symcache equals the answer
 * of a plain linear scan over the generated records, at every record edge and at random
 * offsets. The model below restates the documented policies (first in file order wins for
 * overlaps, per-depth inline matching, PUBLIC bounded by the next FUNC, module-wide CFI deltas,
 * Breakpad's contained ranges for STACK WIN) without any of the image's data structures. */
#include <inttypes.h>
#include <stdlib.h>

#include "symtest.h"

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? rnd(r) % n : 0;
}

#define MAX_FUNCS  300
#define MAX_LINES  12
#define MAX_INL    8
#define MAX_RANGES 3
#define N_FILES    24
#define N_ORIGINS  16
#define MAX_PUBS   80
#define MAX_CFI    120
#define MAX_DELTAS 400
#define MAX_WIN    120
#define SPACE      0x6000 /* addresses are drawn from [base, base + SPACE) */

struct m_line {
    uint64_t start, size;
    uint32_t line, file;
};

struct m_inl {
    uint32_t depth, call_line, call_file, origin, n_ranges;
    uint64_t rs[MAX_RANGES], rz[MAX_RANGES];
};

struct m_func {
    uint64_t start, size;
    uint32_t param;
    bool multiple, kept;
    int n_lines, n_inl;
    struct m_line lines[MAX_LINES];
    struct m_inl inl[MAX_INL];
};

struct m_pub {
    uint64_t addr;
    uint32_t param;
};

struct m_cfi {
    uint64_t start, size;
    uint32_t rule;
    bool kept;
};

struct m_delta {
    uint64_t addr;
    uint32_t rule;
};

struct m_win {
    uint32_t type;
    uint64_t rva, size;
    uint32_t id;
    bool kept;
};

struct model {
    uint64_t base;
    int n_funcs, n_pubs, n_cfi, n_deltas, n_win;
    struct m_func funcs[MAX_FUNCS];
    struct m_pub pubs[MAX_PUBS];
    struct m_cfi cfi[MAX_CFI];
    struct m_delta deltas[MAX_DELTAS];
    struct m_win win[MAX_WIN];
    bool file_declared[N_FILES], origin_declared[N_ORIGINS];
};

/* ---- Generation ----------------------------------------------------------------------------- */

static void generate(struct model *m, struct rng *r)
{
    memset(m, 0, sizeof(*m));
    m->base = below(r, 4) == 0 ? 0xfffff000ull + below(r, 0x2000) : 0x1000;
    for (int i = 0; i < N_FILES; i++)
        m->file_declared[i] = below(r, 6) != 0;
    for (int i = 0; i < N_ORIGINS; i++)
        m->origin_declared[i] = below(r, 6) != 0;
    m->n_funcs = 50 + (int)below(r, MAX_FUNCS - 50);
    for (int i = 0; i < m->n_funcs; i++) {
        struct m_func *f = &m->funcs[i];
        f->start = m->base + below(r, SPACE);
        f->size = below(r, 12) == 0 ? 0 : 1 + below(r, 0x100);
        f->param = (uint32_t)below(r, 3) * 4;
        f->multiple = below(r, 10) == 0;
        f->n_lines = (int)below(r, MAX_LINES + 1);
        for (int k = 0; k < f->n_lines; k++) {
            struct m_line *l = &f->lines[k];
            /* Mostly inside the function, sometimes straddling or outside, sometimes empty. */
            l->start = f->start + below(r, f->size + 8) - (below(r, 8) == 0 ? 4 : 0);
            l->size = below(r, 16) == 0 ? 0 : 1 + below(r, 0x40);
            l->line = (uint32_t)below(r, 500);
            l->file = (uint32_t)below(r, N_FILES);
        }
        f->n_inl = (int)below(r, MAX_INL + 1);
        for (int k = 0; k < f->n_inl; k++) {
            struct m_inl *in = &f->inl[k];
            in->depth = (uint32_t)below(r, 4);
            in->call_line = (uint32_t)below(r, 300);
            in->call_file = (uint32_t)below(r, N_FILES);
            in->origin = (uint32_t)below(r, N_ORIGINS);
            in->n_ranges = 1 + (uint32_t)below(r, MAX_RANGES);
            for (uint32_t q = 0; q < in->n_ranges; q++) {
                in->rs[q] = f->start + below(r, f->size + 4);
                in->rz[q] = below(r, 20) == 0 ? 0 : 1 + below(r, 0x60);
            }
        }
    }
    m->n_pubs = (int)below(r, MAX_PUBS);
    for (int i = 0; i < m->n_pubs; i++) {
        m->pubs[i].addr = below(r, 15) == 0 ? 0 : m->base + below(r, SPACE);
        if (i > 0 && below(r, 10) == 0)
            m->pubs[i].addr = m->pubs[i - 1].addr; /* duplicate address */
        m->pubs[i].param = (uint32_t)below(r, 3);
    }
    m->n_cfi = (int)below(r, MAX_CFI);
    for (int i = 0; i < m->n_cfi; i++) {
        m->cfi[i].start = m->base + below(r, SPACE);
        m->cfi[i].size = below(r, 15) == 0 ? 0 : 1 + below(r, 0x80);
        m->cfi[i].rule = (uint32_t)below(r, 20);
    }
    m->n_deltas = m->n_cfi ? (int)below(r, MAX_DELTAS) : 0;
    for (int i = 0; i < m->n_deltas; i++) {
        const struct m_cfi *c = &m->cfi[below(r, (uint64_t)m->n_cfi)];
        m->deltas[i].addr = c->start + below(r, c->size + 4);
        m->deltas[i].rule = (uint32_t)below(r, 40);
    }
    m->n_win = (int)below(r, MAX_WIN);
    for (int i = 0; i < m->n_win; i++) {
        struct m_win *w = &m->win[i];
        w->type = below(r, 3) == 0 ? 0 : 4;
        if (i > 0 && below(r, 3) == 0) {
            /* Nested in, or straddling, an earlier record: exercises the contained map. */
            const struct m_win *o = &m->win[below(r, (uint64_t)i)];
            w->rva = o->rva + below(r, o->size + 2);
            w->size = 1 + below(r, o->size + 4);
        } else {
            w->rva = m->base + below(r, SPACE);
            w->size = below(r, 20) == 0 ? 0 : 1 + below(r, 0x100);
        }
        w->id = (uint32_t)i;
    }
}

/* Writes the model as .sym text: FILE and INLINE_ORIGIN records are placed at random
 * positions (some after their first use), CFI deltas follow a random INIT, and the line end is
 * LF, CRLF or CR. */
static char *render(const struct model *m, struct rng *r, size_t *len_out)
{
    size_t cap = 1 << 20, n = 0;
    char *t = malloc(cap);
    const char *eol = (const char *[]){"\n", "\r\n", "\r"}[below(r, 3)];
#define OUT(...) (n += (size_t)snprintf(t + n, cap - n, __VA_ARGS__))
    OUT("MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 gen%s", eol);
    int next_file = 0, next_origin = 0;
    for (int i = 0; i < m->n_funcs; i++) {
        /* Interleave declarations: some before, some after the records that use them. */
        while (next_file < N_FILES && below(r, 8) == 0) {
            if (m->file_declared[next_file])
                OUT("FILE %d file%d.c%s", next_file, next_file, eol);
            next_file++;
        }
        while (next_origin < N_ORIGINS && below(r, 8) == 0) {
            if (m->origin_declared[next_origin])
                OUT("INLINE_ORIGIN %d origin%d%s", next_origin, next_origin, eol);
            next_origin++;
        }
        const struct m_func *f = &m->funcs[i];
        OUT("FUNC %s%" PRIx64 " %" PRIx64 " %x f%d%s", f->multiple ? "m " : "", f->start, f->size,
            f->param, i, eol);
        int li = 0, ii = 0;
        while (li < f->n_lines || ii < f->n_inl) {
            if (ii < f->n_inl && (li == f->n_lines || below(r, 2))) {
                const struct m_inl *in = &f->inl[ii++];
                OUT("INLINE %u %u %u %u", in->depth, in->call_line, in->call_file, in->origin);
                for (uint32_t q = 0; q < in->n_ranges; q++)
                    OUT(" %" PRIx64 " %" PRIx64, in->rs[q], in->rz[q]);
                OUT("%s", eol);
            } else {
                const struct m_line *l = &f->lines[li++];
                OUT("%" PRIx64 " %" PRIx64 " %u %u%s", l->start, l->size, l->line, l->file, eol);
            }
        }
        if (n > cap - 4096) {
            cap *= 2;
            t = realloc(t, cap);
        }
    }
    for (; next_file < N_FILES; next_file++)
        if (m->file_declared[next_file])
            OUT("FILE %d file%d.c%s", next_file, next_file, eol);
    for (; next_origin < N_ORIGINS; next_origin++)
        if (m->origin_declared[next_origin])
            OUT("INLINE_ORIGIN %d origin%d%s", next_origin, next_origin, eol);
    for (int i = 0; i < m->n_pubs; i++)
        OUT("PUBLIC %" PRIx64 " %x p%d%s", m->pubs[i].addr, m->pubs[i].param, i, eol);
    /* Deltas are written after a random INIT line; their meaning depends on address only. */
    int d = 0;
    for (int i = 0; i < m->n_cfi; i++) {
        OUT("STACK CFI INIT %" PRIx64 " %" PRIx64 " .cfa: $rsp %u +%s", m->cfi[i].start,
            m->cfi[i].size, m->cfi[i].rule, eol);
        int k = i + 1 == m->n_cfi ? m->n_deltas - d : (int)below(r, 6);
        for (; k > 0 && d < m->n_deltas; k--, d++)
            OUT("STACK CFI %" PRIx64 " $r%d: .cfa %u - ^%s", m->deltas[d].addr, d,
                m->deltas[d].rule, eol);
    }
    for (int i = 0; i < m->n_win; i++) {
        const struct m_win *w = &m->win[i];
        if (w->type == 4)
            OUT("STACK WIN 4 %" PRIx64 " %" PRIx64 " 0 0 0 0 0 0 1 prog%u%s", w->rva, w->size,
                w->id, eol);
        else
            OUT("STACK WIN 0 %" PRIx64 " %" PRIx64 " 0 0 0 0 %x 0 0 1%s", w->rva, w->size, w->id,
                eol);
    }
#undef OUT
    *len_out = n;
    return t;
}

/* ---- The linear-scan model ---------------------------------------------------------------- */

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

static void resolve_model(struct model *m)
{
    for (int i = 0; i < m->n_funcs; i++) {
        struct m_func *f = &m->funcs[i];
        f->kept = f->size != 0;
        for (int j = 0; j < i && f->kept; j++)
            if (m->funcs[j].kept &&
                overlaps(f->start, f->size, m->funcs[j].start, m->funcs[j].size))
                f->kept = false;
    }
    for (int i = 0; i < m->n_cfi; i++) {
        struct m_cfi *c = &m->cfi[i];
        c->kept = c->size != 0;
        for (int j = 0; j < i && c->kept; j++)
            if (m->cfi[j].kept && overlaps(c->start, c->size, m->cfi[j].start, m->cfi[j].size))
                c->kept = false;
    }
    for (int i = 0; i < m->n_win; i++) {
        struct m_win *w = &m->win[i];
        w->kept = w->size != 0;
        for (int j = 0; j < i && w->kept; j++) {
            const struct m_win *o = &m->win[j];
            if (!o->kept || o->type != w->type || !overlaps(w->rva, w->size, o->rva, o->size))
                continue;
            bool inside = w->rva >= o->rva && w->rva + w->size <= o->rva + o->size;
            bool encloses = o->rva >= w->rva && o->rva + o->size <= w->rva + w->size;
            bool equal = inside && encloses;
            if (equal || (!inside && !encloses))
                w->kept = false;
        }
    }
}

/* A line or inline range clipped to its function; size 0 when nothing remains. */
static void clip(const struct m_func *f, uint64_t s, uint64_t z, uint64_t *cs, uint64_t *cz)
{
    uint64_t e = s + z, fe = f->start + f->size;
    if (s < f->start)
        s = f->start;
    if (e > fe)
        e = fe;
    *cs = s;
    *cz = e > s ? e - s : 0;
}

/* The line record of f containing off: the first in file order among the clipped lines that
 * no earlier kept line overlaps. */
static const struct m_line *model_line(const struct m_func *f, uint64_t off)
{
    uint64_t ks[MAX_LINES], kz[MAX_LINES];
    int nk = 0;
    const struct m_line *hit = NULL;
    for (int i = 0; i < f->n_lines; i++) {
        uint64_t s, z;
        clip(f, f->lines[i].start, f->lines[i].size, &s, &z);
        if (z == 0)
            continue;
        bool kept = true;
        for (int j = 0; j < nk && kept; j++)
            kept = !overlaps(s, z, ks[j], kz[j]);
        if (!kept)
            continue;
        ks[nk] = s;
        kz[nk++] = z;
        if (off >= s && off - s < z && hit == NULL)
            hit = &f->lines[i];
    }
    return hit;
}

/* The inline record of f at depth d containing off, and the start of its range. */
static const struct m_inl *model_inline(const struct m_func *f, uint32_t d, uint64_t off,
                                        uint64_t *range_start)
{
    uint64_t ks[MAX_INL * MAX_RANGES], kz[MAX_INL * MAX_RANGES];
    int nk = 0;
    for (int i = 0; i < f->n_inl; i++) {
        const struct m_inl *in = &f->inl[i];
        if (in->depth != d)
            continue;
        for (uint32_t q = 0; q < in->n_ranges; q++) {
            uint64_t s, z;
            clip(f, in->rs[q], in->rz[q], &s, &z);
            if (z == 0)
                continue;
            bool kept = true;
            for (int j = 0; j < nk && kept; j++)
                kept = !overlaps(s, z, ks[j], kz[j]);
            if (!kept)
                continue;
            ks[nk] = s;
            kz[nk++] = z;
            if (off >= s && off - s < z) {
                *range_start = s;
                return in;
            }
        }
    }
    return NULL;
}

static const char *file_name(const struct model *m, uint32_t id, char *buf, size_t n)
{
    if (m->file_declared[id])
        snprintf(buf, n, "file%u.c", id);
    else
        buf[0] = '\0';
    return buf;
}

/* Compares the image's lookup of off with the model. */
static void check_lookup(const struct model *m, const struct st_image *s, uint64_t off)
{
    struct sym_lookup *l = st_lookup(s, off);
    const struct m_func *f = NULL;
    int fi = -1;
    const struct m_func *below_f = NULL;
    for (int i = 0; i < m->n_funcs; i++) {
        const struct m_func *g = &m->funcs[i];
        if (!g->kept)
            continue;
        if (off >= g->start && off - g->start < g->size) {
            f = g;
            fi = i;
        }
        if (g->start <= off && (below_f == NULL || g->start > below_f->start))
            below_f = g;
    }
    char want[64], b1[64], b2[64];
    if (f != NULL) {
        snprintf(want, sizeof(want), "f%d", fi);
        T_ASSERT(l->found && !l->is_public);
        T_ASSERT_STR_EQ(st_str(l->function), want);
        T_ASSERT_U64_EQ(l->function_start, f->start);
        T_ASSERT_U64_EQ(l->function_size, f->size);
        T_ASSERT_EQ(l->param_size, f->param);
        T_ASSERT_EQ(l->is_multiple, f->multiple);
        const struct m_line *ln = model_line(f, off);
        const char *lfile = ln ? file_name(m, ln->file, b1, sizeof(b1)) : "";
        uint32_t lline = ln ? ln->line : 0;
        T_ASSERT_EQ(l->has_line, ln != NULL);
        const struct m_inl *chain[8];
        uint64_t starts[8];
        size_t depth = 0;
        while (depth < 8 &&
               (chain[depth] = model_inline(f, (uint32_t)depth, off, &starts[depth])) != NULL)
            depth++;
        T_ASSERT_EQ(l->n_inlines, depth);
        if (depth == 0) {
            T_ASSERT_STR_EQ(st_str(l->file), lfile);
            T_ASSERT_EQ(l->line, lline);
            return;
        }
        T_ASSERT_STR_EQ(st_str(l->file), file_name(m, chain[0]->call_file, b2, sizeof(b2)));
        T_ASSERT_EQ(l->line, chain[0]->call_line);
        for (size_t k = 0; k < depth; k++) {
            const struct sym_inline_frame *fr = &l->inlines[depth - 1 - k];
            if (m->origin_declared[chain[k]->origin])
                snprintf(want, sizeof(want), "origin%u", chain[k]->origin);
            else
                want[0] = '\0';
            T_ASSERT_STR_EQ(st_str(fr->function), want);
            T_ASSERT_U64_EQ(fr->function_start, starts[k]);
            if (k + 1 < depth) {
                T_ASSERT_STR_EQ(st_str(fr->file),
                                file_name(m, chain[k + 1]->call_file, b2, sizeof(b2)));
                T_ASSERT_EQ(fr->line, chain[k + 1]->call_line);
            } else {
                T_ASSERT_STR_EQ(st_str(fr->file), lfile);
                T_ASSERT_EQ(fr->line, lline);
            }
        }
        return;
    }
    /* PUBLIC: the first record at the greatest non-zero address <= off, unless a kept FUNC
     * starts at or after it (and at or before off). */
    int pi = -1;
    for (int i = 0; i < m->n_pubs; i++) {
        uint64_t a = m->pubs[i].addr;
        if (a == 0 || a > off)
            continue;
        if (pi < 0 || a > m->pubs[pi].addr)
            pi = i;
    }
    if (pi >= 0 && below_f != NULL && below_f->start >= m->pubs[pi].addr)
        pi = -1;
    if (pi < 0) {
        T_ASSERT(!l->found);
        return;
    }
    snprintf(want, sizeof(want), "p%d", pi);
    T_ASSERT(l->found && l->is_public);
    T_ASSERT_STR_EQ(st_str(l->function), want);
    T_ASSERT_U64_EQ(l->function_start, m->pubs[pi].addr);
    T_ASSERT_EQ(l->param_size, m->pubs[pi].param);
}

static void check_cfi(const struct model *m, const struct st_image *s, uint64_t off)
{
    const struct m_cfi *c = NULL;
    for (int i = 0; i < m->n_cfi && c == NULL; i++)
        if (m->cfi[i].kept && off >= m->cfi[i].start && off - m->cfi[i].start < m->cfi[i].size)
            c = &m->cfi[i];
    if (c == NULL) {
        T_ASSERT_STR_EQ(st_cfi(s, off), "-");
        return;
    }
    char want[65536];
    size_t n = (size_t)snprintf(want, sizeof(want), ".cfa: $rsp %u +", c->rule);
    /* Deltas by address in [start, off]; at one address the last in file order. */
    for (uint64_t a = c->start; a <= off; a++) {
        int last = -1;
        for (int d = 0; d < m->n_deltas; d++)
            if (m->deltas[d].addr == a)
                last = d;
        if (last >= 0)
            n += (size_t)snprintf(want + n, sizeof(want) - n, " $r%d: .cfa %u - ^", last,
                                  m->deltas[last].rule);
    }
    T_ASSERT_STR_EQ(st_cfi(s, off), want);
}

static void check_win(const struct model *m, const struct st_image *s, uint64_t off)
{
    const struct m_win *best = NULL;
    static const uint32_t types[2] = {4, 0};
    for (int t = 0; t < 2 && best == NULL; t++)
        for (int i = 0; i < m->n_win; i++) {
            const struct m_win *w = &m->win[i];
            if (w->kept && w->type == types[t] && off >= w->rva && off - w->rva < w->size &&
                (best == NULL || w->size < best->size))
                best = w;
        }
    struct sym_win_frame f;
    sym_err rc = sym_image_win_frame(s->img, off, &f);
    if (best == NULL) {
        T_ASSERT_ERR(rc, SYM_ENOTFOUND);
        return;
    }
    T_ASSERT_OK(rc);
    T_ASSERT_EQ(f.type, best->type);
    T_ASSERT_U64_EQ(f.rva, best->rva);
    T_ASSERT_U64_EQ(f.code_size, best->size);
    if (best->type == 4) {
        char want[32];
        snprintf(want, sizeof(want), "prog%u", best->id);
        T_ASSERT_STR_EQ(st_str(f.program), want);
    } else {
        T_ASSERT_EQ(f.local_size, best->id);
        T_ASSERT(f.allocates_base_pointer);
    }
}

static void check_offset(const struct model *m, const struct st_image *s, uint64_t off)
{
    check_lookup(m, s, off);
    check_cfi(m, s, off);
    check_win(m, s, off);
}

static void check_edges(const struct model *m, const struct st_image *s, uint64_t a, uint64_t z)
{
    uint64_t offs[5] = {a - 1, a, a + z / 2, a + z - 1, a + z};
    for (int i = 0; i < 5; i++)
        check_offset(m, s, offs[i]);
}

enum { N_RANDOM = 2000 }; /* random offsets per seed */

static void run_seed(uint64_t seed)
{
    struct rng r = {seed * 0x9e3779b97f4a7c15ull + 1};
    static struct model m;
    generate(&m, &r);
    resolve_model(&m);
    size_t len;
    char *text = render(&m, &r, &len);
    /* Feed in random chunk sizes, as a stream would arrive. */
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    for (size_t off = 0; off < len;) {
        size_t n = 1 + (size_t)below(&r, 4096);
        if (n > len - off)
            n = len - off;
        T_ASSERT_OK(sym_parser_feed(p, text + off, n));
        off += n;
    }
    struct st_image s;
    memset(&s, 0, sizeof(s));
    sym_buf_init(&s.buf, 0);
    struct sym_diag d;
    T_ASSERT_OK(sym_parser_finish(p, &s.buf, &s.stats, &d));
    sym_parser_free(p);
    T_ASSERT_OK(sym_image_open(s.buf.data, s.buf.len, &s.img, &d));
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    for (int i = 0; i < m.n_funcs; i++) {
        const struct m_func *f = &m.funcs[i];
        check_edges(&m, &s, f->start, f->size);
        for (int k = 0; k < f->n_lines; k++)
            check_edges(&m, &s, f->lines[k].start, f->lines[k].size);
        for (int k = 0; k < f->n_inl; k++)
            for (uint32_t q = 0; q < f->inl[k].n_ranges; q++)
                check_edges(&m, &s, f->inl[k].rs[q], f->inl[k].rz[q]);
    }
    for (int i = 0; i < m.n_pubs; i++)
        check_edges(&m, &s, m.pubs[i].addr, 1);
    for (int i = 0; i < m.n_cfi; i++)
        check_edges(&m, &s, m.cfi[i].start, m.cfi[i].size);
    for (int i = 0; i < m.n_deltas; i++)
        check_edges(&m, &s, m.deltas[i].addr, 1);
    for (int i = 0; i < m.n_win; i++)
        check_edges(&m, &s, m.win[i].rva, m.win[i].size);
    static uint64_t offs[N_RANDOM];
    static struct sym_lookup many[N_RANDOM];
    for (int i = 0; i < N_RANDOM; i++) {
        offs[i] = m.base - 0x100 + below(&r, SPACE + 0x300);
        check_offset(&m, &s, offs[i]);
    }
    /* A batch, which fetches ahead of the offset it decodes, answers as single lookups do. */
    T_ASSERT_OK(sym_image_lookup_many(s.img, offs, N_RANDOM, many));
    for (int i = 0; i < N_RANDOM; i++)
        st_same_lookup(st_lookup(&s, offs[i]), &many[i]);
    st_free(&s);
    free(text);
}

static void test_symcache_equals_linear_scan(void)
{
    const char *env = getenv("SYM_PROPERTY_SEEDS");
    int seeds = env ? (int)strtol(env, NULL, 10) : 12;
    for (int i = 0; i < seeds; i++)
        run_seed((uint64_t)i + 1);
}

T_LIST(T_TEST(test_symcache_equals_linear_scan))
