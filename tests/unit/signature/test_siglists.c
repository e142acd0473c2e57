/* SPDX-License-Identifier: MPL-2.0 */
/* test_siglists.c: Python-re -> PCRE2 translation, list file validation, match-at-start
 * semantics, the reload cell, and the Python-compatible JSON parser's error texts. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "signature/json.h"
#include "signature/siglists.h"
#include "t.h"

/* The internal matcher, reached for the semantics tests. */
#include "siglists_int.h"

static sym_err translate(const char *py, char *out, size_t out_len)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    struct sym_diag d;
    sym_diag_clear(&d);
    sym_err rc = sig_regex_translate(py, strlen(py), &b, &d);
    snprintf(out, out_len, "%s", rc == SYM_OK ? (b.data ? b.data : "") : d.msg);
    sym_buf_cleanup(&b);
    return rc;
}

static void test_translate_valid(void)
{
    char out[512];
    T_ASSERT_OK(translate("foo{{closure}}", out, sizeof(out)));
    T_ASSERT_STR_EQ(out, "foo\\{\\{closure\\}\\}");
    T_ASSERT_OK(translate("a{,3}", out, sizeof(out)));
    T_ASSERT_STR_EQ(out, "a{0,3}");
    T_ASSERT_OK(translate("x\\Z", out, sizeof(out)));
    T_ASSERT_STR_EQ(out, "x\\z");
    T_ASSERT_OK(translate("(Nt|Zw)?Wait", out, sizeof(out)));
    T_ASSERT_STR_EQ(out, "(?:Nt|Zw)?Wait");
    T_ASSERT_OK(translate("[[:x]", out, sizeof(out)));
    T_ASSERT_STR_EQ(out, "[\\[:x]");
    T_ASSERT_OK(translate("a\\u00e9\\v", out, sizeof(out)));
    T_ASSERT_STR_EQ(out, "a\\x{e9}\\x{b}");
    T_ASSERT_OK(translate("\\<name omitted\\>", out, sizeof(out)));
    T_ASSERT_OK(translate("a(?#comment)+", out, sizeof(out)));
}

static void test_translate_refused(void)
{
    static const char *const bad[] = {
        "(a)\\1", "(?P<n>a)", "(?i)abc",   "\\q",       "a**",     "*a", "(a",
        "a)",     "[abc",     "\\N{DASH}", "(?(1)a|b)", "a{2}{3}", "\\",
    };
    char out[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sym_err rc = translate(bad[i], out, sizeof(out));
        if (rc != SYM_EPARSE)
            T_FAIL("pattern %s was accepted as %s", bad[i], out);
    }
}

static struct sig_lists *lists_from(const char *irrelevant, const char *prefix,
                                    const char *sentinels, sym_err *rc_out, char *msg)
{
    const char *texts[SIG_LIST_COUNT] = {irrelevant, prefix, "%siglist 1 regex\njs_Interpret\n",
                                         sentinels};
    size_t lens[SIG_LIST_COUNT];
    for (int k = 0; k < SIG_LIST_COUNT; k++)
        lens[k] = strlen(texts[k]);
    struct sig_lists *l = NULL;
    struct sym_diag d;
    sym_diag_clear(&d);
    *rc_out = sig_lists_from_texts(texts, lens, "test", &l, &d);
    if (msg)
        snprintf(msg, 200, "%s", d.msg);
    return l;
}

static bool m(const struct sig_lists *l, enum sig_list_kind k, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    bool r = sig_matcher_match(&l->m[k], s, strlen(s), md);
    pcre2_match_data_free(md);
    return r;
}

static void test_match_semantics(void)
{
    sym_err rc;
    struct sig_lists *l = lists_from(
        "%siglist 1 regex\n# comment\n\nhandle_error$\n(Nt|Zw)?WaitForSingleObject(Ex)?\n"
        "@0x[1-9a-fA-F]\n.*\\$VARIANT\\$\n{virtual override thunk}\n  core::panicking::  \n",
        "%siglist 1 regex\n%upstream test\nfoo\n.*\\.dll\nlibc\\.so(\\.\\d+)?\n",
        "%siglist 1 literal\nstd::panicking::begin_panic<T>\n", &rc, NULL);
    T_ASSERT_OK(rc);
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "handle_error"));
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "handle_error\n")); /* Python's $ before a final \n */
    T_ASSERT(!m(l, SIG_LIST_IRRELEVANT, "handle_errorf"));
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "NtWaitForSingleObjectEx"));
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "WaitForSingleObject"));
    T_ASSERT(!m(l, SIG_LIST_IRRELEVANT, "xWaitForSingleObject"));
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "@0x1"));
    T_ASSERT(!m(l, SIG_LIST_IRRELEVANT, "@0x0"));
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "foo$VARIANT$bar"));
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "{virtual override thunk}x"));
    T_ASSERT(m(l, SIG_LIST_IRRELEVANT, "core::panicking::panic"));
    T_ASSERT(!m(l, SIG_LIST_IRRELEVANT, ""));
    T_ASSERT(m(l, SIG_LIST_PREFIX, "foobar"));
    T_ASSERT(m(l, SIG_LIST_PREFIX, "xul.dll"));
    T_ASSERT(m(l, SIG_LIST_PREFIX, "libc.so.6"));
    T_ASSERT(m(l, SIG_LIST_PREFIX, "libc.so.\xd9\xa6")); /* \d is Unicode, as in Python */
    T_ASSERT(!m(l, SIG_LIST_PREFIX, "fo"));
    T_ASSERT(!m(l, SIG_LIST_PREFIX, "xul.dl\n"));
    T_ASSERT(m(l, SIG_LIST_LINE_NUMBERS, "js_InterpretFoo"));
    T_ASSERT_EQ(sig_lists_n_entries(l, SIG_LIST_IRRELEVANT), 6);
    T_ASSERT_EQ(sig_lists_n_entries(l, SIG_LIST_SENTINELS), 1);
    sig_lists_unref(l);
}

static void test_bad_list_files(void)
{
    sym_err rc;
    char msg[200];
    const char *good = "%siglist 1 regex\nfoo\n";
    const char *sent = "%siglist 1 literal\nbar\n";
    T_ASSERT(lists_from("foo\n", good, sent, &rc, msg) == NULL);
    T_ASSERT_EQ(rc, SYM_EPARSE);
    T_ASSERT(strstr(msg, "header") != NULL);
    T_ASSERT(lists_from(good, "%siglist 1 regex\nok\n\nbad(\n", sent, &rc, msg) == NULL);
    T_ASSERT_EQ(rc, SYM_EPARSE);
    T_ASSERT(strstr(msg, "prefix.siglist:4") != NULL);
    T_ASSERT(lists_from(good, good, "%siglist 1 regex\nbar\n", &rc, msg) == NULL);
    T_ASSERT_EQ(rc, SYM_EPARSE);
    T_ASSERT(lists_from(good, "%siglist 1 regex\n%bogus\n", sent, &rc, msg) == NULL);
    T_ASSERT_EQ(rc, SYM_EPARSE);
    T_ASSERT(lists_from(good, good, "%siglist 1 literal\n(unbalanced\n", &rc, msg) == NULL);
    T_ASSERT_EQ(rc, SYM_EPARSE);
}

static void test_shipped_lists_load(void)
{
    struct sig_lists *l = NULL;
    struct sym_diag d;
    T_ASSERT_OK(sig_lists_load(sig_lists_default_dir(), true, &l, &d));
    T_ASSERT(sig_lists_n_entries(l, SIG_LIST_IRRELEVANT) > 300);
    T_ASSERT(sig_lists_n_entries(l, SIG_LIST_PREFIX) > 250);
    T_ASSERT_EQ(sig_lists_n_entries(l, SIG_LIST_SENTINELS), 20);
    T_ASSERT_EQ(sig_lists_n_entries(l, SIG_LIST_LINE_NUMBERS), 1);
    sig_lists_unref(l);
    T_ASSERT_ERR(sig_lists_load("/nonexistent/dir", false, &l, &d), SYM_ENOTFOUND);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    T_ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void test_reload_cell(void)
{
    const char *dir = t_tmpdir();
    /* Upstream file names, no header: accepted as they are. */
    write_file(dir, "irrelevant_signature_re.txt", "# c\nfoo\n");
    write_file(dir, "prefix_signature_re.txt", "bar\n");
    write_file(dir, "signatures_with_line_numbers_re.txt", "js_Interpret\n");
    write_file(dir, "signature_sentinels.txt", "_purecall\n");
    struct sig_lists_cell cell;
    struct sym_diag d;
    T_ASSERT_OK(sig_lists_cell_init(&cell, dir, sig_lists_default_dir(), &d));
    struct sig_lists *cur, *builtin;
    sig_lists_cell_acquire(&cell, &cur, &builtin);
    T_ASSERT_EQ(sig_lists_n_entries(cur, SIG_LIST_IRRELEVANT), 1);
    T_ASSERT(!sig_lists_is_default(cur));
    T_ASSERT(sig_lists_is_default(builtin));
    T_ASSERT(sig_lists_n_entries(builtin, SIG_LIST_IRRELEVANT) > 300);
    write_file(dir, "irrelevant_signature_re.txt", "foo\nbaz\n");
    T_ASSERT_OK(sig_lists_cell_reload(&cell, &d));
    struct sig_lists *cur2, *builtin2;
    sig_lists_cell_acquire(&cell, &cur2, &builtin2);
    T_ASSERT_EQ(sig_lists_n_entries(cur2, SIG_LIST_IRRELEVANT), 2);
    /* The old lists stay valid for whoever still holds them. */
    T_ASSERT_EQ(sig_lists_n_entries(cur, SIG_LIST_IRRELEVANT), 1);
    write_file(dir, "irrelevant_signature_re.txt", "(?P<x>y)\n");
    T_ASSERT_ERR(sig_lists_cell_reload(&cell, &d), SYM_EPARSE);
    struct sig_lists *cur3, *builtin3;
    sig_lists_cell_acquire(&cell, &cur3, &builtin3);
    T_ASSERT(cur3 == cur2); /* a failed reload keeps the lists in service */
    sig_lists_unref(cur);
    sig_lists_unref(builtin);
    sig_lists_unref(cur2);
    sig_lists_unref(builtin2);
    sig_lists_unref(cur3);
    sig_lists_unref(builtin3);
    sig_lists_cell_cleanup(&cell);
}

static void expect_json_error(const char *text, const char *msg)
{
    struct sig_arena a;
    sig_arena_init(&a, 0);
    struct sig_value v;
    struct sig_json_error e;
    sym_err rc = sig_json_parse(text, strlen(text), &a, &v, &e);
    sig_arena_cleanup(&a);
    if (rc != SYM_EPARSE)
        T_FAIL("%s: parsed", text);
    T_ASSERT_STR_EQ(e.msg, msg);
}

static void test_json_python_messages(void)
{
    expect_json_error("{{{{", "Expecting property name enclosed in double quotes: line 1 column 2 "
                              "(char 1)");
    expect_json_error("", "Expecting value: line 1 column 1 (char 0)");
    expect_json_error("[1,]", "Expecting value: line 1 column 4 (char 3)");
    expect_json_error("{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)");
    expect_json_error("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)");
    expect_json_error("1 2", "Extra data: line 1 column 3 (char 2)");
    expect_json_error("\n\"ab", "Unterminated string starting at: line 2 column 1 (char 1)");
    expect_json_error("\"\xc3\xa9\x01\"", "Invalid control character at: line 1 column 3 (char 2)");
    struct sig_arena a;
    sig_arena_init(&a, 0);
    struct sig_value v;
    struct sig_json_error e;
    const char *ok = "{\"a\": [NaN, -Infinity, 1e3, -0, \"\\u00e9\\ud83d\\ude00\"], \"a\": true}";
    T_ASSERT_OK(sig_json_parse(ok, strlen(ok), &a, &v, &e));
    T_ASSERT_EQ(v.type, SIG_T_OBJ);
    const struct sig_value *x = sig_value_get(&v, "a");
    T_ASSERT(x && x->type == SIG_T_BOOL); /* the last duplicate wins */
    sig_arena_cleanup(&a);
}

T_LIST(T_TEST(test_translate_valid), T_TEST(test_translate_refused), T_TEST(test_match_semantics),
       T_TEST(test_bad_list_files), T_TEST(test_shipped_lists_load), T_TEST(test_reload_cell),
       T_TEST(test_json_python_messages))
