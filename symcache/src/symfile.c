/* SPDX-License-Identifier: MPL-2.0 */
/* symfile.c: the streaming Breakpad .sym parser (grammar and policies in sym/symfile.h).
 *
 * Two halves meet in an operation list. The tokenizer splits the text into lines with its own
 * vectorised splitter and parses each line in place. It builds the unwind tables (STACK CFI /
 * WIN) itself, in a builder of its own; does the per-record work of FUNC blocks that needs no
 * builder state (the block front of build.c: numbering FILE and INLINE_ORIGIN ids, judging
 * FUNCs, clipping line and INLINE records, hashing names); and turns the rest into operations
 * whose names are copied into the list's arena, line records in one batch per block. The
 * applier hands the operations, in file order, to the main builder (build.c), which interns
 * names, encodes the blocks and counts every warning. At the end the unwind builder's tables
 * are moved into the main builder and the image is written.
 *
 * On a large input the tokenizer runs on a second thread, one piece of input ahead of the
 * applier (two operation lists, used in turn); otherwise both run on the caller's thread. The
 * image is the same either way. Depends on libc (and its POSIX threads) only. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "build_int.h"
#include "sym/symfile.h"

/* Input is tokenized in pieces of at most SYM_PIECE_BYTES (opts.piece_bytes; with the second
 * thread, input is gathered into pieces of exactly that size whatever the sizes fed, the last
 * one shorter): the operation list of one piece stays in the caches while the applier reads
 * it, and the two threads meet once per piece (512 KiB measured a little faster than 1 MiB).
 * A piece under a sixteenth of that (the end of the input, or a caller feeding a few bytes at
 * a time before the thread starts) is not worth a meeting: the caller's thread tokenizes it
 * itself while the other one waits. */
#define SMALL_PIECE_DIV 16
/* A piece is shared between the threads only after one of at least this many lines (64 at the
 * default size): below that the mix of records it held says little. */
#define SPLIT_MIN_LINES(piece) ((piece) / 8192 > 16 ? (uint64_t)(piece) / 8192 : 16)
/* While the tokenizing thread is still at its piece, the applier, which would otherwise wait
 * for it, has the kernel supply the pages its growing tables will be written into next
 * (bld_rooms), this far ahead, ROOM_STEP_BYTES at a time: each fresh page (or huge page)
 * costs a fault and a zeroing, an eighth of the applier's time on a 150 MB file when taken
 * while writing. The tokenizing thread does the same once done with its piece, until the next
 * one comes, but only while the applier is not already waiting for it: done before each
 * piece, that work delayed the next piece whenever the tokenizer set the pace (all of a FUNC
 * section), up to a third of a parse on a machine slow to supply fresh memory. */
#define ROOM_AHEAD_BYTES ((size_t)4 << 20)
#define ROOM_STEP_BYTES  ((size_t)2 << 20)
/* How many operations ahead the applier prefetches a function name's hash slot. */
#define PREFETCH_OPS 16
/* On one thread, operations are applied in batches of this many. */
#define DIRECT_FLUSH_OPS 256
/* With threads == 0 the second thread starts once this much input has been fed (most symbol
 * files are small, and parse faster than a thread starts). */
#define PIPELINE_MIN_INPUT ((uint64_t)4 << 20)
/* A thread that would wait for the other first spins this long: a piece takes a few hundred
 * microseconds, and on a virtual machine a thread put to sleep took tens of microseconds to
 * wake, twice per piece. */
#define SPIN_SECONDS 200e-6
/* The tokenizing thread's share of a shared piece starts at these many hundredths: of a piece
 * of unwind records, whose other share it also builds, and of a piece of FUNC blocks, where
 * the caller's thread also applies every operation of the piece before. Then it follows
 * whichever thread waited: when the caller's thread finds the piece not yet done, the
 * tokenizing thread's share of the next such piece is SHARE_STEP smaller, else that much
 * larger, within [SHARE_MIN, SHARE_MAX]. How the work divides depends on the records and on
 * the machine; on a 150 MB libxul-shaped file, every fixed share tried was slower than
 * this. The image does not depend on where pieces are cut. */
#define UNWIND_SHARE_START 25
#define BLOCK_SHARE_START  70
#define SHARE_STEP         2
#define SHARE_MIN          10
#define SHARE_MAX          95
enum { SPLIT_NONE, SPLIT_UNWIND, SPLIT_BLOCK };

/* One record for the main builder, or a warning, in file order. */
enum op_kind {
    OP_LINES,  /* c = first of d struct bline in the list's lines, a = dense file ids so far */
    OP_FUNC,   /* a = address, flag = m | had_nul << 1 | verdict << 2, name; FUNC_KEEP:
                * b = size | parameter size << 32, c = name hash; FUNC_REJECT: c = reason */
    OP_PUBLIC, /* a = address, b = parameter size, flag = m | had_nul << 1, c = name hash, name */
    OP_FILE,   /* a = dense index, flag = had_nul << 1, c = name hash, name */
    OP_ORIGIN, /* a = dense index, flag = had_nul << 1, c = name hash, name */
    OP_INLINE, /* a = depth, c = first of d struct binl in the list's inls,
                * b = dense file ids so far | dense origin ids so far << 32 */
    OP_MODULE, /* c = first of four (offset, length) pairs in the list's names */
    OP_MODULE_FIELD, /* a = field, name */
    OP_WARN,         /* c = the reason (a static string) */
    /* Only in the side list (run_piece), for the tokenizing thread: */
    OP_CFI,    /* a = address, b = size, flag = INIT, name = the rules */
    OP_WIN,    /* a = type, flag = has_program | allocates_bp << 1, d = offset in the arena of
                * the eight numeric fields (u64), then the program (e bytes) */
    OP_RAW,    /* name = a line to parse as any other (followed by 8 zero bytes in the arena) */
    OP_SLINES, /* c = first of d struct side_line_rec in the list's raw: line records */
    OP_SFUNC,  /* a = address, b = size, c = parameter size, flag = m, name: a FUNC record */
};

/* Names are (d = offset, e = length) in the list's arena. line is the 1-based input line. */
struct op {
    uint64_t a, b, c, line;
    uint32_t d, e;
    uint8_t kind, flag;
};

struct oplist {
    struct vec ops;   /* struct op */
    struct vec arena; /* u8: the names of the operations */
    struct vec lines; /* struct bline */
    struct vec inls;  /* struct binl */
    struct vec names; /* u32: MODULE (offset, length) pairs */
    struct vec raw;   /* struct side_line_rec (side lists only) */
    /* A fatal error of the tokenizer, after the operations before it. */
    sym_err fatal;
    uint64_t fatal_line;
    char fatal_msg[200];
};

/* The tokenizer's state: only its thread touches it while a piece is being tokenized. */
struct tok {
    const struct sym_parse_opts *opts;
    struct builder u;    /* the unwind tables */
    struct bfront front; /* the per-record work of FUNC blocks */
    bool batch_open;     /* lines from batch_first on in out->lines await their OP_LINES */
    size_t batch_first;
    struct oplist *out; /* where operations go */
    /* On the caller's thread: applies out when it holds this many operations, so that the
     * list stays in the first-level cache (0 on the second thread). */
    size_t flush_at;
    void (*flush)(void *ctx, struct oplist *l);
    void *flush_ctx;
    struct vec carry;    /* u8: the start of a line cut by a piece boundary */
    bool carry_overflow; /* that line is over max_line_len: drop it up to its end */
    bool started;        /* the first non-blank line has passed the "is a .sym" check */
    bool header_zone;    /* no FILE, FUNC or PUBLIC yet (the PE-name rule looks only here) */
    bool pe_checked;     /* the first INFO CODE_ID line has been seen */
    bool has_module;     /* a MODULE record was passed on */
    bool stopped;        /* after a fatal error: the rest of the input is ignored */
    uint64_t newlines;   /* '\n' seen so far: the current line is newlines + 1 */
    uint64_t n_unknown;
    /* Since reset: lines; STACK CFI / WIN lines; FUNC, line and INLINE records. */
    uint64_t piece_lines, piece_unwind, piece_block;
    struct vec tokens; /* u64: numeric fields of an INLINE record */
};

struct sym_parser {
    struct sym_parse_opts opts;
    struct builder b;
    struct tok t;
    struct oplist lists[2];
    unsigned fill;   /* the list the tokenizer writes next */
    bool pending[2]; /* a list holds operations not yet applied */
    bool finished;
    size_t piece, small_piece; /* opts.piece_bytes clamped, and the size of a small piece */
    sym_err fatal;
    char fatal_msg[200];
    uint64_t fatal_line;
    uint64_t line; /* the line of the operation being applied */
    struct sym_parse_stats st;

    /* The tokenizer's thread, when there is one. */
    bool threaded;
    bool thread_tried;
    uint64_t input_ahead; /* bytes the caller is known to be about to feed (0: unknown) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool sync_ready; /* mu and cv are initialised */
    bool job, job_done, quit;
    bool job_populate;     /* the job is populate_pages(job_data, job_len), not a piece */
    struct side *job_side; /* applied by the thread before the job's piece (NULL: none) */
    /* Counts of jobs posted and done, read without mu: the idle thread watches the first for
     * a while before it sleeps (see SPIN_SECONDS), the waiting applier the second; and the
     * applier stops preparing rooms as soon as the job is done (see ROOM_AHEAD_BYTES). Hints
     * only: job and job_done, under mu, are what is waited for. */
    atomic_uint jobs_posted, jobs_done;
    unsigned jobs_done_at_post; /* jobs_done when the last job was posted */
    /* The rooms of the builder's tables when the job was posted, which the thread populates
     * once done with the job, until the next one comes, unless the applier is already waiting
     * for it (see prepare_rooms). */
    struct bld_room job_rooms[BLD_ROOMS];
    size_t job_n_rooms;
    atomic_bool applier_waiting;

    /* The caller's shares of shared pieces (see side_tokenize): side_tok tokenizes one into
     * sides[k] (only its out, newlines and stopped are used) while the tokenizing thread
     * applies the previous one, sides[1 - k]. How the next piece is shared, and how the one
     * in flight was (SPLIT_*), and the tokenizing thread's share of each kind, in hundredths
     * (see SHARE_STEP). */
    unsigned split_next, split_in_flight;
    unsigned share[3];
    bool side_pending; /* sides[side_last] awaits the next piece's job */
    unsigned side_last;
    struct tok side_tok;
    struct side {
        struct oplist l;
        uint64_t newlines; /* the line count at the end of the piece */
        bool carry_overflow;
        uint32_t carry_off, carry_len; /* the piece's cut last line, in l.arena */
    } sides[2];
    const char *job_data;
    size_t job_len;

    /* The thread may still be tokenizing the last piece handed to it (run_piece returns
     * without waiting, so that the caller reads the next input meanwhile): complete_piece
     * waits for it before the tokenizer's state or that piece's list is used. */
    bool in_flight;
    bool in_flight_borrowed; /* ... and the piece is the caller's memory, not in[] */
    /* Once threaded, input is gathered into pieces of the parser's own, used in turn: the
     * caller fills in[in_cur] (sym_parser_buffer, or a copy by sym_parser_feed) while the
     * thread tokenizes the other. */
    char *in[2];
    unsigned in_cur;
    size_t in_len;
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

static void direct_flush(void *ctx, struct oplist *l);

/* Empties a list, keeping its memory. */
static void oplist_clear(struct oplist *l)
{
    l->ops.len = l->arena.len = l->lines.len = l->inls.len = l->names.len = l->raw.len = 0;
    l->fatal = SYM_OK;
}

static void oplist_free(struct oplist *l)
{
    vec_free(&l->ops);
    vec_free(&l->arena);
    vec_free(&l->lines);
    vec_free(&l->inls);
    vec_free(&l->names);
    vec_free(&l->raw);
}

sym_err sym_parser_new(const struct sym_parse_opts *opts, struct sym_parser **out)
{
    if (out == NULL)
        return SYM_EINVAL;
    struct sym_parser *p = sym_calloc(1, sizeof(*p));
    if (p == NULL)
        return SYM_ENOMEM;
    p->share[SPLIT_UNWIND] = UNWIND_SHARE_START;
    p->share[SPLIT_BLOCK] = BLOCK_SHARE_START;
    if (opts != NULL)
        p->opts = *opts;
    else
        sym_parse_opts_init(&p->opts);
    if (p->opts.max_line_len == 0)
        p->opts.max_line_len = SYM_MAX_SYM_LINE;
    if (p->opts.max_errors == 0)
        p->opts.max_errors = SYM_MAX_SYM_ERRORS;
    p->piece = p->opts.piece_bytes == 0                    ? SYM_PIECE_BYTES
               : p->opts.piece_bytes < SYM_MIN_PIECE_BYTES ? SYM_MIN_PIECE_BYTES
               : p->opts.piece_bytes > SYM_MAX_PIECE_BYTES ? SYM_MAX_PIECE_BYTES
                                                           : p->opts.piece_bytes;
    p->small_piece = p->piece / SMALL_PIECE_DIV;
    p->t.opts = &p->opts;
    p->t.header_zone = true;
    p->t.out = &p->lists[0];
    p->t.flush = direct_flush;
    p->t.flush_ctx = p;
    p->side_tok.opts = &p->opts;
    sym_err rc = bld_init(&p->b, &p->opts);
    if (rc == SYM_OK)
        rc = bld_init(&p->t.u, &p->opts);
    if (rc != SYM_OK) {
        sym_parser_free(p);
        return rc;
    }
    *out = p;
    return SYM_OK;
}

static void stop_thread(struct sym_parser *p)
{
    if (!p->threaded)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    /* Also ends a spin, or the populating of rooms, at once. */
    atomic_fetch_add_explicit(&p->jobs_posted, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->threaded = false;
}

void sym_parser_free(struct sym_parser *p)
{
    if (p == NULL)
        return;
    stop_thread(p);
    if (p->sync_ready) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
    }
    bld_cleanup(&p->b);
    bld_cleanup(&p->t.u);
    front_cleanup(&p->t.front);
    vec_free(&p->t.carry);
    vec_free(&p->t.tokens);
    oplist_free(&p->lists[0]);
    oplist_free(&p->lists[1]);
    oplist_free(&p->sides[0].l);
    oplist_free(&p->sides[1].l);
    sym_free(p->in[0]);
    sym_free(p->in[1]);
    sym_free(p);
}

/* The applier's errors and warnings, at the line of the operation being applied. */
static sym_err fail(struct sym_parser *p, sym_err rc, const char *fmt, ...) SYM_PRINTF(3, 4);

static sym_err fail(struct sym_parser *p, sym_err rc, const char *fmt, ...)
{
    if (p->fatal != SYM_OK)
        return p->fatal;
    p->fatal = rc;
    p->fatal_line = p->line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->fatal_msg, sizeof(p->fatal_msg), fmt, ap);
    va_end(ap);
    return rc;
}

static const char *builder_failure(sym_err rc)
{
    return rc == SYM_ENOMEM ? "out of memory while building the symcache"
                            : "the symbol file exceeds a configured limit or the symcache "
                              "format's 32-bit tables";
}

static sym_err fail_builder(struct sym_parser *p, sym_err rc)
{
    return fail(p, rc, "%s", builder_failure(rc));
}

static void warn(struct sym_parser *p, const char *why)
{
    p->st.n_warnings++;
    if (p->st.first_warning_line == 0) {
        p->st.first_warning_line = p->line;
        snprintf(p->st.first_warning, sizeof(p->st.first_warning), "%s", why);
    }
    if (p->st.n_warnings > p->opts.max_errors)
        fail(p, SYM_EPARSE,
             "more than %llu malformed lines (the first, on line %llu: %s); not a usable symbol "
             "file",
             (unsigned long long)p->opts.max_errors, (unsigned long long)p->st.first_warning_line,
             p->st.first_warning);
}

/* The tokenizer's fatal errors: recorded after the operations so far, and the tokenizer stops. */
static void tok_fail(struct tok *t, sym_err rc, const char *fmt, ...) SYM_PRINTF(3, 4);

static void tok_fail(struct tok *t, sym_err rc, const char *fmt, ...)
{
    if (t->stopped)
        return;
    t->stopped = true;
    struct oplist *l = t->out;
    l->fatal = rc;
    l->fatal_line = t->newlines + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->fatal_msg, sizeof(l->fatal_msg), fmt, ap);
    va_end(ap);
}

static struct op *push_op(struct tok *t, enum op_kind kind);

/* Ends the batch of line records of the open block: one operation for all of them. */
static void close_batch(struct tok *t)
{
    if (!t->batch_open)
        return;
    t->batch_open = false;
    struct op *o = push_op(t, OP_LINES);
    if (o != NULL) {
        o->c = t->batch_first;
        o->d = (uint32_t)(t->out->lines.len - t->batch_first);
        o->a = t->front.file_ids.next;
    }
}

/* Appends an operation for the current line (after the pending line records); NULL (and the
 * tokenizer stopped) when out of memory. */
static struct op *emit(struct tok *t, enum op_kind kind)
{
    close_batch(t);
    return push_op(t, kind);
}

static struct op *push_op(struct tok *t, enum op_kind kind)
{
    struct op *o = vec_push(&t->out->ops, sizeof(*o));
    if (o == NULL) {
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
        return NULL;
    }
    o->kind = (uint8_t)kind;
    o->flag = 0;
    o->line = t->newlines + 1;
    return o;
}

static void tok_warn(struct tok *t, const char *why)
{
    struct op *o = emit(t, OP_WARN);
    if (o != NULL)
        o->c = (uint64_t)(uintptr_t)why;
}

/* Copies a name into the arena: *off receives its offset. */
static bool arena_put(struct tok *t, const char *s, size_t n, uint32_t *off)
{
    struct vec *a = &t->out->arena;
    if (a->len > UINT32_MAX - n || !vec_append(a, s, n)) {
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
        return false;
    }
    *off = (uint32_t)(a->len - n);
    return true;
}

/* An operation carrying a name (d, e). */
static struct op *emit_named(struct tok *t, enum op_kind kind, const char *s, size_t n)
{
    uint32_t off;
    if (n > UINT32_MAX) {
        tok_fail(t, SYM_ELIMIT, "a name of more than 4 GiB");
        return NULL;
    }
    if (!arena_put(t, s, n, &off))
        return NULL;
    struct op *o = emit(t, kind);
    if (o != NULL) {
        o->d = off;
        o->e = (uint32_t)n;
    }
    return o;
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

/* The value of the k (1 to 8) hex digits at p; 8 bytes at p are readable (little-endian host). */
static inline uint64_t hex_digits(const char *p, unsigned k)
{
    uint64_t w;
    memcpy(&w, p, 8);
    /* Digit value per byte: the low nibble, plus 9 for a letter (bit 6 set). */
    uint64_t nib = (w & 0x0f * SWAR_ONES) + 9 * ((w >> 6) & SWAR_ONES);
    uint64_t r = __builtin_bswap64(nib << (8 * (8 - k)));
    r = (r | (r >> 4)) & 0x00ff00ff00ff00ffull;
    r = (r | (r >> 8)) & 0x0000ffff0000ffffull;
    return (r | (r >> 16)) & 0x00000000ffffffffull;
}

/* The same for k (1 to 8) decimal digits. */
static inline uint32_t dec_digits(const char *p, unsigned k)
{
    uint64_t x;
    memcpy(&x, p, 8);
    /* Digits in the top k bytes, first digit most significant: combine pairs, quads, octets. */
    x = (x - '0' * SWAR_ONES) << (8 * (8 - k));
    x = ((x & 0x0f0f0f0f0f0f0f0full) * 2561) >> 8;
    x = ((x & 0x00ff00ff00ff00ffull) * 6553601) >> 16;
    return (uint32_t)(((x & 0x0000ffff0000ffffull) * 42949672960001ull) >> 32);
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
    *out = hex_digits(p, k);
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
    *out = dec_digits(p, k);
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
 * Records (the tokenizer)
 * ========================================================================================== */

enum line_result {
    LINE_OK,      /* a record (kept or dropped by policy), or an operation for it */
    LINE_BAD,     /* malformed: warning */
    LINE_UNKNOWN, /* an unknown record type: skipped */
    LINE_FATAL,   /* the tokenizer stopped */
};

/* The result of emitting an operation. */
static enum line_result emitted(const struct tok *t)
{
    return t->stopped ? LINE_FATAL : LINE_OK;
}

/* Maps a result of the unwind builder: SYM_EPARSE is a rejected record (warning with its
 * reason); a NUL byte replaced in a rule or program text is a warning too. */
static enum line_result ubuilt(struct tok *t, sym_err rc, uint64_t nul_before, const char **why)
{
    if (rc == SYM_OK) {
        if (t->u.strings.nul_replaced != nul_before)
            tok_warn(t, "NUL byte in a name (replaced by '_')");
        return emitted(t);
    }
    if (rc == SYM_EPARSE) {
        *why = t->u.warn;
        return LINE_BAD;
    }
    tok_fail(t, rc, "%s", builder_failure(rc));
    return LINE_FATAL;
}

/* The fields of a line record: <address> <size> <line> <file_id>. */
struct line_rec {
    uint64_t addr, size;
    uint32_t line, file;
};

/* A line record split into fields on the caller's thread (a side list's raw). */
struct side_line_rec {
    struct line_rec r;
    uint64_t line; /* the 1-based input line */
};

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Bit i set when byte i of the 32 in v0, v1 is in [lo, hi] (both below 0x80). */
static inline uint32_t bytes_in_range(__m128i v0, __m128i v1, char lo, char hi)
{
    const __m128i below = _mm_set1_epi8((char)(lo - 1)), above = _mm_set1_epi8((char)(hi + 1));
    __m128i m0 = _mm_and_si128(_mm_cmpgt_epi8(v0, below), _mm_cmpgt_epi8(above, v0));
    __m128i m1 = _mm_and_si128(_mm_cmpgt_epi8(v1, below), _mm_cmpgt_epi8(above, v1));
    return (uint32_t)_mm_movemask_epi8(m0) | (uint32_t)_mm_movemask_epi8(m1) << 16;
}

/* The usual shape of a line record, classified 32 bytes at a time instead of field by field:
 * at most 32 bytes, four fields of 1 to 8 digits, one space between them and none around.
 * Returns false for anything else, which line_fields then parses byte by byte (a line this
 * accepts, that parse accepts too, with the same values). */
static inline bool line_fields_fast(const char *s, size_t n, const char *avail, struct line_rec *r)
{
    if (n > 32 || avail - s < 40)
        return false;
    __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
    uint32_t live = (uint32_t)(((uint64_t)1 << n) - 1);
    const __m128i space = _mm_set1_epi8(' ');
    uint32_t sp = ((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, space)) |
                   (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, space)) << 16) &
                  live;
    /* Exactly three spaces (the third lowest is the only one left after dropping two), none
     * first or last, no two adjacent. */
    uint32_t from_second = sp & (sp - 1), from_third = from_second & (from_second - 1);
    if (from_third == 0 || (from_third & (from_third - 1)) != 0 ||
        (sp & (1u | (uint32_t)1 << (n - 1))) != 0 || (sp & (sp >> 1)) != 0)
        return false;
    unsigned a = (unsigned)__builtin_ctz(sp), b = (unsigned)__builtin_ctz(from_second),
             c = (unsigned)__builtin_ctz(from_third);
    unsigned k1 = a, k2 = b - a - 1, k3 = c - b - 1, k4 = (unsigned)n - c - 1;
    /* Each field at most 8 digits. (Or-ing the lengths would wrongly refuse an 8-digit field
     * beside a field of any other length but 8: 8 | 1 > 8.) */
    if (k1 > 8 || k2 > 8 || k3 > 8 || k4 > 8)
        return false;
    uint32_t dig = bytes_in_range(v0, v1, '0', '9');
    const __m128i lower = _mm_set1_epi8(0x20);
    uint32_t hex = dig | bytes_in_range(_mm_or_si128(v0, lower), _mm_or_si128(v1, lower), 'a', 'f');
    /* Every other byte a hex digit, and a decimal one after the second space. */
    uint32_t fields = live & ~sp;
    if ((fields & ~hex) != 0 || (fields & ~(((uint32_t)2 << b) - 1) & ~dig) != 0)
        return false;
    r->addr = hex_digits(s, k1);
    r->size = hex_digits(s + a + 1, k2);
    r->line = dec_digits(s + b + 1, k3);
    r->file = dec_digits(s + c + 1, k4);
    return true;
}
#else
static inline bool line_fields_fast(const char *s, size_t n, const char *avail, struct line_rec *r)
{
    (void)s;
    (void)n;
    (void)avail;
    (void)r;
    return false;
}
#endif

static inline bool line_fields(struct lc *c, struct line_rec *r)
{
    if (line_fields_fast(c->p, (size_t)(c->end - c->p), c->avail, r))
        return true;
    return hex_field(c, &r->addr) && hex_field(c, &r->size) && dec_field(c, &r->line) &&
           dec_field(c, &r->file) && at_end(c);
}

static inline enum line_result line_build(struct tok *t, const struct line_rec *r, const char **why)
{
    struct vec *lines = &t->out->lines;
    if (!vec_reserve(lines, sizeof(struct bline), 1)) {
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
        return LINE_FATAL;
    }
    bool keep;
    sym_err rc = front_line(&t->front, r->addr, r->size, r->line, r->file,
                            (struct bline *)lines->data + lines->len, &keep, why);
    if (rc == SYM_EPARSE)
        return LINE_BAD;
    if (rc != SYM_OK) {
        tok_fail(t, rc, "%s", builder_failure(rc));
        return LINE_FATAL;
    }
    if (keep) {
        if (!t->batch_open) {
            t->batch_open = true;
            t->batch_first = lines->len;
        }
        lines->len++;
    }
    return LINE_OK;
}

/* *well_formed tells a syntactically valid record. */
static enum line_result line_record(struct tok *t, struct lc *c, const char **why,
                                    bool *well_formed)
{
    struct line_rec r;
    if (!line_fields(c, &r)) {
        *why = "malformed line record";
        return LINE_BAD;
    }
    *well_formed = true;
    t->piece_block++;
    return line_build(t, &r, why);
}

/* The fields of a FUNC record after "FUNC". */
struct func_rec {
    bool m;
    uint64_t addr, size, param;
    const char *name;
    size_t n;
};

static inline bool func_fields(struct lc *c, struct func_rec *r)
{
    r->m = multiple_flag(c);
    return hex_field(c, &r->addr) && hex_field(c, &r->size) && hex_field(c, &r->param) &&
           rest_field(c, &r->name, &r->n);
}

/* The NUL bytes (replaced by '_', flag bit 1 set) and hash (c) of the name of o, here, off the
 * builder's thread, which can then prefetch the name's slot. An empty name has no copy (and
 * the arena may have no buffer yet). */
static void hash_name(struct tok *t, struct op *o)
{
    size_t n = o->e;
    char *copy = n ? (char *)t->out->arena.data + o->d : (char *)"";
    char *z = n ? memchr(copy, '\0', n) : NULL;
    if (z != NULL) {
        o->flag |= 2;
        for (; z != NULL; z = memchr(z, '\0', (size_t)(copy + n - z)))
            *z = '_';
    }
    o->c = hash_bytes(copy, n);
}

static enum line_result func_build(struct tok *t, const struct func_rec *r)
{
    t->header_zone = false;
    const char *reason = NULL;
    enum func_verdict v = front_func(&t->front, r->addr, r->size, r->param, &reason);
    size_t n = v == FUNC_KEEP ? r->n : 0;
    struct op *o = emit_named(t, OP_FUNC, v == FUNC_KEEP ? r->name : "", n);
    if (o == NULL)
        return LINE_FATAL;
    o->a = r->addr;
    o->flag = (uint8_t)(r->m | (unsigned)v << 2);
    if (v == FUNC_REJECT) {
        o->c = (uint64_t)(uintptr_t)reason;
    } else if (v == FUNC_KEEP) {
        o->b = r->size | r->param << 32;
        hash_name(t, o);
    }
    return emitted(t);
}

static enum line_result func_record(struct tok *t, struct lc *c, const char **why)
{
    struct func_rec r;
    if (!func_fields(c, &r)) {
        *why = "malformed FUNC record";
        return LINE_BAD;
    }
    t->piece_block++;
    return func_build(t, &r);
}

static enum line_result public_record(struct tok *t, struct lc *c, const char **why)
{
    bool m = multiple_flag(c);
    uint64_t addr, param;
    const char *name;
    size_t n;
    if (!hex_field(c, &addr) || !hex_field(c, &param) || !rest_field(c, &name, &n)) {
        *why = "malformed PUBLIC record";
        return LINE_BAD;
    }
    t->header_zone = false;
    front_public(&t->front);
    struct op *o = emit_named(t, OP_PUBLIC, name, n);
    if (o != NULL) {
        o->a = addr;
        o->b = param;
        o->flag = m;
        hash_name(t, o);
    }
    return emitted(t);
}

/* FILE and INLINE_ORIGIN: the id is numbered here, the name given to the builder. */
static enum line_result named_id_record(struct tok *t, enum op_kind kind, uint32_t id,
                                        const char *name, size_t n)
{
    uint32_t idx;
    sym_err rc =
        kind == OP_FILE ? front_file(&t->front, id, &idx) : front_origin(&t->front, id, &idx);
    if (rc != SYM_OK) {
        tok_fail(t, rc, "%s", builder_failure(rc));
        return LINE_FATAL;
    }
    struct op *o = emit_named(t, kind, name, n);
    if (o != NULL) {
        o->a = idx;
        hash_name(t, o);
    }
    return emitted(t);
}

static enum line_result file_record(struct tok *t, struct lc *c, const char **why)
{
    uint32_t id;
    const char *name;
    size_t n;
    if (!dec_field(c, &id) || !rest_field(c, &name, &n)) {
        *why = "malformed FILE record";
        return LINE_BAD;
    }
    t->header_zone = false;
    return named_id_record(t, OP_FILE, id, name, n);
}

/* The number of fields (runs of bytes other than ' ') from the cursor to the end of the line;
 * the cursor does not move. */
static size_t count_fields(const struct lc *c)
{
    const char *p = c->p;
    size_t k = 0;
    bool in_field = false;
#ifdef __SSE2__
    /* 16 bytes a step: a field starts where a byte is not a space and the one before was. */
    const __m128i space = _mm_set1_epi8(' ');
    while (c->end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        uint32_t body = ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space)) & 0xffffu;
        uint32_t starts = body & ~(body << 1 | (uint32_t)in_field);
        for (; starts != 0; starts &= starts - 1)
            k++;
        in_field = (body >> 15) != 0;
        p += 16;
    }
#endif
    for (; p < c->end; p++) {
        bool body = *p != ' ';
        k += body && !in_field;
        in_field = body;
    }
    return k;
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

static enum line_result origin_record(struct tok *t, struct lc *c, const char **why)
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
    skip_spaces(&probe);
    /* Only a token that starts like an integer can be one: a name is not read through. */
    bool may_be_integer =
        probe.p < probe.end && (*probe.p == '-' || (unsigned)(*probe.p - '0') < 10);
    if (may_be_integer && word_field(&probe, &w, &wn) && is_integer(w, wn) &&
        rest_field(&probe, &name, &n))
        return named_id_record(t, OP_ORIGIN, id, name, n);
    if (!rest_field(c, &name, &n)) {
        *why = "INLINE_ORIGIN record without a name";
        return LINE_BAD;
    }
    return named_id_record(t, OP_ORIGIN, id, name, n);
}

static enum line_result inline_record(struct tok *t, struct lc *c, const char **why)
{
    /* New form: depth call_line call_file origin (addr size)+, an even count of fields; the
     * old form has no call_file, an odd count (Breakpad's rule). */
    size_t k = count_fields(c);
    bool new_form = k % 2 == 0;
    size_t hdr = new_form ? 4 : 3;
    uint32_t depth, call_line, call_file = 0, origin;
    if (k < hdr + 2 || !dec_field(c, &depth) || !dec_field(c, &call_line) ||
        (new_form && !dec_field(c, &call_file)) || !dec_field(c, &origin)) {
        *why = "malformed INLINE record";
        return LINE_BAD;
    }
    t->piece_block++;
    size_t n_ranges = (k - hdr) / 2;
    t->tokens.len = 0;
    if (!vec_reserve(&t->tokens, sizeof(uint64_t), 2 * n_ranges)) {
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
        return LINE_FATAL;
    }
    uint64_t *r = t->tokens.data;
    for (size_t i = 0; i < 2 * n_ranges; i++) {
        if (!hex_field(c, &r[i])) {
            *why = "malformed INLINE address range";
            return LINE_BAD;
        }
    }
    close_batch(t); /* the block's lines so far go first */
    if (t->stopped)
        return LINE_FATAL;
    struct vec *inls = &t->out->inls;
    size_t first = inls->len;
    bool keep;
    sym_err rc = front_inline(&t->front, depth, call_line, new_form, call_file, origin, r, n_ranges,
                              inls, &keep, why);
    if (rc == SYM_EPARSE)
        return LINE_BAD;
    if (rc != SYM_OK) {
        tok_fail(t, rc, "%s", builder_failure(rc));
        return LINE_FATAL;
    }
    if (!keep)
        return LINE_OK;
    struct op *o = emit(t, OP_INLINE);
    if (o != NULL) {
        o->a = depth;
        o->b = t->front.file_ids.next | (uint64_t)t->front.origin_ids.next << 32;
        o->c = first;
        o->d = (uint32_t)(inls->len - first);
    }
    return emitted(t);
}

/* A CFI rule list must start with a `<register>:` token. */
static bool rules_ok(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != ' ')
        i++;
    return i >= 2 && s[i - 1] == ':';
}

/* The fields of a STACK CFI record after "STACK CFI"; false with *why when it is malformed. */
struct cfi_rec {
    bool init;
    uint64_t addr, size;
    const char *rules;
    size_t n;
};

/* The usual shape of a STACK CFI record after "STACK CFI", taken without scanning the fields
 * byte by byte: single spaces, an address (and for INIT a size) of 1 to 7 hex digits, and
 * rules that neither start nor end with a space or tab and whose first token, a
 * `<register>:`, ends within their first 8 bytes. Returns false for anything else, which
 * cfi_fields then parses field by field (a record this accepts, that parse accepts too, with
 * the same values). */
static inline bool cfi_fields_fast(const struct lc *c, struct cfi_rec *r)
{
    const char *p = c->p, *end = c->end, *avail = c->avail;
    if (avail - p < 16 || end - p < 8 || p[0] != ' ')
        return false;
    p++;
    r->init = memcmp(p, "INIT ", 5) == 0;
    if (r->init)
        p += 5;
    r->size = 0;
    unsigned k = hex_swar(p, &r->addr);
    if (k == 0 || end - p <= k || p[k] != ' ')
        return false;
    p += k + 1;
    if (r->init) {
        if (avail - p < 8)
            return false;
        k = hex_swar(p, &r->size);
        if (k == 0 || end - p <= k || p[k] != ' ')
            return false;
        p += k + 1;
    }
    if (p >= end || avail - p < 8 || p[0] == ' ' || p[0] == '\t' || end[-1] == ' ' ||
        end[-1] == '\t')
        return false;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t space = swar_in_range(w, ' ', ' ');
    if (space == 0)
        return false;
    size_t i = (size_t)__builtin_ctzll(space) / 8;
    if (i < 2 || (size_t)(end - p) <= i || p[i - 1] != ':')
        return false;
    r->rules = p;
    r->n = (size_t)(end - p);
    return true;
}

static bool cfi_fields(struct lc *c, struct cfi_rec *r, const char **why)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (cfi_fields_fast(c, r))
        return true;
#endif
    r->init = KEYWORD(c, "INIT");
    r->size = 0;
    if (!hex_field(c, &r->addr) || (r->init && !hex_field(c, &r->size)) ||
        !rest_field(c, &r->rules, &r->n)) {
        *why = r->init ? "malformed STACK CFI INIT record" : "malformed STACK CFI record";
        return false;
    }
    trim_spaces(&r->rules, &r->n);
    if (!rules_ok(r->rules, r->n)) {
        *why = "STACK CFI record without a `register:` rule";
        return false;
    }
    return true;
}

static enum line_result cfi_build(struct tok *t, const struct cfi_rec *r, const char **why)
{
    uint64_t nul_before = t->u.strings.nul_replaced;
    sym_err rc = r->init ? bld_cfi_init(&t->u, r->addr, r->size, r->rules, r->n)
                         : bld_cfi_delta(&t->u, r->addr, r->rules, r->n);
    return ubuilt(t, rc, nul_before, why);
}

/* The fields of a STACK WIN record after "STACK WIN"; false with *why when it is malformed. */
struct win_rec {
    uint64_t type, f[8]; /* f: rva .. max_stack */
    bool has_program, allocates_bp;
    const char *program; /* the program, when has_program */
    size_t n;
};

static bool win_fields(struct lc *c, struct win_rec *r, const char **why)
{
    uint64_t has_program;
    bool ok = hex_field(c, &r->type);
    for (int i = 0; ok && i < 8; i++)
        ok = hex_field(c, &r->f[i]);
    ok = ok && hex_field(c, &has_program) && has_program <= 1 && r->type <= UINT32_MAX;
    if (!ok || !rest_field(c, &r->program, &r->n)) {
        *why = "malformed STACK WIN record";
        return false;
    }
    r->has_program = has_program != 0;
    uint64_t abp = 0;
    if (r->has_program) {
        trim_spaces(&r->program, &r->n);
    } else {
        struct lc rest = {r->program, r->program + r->n, r->program + r->n};
        if (!hex_field(&rest, &abp) || abp > 1 || !at_end(&rest)) {
            *why = "malformed STACK WIN allocates_base_pointer field";
            return false;
        }
    }
    r->allocates_bp = abp != 0;
    return true;
}

static enum line_result win_build(struct tok *t, const struct win_rec *r, const char **why)
{
    uint64_t nul_before = t->u.strings.nul_replaced;
    sym_err rc =
        bld_win(&t->u, (uint32_t)r->type, r->f, r->has_program, r->allocates_bp, r->program, r->n);
    return ubuilt(t, rc, nul_before, why);
}

/* A STACK CFI record, the cursor after "CFI". */
static enum line_result cfi_record(struct tok *t, struct lc *c, const char **why)
{
    t->piece_unwind++;
    struct cfi_rec r;
    if (!cfi_fields(c, &r, why))
        return LINE_BAD;
    return cfi_build(t, &r, why);
}

static enum line_result stack_record(struct tok *t, struct lc *c, const char **why)
{
    if (KEYWORD(c, "CFI"))
        return cfi_record(t, c, why);
    if (KEYWORD(c, "WIN")) {
        t->piece_unwind++;
        struct win_rec r;
        if (!win_fields(c, &r, why))
            return LINE_BAD;
        return win_build(t, &r, why);
    }
    *why = "unknown STACK record";
    return LINE_BAD;
}

static enum line_result module_record(struct tok *t, struct lc *c, const char **why)
{
    const char *f[4];
    size_t fn[4];
    if (!word_field(c, &f[0], &fn[0]) || !word_field(c, &f[1], &fn[1]) ||
        !word_field(c, &f[2], &fn[2]) || !rest_field(c, &f[3], &fn[3])) {
        *why = "malformed MODULE record";
        return LINE_BAD;
    }
    if (t->has_module || t->started) {
        /* Breakpad ignores MODULE lines; only the first line's is the module's identity. */
        return LINE_OK;
    }
    t->has_module = true;
    struct vec *names = &t->out->names;
    if (!vec_reserve(names, sizeof(uint32_t), 8)) {
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
        return LINE_FATAL;
    }
    uint32_t *pairs = (uint32_t *)names->data + names->len;
    for (int i = 0; i < 4; i++) {
        if (!arena_put(t, f[i], fn[i], &pairs[2 * i]))
            return LINE_FATAL;
        pairs[2 * i + 1] = (uint32_t)fn[i]; /* fields are within one line: under 4 GiB */
    }
    struct op *o = emit(t, OP_MODULE);
    if (o != NULL) {
        o->c = names->len;
        names->len += 8;
    }
    return emitted(t);
}

static bool module_field(struct tok *t, enum img_module_field f, const char *s, size_t n)
{
    struct op *o = emit_named(t, OP_MODULE_FIELD, s, n);
    if (o != NULL)
        o->a = f;
    return o != NULL;
}

/* Eliot's PE-name rule on a whole INFO CODE_ID line: trimmed, split on single spaces, exactly
 * four tokens -> the fourth. */
static void pe_name_rule(struct tok *t, const char *line, size_t n)
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
    if (spaces == 3 && last + 1 < n)
        module_field(t, IMG_M_PE_NAME, line + last + 1, n - last - 1);
}

static enum line_result info_record(struct tok *t, struct lc *c, const char *line, size_t line_n,
                                    const char **why)
{
    const char *id, *rest;
    size_t id_n, n;
    if (KEYWORD(c, "CODE_ID")) {
        if (!word_field(c, &id, &id_n)) {
            *why = "INFO CODE_ID without an id";
            return LINE_BAD;
        }
        if (t->header_zone && !t->pe_checked) {
            t->pe_checked = true;
            pe_name_rule(t, line, line_n);
            if (t->stopped)
                return LINE_FATAL;
        }
        if (module_field(t, IMG_M_CODE_ID, id, id_n) && rest_field(c, &rest, &n)) {
            trim_spaces(&rest, &n);
            module_field(t, IMG_M_CODE_FILE, rest, n);
        }
        return emitted(t);
    }
    if (KEYWORD(c, "GENERATOR")) {
        if (!rest_field(c, &rest, &n))
            return LINE_OK;
        trim_spaces(&rest, &n);
        module_field(t, IMG_M_GENERATOR, rest, n);
        return emitted(t);
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
static enum line_result dispatch(struct tok *t, const char *s, size_t n, const char *avail,
                                 const char **why, bool *recognised)
{
    struct lc c = {s, s + n, avail};
    *recognised = true;
    switch (s[0]) {
    case 'F':
        if (KEYWORD(&c, "FUNC"))
            return func_record(t, &c, why);
        if (KEYWORD(&c, "FILE"))
            return file_record(t, &c, why);
        break;
    case 'P':
        if (KEYWORD(&c, "PUBLIC"))
            return public_record(t, &c, why);
        break;
    case 'S':
        if (KEYWORD(&c, "STACK"))
            return stack_record(t, &c, why);
        break;
    case 'I':
        if (KEYWORD(&c, "INLINE"))
            return inline_record(t, &c, why);
        if (KEYWORD(&c, "INLINE_ORIGIN"))
            return origin_record(t, &c, why);
        if (KEYWORD(&c, "INFO"))
            return info_record(t, &c, s, n, why);
        break;
    case 'M':
        if (KEYWORD(&c, "MODULE"))
            return module_record(t, &c, why);
        break;
    default:
        break;
    }
    *recognised = false;
    if (hexval[(unsigned char)s[0]] != 0) {
        c.p = s;
        enum line_result r = line_record(t, &c, why, recognised);
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
 * Lines and pieces (the tokenizer)
 * ========================================================================================== */

static void reject_input(struct tok *t, const char *s, size_t n)
{
    if (n >= 2 && (uint8_t)s[0] == 0x1f && (uint8_t)s[1] == 0x8b) {
        tok_fail(t, SYM_EPARSE, "not a Breakpad symbol file: the input is gzip-compressed");
        return;
    }
    char shown[48];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(shown); i++)
        shown[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    shown[k] = '\0';
    tok_fail(t, SYM_EPARSE, "not a Breakpad symbol file: the first line starts with \"%s\"", shown);
}

/* Counts what became of a parsed line: a warning for a malformed one (why, when given, says
 * what was wrong), a skipped unknown record type. */
static void line_outcome(struct tok *t, enum line_result r, const char *why)
{
    switch (r) {
    case LINE_OK:
    case LINE_FATAL:
        break;
    case LINE_BAD:
        tok_warn(t, why ? why : "malformed line");
        break;
    case LINE_UNKNOWN:
        t->n_unknown++;
        break;
    }
}

/* Parses the line [s, s + n); the bytes up to avail are readable (the rest of the piece). */
static void process_line(struct tok *t, const char *s, size_t n, const char *avail)
{
    if (!t->started && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
        s += 3; /* a UTF-8 byte-order mark */
        n -= 3;
    }
    if (n == 0)
        return;
    t->piece_lines++;
    const char *why = NULL;
    bool recognised;
    enum line_result r = dispatch(t, s, n, avail, &why, &recognised);
    if (!t->started) {
        if (!recognised) {
            reject_input(t, s, n);
            return;
        }
        t->started = true;
    }
    line_outcome(t, r, why);
}

/* Whether the line [s, s + n) starts with "STACK CFI " and has more after it. */
static inline bool is_cfi_line(const char *s, size_t n)
{
    static const char kw[10] = {'S', 'T', 'A', 'C', 'K', ' ', 'C', 'F', 'I', ' '};
    uint64_t a, b;
    uint16_t c, d;
    if (n <= sizeof(kw))
        return false;
    memcpy(&a, s, 8);
    memcpy(&b, kw, 8);
    memcpy(&c, s + 8, 2);
    memcpy(&d, kw + 8, 2);
    return a == b && c == d;
}

/* process_line, with the two most common lines, a line record of the usual shape and a
 * STACK CFI record, taken first and without the general dispatch. */
static inline void tokenize_line(struct tok *t, const char *s, size_t n, const char *avail)
{
    if (!t->started) {
        process_line(t, s, n, avail);
        return;
    }
    const char *why = NULL;
    enum line_result res;
    struct line_rec r;
    if (line_fields_fast(s, n, avail, &r)) {
        t->piece_block++;
        res = line_build(t, &r, &why);
    } else if (is_cfi_line(s, n)) {
        struct lc c = {s + 9, s + n, avail}; /* after "CFI", where KEYWORD leaves the cursor */
        res = cfi_record(t, &c, &why);
    } else {
        process_line(t, s, n, avail);
        return;
    }
    t->piece_lines++;
    line_outcome(t, res, why);
}

#ifdef __SSE2__
/* Bit i set when byte i of the 16 at p is '\n' or '\r'. */
static inline uint32_t eol_mask16(const char *p)
{
    const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)));
}
#endif

/* The first '\n' or '\r' in [s, end), or end. */
static const char *find_eol(const char *s, const char *end)
{
#ifdef __SSE2__
    /* 32 bytes a step: most lines end within the first. */
    while (end - s >= 32) {
        uint32_t m = eol_mask16(s) | eol_mask16(s + 16) << 16;
        if (m != 0)
            return s + __builtin_ctz(m);
        s += 32;
    }
    if (end - s >= 16) {
        uint32_t m = eol_mask16(s);
        if (m != 0)
            return s + __builtin_ctz(m);
        s += 16;
    }
#endif
    while (s < end && *s != '\n' && *s != '\r')
        s++;
    return s;
}

static inline bool is_eol(char c)
{
    return c == '\n' || c == '\r';
}

/* Moves *s past line breaks (counting them in t) to the start of the next line and returns
 * that line's end: its line break, or end when the piece cuts it; NULL when no line is left. */
static inline const char *next_line(struct tok *t, const char **s, const char *end)
{
    const char *p = *s;
    if (end - p >= 2 && p[0] == '\n' && !is_eol(p[1])) {
        /* The usual break: one '\n'. */
        t->newlines++;
        p++;
    } else {
        while (p < end && is_eol(*p)) {
            t->newlines += *p == '\n';
            p++;
        }
    }
    *s = p;
    return p < end ? find_eol(p, end) : NULL;
}

/* Parses the carried line, with 8 zero bytes after it so that fields load 8 bytes at a time
 * (a zero byte ends any field). */
static void process_carry(struct tok *t)
{
    if (!vec_reserve(&t->carry, 1, 8)) {
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
        return;
    }
    char *d = t->carry.data;
    memset(d + t->carry.len, 0, 8);
    process_line(t, d, t->carry.len, d + t->carry.len + 8);
}

static void too_long(struct tok *t)
{
    tok_warn(t, "line longer than the configured maximum (skipped)");
}

/* Tokenizes one piece of input into t->out. */
static void tokenize(struct tok *t, const char *s, size_t len)
{
    const char *end = s + len;
    size_t max_line = t->opts->max_line_len;
    if (t->stopped)
        return;
    if (t->carry.len > 0 || t->carry_overflow) {
        const char *e = find_eol(s, end);
        size_t part = (size_t)(e - s);
        if (!t->carry_overflow) {
            if (part > max_line - t->carry.len) {
                t->carry_overflow = true;
                t->carry.len = 0;
            } else if (!vec_append(&t->carry, s, part)) {
                tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
                return;
            }
        }
        if (e == end)
            return;
        if (t->carry_overflow)
            too_long(t);
        else
            process_carry(t);
        t->carry.len = 0;
        t->carry_overflow = false;
        s = e;
    }
    while (s < end && !t->stopped) {
        const char *e = next_line(t, &s, end);
        if (e == NULL)
            break;
        size_t n = (size_t)(e - s);
        if (e == end) {
            if (n > max_line)
                t->carry_overflow = true;
            else if (!vec_append(&t->carry, s, n))
                tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
            break;
        }
        if (n > max_line)
            too_long(t);
        else
            tokenize_line(t, s, n, end);
        s = e;
        if (t->out->ops.len >= t->flush_at && t->flush_at != 0) {
            close_batch(t);
            t->flush(t->flush_ctx, t->out);
        }
    }
    close_batch(t);
}

/* The end of the input: the last line, when it has no line break. */
static void tokenize_end(struct tok *t)
{
    if (t->stopped)
        return;
    if (t->carry_overflow)
        too_long(t);
    else if (t->carry.len > 0)
        process_carry(t);
    t->carry.len = 0;
    t->carry_overflow = false;
    close_batch(t);
}

/* ============================================================================================
 * Sharing pieces
 *
 * The STACK CFI or STACK WIN records come last in dump_syms output (a third of a large file)
 * and need nothing of the caller's thread, which would wait for the tokenizing thread. So once
 * a piece has been all (or nearly all) such records, the next one is cut at a line break: the
 * tokenizing thread takes the first part as usual, the caller's thread splits and parses the
 * lines of the second into a side list meanwhile (one OP_CFI or OP_WIN per record; any other
 * line is passed on as OP_RAW, a warning as OP_WARN), and the tokenizing thread applies the side
 * list to its unwind builder, in file order, before the next piece. The builder sees the same
 * calls in the same order as when one thread parses everything, so the image is the same.
 *
 * Pieces of FUNC blocks (FUNC, line and INLINE records) are shared the same way: there the
 * caller's thread only splits line and FUNC records into fields (OP_SLINES, OP_SFUNC), since
 * what they do depends on the block front's state, and the tokenizing thread, before its next
 * piece, passes them through the front as if it had parsed them. Without this the caller's
 * thread waited for the tokenizing one for about half of a FUNC section.
 * ========================================================================================== */

/* The number of '\n' in [s, s + n). */
static uint64_t count_newlines(const char *s, size_t n)
{
    uint64_t c = 0;
    const char *end = s + n;
#ifdef __SSE2__
    /* Per-byte counters (a match is -1), summed before they can wrap. */
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (end - s >= 16) {
        __m128i acc = zero;
        for (int k = 0; k < 255 && end - s >= 16; k++, s += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
        }
        __m128i sums = _mm_sad_epu8(acc, zero);
        c += (uint64_t)_mm_cvtsi128_si64(sums) + (uint64_t)_mm_extract_epi16(sums, 4);
    }
#endif
    for (; s < end; s++)
        c += *s == '\n';
    return c;
}

/* A line record of the side part, at the end of the list's last OP_SLINES. */
static void side_line_record(struct tok *t, const struct line_rec *r)
{
    struct oplist *l = t->out;
    struct op *last = l->ops.len ? (struct op *)l->ops.data + l->ops.len - 1 : NULL;
    if (last == NULL || last->kind != OP_SLINES) {
        last = push_op(t, OP_SLINES);
        if (last == NULL)
            return;
        last->c = l->raw.len;
        last->d = 0;
    }
    struct side_line_rec *rec = vec_push(&l->raw, sizeof(*rec));
    if (rec == NULL) {
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
        return;
    }
    rec->r = *r;
    rec->line = t->newlines + 1;
    last->d++;
}

/* One line of the side part; the bytes up to avail are readable. */
static void side_line(struct tok *t, const char *s, size_t n, const char *avail)
{
    struct lc c = {s, s + n, avail};
    /* Line and FUNC records are only split into fields here: what they do depends on the
     * block they are in, known on the tokenizing thread. A malformed one is passed on as any
     * other line, for that thread to warn about. */
    if (s[0] == 'F' && KEYWORD(&c, "FUNC")) {
        struct func_rec r;
        if (func_fields(&c, &r)) {
            t->piece_lines++;
            t->piece_block++;
            struct op *o = emit_named(t, OP_SFUNC, r.name, r.n);
            if (o != NULL) {
                o->a = r.addr;
                o->b = r.size;
                o->c = r.param;
                o->flag = r.m;
            }
            return;
        }
        c.p = s;
    } else if (hexval[(unsigned char)s[0]] != 0) {
        struct line_rec r;
        if (line_fields(&c, &r)) {
            t->piece_lines++;
            t->piece_block++;
            side_line_record(t, &r);
            return;
        }
        c.p = s;
    }
    bool cfi = is_cfi_line(s, n);
    if (cfi)
        c.p = s + 9; /* after "CFI", where KEYWORD leaves the cursor */
    bool stack = !cfi && s[0] == 'S' && KEYWORD(&c, "STACK");
    if (cfi || (stack && KEYWORD(&c, "CFI"))) {
        t->piece_lines++; /* other lines are counted where they are parsed (OP_RAW) */
        t->piece_unwind++;
        struct cfi_rec r;
        const char *why = NULL;
        if (!cfi_fields(&c, &r, &why)) {
            tok_warn(t, why);
            return;
        }
        struct op *o = emit_named(t, OP_CFI, r.rules, r.n);
        if (o != NULL) {
            o->a = r.addr;
            o->b = r.size;
            o->flag = r.init;
        }
        return;
    }
    if (stack && KEYWORD(&c, "WIN")) {
        t->piece_lines++;
        t->piece_unwind++;
        struct win_rec r;
        const char *why = NULL;
        if (!win_fields(&c, &r, &why)) {
            tok_warn(t, why);
            return;
        }
        uint32_t off, program_off;
        if (r.n > UINT32_MAX || !arena_put(t, (const char *)r.f, sizeof(r.f), &off) ||
            !arena_put(t, r.program, r.has_program ? r.n : 0, &program_off))
            return;
        struct op *o = emit(t, OP_WIN);
        if (o != NULL) {
            o->a = r.type;
            o->flag = (uint8_t)(r.has_program | r.allocates_bp << 1);
            o->d = off;
            o->e = r.has_program ? (uint32_t)r.n : 0;
        }
        return;
    }
    /* Any other line, with 8 zero bytes after it so that its fields load 8 bytes at a time. */
    static const char pad[8] = {0};
    uint32_t off, pad_off;
    if (n > UINT32_MAX - sizeof(pad)) {
        tok_fail(t, SYM_ELIMIT, "a line of more than 4 GiB");
        return;
    }
    if (!arena_put(t, s, n, &off) || !arena_put(t, pad, sizeof(pad), &pad_off))
        return;
    struct op *o = emit(t, OP_RAW);
    if (o != NULL) {
        o->d = off;
        o->e = (uint32_t)n;
    }
}

/* Splits [s, s + len), which starts at the beginning of a line, into the side list (the
 * caller's thread). The cut last line is kept for the tokenizing thread's carry. */
static void side_tokenize(struct sym_parser *p, struct side *sd, const char *s, size_t len)
{
    struct tok *t = &p->side_tok;
    oplist_clear(&sd->l);
    t->out = &sd->l;
    t->stopped = false;
    sd->carry_overflow = false;
    sd->carry_len = 0;
    const char *end = s + len;
    size_t max_line = p->opts.max_line_len;
    while (s < end && !t->stopped) {
        const char *e = next_line(t, &s, end);
        if (e == NULL)
            break;
        size_t n = (size_t)(e - s);
        if (e == end) {
            if (n > max_line)
                sd->carry_overflow = true;
            else if (arena_put(t, s, n, &sd->carry_off))
                sd->carry_len = (uint32_t)n;
            break;
        }
        if (n > max_line)
            too_long(t);
        else
            side_line(t, s, n, end);
        s = e;
    }
    sd->newlines = t->newlines;
}

/* The name (d, e) of an operation that has one; "" when empty (the arena may have no buffer). */
static const char *op_name(const struct oplist *l, const struct op *o)
{
    return o->e ? (const char *)l->arena.data + o->d : "";
}

/* Applies a side list to the tokenizer's state (on the thread that tokenizes, before the next
 * piece), as if it had tokenized that part of its piece itself. */
static void apply_side(struct tok *t, const struct side *sd)
{
    const struct oplist *l = &sd->l;
    const struct op *ops = l->ops.data;
    const char *arena = l->arena.data;
    for (size_t i = 0; i < l->ops.len && !t->stopped; i++) {
        const struct op *o = &ops[i];
        t->newlines = o->line - 1;
        const char *why = NULL;
        if (o->kind == OP_CFI) {
            struct cfi_rec r = {o->flag != 0, o->a, o->b, arena + o->d, o->e};
            line_outcome(t, cfi_build(t, &r, &why), why);
        } else if (o->kind == OP_WIN) {
            struct win_rec r = {.type = o->a,
                                .has_program = (o->flag & 1) != 0,
                                .allocates_bp = (o->flag & 2) != 0,
                                .program = arena + o->d + sizeof(uint64_t[8]),
                                .n = o->e};
            memcpy(r.f, arena + o->d, sizeof(r.f));
            line_outcome(t, win_build(t, &r, &why), why);
        } else if (o->kind == OP_SLINES) {
            const struct side_line_rec *rec = (const struct side_line_rec *)l->raw.data + o->c;
            for (uint32_t k = 0; k < o->d && !t->stopped; k++) {
                t->newlines = rec[k].line - 1;
                line_outcome(t, line_build(t, &rec[k].r, &why), why);
            }
        } else if (o->kind == OP_SFUNC) {
            struct func_rec r = {o->flag != 0, o->a, o->b, o->c, op_name(l, o), o->e};
            func_build(t, &r);
        } else if (o->kind == OP_RAW) {
            process_line(t, arena + o->d, o->e, arena + o->d + o->e + 8);
        } else {
            tok_warn(t, (const char *)(uintptr_t)o->c);
        }
    }
    if (t->stopped)
        return;
    if (l->fatal != SYM_OK) {
        t->newlines = l->fatal_line - 1;
        tok_fail(t, l->fatal, "%s", l->fatal_msg);
        return;
    }
    t->newlines = sd->newlines;
    if (sd->carry_overflow)
        t->carry_overflow = true;
    else if (sd->carry_len > 0 && !vec_append(&t->carry, arena + sd->carry_off, sd->carry_len))
        tok_fail(t, SYM_ENOMEM, "%s", builder_failure(SYM_ENOMEM));
    close_batch(t);
}

/* ============================================================================================
 * Applying operations (the caller's thread)
 * ========================================================================================== */

static sym_err apply_op(struct sym_parser *p, const struct oplist *l, const struct op *o)
{
    struct builder *b = &p->b;
    switch ((enum op_kind)o->kind) {
    case OP_LINES:
        return bld_lines(b, (const struct bline *)l->lines.data + o->c, o->d, (uint32_t)o->a);
    case OP_FUNC: {
        struct bld_func_rec r = {.verdict = (enum func_verdict)(o->flag >> 2),
                                 .addr = o->a,
                                 .multiple = o->flag & 1,
                                 .had_nul = (o->flag & 2) != 0,
                                 .name = op_name(l, o),
                                 .n = o->e};
        if (r.verdict == FUNC_REJECT) {
            r.why = (const char *)(uintptr_t)o->c;
        } else if (r.verdict == FUNC_KEEP) {
            r.size = (uint32_t)o->b;
            r.param = (uint32_t)(o->b >> 32);
            r.hash = o->c;
        }
        return bld_func(b, &r);
    }
    case OP_PUBLIC:
        return bld_public(b, &(struct bld_public_rec){.addr = o->a,
                                                      .param = o->b,
                                                      .hash = o->c,
                                                      .multiple = o->flag & 1,
                                                      .had_nul = (o->flag & 2) != 0,
                                                      .name = op_name(l, o),
                                                      .n = o->e});
    case OP_FILE:
        return bld_file_at(b, (uint32_t)o->a, op_name(l, o), o->e, o->c, (o->flag & 2) != 0);
    case OP_ORIGIN:
        return bld_origin_at(b, (uint32_t)o->a, op_name(l, o), o->e, o->c, (o->flag & 2) != 0);
    case OP_INLINE:
        return bld_inline(b, (uint32_t)o->a, (const struct binl *)l->inls.data + o->c, o->d,
                          (uint32_t)o->b, (uint32_t)(o->b >> 32));
    case OP_MODULE: {
        const char *arena = l->arena.data;
        const uint32_t *f = (const uint32_t *)l->names.data + o->c;
        return bld_module(b, arena + f[0], f[1], arena + f[2], f[3], arena + f[4], f[5],
                          arena + f[6], f[7]);
    }
    case OP_MODULE_FIELD:
        return bld_module_field(b, (enum img_module_field)o->a, op_name(l, o), o->e);
    case OP_WARN:
        warn(p, (const char *)(uintptr_t)o->c);
        return SYM_OK;
    case OP_CFI:
    case OP_WIN:
    case OP_RAW:
    case OP_SLINES:
    case OP_SFUNC:
        break; /* only in the side list */
    }
    return SYM_EINTERNAL;
}

/* Applies a list in file order and empties it. */
static void apply_list(struct sym_parser *p, struct oplist *l)
{
    const struct op *ops = l->ops.data;
    for (size_t i = 0; i < l->ops.len && p->fatal == SYM_OK; i++) {
        /* A function name is interned when its block closes, into a table of megabytes: start
         * loading the slot it will probe some functions ahead, so that the load is done by
         * then (the hash came with the operation). Encoding the block reads the FILE slots
         * of its line records and the INLINE_ORIGIN and call FILE slots of its inline ranges,
         * also at random: those are loaded ahead too. */
        if (i + PREFETCH_OPS < l->ops.len) {
            const struct op *ahead = &ops[i + PREFETCH_OPS];
            if ((ahead->kind == OP_FUNC && (ahead->flag >> 2) == FUNC_KEEP) ||
                ahead->kind == OP_PUBLIC || ahead->kind == OP_FILE || ahead->kind == OP_ORIGIN)
                strtab_prefetch(&p->b.strings, ahead->c);
            else if (ahead->kind == OP_LINES)
                bld_prefetch_lines(&p->b, (const struct bline *)l->lines.data + ahead->c, ahead->d);
            else if (ahead->kind == OP_INLINE)
                bld_prefetch_inlines(&p->b, (const struct binl *)l->inls.data + ahead->c, ahead->d);
        }
        p->line = ops[i].line;
        uint64_t nul_before = p->b.strings.nul_replaced;
        sym_err rc = apply_op(p, l, &ops[i]);
        if (rc == SYM_EPARSE)
            warn(p, p->b.warn);
        else if (rc != SYM_OK)
            fail_builder(p, rc);
        else if (p->b.strings.nul_replaced != nul_before)
            warn(p, "NUL byte in a name (replaced by '_')");
    }
    if (l->fatal != SYM_OK && p->fatal == SYM_OK) {
        p->line = l->fatal_line;
        fail(p, l->fatal, "%s", l->fatal_msg);
    }
    /* The open FUNC's name is still in this list's arena. */
    if (p->fatal == SYM_OK) {
        sym_err rc = bld_pin(&p->b);
        if (rc != SYM_OK)
            fail_builder(p, rc);
    }
    oplist_clear(l);
}

/* The tokenizer's flush on the caller's thread. */
static void direct_flush(void *ctx, struct oplist *l)
{
    struct sym_parser *p = ctx;
    apply_list(p, l);
    if (p->fatal != SYM_OK)
        p->t.stopped = true; /* nothing more will be applied: stop reading */
}

/* ============================================================================================
 * The tokenizer's thread
 * ========================================================================================== */

/* Has the kernel supply the missing pages of [p, p + n) without changing what is there: the
 * image's memory, on the second thread while the caller's thread writes the image from its
 * start, or the rooms of the growing tables (prepare_rooms). From the end down, a few
 * megabytes per call, so that for the image the two threads meet in the middle instead of the
 * writer catching up and faulting the same pages. A hint; kernels without
 * MADV_POPULATE_WRITE (before 5.14) refuse it and nothing happens. */
static void populate_pages(const char *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
    const uintptr_t page = 4096, step = (uintptr_t)4 << 20;
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(page - 1);
    while (hi > lo) {
        uintptr_t from = hi - lo > step ? (hi - step) & ~(page - 1) : lo;
        if (madvise((void *)from, hi - from, MADV_POPULATE_WRITE) != 0)
            break;
        hi = from;
    }
#else
    (void)p;
    (void)n;
#endif
}

/* Populates rooms[0 .. n) of the builder's tables in order, ROOM_STEP_BYTES at a time, until
 * *flag differs from seen. */
static void populate_rooms(const struct bld_room *rooms, size_t n, const atomic_uint *flag,
                           unsigned seen)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t at = rooms[i].at, end = at + rooms[i].n;
        while (at < end) {
            if (atomic_load_explicit(flag, memory_order_relaxed) != seen)
                return;
            uintptr_t next = (at + ROOM_STEP_BYTES) & ~(uintptr_t)(ROOM_STEP_BYTES - 1);
            if (next > end)
                next = end;
            populate_pages((const char *)at, next - at);
            at = next;
        }
    }
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void cpu_relax(void)
{
#ifdef __SSE2__
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* Spins until *flag differs from seen or SPIN_SECONDS have passed. */
static void spin_while_equal(const atomic_uint *flag, unsigned seen)
{
    double until = 0;
    for (unsigned i = 0; atomic_load_explicit(flag, memory_order_acquire) == seen; i++) {
        cpu_relax();
        if (i % 64 == 63) {
            double now = monotonic_s();
            if (until == 0)
                until = now + SPIN_SECONDS;
            else if (now > until)
                return;
        }
    }
}

static void *tokenizer_main(void *arg)
{
    struct sym_parser *p = arg;
    unsigned seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (!p->job && !p->quit) {
            pthread_mutex_unlock(&p->mu);
            spin_while_equal(&p->jobs_posted, seen);
            pthread_mutex_lock(&p->mu);
        }
        while (!p->job && !p->quit)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->quit)
            break;
        /* The job taken now is counted: the next wait spins until the one after it. */
        seen = atomic_load_explicit(&p->jobs_posted, memory_order_relaxed);
        const char *data = p->job_data;
        size_t len = p->job_len;
        bool populate = p->job_populate;
        const struct side *side = p->job_side;
        struct bld_room rooms[BLD_ROOMS];
        size_t n_rooms = p->job_n_rooms;
        memcpy(rooms, p->job_rooms, sizeof(rooms));
        pthread_mutex_unlock(&p->mu);
        if (side != NULL)
            apply_side(&p->t, side);
        if (populate)
            populate_pages(data, len);
        else if (data != NULL)
            tokenize(&p->t, data, len);
        else
            tokenize_end(&p->t);
        atomic_fetch_add_explicit(&p->jobs_done, 1, memory_order_release);
        pthread_mutex_lock(&p->mu);
        p->job = false;
        p->job_done = true;
        pthread_cond_broadcast(&p->cv);
        /* Idle until the next job: supply the pages the applier will write next, unless it is
         * already waiting for this job (the next one would then wait for a step). A table the
         * applier moves meanwhile only makes the populating fail or fault in unused pages. */
        if (n_rooms > 0 && !atomic_load_explicit(&p->applier_waiting, memory_order_relaxed)) {
            pthread_mutex_unlock(&p->mu);
            populate_rooms(rooms, n_rooms, &p->jobs_posted, seen);
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Whether the job last posted is done (a hint, see jobs_done). */
static bool job_finished(struct sym_parser *p)
{
    return atomic_load_explicit(&p->jobs_done, memory_order_relaxed) != p->jobs_done_at_post;
}

/* Allocates input piece i if it is not there yet; false when out of memory. */
static bool ensure_input(struct sym_parser *p, unsigned i)
{
    if (p->in[i] == NULL)
        p->in[i] = sym_malloc(p->piece);
    return p->in[i] != NULL;
}

/* Starts the thread; false when it cannot (the parse then stays on the caller's thread). */
static bool start_thread(struct sym_parser *p)
{
    if (!p->sync_ready) {
        if (pthread_mutex_init(&p->mu, NULL) != 0)
            return false;
        if (pthread_cond_init(&p->cv, NULL) != 0) {
            pthread_mutex_destroy(&p->mu);
            return false;
        }
        p->sync_ready = true;
    }
    if (!ensure_input(p, 0) || !ensure_input(p, 1))
        return false;
    p->quit = p->job = p->job_done = false;
    p->threaded = pthread_create(&p->thread, NULL, tokenizer_main, p) == 0;
    return p->threaded;
}

/* Hands the idle thread a job: apply side (when not NULL), then populate_pages(data, len)
 * when populate, else tokenize [data, data + len) (NULL: the end of the input). */
static void post_job(struct sym_parser *p, const char *data, size_t len, bool populate,
                     struct side *side)
{
    pthread_mutex_lock(&p->mu);
    p->job_data = data;
    p->job_len = len;
    p->job_populate = populate;
    p->job_side = side;
    p->job_n_rooms =
        populate || data == NULL ? 0 : bld_rooms(&p->b, ROOM_AHEAD_BYTES, p->job_rooms);
    p->job_done = false;
    p->job = true;
    p->jobs_done_at_post = atomic_load_explicit(&p->jobs_done, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->jobs_posted, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Waits until the thread has done its job, if it has one. */
static void wait_job(struct sym_parser *p)
{
    if (!p->threaded)
        return;
    spin_while_equal(&p->jobs_done, p->jobs_done_at_post);
    pthread_mutex_lock(&p->mu);
    while (!p->job_done)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* Until the thread has tokenized its piece, populates the rooms of the main builder's tables
 * (see ROOM_AHEAD_BYTES). */
static void prepare_rooms(struct sym_parser *p)
{
    struct bld_room rooms[BLD_ROOMS];
    size_t n = bld_rooms(&p->b, ROOM_AHEAD_BYTES, rooms);
    populate_rooms(rooms, n, &p->jobs_done, p->jobs_done_at_post);
}

/* Waits for the piece the thread is tokenizing, if any, and queues its list for the applier.
 * Whether the next piece is shared is decided from that piece's lines. */
static void complete_piece(struct sym_parser *p)
{
    if (!p->in_flight)
        return;
    bool thread_behind = !job_finished(p);
    atomic_store_explicit(&p->applier_waiting, true, memory_order_relaxed);
    prepare_rooms(p);
    wait_job(p);
    atomic_store_explicit(&p->applier_waiting, false, memory_order_relaxed);
    p->in_flight = p->in_flight_borrowed = false;
    if (p->split_in_flight != SPLIT_NONE) {
        unsigned *share = &p->share[p->split_in_flight];
        if (thread_behind)
            *share = *share >= SHARE_MIN + SHARE_STEP ? *share - SHARE_STEP : SHARE_MIN;
        else
            *share = *share + SHARE_STEP <= SHARE_MAX ? *share + SHARE_STEP : SHARE_MAX;
        p->split_in_flight = SPLIT_NONE;
    }
    uint64_t lines = p->t.piece_lines + p->side_tok.piece_lines,
             unwind = p->t.piece_unwind + p->side_tok.piece_unwind,
             block = p->t.piece_block + p->side_tok.piece_block;
    p->split_next = SPLIT_NONE;
    if (p->job_data != NULL && lines >= SPLIT_MIN_LINES(p->piece)) {
        if (unwind * 16 >= lines * 15)
            p->split_next = SPLIT_UNWIND;
        else if (block * 16 >= lines * 15)
            p->split_next = SPLIT_BLOCK;
    }
    p->pending[p->fill] = true;
    p->fill = 1 - p->fill;
}

/* Tokenizes [data, data + len) (NULL: the end of the input) into the next list while the
 * caller's thread applies the list before it (and, for a shared piece, tokenizes its second
 * part into a side list; the previous piece's side list is applied first). With the thread,
 * returns while it may still be tokenizing: data must stay unchanged until complete_piece
 * (the next run_piece, drain or finish); borrowed says it is the caller's memory. */
static void run_piece(struct sym_parser *p, const char *data, size_t len, bool borrowed)
{
    complete_piece(p);
    unsigned fill = p->fill, other = 1 - fill;
    p->t.out = &p->lists[fill];
    struct side *prev = p->side_pending ? &p->sides[p->side_last] : NULL;
    p->side_pending = false;
    if (!p->threaded || (data != NULL && len < p->small_piece)) {
        if (p->pending[other]) {
            apply_list(p, &p->lists[other]);
            p->pending[other] = false;
        }
        p->t.flush_at = DIRECT_FLUSH_OPS;
        if (prev != NULL)
            apply_side(&p->t, prev);
        if (data != NULL)
            tokenize(&p->t, data, len);
        else
            tokenize_end(&p->t);
        p->t.flush_at = 0;
        apply_list(p, &p->lists[fill]);
        return;
    }
    /* A piece of unwind records or of FUNC blocks is shared (see side_tokenize): cut after a
     * line break. */
    size_t own = len;
    if (p->split_next != SPLIT_NONE && data != NULL && p->t.started && !p->t.stopped) {
        size_t from = len / 100 * p->share[p->split_next];
        const char *nl = memchr(data + from, '\n', len - from);
        if (nl != NULL && (size_t)(nl + 1 - data) < len) {
            own = (size_t)(nl + 1 - data);
            p->split_in_flight = p->split_next;
        }
    }
    /* The thread is idle: its state can be read. */
    uint64_t newlines = prev != NULL ? prev->newlines : p->t.newlines;
    p->t.piece_lines = p->t.piece_unwind = p->t.piece_block = 0;
    p->side_tok.piece_lines = p->side_tok.piece_unwind = p->side_tok.piece_block = 0;
    post_job(p, data, own, false, prev);
    p->in_flight = true;
    p->in_flight_borrowed = borrowed;
    if (own < len) {
        unsigned k = prev != NULL ? 1 - p->side_last : p->side_last;
        p->side_tok.newlines = newlines + count_newlines(data, own);
        side_tokenize(p, &p->sides[k], data + own, len - own);
        p->side_last = k;
        p->side_pending = true;
    }
    if (p->pending[other]) {
        apply_list(p, &p->lists[other]);
        p->pending[other] = false;
    }
}

/* An image of this many bytes or more is written while the second thread populates its
 * memory: each fresh page costs a fault, zeroing and accounting, which for a 50 MB image came
 * to about a tenth of the whole parse, on the one thread. */
#define POPULATE_MIN_BYTES ((size_t)8 << 20)
/* The first bytes, which the writer reaches before the other thread would. */
#define POPULATE_SKIP_BYTES ((size_t)2 << 20)

/* Starts populating the image memory [dst, dst + total) on the second thread, when there is
 * one and the image is large; wait_job() waits for it. */
static void populate_start(struct sym_parser *p, char *dst, uint64_t total)
{
    if (!p->threaded || total < POPULATE_MIN_BYTES || total > SIZE_MAX)
        return;
    post_job(p, dst + POPULATE_SKIP_BYTES, (size_t)total - POPULATE_SKIP_BYTES, true, NULL);
}

/* Applies what is still pending, in order. */
static void drain(struct sym_parser *p)
{
    complete_piece(p);
    for (int k = 0; k < 2; k++) {
        unsigned i = (p->fill + (unsigned)k) % 2; /* the older list first */
        if (p->pending[i]) {
            apply_list(p, &p->lists[i]);
            p->pending[i] = false;
        }
    }
}

/* Hands the gathered piece in[in_cur] to the thread and starts gathering into the other. */
static void submit_gathered(struct sym_parser *p)
{
    run_piece(p, p->in[p->in_cur], p->in_len, false);
    p->in_cur = 1 - p->in_cur;
    p->in_len = 0;
}

/* Counts len more bytes of input (SYM_ELIMIT past max_input_bytes) and starts the second
 * thread once the input is large enough for it. */
static sym_err take_input(struct sym_parser *p, size_t len)
{
    if (p->opts.max_input_bytes != 0 && len > p->opts.max_input_bytes - p->st.input_bytes) {
        /* An error in the text before this point is reported first, as on one thread. */
        if (p->in_len > 0)
            submit_gathered(p);
        drain(p);
        if (p->fatal != SYM_OK)
            return p->fatal;
        return fail(p, SYM_ELIMIT,
                    "the symbol file is larger than the configured maximum "
                    "(%llu bytes)",
                    (unsigned long long)p->opts.max_input_bytes);
    }
    p->st.input_bytes += len;
    if (!p->thread_tried && p->opts.threads != 1 &&
        (p->opts.threads >= 2 || p->st.input_bytes + p->input_ahead >= PIPELINE_MIN_INPUT) &&
        !p->t.stopped) {
        p->thread_tried = true; /* once: a parser that cannot have a thread stays on one */
        if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
            (void)start_thread(p);
    }
    return SYM_OK;
}

sym_err sym_parser_feed(struct sym_parser *p, const void *data, size_t len)
{
    if (p == NULL || (data == NULL && len > 0))
        return SYM_EINVAL;
    if (p->fatal != SYM_OK)
        return p->fatal;
    if (p->finished)
        return SYM_EINVAL;
    sym_err rc = take_input(p, len);
    if (rc != SYM_OK)
        return rc;
    const char *s = data;
    while (len > 0 && p->fatal == SYM_OK) {
        size_t n;
        if (!p->threaded) {
            n = len < p->piece ? len : p->piece;
            run_piece(p, s, n, true); /* done before it returns */
        } else if (p->in_len == 0 && len >= 2 * p->piece) {
            /* In place while another piece follows (whose run_piece waits for this one). */
            n = p->piece;
            run_piece(p, s, n, true);
        } else {
            /* A copy, so that the call can return while the thread tokenizes it. */
            n = len < p->piece - p->in_len ? len : p->piece - p->in_len;
            memcpy(p->in[p->in_cur] + p->in_len, s, n);
            p->in_len += n;
            if (p->in_len == p->piece)
                submit_gathered(p);
        }
        s += n;
        len -= n;
    }
    if (p->in_flight_borrowed)
        complete_piece(p); /* data is only read during the call */
    return p->fatal;
}

sym_err sym_parser_buffer(struct sym_parser *p, void **buf, size_t *cap)
{
    if (p == NULL || buf == NULL || cap == NULL)
        return SYM_EINVAL;
    if (p->fatal != SYM_OK)
        return p->fatal;
    if (p->finished)
        return SYM_EINVAL;
    if (!ensure_input(p, p->in_cur))
        return fail(p, SYM_ENOMEM, "out of memory");
    *buf = p->in[p->in_cur] + p->in_len;
    *cap = p->piece - p->in_len;
    return SYM_OK;
}

sym_err sym_parser_commit(struct sym_parser *p, size_t len)
{
    if (p == NULL)
        return SYM_EINVAL;
    if (p->fatal != SYM_OK)
        return p->fatal;
    if (p->finished || p->in[p->in_cur] == NULL || len > p->piece - p->in_len)
        return SYM_EINVAL;
    sym_err rc = take_input(p, len);
    if (rc != SYM_OK)
        return rc;
    if (!p->threaded) {
        /* Without the thread nothing is gathered (in_len stays 0): parsed at once. */
        if (len > 0)
            run_piece(p, p->in[p->in_cur], len, true);
        return p->fatal;
    }
    p->in_len += len;
    if (p->in_len == p->piece)
        submit_gathered(p);
    return p->fatal;
}

sym_err sym_parser_feed_fd(struct sym_parser *p, int fd)
{
    /* A file known to be large has the second thread from its first piece, and tables sized
     * for it (no more than max_input_bytes would need). */
    struct stat sb;
    if (p != NULL && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        off_t at = lseek(fd, 0, SEEK_CUR);
        if (at >= 0 && sb.st_size > at && p->st.input_bytes == 0 && p->fatal == SYM_OK) {
            p->input_ahead = (uint64_t)(sb.st_size - at);
            if (p->opts.max_input_bytes != 0 && p->input_ahead > p->opts.max_input_bytes)
                p->input_ahead = p->opts.max_input_bytes;
            bld_expect_input(&p->b, p->input_ahead);
        }
    }
    for (;;) {
        void *buf = NULL;
        size_t cap = 0;
        sym_err rc = sym_parser_buffer(p, &buf, &cap);
        if (rc != SYM_OK)
            return rc;
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return SYM_EIO;
        if (n == 0)
            return SYM_OK;
        rc = sym_parser_commit(p, (size_t)n);
        if (rc != SYM_OK)
            return rc;
    }
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
    bool first = !p->finished;
    p->finished = true;
    if (first) {
        if (rc == SYM_OK && p->in_len > 0)
            submit_gathered(p);
        if (p->fatal == SYM_OK)
            run_piece(p, NULL, 0, false);
        drain(p);
        rc = p->fatal;
        p->b.read.lines += p->t.front.lines_read;
        p->b.read.inlines += p->t.front.inlines_read;
    }
    p->line = p->t.newlines + 1;
    if (rc == SYM_OK && !p->t.started)
        rc = fail(p, SYM_EPARSE, "not a Breakpad symbol file: the input is empty");
    if (rc == SYM_OK) {
        rc = bld_take_unwind(&p->b, &p->t.u);
        if (rc != SYM_OK)
            fail_builder(p, rc);
    }
    struct sym_image_counts kept;
    memset(&kept, 0, sizeof(kept));
    if (rc == SYM_OK) {
        /* The second thread stays for populate_start (the sinks that write into memory). */
        rc = bld_finish(&p->b, p->st.input_bytes, p->st.n_warnings, sink, &kept);
        wait_job(p); /* a populate_start job */
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
    stop_thread(p);
    if (stats != NULL) {
        *stats = p->st;
        stats->n_unknown = p->t.n_unknown;
        stats->input_lines = p->t.newlines + (p->st.input_bytes > 0 ? 1 : 0);
        stats->read = p->b.read;
        stats->n_win_other = p->b.n_win_other;
        if (p->t.u.read.cfi_inits + p->t.u.read.cfi_deltas + p->t.u.read.win_fpo +
                p->t.u.read.win_framedata + p->t.u.n_win_other !=
            0) {
            /* Not merged yet (an earlier failure): count the unwind records as well. */
            stats->read.cfi_inits += p->t.u.read.cfi_inits;
            stats->read.cfi_deltas += p->t.u.read.cfi_deltas;
            stats->read.win_fpo += p->t.u.read.win_fpo;
            stats->read.win_framedata += p->t.u.read.win_framedata;
            stats->n_win_other += p->t.u.n_win_other;
        }
        stats->kept = kept;
    }
    if (rc != SYM_OK)
        fill_diag(p, d);
    return rc;
}

/* A sink writing into memory reserved once the size is known: by the caller
 * (sym_parser_finish_into) or on the heap (sym_parser_finish). Only heap memory of our own
 * (sym_malloc_pages) may take the builder's pages: a caller's memory may be a file mapping. */
struct into_sink {
    struct sink base;
    struct sym_parser *parser;
    sym_err (*reserve)(void *ctx, uint64_t total, void **dst);
    void *ctx;
    bool may_take;
    char *data;
    uint64_t cap, len;
};

/* Moves spare's pages under [from, to) of the image, rounded inward to whole pages. Returns
 * false when the image memory became unusable. */
static bool donate_range(struct into_sink *m, struct vec *spare, uint64_t from, uint64_t to)
{
    uint64_t page = SYM_REGION_PAGE;
    from = (from + page - 1) / page * page;
    to = to / page * page;
    if (to <= from || to - from > SIZE_MAX)
        return true;
    return vec_donate(spare, m->data + from, (size_t)(to - from)) != SIZE_MAX;
}

/* Fills the image's ranges that no give took (gives are in image order) with spare's pages. */
static bool donate_spare(struct into_sink *m, uint64_t total, const struct sink_give *gives,
                         size_t n_gives, struct vec *spare)
{
    uint64_t from = 0;
    for (size_t i = 0; i < n_gives; i++) {
        if (gives[i].off < from)
            return true; /* not in order: leave the rest as it is */
        if (!donate_range(m, spare, from, gives[i].off))
            return false;
        from = gives[i].off + gives[i].given;
    }
    return donate_range(m, spare, from, total);
}

static sym_err into_begin(struct sink *s, uint64_t total, struct sink_give *gives, size_t n_gives,
                          struct vec *spare)
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
    for (size_t i = 0; i < n_gives && m->may_take; i++) {
        struct sink_give *g = &gives[i];
        if (g->off > total || g->v->len > total - g->off)
            return SYM_EINTERNAL;
        size_t given = vec_give_front(g->v, m->data + g->off);
        if (given == SIZE_MAX)
            return SYM_ENOMEM;
        g->given = given;
    }
    if (m->may_take && spare != NULL && !donate_spare(m, total, gives, n_gives, spare))
        return SYM_ENOMEM;
    /* After the takes: populating skips the pages already there. */
    populate_start(m->parser, m->data, total);
    return SYM_OK;
}

/* p NULL: n bytes that begin took are in place. */
static sym_err into_write(struct sink *s, const void *p, size_t n)
{
    struct into_sink *m = (struct into_sink *)s;
    if (n > m->cap - m->len)
        return SYM_EINTERNAL;
    if (p != NULL)
        memcpy(m->data + m->len, p, n);
    m->len += n;
    return SYM_OK;
}

static sym_err finish_into(struct sym_parser *p,
                           sym_err (*reserve)(void *ctx, uint64_t total, void **dst), void *ctx,
                           bool may_take, struct sym_parse_stats *stats, struct sym_diag *d)
{
    struct into_sink m = {{into_begin, into_write}, p, reserve, ctx, may_take, NULL, 0, 0};
    sym_err rc = finish(p, &m.base, stats, d);
    if (rc == SYM_OK && stats != NULL)
        stats->image_bytes = m.len;
    return rc;
}

/* The heap reservation of sym_parser_finish: one byte more for the sym_buf's NUL. */
struct heap_image {
    size_t max_len;
    char *data;
};

static sym_err reserve_heap(void *ctx, uint64_t total, void **dst)
{
    struct heap_image *h = ctx;
    if (total > h->max_len || total >= SIZE_MAX)
        return SYM_ELIMIT;
    /* A large image starts on a page, so that it can take the builder's pages. */
    h->data = total >= VEC_REGION_MIN ? sym_malloc_pages((size_t)total + 1)
                                      : sym_malloc((size_t)total + 1);
    if (h->data == NULL)
        return SYM_ENOMEM;
    h->data[total] = '\0';
    *dst = h->data;
    return SYM_OK;
}

sym_err sym_parser_finish(struct sym_parser *p, struct sym_buf *image_out,
                          struct sym_parse_stats *stats, struct sym_diag *d)
{
    if (p == NULL || image_out == NULL)
        return SYM_EINVAL;
    struct heap_image h = {image_out->max_len, NULL};
    struct sym_parse_stats st;
    sym_err rc = finish_into(p, reserve_heap, &h, true, &st, d);
    if (stats != NULL)
        *stats = st;
    if (rc != SYM_OK) {
        sym_free(h.data);
        return rc;
    }
    sym_buf_cleanup(image_out);
    image_out->data = h.data;
    image_out->len = (size_t)st.image_bytes;
    image_out->cap = (size_t)st.image_bytes + 1;
    image_out->err = SYM_OK;
    return SYM_OK;
}

sym_err sym_parser_finish_into(struct sym_parser *p,
                               sym_err (*reserve)(void *ctx, uint64_t total, void **dst), void *ctx,
                               struct sym_parse_stats *stats, struct sym_diag *d)
{
    if (p == NULL || reserve == NULL)
        return SYM_EINVAL;
    return finish_into(p, reserve, ctx, false, stats, d);
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

static sym_err fd_begin(struct sink *s, uint64_t total, struct sink_give *gives, size_t n_gives,
                        struct vec *spare)
{
    struct fd_sink *f = (struct fd_sink *)s;
    (void)gives; /* written like the rest */
    (void)n_gives;
    (void)spare;
    f->total = total;
    return SYM_OK;
}

static sym_err fd_write(struct sink *s, const void *p, size_t n)
{
    struct fd_sink *f = (struct fd_sink *)s;
    if (p == NULL)
        return SYM_EINTERNAL; /* fd_begin takes nothing */
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

sym_err sym_convert_file(const char *sym_path, const char *out_path,
                         const struct sym_parse_opts *opts, struct sym_parse_stats *stats,
                         struct sym_diag *d)
{
    if (sym_path == NULL || out_path == NULL)
        return SYM_EINVAL;
    sym_err rc = SYM_OK;
    struct sym_parser *p = NULL;
    char *tmp = NULL;
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
    if (tmp == NULL) {
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
    /* A parse error is left for finish, which reports it with its diagnostic. */
    if (sym_parser_feed_fd(p, in) == SYM_EIO) {
        rc = sym_diag_set(d, SYM_EIO, "cannot read %s: %s", sym_path, strerror(errno));
        goto out;
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
    sym_free(tmp);
    return rc;
}
