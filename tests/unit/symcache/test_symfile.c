/* SPDX-License-Identifier: MPL-2.0 */
/* test_symfile.c: the .sym parser against hand-written fixtures: every record type, line ends,
 * chunking, odd names, rejection of non-symbol input, counted warnings, limits, out-of-order
 * and overlapping records, INLINE forms, PUBLIC fallback, STACK CFI / STACK WIN policies,
 * 64-bit offsets and allocation failures. */
#include <stdlib.h>

#include "sym/alloc.h"
#include "symtest.h"

static const char full_sym[] =
    "MODULE windows x86 5A9832E5287241C1838ED98914E9B7FF1 test app.pdb\n"
    "INFO CODE_ID 5AB380779000 test_app.exe\n"
    "INFO GENERATOR mozilla/dump_syms 2.1.0\n"
    "INFO URL https://example.org/x.sym\n"
    "FILE 1 c:\\src\\main.cpp\n"
    "FILE 2 c:\\src\\util.h\n"
    "INLINE_ORIGIN 0 inlined_helper()\n"
    "INLINE_ORIGIN 1 deeper(int)\n"
    "FUNC m 1000 20 4 Foo::Bar(int, char const*)\n"
    "1000 8 10 1\n"
    "1008 8 11 1\n"
    "1010 10 12 2\n"
    "FUNC 1100 30 0 main\n"
    "INLINE 0 40 1 0 1108 10 1120 8\n"
    "INLINE 1 7 2 1 110c 4\n"
    "1100 8 39 1\n"
    "1108 4 3 2\n"
    "110c 4 5 2\n"
    "1110 20 41 1\n"
    "PUBLIC m 2000 8 public_thing\n"
    "PUBLIC 2100 0 other_public\n"
    "STACK CFI INIT 1000 20 .cfa: $esp 4 + .ra: .cfa 4 - ^\n"
    "STACK CFI 1001 .cfa: $esp 8 +\n"
    "STACK CFI 1003 .cfa: $ebp 8 + $ebp: .cfa 8 - ^\n"
    "STACK WIN 4 1000 20 3 0 4 0 8 0 1 $T0 $ebp = $eip $T0 4 + ^ =  $esp $T0 8 + =\n"
    "STACK WIN 0 1100 30 2 1 8 4 10 0 0 1\n";

static void test_all_record_types(void)
{
    struct st_image s;
    st_build(&s, full_sym);
    const struct sym_image_counts *r = &s.stats.read, *k = &s.stats.kept;
    T_ASSERT_EQ(r->files, 2);
    T_ASSERT_EQ(r->inline_origins, 2);
    T_ASSERT_EQ(r->funcs, 2);
    T_ASSERT_EQ(r->lines, 7);
    T_ASSERT_EQ(r->inlines, 2);
    T_ASSERT_EQ(r->publics, 2);
    T_ASSERT_EQ(r->cfi_inits, 1);
    T_ASSERT_EQ(r->cfi_deltas, 2);
    T_ASSERT_EQ(r->win_framedata, 1);
    T_ASSERT_EQ(r->win_fpo, 1);
    T_ASSERT_EQ(k->funcs, 2);
    T_ASSERT_EQ(k->lines, 7);
    T_ASSERT_EQ(k->inlines, 2);
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    T_ASSERT_EQ(s.stats.n_unknown, 0);
    T_ASSERT_EQ(s.stats.input_bytes, sizeof(full_sym) - 1);

    struct sym_module_info m;
    sym_image_module(s.img, &m);
    T_ASSERT(m.has_module);
    T_ASSERT_STR_EQ(st_str(m.os), "windows");
    T_ASSERT_STR_EQ(st_str(m.arch), "x86");
    T_ASSERT_STR_EQ(st_str(m.debug_id), "5A9832E5287241C1838ED98914E9B7FF1");
    T_ASSERT_STR_EQ(st_str(m.debug_file), "test app.pdb");
    T_ASSERT_STR_EQ(st_str(m.code_id), "5AB380779000");
    T_ASSERT_STR_EQ(st_str(m.code_file), "test_app.exe");
    T_ASSERT_STR_EQ(st_str(m.generator), "mozilla/dump_syms 2.1.0");
    T_ASSERT_STR_EQ(st_str(m.pe_name), "test_app.exe");

    struct sym_lookup *l = st_lookup(&s, 0x1012);
    T_ASSERT(l->found && !l->is_public && l->has_size && l->is_multiple);
    T_ASSERT_STR_EQ(st_str(l->function), "Foo::Bar(int, char const*)");
    T_ASSERT_U64_EQ(l->function_start, 0x1000);
    T_ASSERT_U64_EQ(l->function_size, 0x20);
    T_ASSERT_EQ(l->param_size, 4);
    T_ASSERT_STR_EQ(st_str(l->file), "c:\\src\\util.h");
    T_ASSERT_EQ(l->line, 12);
    T_ASSERT(l->has_line);
    T_ASSERT_U64_EQ(l->line_start, 0x1010);
    T_ASSERT_EQ(l->n_inlines, 0);

    /* Two inline levels: main <- inlined_helper (call site main.cpp:40) <- deeper (util.h:7). */
    l = st_lookup(&s, 0x110d);
    T_ASSERT_STR_EQ(st_str(l->function), "main");
    T_ASSERT_STR_EQ(st_str(l->file), "c:\\src\\main.cpp");
    T_ASSERT_EQ(l->line, 40);
    T_ASSERT_EQ(l->n_inlines, 2);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "deeper(int)");
    T_ASSERT_STR_EQ(st_str(l->inlines[0].file), "c:\\src\\util.h");
    T_ASSERT_EQ(l->inlines[0].line, 5);
    T_ASSERT_U64_EQ(l->inlines[0].function_start, 0x110c);
    T_ASSERT_STR_EQ(st_str(l->inlines[1].function), "inlined_helper()");
    T_ASSERT_STR_EQ(st_str(l->inlines[1].file), "c:\\src\\util.h");
    T_ASSERT_EQ(l->inlines[1].line, 7);
    T_ASSERT_U64_EQ(l->inlines[1].function_start, 0x1108);
    /* The second range of the depth-0 inline. */
    l = st_lookup(&s, 0x1121);
    T_ASSERT_EQ(l->n_inlines, 1);
    T_ASSERT_EQ(l->line, 40);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "inlined_helper()");
    T_ASSERT_EQ(l->inlines[0].line, 41);
    T_ASSERT_U64_EQ(l->inlines[0].function_start, 0x1120);
    ST_ASSERT_SYM(&s, 0x1100, "main", "c:\\src\\main.cpp", 39);

    l = st_lookup(&s, 0x2050);
    T_ASSERT(l->found && l->is_public && !l->has_size && l->is_multiple);
    T_ASSERT_STR_EQ(st_str(l->function), "public_thing");
    T_ASSERT_EQ(l->param_size, 8);
    T_ASSERT_U64_EQ(l->function_start, 0x2000);
    ST_ASSERT_SYM(&s, 0x9999, "other_public", "", 0);
    ST_ASSERT_SYM(&s, 0xfff, "", "", 0);

    T_ASSERT_STR_EQ(st_cfi(&s, 0x1000), ".cfa: $esp 4 + .ra: .cfa 4 - ^");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1002), ".cfa: $esp 4 + .ra: .cfa 4 - ^ .cfa: $esp 8 +");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x101f), ".cfa: $esp 4 + .ra: .cfa 4 - ^ .cfa: $esp 8 + .cfa: "
                                        "$ebp 8 + $ebp: .cfa 8 - ^");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1020), "-");

    struct sym_win_frame w;
    T_ASSERT_OK(sym_image_win_frame(s.img, 0x1004, &w));
    T_ASSERT_EQ(w.type, 4);
    T_ASSERT_U64_EQ(w.rva, 0x1000);
    T_ASSERT_U64_EQ(w.code_size, 0x20);
    T_ASSERT_EQ(w.prolog_size, 3);
    T_ASSERT_EQ(w.parameter_size, 4);
    T_ASSERT_EQ(w.local_size, 8);
    T_ASSERT(w.has_program);
    T_ASSERT_STR_EQ(st_str(w.program), "$T0 $ebp = $eip $T0 4 + ^ =  $esp $T0 8 + =");
    T_ASSERT_OK(sym_image_win_frame(s.img, 0x1100, &w));
    T_ASSERT_EQ(w.type, 0);
    T_ASSERT_EQ(w.prolog_size, 2);
    T_ASSERT_EQ(w.epilog_size, 1);
    T_ASSERT_EQ(w.parameter_size, 8);
    T_ASSERT_EQ(w.saved_register_size, 4);
    T_ASSERT_EQ(w.local_size, 0x10);
    T_ASSERT_EQ(w.max_stack_size, 0);
    T_ASSERT(!w.has_program && w.allocates_base_pointer);
    T_ASSERT_EQ(w.program.n, 0);
    T_ASSERT_ERR(sym_image_win_frame(s.img, 0x1130, &w), SYM_ENOTFOUND);

    struct sym_image_info info;
    sym_image_info(s.img, &info);
    T_ASSERT_EQ(info.version, SYM_IMAGE_VERSION);
    T_ASSERT_EQ(info.counts.funcs, 2);
    T_ASSERT_EQ(info.counts.publics, 2);
    T_ASSERT_U64_EQ(info.image_bytes, s.buf.len);
    T_ASSERT_U64_EQ(info.source_bytes, sizeof(full_sym) - 1);
    T_ASSERT(!info.wide_addresses);
    st_free(&s);
}

/* Replaces every "\n" of src by the terminator term. */
static char *with_line_ends(const char *src, const char *term)
{
    size_t n = 0, tl = strlen(term);
    for (const char *p = src; *p; p++)
        n += *p == '\n' ? tl : 1;
    char *out = malloc(n + 1), *o = out;
    for (const char *p = src; *p; p++) {
        if (*p == '\n') {
            memcpy(o, term, tl);
            o += tl;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* Every answer of a and b agrees over [lo, hi). */
static void assert_same_answers(const struct st_image *a, const struct st_image *b, uint64_t lo,
                                uint64_t hi)
{
    for (uint64_t off = lo; off < hi; off++) {
        struct sym_lookup la, lb;
        T_ASSERT_OK(sym_image_lookup(a->img, off, &la));
        T_ASSERT_OK(sym_image_lookup(b->img, off, &lb));
        T_ASSERT_EQ(la.found, lb.found);
        T_ASSERT(sym_slice_eq(la.function, lb.function));
        T_ASSERT(sym_slice_eq(la.file, lb.file));
        T_ASSERT_EQ(la.line, lb.line);
        T_ASSERT_EQ(la.n_inlines, lb.n_inlines);
        for (size_t i = 0; i < la.n_inlines; i++) {
            T_ASSERT(sym_slice_eq(la.inlines[i].function, lb.inlines[i].function));
            T_ASSERT(sym_slice_eq(la.inlines[i].file, lb.inlines[i].file));
            T_ASSERT_EQ(la.inlines[i].line, lb.inlines[i].line);
        }
        static char ca[65536];
        snprintf(ca, sizeof(ca), "%s", st_cfi(a, off));
        T_ASSERT_STR_EQ(ca, st_cfi(b, off));
        struct sym_win_frame wa, wb;
        sym_err ra = sym_image_win_frame(a->img, off, &wa),
                rb = sym_image_win_frame(b->img, off, &wb);
        T_ASSERT_EQ(ra, rb);
        if (ra == SYM_OK) {
            T_ASSERT_U64_EQ(wa.rva, wb.rva);
            T_ASSERT(sym_slice_eq(wa.program, wb.program));
        }
    }
}

static void test_line_ends(void)
{
    static const char *const terms[] = {"\r\n", "\r", "\n\n", "\r\n\r\n", "\n\r"};
    struct st_image lf;
    st_build(&lf, full_sym);
    for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
        char *text = with_line_ends(full_sym, terms[i]);
        struct st_image other;
        st_build(&other, text);
        T_ASSERT_EQ(other.stats.n_warnings, 0);
        T_ASSERT_EQ(other.stats.kept.lines, lf.stats.kept.lines);
        assert_same_answers(&lf, &other, 0xff0, 0x1140);
        struct sym_module_info m;
        sym_image_module(other.img, &m);
        T_ASSERT_STR_EQ(st_str(m.debug_file), "test app.pdb");
        T_ASSERT_STR_EQ(st_str(m.pe_name), "test_app.exe");
        st_free(&other);
        free(text);
    }
    /* No final line end, and a byte-order mark before the first record. */
    struct st_image bom;
    char *text = malloc(sizeof(full_sym) + 3);
    memcpy(text, "\xef\xbb\xbf", 3);
    memcpy(text + 3, full_sym, sizeof(full_sym) - 2); /* drops the last '\n' */
    st_build_n(&bom, text, sizeof(full_sym) + 1);
    assert_same_answers(&lf, &bom, 0xff0, 0x1140);
    struct sym_win_frame w;
    T_ASSERT_OK(sym_image_win_frame(bom.img, 0x1100, &w));
    T_ASSERT(w.allocates_base_pointer);
    free(text);
    st_free(&bom);
    st_free(&lf);
}

/* Feeding the text in pieces of any size gives the same image bytes. */
static void test_chunking(void)
{
    char *crlf = with_line_ends(full_sym, "\r\n");
    size_t len = strlen(crlf);
    struct sym_buf whole;
    sym_buf_init(&whole, 0);
    T_ASSERT_OK(sym_parse_buffer(crlf, len, NULL, &whole, NULL, NULL));
    static const size_t steps[] = {1, 2, 3, 7, 16, 64, 1000};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct sym_parser *p;
        T_ASSERT_OK(sym_parser_new(NULL, &p));
        for (size_t off = 0; off < len; off += steps[i]) {
            size_t n = len - off < steps[i] ? len - off : steps[i];
            T_ASSERT_OK(sym_parser_feed(p, crlf + off, n));
        }
        T_ASSERT_OK(sym_parser_feed(p, "", 0));
        struct sym_buf img;
        sym_buf_init(&img, 0);
        struct sym_parse_stats st;
        T_ASSERT_OK(sym_parser_finish(p, &img, &st, NULL));
        T_ASSERT_U64_EQ(st.image_bytes, img.len);
        T_ASSERT_EQ(img.len, whole.len);
        T_ASSERT_MEM_EQ(img.data, whole.data, whole.len);
        /* A finished parser accepts no more input. */
        T_ASSERT_ERR(sym_parser_feed(p, "x", 1), SYM_EINVAL);
        sym_parser_free(p);
        sym_buf_cleanup(&img);
    }
    sym_buf_cleanup(&whole);
    free(crlf);
}

/* Feeding through the parser's own buffers: what a commit may take, and the same image. */
static void test_buffer_feeding(void)
{
    size_t len = strlen(full_sym);
    struct sym_buf whole;
    sym_buf_init(&whole, 0);
    T_ASSERT_OK(sym_parse_buffer(full_sym, len, NULL, &whole, NULL, NULL));
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    T_ASSERT_ERR(sym_parser_commit(p, 1), SYM_EINVAL); /* no buffer asked for */
    void *buf;
    size_t cap;
    T_ASSERT_ERR(sym_parser_buffer(p, NULL, &cap), SYM_EINVAL);
    T_ASSERT_OK(sym_parser_buffer(p, &buf, &cap));
    T_ASSERT(cap >= len);
    T_ASSERT_ERR(sym_parser_commit(p, cap + 1), SYM_EINVAL);
    memcpy(buf, full_sym, 10);
    T_ASSERT_OK(sym_parser_commit(p, 10));
    T_ASSERT_OK(sym_parser_commit(p, 0));
    T_ASSERT_OK(sym_parser_feed(p, full_sym + 10, 5));
    T_ASSERT_OK(sym_parser_buffer(p, &buf, &cap));
    memcpy(buf, full_sym + 15, len - 15);
    T_ASSERT_OK(sym_parser_commit(p, len - 15));
    struct sym_buf img;
    sym_buf_init(&img, 0);
    T_ASSERT_OK(sym_parser_finish(p, &img, NULL, NULL));
    T_ASSERT_EQ(img.len, whole.len);
    T_ASSERT_MEM_EQ(img.data, whole.data, whole.len);
    T_ASSERT_ERR(sym_parser_buffer(p, &buf, &cap), SYM_EINVAL);
    T_ASSERT_ERR(sym_parser_commit(p, 0), SYM_EINVAL);
    sym_parser_free(p);
    sym_buf_cleanup(&img);

    /* From a file descriptor, to its end; a descriptor that cannot be read is SYM_EIO. */
    FILE *f = tmpfile();
    T_ASSERT(f != NULL);
    T_ASSERT(fwrite(full_sym, 1, len, f) == len && fflush(f) == 0);
    rewind(f);
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    T_ASSERT_OK(sym_parser_feed_fd(p, fileno(f)));
    sym_buf_init(&img, 0);
    T_ASSERT_OK(sym_parser_finish(p, &img, NULL, NULL));
    T_ASSERT_EQ(img.len, whole.len);
    T_ASSERT_MEM_EQ(img.data, whole.data, whole.len);
    sym_parser_free(p);
    sym_buf_cleanup(&img);
    fclose(f);
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    T_ASSERT_ERR(sym_parser_feed_fd(p, -1), SYM_EIO);
    sym_parser_free(p);
    sym_buf_cleanup(&whole);
}

static void test_names(void)
{
    size_t big = 80 * 1024;
    char *text = malloc(big + 4096);
    int n = snprintf(text, 4096,
                     "MODULE Linux x86_64 ABC  two  spaces\n"
                     "FILE 0 dir with spaces/a file.c\n"
                     "FUNC 1000 10 0 \n"
                     "FUNC 1010 10 0  leading space\n"
                     "FUNC 1020 10 0 operator()(nsID const&, void**) const\n"
                     "PUBLIC 1030 0 \n"
                     "FUNC 1040 10 0 ");
    memset(text + n, 'x', big);
    n += (int)big;
    n += snprintf(text + n, 4096, "\nFUNC 1050 10 0 a");
    text[n++] = '\0';
    n += snprintf(text + n, 4096, "b\n1050 10 7 0\nPUBLIC 2000 0 p");
    text[n++] = '\0';
    n += snprintf(text + n, 4096, "q\nFILE 1 x");
    text[n++] = '\0';
    n += snprintf(text + n, 4096, "y\nFUNC 3000 10 0 h\n3000 10 5 1\n");
    struct st_image s;
    st_build_n(&s, text, (size_t)n);
    struct sym_module_info m;
    sym_image_module(s.img, &m);
    T_ASSERT_STR_EQ(st_str(m.debug_id), "ABC");
    T_ASSERT_STR_EQ(st_str(m.debug_file), " two  spaces");
    struct sym_lookup *l = st_lookup(&s, 0x1000);
    T_ASSERT(l->found);
    T_ASSERT_EQ(l->function.n, 0);
    ST_ASSERT_SYM(&s, 0x1011, " leading space", "", 0);
    ST_ASSERT_SYM(&s, 0x1020, "operator()(nsID const&, void**) const", "", 0);
    l = st_lookup(&s, 0x1030);
    T_ASSERT(l->found && l->is_public && l->function.n == 0);
    l = st_lookup(&s, 0x1045);
    T_ASSERT_EQ(l->function.n, big);
    T_ASSERT(l->function.p[0] == 'x' && l->function.p[big - 1] == 'x');
    /* A NUL byte inside a name is stored as '_' and counted as a warning (Breakpad does so). */
    ST_ASSERT_SYM(&s, 0x1050, "a_b", "dir with spaces/a file.c", 7);
    l = st_lookup(&s, 0x2004);
    T_ASSERT(l->found && l->is_public);
    T_ASSERT_STR_EQ(st_str(l->function), "p_q");
    ST_ASSERT_SYM(&s, 0x3000, "h", "x_y", 5);
    T_ASSERT_EQ(s.stats.n_warnings, 3);
    st_free(&s);
    free(text);
}

static sym_err parse_text(const char *text, size_t len, const struct sym_parse_opts *o,
                          struct sym_parse_stats *st, struct sym_diag *d)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    sym_err rc = sym_parse_buffer(text, len, o, &b, st, d);
    sym_buf_cleanup(&b);
    return rc;
}

static void test_not_a_symbol_file(void)
{
    struct sym_diag d;
    T_ASSERT_ERR(parse_text("this is junk", 12, NULL, NULL, &d), SYM_EPARSE);
    T_ASSERT(strstr(d.msg, "not a Breakpad symbol file") != NULL);
    T_ASSERT(strstr(d.msg, "this is junk") != NULL);
    T_ASSERT_EQ(d.line, 1);
    T_ASSERT_ERR(parse_text("\x1f\x8b\x08\x00\x00\x00", 6, NULL, NULL, &d), SYM_EPARSE);
    T_ASSERT(strstr(d.msg, "gzip") != NULL);
    T_ASSERT_ERR(parse_text("", 0, NULL, NULL, &d), SYM_EPARSE);
    T_ASSERT(strstr(d.msg, "empty") != NULL);
    T_ASSERT_ERR(parse_text("\n\r\n\n", 4, NULL, NULL, &d), SYM_EPARSE);
    T_ASSERT_ERR(parse_text("HELLO world\nFUNC 1 1 0 x\n", 25, NULL, NULL, &d), SYM_EPARSE);
    T_ASSERT_ERR(parse_text("PK\x03\x04\x14\x00junk\n", 11, NULL, NULL, &d), SYM_EPARSE);
    T_ASSERT_ERR(parse_text("<html><body>404</body></html>", 29, NULL, NULL, &d), SYM_EPARSE);
    /* A file may start with any record (no MODULE line: CFI-only files exist). */
    struct sym_parse_stats st;
    T_ASSERT_OK(parse_text("STACK CFI INIT 10 4 .cfa: $rsp 8 +\n", 35, NULL, &st, NULL));
    T_ASSERT_OK(parse_text("1000 4 5 1\n", 11, NULL, &st, NULL));
    T_ASSERT_EQ(st.n_warnings, 1); /* a line record outside a FUNC */
    T_ASSERT_EQ(st.first_warning_line, 1);
    T_ASSERT_STR_EQ(st.first_warning, "line record outside a FUNC");
    T_ASSERT_OK(parse_text("MODULE Linux x86_64 ID name", 27, NULL, &st, NULL));
}

static void test_malformed_lines(void)
{
    static const char text[] = "MODULE Linux x86_64 ID name\n"
                               "FILE x bad.c\n"                  /* 2: id not a number */
                               "FUNC 1000 10\n"                  /* 3: no parameter size / name */
                               "FUNC 1000 10 0 good\n"           /* 4 */
                               "1000 4 -1 0\n"                   /* 5: negative line */
                               "1004 4 12\n"                     /* 6: missing file id */
                               "100g 4 12 0\n"                   /* 7: not hex */
                               "1008 4 13 0 extra\n"             /* 8: trailing field */
                               "NEWRECORD 1 2 3\n"               /* unknown type: skipped */
                               "FUNC 1fffffffffffffffff 1 0 x\n" /* 10: more than 64 bits */
                               "STACK CFI INIT 1000 10\n"        /* 11: no rules */
                               "STACK CFI 1004 no colon\n"       /* 12 */
                               "STACK WIN 9 1000 10 0 0 0 0 0 0 1 x\n" /* 13: unknown type */
                               "STACK WIN 4 1000 10 0 0 0 0 0\n"       /* 14: too short */
                               "STACK FOO 1\n"                         /* 15 */
                               "INLINE 0 1 2\n"                        /* 16: no range */
                               "INLINE_ORIGIN 3\n"                     /* 17: no name */
                               " FUNC 2000 1 0 indented\n"             /* 18 */
                               "100c 4 14 0\n";
    struct sym_parse_stats st;
    T_ASSERT_OK(parse_text(text, sizeof(text) - 1, NULL, &st, NULL));
    T_ASSERT_EQ(st.n_warnings, 15);
    T_ASSERT_EQ(st.first_warning_line, 2);
    T_ASSERT_EQ(st.n_unknown, 1);
    T_ASSERT_EQ(st.kept.funcs, 1);
    T_ASSERT_EQ(st.kept.lines, 1);

    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.max_errors = 14;
    struct sym_diag d;
    T_ASSERT_ERR(parse_text(text, sizeof(text) - 1, &o, &st, &d), SYM_EPARSE);
    T_ASSERT(strstr(d.msg, "more than 14 malformed lines") != NULL);
    T_ASSERT_EQ(d.line, 18);
    o.max_errors = UINT64_MAX;
    T_ASSERT_OK(parse_text(text, sizeof(text) - 1, &o, &st, NULL));
}

static void test_limits(void)
{
    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.max_line_len = 40;
    static const char text[] = "FUNC 1000 10 0 a name that is far too long for the limit\n"
                               "1000 4 5 0\n"
                               "FUNC 2000 10 0 short\n"
                               "2000 4 6 0\n";
    struct sym_parse_stats st;
    /* Whole and one byte at a time: the long line is skipped with one warning both ways. */
    for (int chunked = 0; chunked < 2; chunked++) {
        struct sym_parser *p;
        T_ASSERT_OK(sym_parser_new(&o, &p));
        size_t len = sizeof(text) - 1;
        for (size_t off = 0; off < len; off += chunked ? 1 : len)
            T_ASSERT_OK(sym_parser_feed(p, text + off, chunked ? 1 : len));
        struct sym_buf b;
        sym_buf_init(&b, 0);
        T_ASSERT_OK(sym_parser_finish(p, &b, &st, NULL));
        T_ASSERT_EQ(st.n_warnings, 2); /* the long line, then its orphan line record */
        T_ASSERT_EQ(st.kept.funcs, 1);
        sym_parser_free(p);
        sym_buf_cleanup(&b);
    }
    sym_parse_opts_init(&o);
    o.max_input_bytes = 30;
    struct sym_diag d;
    T_ASSERT_ERR(parse_text(text, sizeof(text) - 1, &o, &st, &d), SYM_ELIMIT);
    T_ASSERT(strstr(d.msg, "larger than the configured maximum") != NULL);
    sym_parse_opts_init(&o);
    o.max_image_bytes = 100;
    T_ASSERT_ERR(parse_text(text, sizeof(text) - 1, &o, &st, &d), SYM_ELIMIT);
    /* The output buffer's own cap applies too. */
    struct sym_buf small;
    sym_buf_init(&small, 64);
    T_ASSERT_ERR(sym_parse_buffer(text, sizeof(text) - 1, NULL, &small, NULL, NULL), SYM_ELIMIT);
    sym_buf_cleanup(&small);
}

static void test_out_of_order(void)
{
    struct st_image s;
    st_build(&s, "INLINE_ORIGIN 9 late_origin()\n"
                 "FUNC 3000 10 0 third\n"
                 "3008 8 31 5\n"
                 "3000 8 30 7\n"
                 "INLINE 0 2 5 4 3004 4\n"
                 "FUNC 1000 10 0 first\n"
                 "1000 10 10 7\n"
                 "FILE 5 five.c\n"
                 "INLINE_ORIGIN 4 origin_after_use()\n"
                 "FUNC 2000 10 0 second\n"
                 "2000 10 20 99\n" /* FILE 99 never declared */
                 "FILE 7 seven.c\n");
    ST_ASSERT_SYM(&s, 0x1005, "first", "seven.c", 10);
    ST_ASSERT_SYM(&s, 0x2005, "second", "", 20);
    ST_ASSERT_SYM(&s, 0x3001, "third", "seven.c", 30);
    ST_ASSERT_SYM(&s, 0x300f, "third", "five.c", 31);
    struct sym_lookup *l = st_lookup(&s, 0x3005);
    T_ASSERT_STR_EQ(st_str(l->file), "five.c");
    T_ASSERT_EQ(l->line, 2);
    T_ASSERT_EQ(l->n_inlines, 1);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "origin_after_use()");
    T_ASSERT_STR_EQ(st_str(l->inlines[0].file), "seven.c");
    T_ASSERT_EQ(l->inlines[0].line, 30);
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    /* Files in the order their ids were first seen (the file table is dense). */
    struct sym_slice f;
    T_ASSERT_OK(sym_image_file_at(s.img, 0, &f));
    T_ASSERT_STR_EQ(st_str(f), "five.c");
    T_ASSERT_OK(sym_image_file_at(s.img, 1, &f));
    T_ASSERT_STR_EQ(st_str(f), "seven.c");
    T_ASSERT_ERR(sym_image_file_at(s.img, 3, &f), SYM_EINVAL);
    struct sym_func_info fi;
    T_ASSERT_OK(sym_image_func_at(s.img, 0, &fi));
    T_ASSERT_STR_EQ(st_str(fi.name), "first");
    T_ASSERT_EQ(fi.n_lines, 1);
    T_ASSERT_OK(sym_image_func_at(s.img, 2, &fi));
    T_ASSERT_STR_EQ(st_str(fi.name), "third");
    T_ASSERT_EQ(fi.n_lines, 2);
    T_ASSERT_ERR(sym_image_func_at(s.img, 3, &fi), SYM_EINVAL);
    st_free(&s);
}

static void test_overlaps(void)
{
    struct st_image s;
    st_build(&s, "FILE 1 a.c\n"
                 "FILE 1 duplicate.c\n"
                 "INLINE_ORIGIN 1 first_origin\n"
                 "INLINE_ORIGIN 1 second_origin\n"
                 "FUNC 1000 100 0 F1\n"
                 "1000 10 1 1\n"
                 "1008 10 2 1\n" /* overlaps the previous line: dropped */
                 "1010 f0 3 1\n"
                 "FUNC 0f80 100 0 F2_overlaps_F1\n" /* later in the file: dropped */
                 "0f80 100 9 1\n"
                 "FUNC 1100 0 0 zero_size\n" /* dropped with its lines */
                 "1100 10 5 1\n"
                 "FUNC 2000 8 0 A\n"
                 "FUNC 2004 8 0 B_dropped\n"
                 "FUNC 2008 10 0 C\n" /* overlaps only B, which was dropped: kept */
                 "INLINE 0 1 1 1 2008 4\n"
                 "PUBLIC 3000 0 first_public\n"
                 "PUBLIC 3000 0 second_public\n"
                 "PUBLIC 0 0 _mh_execute_header\n");
    ST_ASSERT_SYM(&s, 0x1008, "F1", "a.c", 1);
    ST_ASSERT_SYM(&s, 0x1010, "F1", "a.c", 3);
    ST_ASSERT_SYM(&s, 0xf90, "", "", 0);
    ST_ASSERT_SYM(&s, 0x1105, "", "", 0);
    ST_ASSERT_SYM(&s, 0x1ffa, "", "", 0);
    ST_ASSERT_SYM(&s, 0x2000, "A", "", 0);
    ST_ASSERT_SYM(&s, 0x2007, "A", "", 0);
    ST_ASSERT_SYM(&s, 0x200f, "C", "", 0);
    ST_ASSERT_SYM(&s, 0x2009, "C", "a.c", 1);
    struct sym_lookup *l = st_lookup(&s, 0x2009);
    T_ASSERT_EQ(l->n_inlines, 1);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "first_origin");
    ST_ASSERT_SYM(&s, 0x3001, "first_public", "", 0);
    T_ASSERT_EQ(s.stats.read.funcs, 6);
    T_ASSERT_EQ(s.stats.kept.funcs, 3);
    T_ASSERT_EQ(s.stats.kept.lines, 2);
    T_ASSERT_EQ(s.stats.read.publics, 3);
    T_ASSERT_EQ(s.stats.kept.publics, 1);
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    st_free(&s);
}

static void test_inline_forms(void)
{
    /* The corpus's linux_inline pair in miniature: old and new INLINE / INLINE_ORIGIN forms. */
    static const char new_form[] = "FILE 0 inline.cpp\nFILE 1 a.cpp\nFILE 2 b.cpp\nFILE 3 c.cpp\n"
                                   "INLINE_ORIGIN 0 bar()\nINLINE_ORIGIN 1 foo()\n"
                                   "INLINE_ORIGIN 2 func()\n"
                                   "FUNC 100 100 0 main\n"
                                   "INLINE 0 42 1 1 110 f0\n"
                                   "INLINE 1 39 2 0 120 e0\n"
                                   "INLINE 2 32 3 2 130 d0\n"
                                   "100 100 27 0\n";
    static const char old_form[] = "FILE 0 inline.cpp\n"
                                   "INLINE_ORIGIN 0 0 bar()\nINLINE_ORIGIN 1 -1 foo()\n"
                                   "INLINE_ORIGIN 2 0 func()\n"
                                   "FUNC 100 100 0 main\n"
                                   "INLINE 0 42 1 110 f0\n"
                                   "INLINE 1 39 0 120 e0\n"
                                   "INLINE 2 32 2 130 d0\n"
                                   "100 100 27 0\n";
    struct st_image s;
    st_build(&s, new_form);
    struct sym_lookup *l = st_lookup(&s, 0x1f0);
    T_ASSERT_STR_EQ(st_str(l->file), "a.cpp");
    T_ASSERT_EQ(l->line, 42);
    T_ASSERT_EQ(l->n_inlines, 3);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "func()");
    T_ASSERT_STR_EQ(st_str(l->inlines[0].file), "inline.cpp");
    T_ASSERT_EQ(l->inlines[0].line, 27);
    T_ASSERT_STR_EQ(st_str(l->inlines[1].function), "bar()");
    T_ASSERT_STR_EQ(st_str(l->inlines[1].file), "c.cpp");
    T_ASSERT_EQ(l->inlines[1].line, 32);
    T_ASSERT_STR_EQ(st_str(l->inlines[2].function), "foo()");
    T_ASSERT_STR_EQ(st_str(l->inlines[2].file), "b.cpp");
    T_ASSERT_EQ(l->inlines[2].line, 39);
    st_free(&s);
    st_build(&s, old_form);
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    l = st_lookup(&s, 0x1f0);
    T_ASSERT_STR_EQ(st_str(l->file), "inline.cpp");
    T_ASSERT_EQ(l->line, 42);
    T_ASSERT_EQ(l->n_inlines, 3);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "func()");
    T_ASSERT_STR_EQ(st_str(l->inlines[1].function), "bar()");
    T_ASSERT_STR_EQ(st_str(l->inlines[1].file), "inline.cpp");
    T_ASSERT_EQ(l->inlines[1].line, 32);
    T_ASSERT_STR_EQ(st_str(l->inlines[2].function), "foo()");
    T_ASSERT_EQ(l->inlines[2].line, 39);
    st_free(&s);

    /* dump_syms writes records grouped by address, not as a tree: a depth-2 record may follow
     * a depth-0 one. Depths are matched independently; a missing depth ends the chain. */
    st_build(&s, "FILE 0 x.c\n"
                 "INLINE_ORIGIN 0 o0\nINLINE_ORIGIN 1 o1\nINLINE_ORIGIN 2 o2\n"
                 "FUNC 0 100 0 f\n"
                 "INLINE 0 1 0 0 10 8\n"
                 "INLINE 1 2 0 1 10 20\n"
                 "INLINE 0 3 0 0 18 20\n"
                 "INLINE 2 4 0 2 1c 4 90 4\n"
                 "INLINE 0 5 0 7 80 20\n" /* origin 7 is never declared */
                 "INLINE 2 6 0 1 88 4\n"  /* depth 1 missing here: unreachable */
                 "INLINE 1 7 9 1 90 4\n"  /* call-site FILE 9 never declared */
                 "0 100 50 0\n");
    l = st_lookup(&s, 0x1d);
    T_ASSERT_EQ(l->line, 3);
    T_ASSERT_EQ(l->n_inlines, 3);
    T_ASSERT_STR_EQ(st_str(l->inlines[0].function), "o2");
    T_ASSERT_EQ(l->inlines[0].line, 50);
    T_ASSERT_STR_EQ(st_str(l->inlines[1].function), "o1");
    T_ASSERT_EQ(l->inlines[1].line, 4);
    T_ASSERT_U64_EQ(l->inlines[1].function_start, 0x10);
    T_ASSERT_STR_EQ(st_str(l->inlines[2].function), "o0");
    T_ASSERT_EQ(l->inlines[2].line, 2);
    T_ASSERT_U64_EQ(l->inlines[2].function_start, 0x18);
    l = st_lookup(&s, 0x89);
    T_ASSERT_EQ(l->n_inlines, 1);
    T_ASSERT_EQ(l->inlines[0].function.n, 0);
    T_ASSERT_EQ(l->line, 5);
    l = st_lookup(&s, 0x91);
    T_ASSERT_EQ(l->n_inlines, 3);
    T_ASSERT_STR_EQ(st_str(l->inlines[1].file), "x.c");
    T_ASSERT_STR_EQ(st_str(l->inlines[2].file), "");
    T_ASSERT_EQ(l->inlines[2].line, 7);
    l = st_lookup(&s, 0x40);
    T_ASSERT_EQ(l->n_inlines, 0);
    T_ASSERT_EQ(l->line, 50);
    T_ASSERT_STR_EQ(st_str(l->file), "x.c");
    st_free(&s);
}

static void test_deep_inlines(void)
{
    /* 70 nested levels: the chain is cut at SYM_MAX_INLINE_DEPTH. */
    char *text = malloc(16384);
    int n = snprintf(text, 16384, "FILE 0 f.c\nINLINE_ORIGIN 0 o\nFUNC 0 1000 0 f\n");
    for (int d = 0; d < 70; d++)
        n += snprintf(text + n, 16384 - (size_t)n, "INLINE %d %d 0 0 %x %x\n", d, 100 + d, d,
                      0x1000 - 2 * d);
    n += snprintf(text + n, 16384 - (size_t)n, "0 1000 7 0\n");
    struct st_image s;
    st_build_n(&s, text, (size_t)n);
    struct sym_lookup *l = st_lookup(&s, 0x200);
    T_ASSERT_EQ(l->n_inlines, SYM_MAX_INLINE_DEPTH);
    T_ASSERT_EQ(l->line, 100);
    T_ASSERT_EQ(l->inlines[SYM_MAX_INLINE_DEPTH - 1].line, 101);
    T_ASSERT_EQ(l->inlines[0].line, 100 + SYM_MAX_INLINE_DEPTH);
    l = st_lookup(&s, 0x2);
    T_ASSERT_EQ(l->n_inlines, 3);
    T_ASSERT_EQ(l->inlines[0].line, 7);
    st_free(&s);
    free(text);
}

static void test_public_fallback(void)
{
    struct st_image s;
    /* Eliot's ntdll case, plus a FUNC starting exactly at a PUBLIC's address. */
    st_build(&s, "MODULE windows x86_64 F86EB934B42FBB79B2595AA25907695C1 ntdll.pdb\n"
                 "INFO CODE_ID 0532197720E000 ntdll.dll\n"
                 "FUNC 1008 106 0 LdrpGetModuleName\n"
                 "PUBLIC 1120 0 LdrQueryNextListEntry\n"
                 "PUBLIC 1140 0 LdrQueryModuleInfoFromLdrEntry\n"
                 "FUNC 1260 4a 0 LdrpReadMemory\n"
                 "PUBLIC 1400 0 SharedStart\n"
                 "FUNC 1400 10 0 FuncAtSameAddress\n");
    ST_ASSERT_SYM(&s, 0x1008, "LdrpGetModuleName", "", 0);
    ST_ASSERT_SYM(&s, 0x110d, "LdrpGetModuleName", "", 0);
    ST_ASSERT_SYM(&s, 0x110e, "", "", 0);
    ST_ASSERT_SYM(&s, 0x1120, "LdrQueryNextListEntry", "", 0);
    ST_ASSERT_SYM(&s, 0x113f, "LdrQueryNextListEntry", "", 0);
    ST_ASSERT_SYM(&s, 0x1200, "LdrQueryModuleInfoFromLdrEntry", "", 0);
    ST_ASSERT_SYM(&s, 0x12aa, "", "", 0); /* after LdrpReadMemory: that FUNC ends the PUBLIC */
    ST_ASSERT_SYM(&s, 0x140f, "FuncAtSameAddress", "", 0);
    ST_ASSERT_SYM(&s, 0x1410, "", "", 0);
    ST_ASSERT_SYM(&s, 0x100, "", "", 0);
    struct sym_public_info pi;
    T_ASSERT_OK(sym_image_public_at(s.img, 2, &pi));
    T_ASSERT_U64_EQ(pi.address, 0x1400);
    T_ASSERT_STR_EQ(st_str(pi.name), "SharedStart");
    T_ASSERT_ERR(sym_image_public_at(s.img, 3, &pi), SYM_EINVAL);
    struct sym_slice name = sym_image_module_name(s.img, sym_slice_cstr("ntdll.pdb"));
    T_ASSERT_STR_EQ(st_str(name), "ntdll.dll");
    st_free(&s);
}

static void test_pe_name_rule(void)
{
    static const struct {
        const char *text, *pe;
    } cases[] = {
        {"MODULE windows x86 ID xul.pdb\nINFO CODE_ID 60533C886EFD000 xul.dll\n", "xul.dll"},
        {"MODULE Linux x86_64 ID libxul.so\nINFO CODE_ID B9FD0C6C7614E4E35DCB01FABB49DDA9\n", ""},
        {"MODULE windows x86 ID a.pdb\nINFO CODE_ID 1234 my app.exe\n", ""},
        {"MODULE windows x86 ID a.pdb\nFILE 0 x\nINFO CODE_ID 1234 a.dll\n", ""},
        {"MODULE windows x86 ID a.pdb\nINFO CODE_ID 1234 a.dll \r\n", "a.dll"},
        {"MODULE windows x86 ID a.pdb\nINFO GENERATOR x 1.0\nINFO CODE_ID 12 b.dll\n", "b.dll"},
        {"MODULE windows x86 ID a.pdb\nINFO CODE_ID 12\nINFO CODE_ID 12 c.dll\n", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct st_image s;
        st_build(&s, cases[i].text);
        struct sym_module_info m;
        sym_image_module(s.img, &m);
        T_ASSERT_STR_EQ(st_str(m.pe_name), cases[i].pe);
        struct sym_slice name = sym_image_module_name(s.img, sym_slice_cstr("fallback"));
        T_ASSERT_STR_EQ(st_str(name), cases[i].pe[0] ? cases[i].pe : "fallback");
        st_free(&s);
    }
}

/* In dump_syms order (INITs ascending, each delta inside the last INIT, ascending) deltas are
 * encoded as they arrive; any other record turns them back into the module-wide table. Each
 * text below is parsed twice: as is, and after a leading delta outside every INIT (dropped,
 * but it leaves that order at once). Every address must get the same rules both ways. */
static void test_cfi_order_paths_agree(void)
{
    static const char *base = "STACK CFI INIT 1000 20 .cfa: A\n"
                              "STACK CFI 1000 $r1: 1\n" /* at the INIT address */
                              "STACK CFI 1004 $r2: 2\n"
                              "STACK CFI 1004 $r3: 3\n" /* same address: the later wins */
                              "STACK CFI 1010 $r4: 4\n"
                              "STACK CFI INIT 1020 10 .cfa: B\n" /* right after the last */
                              "STACK CFI 1028 $r5: 5\n"
                              "STACK CFI INIT 2000 30 .cfa: C\n"
                              "STACK CFI 2008 $r6: 6\n";
    static const char *tails[] = {
        "",
        "STACK CFI 2004 $r7: 7\n",                                   /* below the last delta */
        "STACK CFI 1008 $r8: 8\n",                                   /* in an earlier INIT */
        "STACK CFI INIT 2010 40 .cfa: D\nSTACK CFI 2020 $r9: 9\n",   /* overlaps C: dropped */
        "STACK CFI INIT 1800 10 .cfa: E\nSTACK CFI 1804 $r10: 10\n", /* below C */
        "STACK CFI 5000 $r11: 11\n",                                 /* outside every INIT */
        "STACK CFI INIT 3000 10 .cfa: F\nSTACK CFI 3000 $r12: 12\nSTACK CFI 3000 $r13: 13\n",
    };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        char fast[1024], stream[1024];
        snprintf(fast, sizeof(fast), "%s%s", base, tails[i]);
        snprintf(stream, sizeof(stream), "STACK CFI 9000 $lead: 0\n%s%s", base, tails[i]);
        struct st_image a, b;
        st_build(&a, fast);
        st_build(&b, stream);
        T_ASSERT_EQ(a.stats.kept.cfi_inits, b.stats.kept.cfi_inits);
        T_ASSERT_EQ(a.stats.kept.cfi_deltas, b.stats.kept.cfi_deltas);
        for (uint64_t off = 0xff0; off < 0x3020; off++) {
            char want[256];
            const char *w = st_cfi(&b, off);
            T_ASSERT(strlen(w) < sizeof(want));
            memcpy(want, w, strlen(w) + 1);
            T_ASSERT_STR_EQ(st_cfi(&a, off), want);
        }
        st_free(&a);
        st_free(&b);
    }
    /* Spot checks of the rules themselves. */
    struct st_image s;
    st_build(&s, base);
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1004), ".cfa: A $r1: 1 $r3: 3");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x101f), ".cfa: A $r1: 1 $r3: 3 $r4: 4");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1028), ".cfa: B $r5: 5");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x2000), ".cfa: C");
    T_ASSERT_EQ(s.stats.kept.cfi_deltas, 5);
    st_free(&s);
}

static void test_cfi_policies(void)
{
    struct st_image s;
    st_build(&s, "STACK CFI 1008 $ebx: .cfa 8 - ^\n" /* before its INIT: keyed by address */
                 "STACK CFI INIT 1000 20 .cfa: $esp 4 +  .ra: .cfa 4 - ^   \n"
                 "STACK CFI 1000 .cfa: $esp 8 +\n" /* at the INIT address: overrides */
                 "STACK CFI 1010 $esi: first\n"
                 "STACK CFI 1010 $esi: second\n" /* same address: the later wins */
                 "STACK CFI 1004 $edi: out of order\n"
                 "STACK CFI 1030 $ebp: outside the INIT range\n"
                 "STACK CFI INIT 1010 40 .cfa: overlapping init\n" /* dropped: first wins */
                 "STACK CFI INIT 2000 10 .cfa: $rsp 8 +\n"
                 "STACK CFI INIT 3000 0 .cfa: zero size\n");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1000), ".cfa: $esp 4 +  .ra: .cfa 4 - ^ .cfa: $esp 8 +");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1004),
                    ".cfa: $esp 4 +  .ra: .cfa 4 - ^ .cfa: $esp 8 + $edi: out of order");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x101f), ".cfa: $esp 4 +  .ra: .cfa 4 - ^ .cfa: $esp 8 + $edi: "
                                        "out of order $ebx: .cfa 8 - ^ $esi: second");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1020), "-");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1030), "-");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x2000), ".cfa: $rsp 8 +");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x3000), "-");
    T_ASSERT_STR_EQ(st_cfi(&s, 0xfff), "-");
    T_ASSERT_EQ(s.stats.read.cfi_inits, 4);
    T_ASSERT_EQ(s.stats.read.cfi_deltas, 6);
    T_ASSERT_EQ(s.stats.kept.cfi_inits, 2);
    T_ASSERT_EQ(s.stats.kept.cfi_deltas, 4);
    /* The rules buffer's cap is honoured. */
    struct sym_buf b;
    sym_buf_init(&b, 10);
    T_ASSERT_ERR(sym_image_cfi_rules(s.img, 0x101f, &b), SYM_ELIMIT);
    sym_buf_cleanup(&b);
    st_free(&s);

    struct sym_parse_opts o;
    sym_parse_opts_init(&o);
    o.skip_unwind = true;
    struct sym_buf img;
    sym_buf_init(&img, 0);
    struct sym_parse_stats st;
    const char *t = "STACK CFI INIT 1000 20 .cfa: $esp 4 +\nSTACK WIN 0 1 2 0 0 0 0 0 0 0 0\n";
    T_ASSERT_OK(sym_parse_buffer(t, strlen(t), &o, &img, &st, NULL));
    T_ASSERT_EQ(st.read.cfi_inits, 1);
    T_ASSERT_EQ(st.kept.cfi_inits, 0);
    T_ASSERT_EQ(st.kept.win_fpo, 0);
    sym_buf_cleanup(&img);
}

static void test_stack_win_policies(void)
{
    struct st_image s;
    st_build(&s, "STACK WIN 4 4242 1a 0 0 0 0 0 0 1 outer\n"
                 "STACK WIN 4 4243 2e 0 0 0 0 0 0 1 partial_overlap\n" /* dropped */
                 "STACK WIN 4 4250 4 0 0 0 0 0 0 1 inner\n"
                 "STACK WIN 4 4250 4 0 0 0 0 0 0 1 same_range_again\n" /* dropped */
                 "STACK WIN 4 4240 40 0 0 0 0 0 0 1 encloses_all\n"
                 "STACK WIN 0 4200 100 1 2 3 4 5 6 0 0\n"
                 "STACK WIN 1 4200 100 0 0 0 0 0 0 0 0\n" /* TRAP: read and dropped */
                 "STACK WIN 2 4200 100 0 0 0 0 0 0 0 0\n"
                 "STACK WIN 3 4200 100 0 0 0 0 0 0 0 0\n"
                 "STACK WIN 4 5000 0 0 0 0 0 0 0 1 zero_size\n");
    struct sym_win_frame w;
    static const struct {
        uint64_t off;
        const char *prog; /* "" = the FPO record */
    } want[] = {{0x4242, "outer"},
                {0x424f, "outer"},
                {0x4250, "inner"},
                {0x4253, "inner"},
                {0x4254, "outer"},
                {0x425b, "outer"},
                {0x425c, "encloses_all"},
                {0x4240, "encloses_all"},
                {0x427f, "encloses_all"},
                {0x4280, ""},
                {0x4200, ""},
                {0x42ff, ""}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        T_ASSERT_OK(sym_image_win_frame(s.img, want[i].off, &w));
        if (want[i].prog[0]) {
            T_ASSERT_EQ(w.type, 4);
            T_ASSERT_STR_EQ(st_str(w.program), want[i].prog);
        } else {
            T_ASSERT_EQ(w.type, 0);
            T_ASSERT_U64_EQ(w.rva, 0x4200);
            T_ASSERT_EQ(w.max_stack_size, 6);
            T_ASSERT(!w.allocates_base_pointer);
        }
    }
    T_ASSERT_ERR(sym_image_win_frame(s.img, 0x4300, &w), SYM_ENOTFOUND);
    T_ASSERT_ERR(sym_image_win_frame(s.img, 0x5000, &w), SYM_ENOTFOUND);
    T_ASSERT_EQ(s.stats.read.win_framedata, 6);
    T_ASSERT_EQ(s.stats.kept.win_framedata, 3);
    T_ASSERT_EQ(s.stats.n_win_other, 3);
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    st_free(&s);
}

static void test_wide_addresses(void)
{
    struct st_image s;
    st_build(&s, "FILE 0 hi.c\n"
                 "FUNC 1000 10 0 low\n"
                 "FUNC 100000000 20 0 high\n"
                 "100000010 10 3 0\n"
                 "FUNC ffffffff00000000 100 0 top\n"
                 "PUBLIC 200000000 0 pub_high\n"
                 "STACK CFI INIT 1fffffff0 20 .cfa: $rsp 8 +\n"
                 "STACK CFI 200000000 .ra: .cfa -8 + ^\n"
                 "STACK WIN 4 ffffff00 200 0 0 0 0 0 0 1 straddles\n");
    struct sym_image_info info;
    sym_image_info(s.img, &info);
    T_ASSERT(info.wide_addresses);
    ST_ASSERT_SYM(&s, 0x1005, "low", "", 0);
    ST_ASSERT_SYM(&s, 0x100000011, "high", "hi.c", 3);
    ST_ASSERT_SYM(&s, 0x100000000ull + 0x20, "", "", 0);
    ST_ASSERT_SYM(&s, 0x200000004, "pub_high", "", 0);
    ST_ASSERT_SYM(&s, 0xffffffff000000ffull, "top", "", 0);
    ST_ASSERT_SYM(&s, UINT64_MAX, "", "", 0);
    T_ASSERT_STR_EQ(st_cfi(&s, 0x1fffffff8), ".cfa: $rsp 8 +");
    T_ASSERT_STR_EQ(st_cfi(&s, 0x200000001), ".cfa: $rsp 8 + .ra: .cfa -8 + ^");
    struct sym_win_frame w;
    T_ASSERT_OK(sym_image_win_frame(s.img, 0x1000000ff, &w));
    T_ASSERT_U64_EQ(w.rva, 0xffffff00);
    T_ASSERT_ERR(sym_image_win_frame(s.img, 0x100000100, &w), SYM_ENOTFOUND);
    T_ASSERT_EQ(s.stats.n_warnings, 0);
    st_free(&s);
    /* Ranges that wrap around 2^64 are malformed. */
    struct sym_parse_stats st;
    const char *t = "FUNC ffffffffffffff00 200 0 wraps\nPUBLIC 10 0 p\n";
    T_ASSERT_OK(parse_text(t, strlen(t), NULL, &st, NULL));
    T_ASSERT_EQ(st.n_warnings, 1);
}

/* Hex and decimal fields of every length and case parse the same whether a field is read
 * byte by byte or 8 bytes at a time (near the end of a chunk, or not). */
static void test_number_forms(void)
{
    static const struct {
        const char *text;
        uint64_t value;
    } hex[] = {{"1", 1},
               {"f", 15},
               {"E", 14},
               {"aBcD", 0xabcd},
               {"1234567", 0x1234567},
               {"89abcdef", 0x89abcdef},
               {"fedcba987", 0xfedcba987ull},
               {"0000000000000000000000001000", 0x1000},
               {"ffffffffffffffff", UINT64_MAX},
               {"00000000", 0}};
    static const struct {
        const char *text;
        uint32_t value;
    } dec[] = {{"0", 0},
               {"7", 7},
               {"1234567", 1234567},
               {"12345678", 12345678},
               {"4294967295", 4294967295u},
               {"0004", 4}};
    char text[4096];
    int n = snprintf(text, sizeof(text), "FILE 0 f.c\n");
    for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "PUBLIC %s 0 h%zu\n", hex[i].text, i);
    n += snprintf(text + n, sizeof(text) - (size_t)n, "FUNC 10000 %zx 0 lines\n",
                  sizeof(dec) / sizeof(dec[0]));
    for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%zx 1 %s 0\n", 0x10000 + i, dec[i].text);
    n += snprintf(text + n, sizeof(text) - (size_t)n,
                  "1000g 1 1 0\n10000 1 4294967296 0\n10000 1 1 0x\n"
                  "FUNC 12345678g 1 0 bad\nFUNC 1 1 12345678z bad\n");
    for (int pass = 0; pass < 2; pass++) {
        struct st_image s;
        st_build_fed(&s, text, (size_t)n, pass ? 1 : 0);
        T_ASSERT_EQ(s.stats.n_warnings, 5);
        size_t n_pubs = 0;
        for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
            if (hex[i].value == 0)
                continue; /* address-0 PUBLICs are dropped */
            struct sym_lookup *l = st_lookup(&s, hex[i].value);
            char want[16];
            snprintf(want, sizeof(want), "h%zu", i);
            T_ASSERT(l->is_public);
            T_ASSERT_STR_EQ(st_str(l->function), want);
            T_ASSERT_U64_EQ(l->function_start, hex[i].value);
            n_pubs++;
        }
        T_ASSERT_EQ(s.stats.kept.publics, n_pubs);
        for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++)
            T_ASSERT_U64_EQ(st_lookup(&s, 0x10000 + i)->line, dec[i].value);
        st_free(&s);
    }
}

/* Line records of many shapes (field widths around 8 digits, either case, lines around 32
 * bytes, extra or odd separators): fed whole, where most lines can be read 32 bytes at a
 * time, and a byte at a time, where every line is read field by field, the images are the
 * same, and every record of a valid shape has its line. */
static void test_line_record_shapes(void)
{
    enum { N = 3000 };
    size_t cap = (size_t)N * 96 + 256;
    char *text = malloc(cap);
    bool *valid = malloc(N);
    T_ASSERT(text != NULL && valid != NULL);
    int n = snprintf(text, cap, "FILE 0 a.c\nFILE 7 b.c\nFUNC 100000 %x 0 f\n", N * 16);
    uint32_t seed = 12345;
    for (unsigned i = 0; i < N; i++) {
        unsigned z[4], shape;
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            z[k] = (seed >> 16) % 9; /* leading zeros: fields of 1 to 15 digits */
        }
        seed = seed * 1103515245u + 12345u;
        shape = (seed >> 16) % 100; /* 2 % malformed: under the warning limit */
        char addr[32], size[32];
        snprintf(addr, sizeof(addr), "%0*x", (int)(z[0] + 6), 0x100000 + i * 16);
        snprintf(size, sizeof(size), "%0*x", (int)(z[1] + 1), 0xa + (i % 6));
        if (shape < 10) /* upper-case digits */
            for (char *c = addr; *c; c++)
                *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
        const char *sep[4] = {" ", " ", " ", ""};
        valid[i] = true;
        if (shape >= 10 && shape < 20)
            sep[1] = "  "; /* two spaces: still a record */
        else if (shape >= 20 && shape < 30)
            sep[3] = " "; /* a trailing space: still a record */
        else if (shape == 30)
            sep[0] = "\t", valid[i] = false;
        else if (shape == 31)
            sep[2] = " x", valid[i] = false;
        n += snprintf(text + n, cap - (size_t)n, "%s%s%s%s%0*u%s%0*u%s\n", addr, sep[0], size,
                      sep[1], (int)(z[2] + 1), i + 1, sep[2], (int)(z[3] + 1), (i % 2) * 7, sep[3]);
    }
    for (int pass = 0; pass < 2; pass++) {
        static struct st_image img[2];
        st_build_fed(&img[pass], text, (size_t)n, pass ? 1 : 0);
        size_t bad = 0;
        for (unsigned i = 0; i < N; i++) {
            bad += !valid[i];
            if (valid[i]) {
                struct sym_lookup *l = st_lookup(&img[pass], 0x100000 + (uint64_t)i * 16);
                T_ASSERT_EQ(l->line, i + 1);
                T_ASSERT_STR_EQ(st_str(l->file), i % 2 ? "b.c" : "a.c");
            }
        }
        T_ASSERT_EQ(img[pass].stats.n_warnings, bad);
        if (pass == 1)
            st_same_images(img);
    }
    free(valid);
    free(text);
}

/* STACK CFI records of many shapes (addresses of 1 to 15 digits, doubled separators, tabs and
 * spaces around the rules, register tokens of 2 to 10 bytes, malformed ones): fed whole, where
 * most are read without scanning their fields, and a byte at a time, where every one is read
 * field by field, the images and the warnings are the same, and each INIT's rules are found. */
static void test_cfi_record_shapes(void)
{
    enum { N = 3000 };
    size_t cap = (size_t)N * 128 + 256;
    char *text = malloc(cap);
    bool *valid = malloc(N);
    T_ASSERT(text != NULL && valid != NULL);
    int n = snprintf(text, cap, "MODULE Linux x86_64 000000000000000000000000000000000 t.so\n");
    static const char *regs[] = {".cfa:", "$rbp:", "r:", "$register:", ".ra:"};
    uint32_t seed = 777;
    for (unsigned i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned zeros = (seed >> 16) % 9, shape = (seed >> 8) % 100;
        seed = seed * 1103515245u + 12345u;
        const char *reg = regs[(seed >> 16) % 5];
        bool init = i % 3 == 0;
        uint64_t addr = 0x200000 + (uint64_t)(i / 3) * 0x40 + (init ? 0 : 1 + i % 3);
        const char *sep = " ", *pre = "", *post = "", *colon_fix = "";
        valid[i] = true;
        if (shape < 8)
            sep = "  "; /* two spaces: still a record */
        else if (shape < 14)
            post = " \t"; /* trailing blanks: trimmed */
        else if (shape < 18)
            pre = "\t"; /* a leading tab: trimmed */
        else if (shape == 18)
            reg = "cfa", valid[i] = false; /* no register token */
        else if (shape == 19)
            colon_fix = "x", valid[i] = false; /* "<reg>:x": no `register:` token */
        if (init)
            n += snprintf(text + n, cap - (size_t)n,
                          "STACK CFI INIT%s%0*llx%s40 %s%s%s $rsp 8 +%s\n", sep, (int)(zeros + 1),
                          (unsigned long long)addr, sep, pre, reg, colon_fix, post);
        else
            n += snprintf(text + n, cap - (size_t)n, "STACK CFI%s%0*llx %s%s%s $rsp %u +%s\n", sep,
                          (int)(zeros + 1), (unsigned long long)addr, pre, reg, colon_fix,
                          8 * (i % 5), post);
    }
    static struct st_image img[2];
    for (int pass = 0; pass < 2; pass++) {
        st_build_fed(&img[pass], text, (size_t)n, pass ? 1 : 0);
        size_t bad = 0;
        for (unsigned i = 0; i < N; i++)
            bad += !valid[i];
        T_ASSERT_EQ(img[pass].stats.n_warnings, bad);
        for (unsigned i = 0; i < N; i += 3) {
            if (!valid[i])
                continue;
            struct sym_buf rules;
            sym_buf_init(&rules, 1 << 16);
            T_ASSERT_OK(
                sym_image_cfi_rules(img[pass].img, 0x200000 + (uint64_t)(i / 3) * 0x40, &rules));
            T_ASSERT(strstr(rules.data, "$rsp 8 +") != NULL);
            sym_buf_cleanup(&rules);
        }
    }
    st_same_images(img);
    free(valid);
    free(text);
}

/* FILE ids first in order (0, 1, 2: each its own index, no table), then out of order, then
 * used before their FILE record: every line still gets its own file. */
static void test_file_ids_in_and_out_of_order(void)
{
    struct st_image s;
    st_build(&s, "FILE 0 zero.c\nFILE 1 one.c\nFILE 2 two.c\nFILE 10 ten.c\n"
                 "FUNC 100 40 0 f\n100 10 1 1\n110 10 2 10\n120 10 3 5\n130 10 4 0\n"
                 "FILE 5 five.c\nFILE 3 three.c\nFUNC 200 10 0 g\n200 10 5 3\n");
    T_ASSERT_STR_EQ(st_str(st_lookup(&s, 0x104)->file), "one.c");
    T_ASSERT_STR_EQ(st_str(st_lookup(&s, 0x114)->file), "ten.c");
    T_ASSERT_STR_EQ(st_str(st_lookup(&s, 0x124)->file), "five.c");
    T_ASSERT_STR_EQ(st_str(st_lookup(&s, 0x134)->file), "zero.c");
    T_ASSERT_STR_EQ(st_str(st_lookup(&s, 0x204)->file), "three.c");
    T_ASSERT_U64_EQ(s.stats.kept.files, 6); /* 0, 1, 2, 10, 5, 3 */
    st_free(&s);
}

/* A FUNC with an empty name before any other name: nothing has been copied aside yet. */
static void test_empty_function_name_first(void)
{
    struct st_image s;
    st_build(&s, "FUNC 100 10 0 \n100 10 7 1\nFUNC 200 10 0 g\n");
    struct sym_lookup *l = st_lookup(&s, 0x104);
    T_ASSERT(l->found && l->function.n == 0 && l->line == 7);
    T_ASSERT_STR_EQ(st_str(st_lookup(&s, 0x204)->function), "g");
    st_free(&s);
}

/* A module large enough that the builder's tables outgrow the heap and become regions
 * (sym_region_grow): lookups agree with the generated records, and a failure at every
 * allocation, the region growths included, is SYM_ENOMEM without a leak. */
static void big_module_deltas(struct sym_buf *text, unsigned n_funcs, unsigned extra_deltas)
{
    sym_buf_init(text, 0);
    sym_buf_append_str(text, "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 big.so\n");
    for (unsigned f = 0; f < 64; f++)
        sym_buf_printf(text, "FILE %u /src/dir%u/file%u.cpp\n", f, f % 7, f);
    for (unsigned i = 0; i < n_funcs; i++) {
        unsigned long base = 0x1000ul + 0x40ul * i;
        sym_buf_printf(text, "FUNC %lx 40 0 ns%u::Class%u::method%u(int, char const*)\n", base,
                       i % 13, i % 101, i);
        for (unsigned l = 0; l < 4; l++)
            sym_buf_printf(text, "%lx 10 %u %u\n", base + 0x10ul * l, 10 * i + l, (i + l) % 64);
        sym_buf_printf(text, "STACK CFI INIT %lx 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n", base);
        sym_buf_printf(text, "STACK CFI %lx .cfa: $rsp 16 +\n", base + 4);
        for (unsigned k = 0; k < extra_deltas; k++)
            sym_buf_printf(text, "STACK CFI %lx $r%u: .cfa -%u + ^\n", base + 8 + 2 * k, k % 5,
                           8 * (k + 2));
    }
}

static void big_module(struct sym_buf *text, unsigned n_funcs)
{
    big_module_deltas(text, n_funcs, 0);
}

static void test_large_tables(void)
{
    const unsigned n_funcs = 30000;
    struct sym_buf text, img_buf;
    big_module(&text, n_funcs);
    T_ASSERT_OK(sym_buf_err(&text));
    sym_buf_init(&img_buf, 0);
    struct sym_parse_stats st;
    struct sym_diag d;
    T_ASSERT_OK(sym_parse_buffer(text.data, text.len, NULL, &img_buf, &st, &d));
    T_ASSERT_U64_EQ(st.kept.funcs, n_funcs);
    T_ASSERT_U64_EQ(st.kept.lines, 4ull * n_funcs);
    T_ASSERT_U64_EQ(st.kept.cfi_inits, n_funcs);
    struct sym_image *img;
    T_ASSERT_OK(sym_image_open(img_buf.data, img_buf.len, &img, &d));
    for (unsigned i = 0; i < n_funcs; i += 997) {
        struct sym_lookup l;
        unsigned long base = 0x1000ul + 0x40ul * i;
        T_ASSERT_OK(sym_image_lookup(img, base + 0x25, &l));
        T_ASSERT(l.found && l.has_line);
        T_ASSERT_U64_EQ(l.function_start, base);
        T_ASSERT_U64_EQ(l.line, 10ull * i + 2);
        char want[96];
        snprintf(want, sizeof(want), "ns%u::Class%u::method%u(int, char const*)", i % 13, i % 101,
                 i);
        T_ASSERT_EQ(l.function.n, strlen(want));
        T_ASSERT(memcmp(l.function.p, want, l.function.n) == 0);
    }
    sym_image_close(img);
    sym_buf_cleanup(&img_buf);

    /* The last allocations are the growths of the largest tables. */
    sym_alloc_fail_at(0);
    sym_buf_init(&img_buf, 0);
    T_ASSERT_OK(sym_parse_buffer(text.data, text.len, NULL, &img_buf, NULL, &d));
    unsigned long used = sym_alloc_count();
    sym_buf_cleanup(&img_buf);
    T_ASSERT(used > 40);
    for (unsigned long k = used > 40 ? used - 40 : 1; k <= used; k++) {
        sym_buf_init(&img_buf, 0);
        sym_alloc_fail_at(k);
        sym_err rc = sym_parse_buffer(text.data, text.len, NULL, &img_buf, NULL, &d);
        sym_alloc_fail_at(0);
        T_ASSERT_ERR(rc, SYM_ENOMEM);
        sym_buf_cleanup(&img_buf);
    }
    sym_buf_cleanup(&text);
}

/* The image written to a file descriptor (every byte copied). */
static void image_via_fd(const struct sym_buf *text, struct sym_buf *out)
{
    FILE *f = tmpfile();
    T_ASSERT(f != NULL);
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    T_ASSERT_OK(sym_parser_feed(p, text->data, text->len));
    T_ASSERT_OK(sym_parser_finish_fd(p, fileno(f), NULL, NULL));
    sym_parser_free(p);
    long n = ftell(f);
    T_ASSERT(n > 0);
    rewind(f);
    sym_buf_init(out, 0);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sym_buf_append(out, chunk, got);
    T_ASSERT_OK(sym_buf_err(out));
    T_ASSERT_EQ(out->len, (size_t)n);
    fclose(f);
}

/* A region hands its leading pages to a page-aligned block: the block then holds them, and the
 * region is its tail. Builds whose regions are heap blocks refuse, changing nothing. */
static void test_region_give(void)
{
    const size_t page = SYM_REGION_PAGE;
    unsigned char *r = sym_region_grow(NULL, 0, 3 * page);
    T_ASSERT(r != NULL);
    for (size_t i = 0; i < 3 * page; i++)
        r[i] = (unsigned char)(i * 7 + 1);
    unsigned char *dst = sym_malloc_pages(4 * page + 1);
    T_ASSERT(dst != NULL && (uintptr_t)dst % page == 0);
    memset(dst, 0xee, 4 * page + 1);
    T_ASSERT_EQ(sym_region_give(r, 3 * page, dst + page, page + 1), 0); /* not whole pages */
    T_ASSERT_EQ(sym_region_give(r, 3 * page, dst + 1, page), 0);        /* misaligned */
    int rc = sym_region_give(r, 3 * page, dst + page, 2 * page);
    T_ASSERT(rc == 0 || rc == 1);
    for (size_t i = 0; i < 2 * page; i++)
        T_ASSERT_EQ(dst[page + i], rc == 1 ? (unsigned char)(i * 7 + 1) : 0xee);
    T_ASSERT_EQ(dst[0], 0xee);
    T_ASSERT_EQ(dst[3 * page], 0xee);
    if (rc == 1) {
        unsigned char *tail = r + 2 * page;
        T_ASSERT_EQ(tail[5], (unsigned char)((2 * page + 5) * 7 + 1));
        sym_region_free(tail, page);
    } else {
        sym_region_free(r, 3 * page);
    }
    sym_free(dst);
}

/* Large sections (strings, FUNC blocks, CFI deltas) start on a page, and an image built in
 * memory takes the builder's pages for them instead of copying: the bytes are the same as an
 * image written to a file, whose sink copies everything, also when the blocks are not in
 * address order in the file (the blocks are then copied) and when deltas come after other
 * INITs (the deltas are then sorted). */
static void test_image_takes_tables(void)
{
    const unsigned n_funcs = 60000;
    for (int reorder = 0; reorder < 2; reorder++) {
        struct sym_buf text, mem, via_fd;
        big_module_deltas(&text, n_funcs, 8);
        if (reorder) {
            sym_buf_append_str(&text, "FUNC 800 40 0 first_by_address()\n800 40 1 0\n");
            sym_buf_append_str(&text, "STACK CFI 1024 $late: 1\nSTACK CFI 1008 $late: 2\n");
        }
        T_ASSERT_OK(sym_buf_err(&text));
        sym_buf_init(&mem, 0);
        struct sym_parse_stats st;
        T_ASSERT_OK(sym_parse_buffer(text.data, text.len, NULL, &mem, &st, NULL));
        T_ASSERT(st.image_bytes > 3u << 20);
        image_via_fd(&text, &via_fd);
        T_ASSERT_EQ(mem.len, via_fd.len);
        T_ASSERT_MEM_EQ(mem.data, via_fd.data, mem.len);
        T_ASSERT_EQ(mem.data[mem.len], '\0');
        struct sym_image *img;
        T_ASSERT_OK(sym_image_open(mem.data, mem.len, &img, NULL));
        for (unsigned i = 0; i < n_funcs; i += 1009) {
            struct sym_lookup l;
            unsigned long base = 0x1000ul + 0x40ul * i;
            T_ASSERT_OK(sym_image_lookup(img, base + 0x35, &l));
            T_ASSERT(l.found && l.has_line);
            T_ASSERT_U64_EQ(l.line, 10ull * i + 3);
            char want[96];
            snprintf(want, sizeof(want), "ns%u::Class%u::method%u(int, char const*)", i % 13,
                     i % 101, i);
            T_ASSERT_EQ(l.function.n, strlen(want));
            T_ASSERT(memcmp(l.function.p, want, l.function.n) == 0);
        }
        struct sym_lookup l;
        T_ASSERT_OK(sym_image_lookup(img, 0x810, &l));
        T_ASSERT_EQ(l.found, reorder != 0);
        struct st_image s = {mem, img, st};
        T_ASSERT_STR_EQ(st_cfi(&s, 0x100a + 0x40 * 7),
                        ".cfa: $rsp 8 + .ra: .cfa -8 + ^ .cfa: $rsp 16 + $r0: .cfa -16 + ^ "
                        "$r1: .cfa -24 + ^");
        T_ASSERT_STR_EQ(
            st_cfi(&s, 0x100a),
            reorder ? ".cfa: $rsp 8 + .ra: .cfa -8 + ^ .cfa: $rsp 16 + $late: 2 $r1: .cfa -24 + ^"
                    : ".cfa: $rsp 8 + .ra: .cfa -8 + ^ .cfa: $rsp 16 + $r0: .cfa -16 "
                      "+ ^ $r1: .cfa -24 + ^");
        sym_image_close(img);
        sym_buf_cleanup(&mem);
        sym_buf_cleanup(&via_fd);
        sym_buf_cleanup(&text);
    }
}

/* Every allocation failure is reported as SYM_ENOMEM and leaks nothing (checked by LSan in
 * the sanitizer build). */
static void test_allocation_failures(void)
{
    size_t len = strlen(full_sym);
    unsigned long total = 0;
    for (unsigned long k = 1;; k++) {
        sym_alloc_fail_at(k);
        struct sym_buf b;
        sym_buf_init(&b, 0);
        struct sym_diag d;
        sym_err rc = sym_parse_buffer(full_sym, len, NULL, &b, NULL, &d);
        struct sym_image *img = NULL;
        if (rc == SYM_OK)
            rc = sym_image_open(b.data, b.len, &img, &d);
        unsigned long used = sym_alloc_count();
        sym_alloc_fail_at(0);
        sym_image_close(img);
        sym_buf_cleanup(&b);
        if (k > used) {
            T_ASSERT_OK(rc);
            total = used;
            break;
        }
        T_ASSERT_ERR(rc, SYM_ENOMEM);
    }
    T_ASSERT(total > 10);
}

T_LIST(T_TEST(test_all_record_types), T_TEST(test_line_ends), T_TEST(test_chunking),
       T_TEST(test_buffer_feeding), T_TEST(test_names), T_TEST(test_not_a_symbol_file),
       T_TEST(test_malformed_lines), T_TEST(test_limits), T_TEST(test_out_of_order),
       T_TEST(test_overlaps), T_TEST(test_inline_forms), T_TEST(test_deep_inlines),
       T_TEST(test_public_fallback), T_TEST(test_pe_name_rule), T_TEST(test_cfi_policies),
       T_TEST(test_cfi_order_paths_agree), T_TEST(test_stack_win_policies),
       T_TEST(test_wide_addresses), T_TEST(test_number_forms), T_TEST(test_line_record_shapes),
       T_TEST(test_cfi_record_shapes), T_TEST(test_allocation_failures), T_TEST(test_large_tables),
       T_TEST(test_region_give), T_TEST(test_image_takes_tables),
       T_TEST(test_empty_function_name_first), T_TEST(test_file_ids_in_and_out_of_order))
