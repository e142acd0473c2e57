/* SPDX-License-Identifier: MPL-2.0 */
/* test_corpus.c: every case of the shared signature corpus (signatures/cases.jsonl, read in
 * place through SIGIL_CORPUS_DIR) must give exactly the expected signature, notes and proto
 * signature with the lists shipped in signature/rules. Notes that end in a Python exception
 * text are compared up to that text, since only their prefix is portable. */
#include <stdio.h>
#include <string.h>

#include "signature/generator.h"
#include "signature/json.h"
#include "signature/siglists.h"
#include "t.h"

static struct sig_lists *load_rules(void)
{
    struct sig_lists *l = NULL;
    struct sym_diag d;
    sym_diag_clear(&d);
    sym_err rc = sig_lists_load(sig_lists_default_dir(), true, &l, &d);
    if (rc != SYM_OK)
        T_FAIL("loading %s: %s", sig_lists_default_dir(), d.msg);
    return l;
}

static bool str_is(const struct sig_value *v, const char *s, size_t n)
{
    return v && v->type == SIG_T_STR && v->u.s.len == n && memcmp(v->u.s.p, s, n) == 0;
}

/* The part of an expected note that does not depend on Python's exception wording. */
static size_t portable_prefix(const char *s, size_t n)
{
    static const char *const markers[] = {"Rule failed: ", "Error parsing AsyncShutdownTimeout: "};
    for (size_t k = 0; k < 2; k++) {
        const char *p = memmem(s, n, markers[k], strlen(markers[k]));
        if (p)
            return (size_t)(p - s) + strlen(markers[k]);
    }
    return n;
}

static void print_value(const char *label, const char *s, size_t n)
{
    printf("    %s: \"%.*s\"\n", label, (int)n, s);
}

static void test_corpus_cases(void)
{
    const char *path = t_corpus_path("signatures/cases.jsonl");
    size_t len;
    char *text = t_read_file(path, &len);
    struct sig_lists *lists = load_rules();
    struct sig_generator *g = NULL;
    T_ASSERT_OK(sig_generator_new(&g));
    struct sig_result r;
    sig_result_init(&r);
    size_t passed = 0, failed = 0, prefix_only = 0;
    char *line = text;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        if (ll == 0) {
            line += 1;
            continue;
        }
        struct sig_arena arena;
        sig_arena_init(&arena, 0);
        struct sig_value c;
        struct sig_json_error jerr;
        T_ASSERT_OK(sig_json_parse(line, ll, &arena, &c, &jerr));
        const struct sig_value *name = sig_value_get(&c, "name");
        const struct sig_value *cd = sig_value_get(&c, "crash_data");
        const struct sig_value *want_sig = sig_value_get(&c, "expected_signature");
        const struct sig_value *want_notes = sig_value_get(&c, "expected_notes");
        const struct sig_value *want_proto = sig_value_get(&c, "expected_proto_signature");
        T_ASSERT(name && cd && want_sig && want_notes);
        T_ASSERT_OK(sig_generate(g, lists, lists, cd, SIG_GEN_DEBUG, &r));
        bool ok = str_is(want_sig, r.signature.data, r.signature.len);
        bool notes_ok = want_notes->type == SIG_T_LIST && want_notes->u.list.n == r.notes.n;
        bool used_prefix = false;
        for (size_t i = 0; notes_ok && i < r.notes.n; i++) {
            size_t n;
            const char *got = sig_strlist_get(&r.notes, i, &n);
            const struct sig_value *w = &want_notes->u.list.items[i];
            if (str_is(w, got, n))
                continue;
            size_t p = portable_prefix(w->u.s.p, w->u.s.len);
            if (w->type == SIG_T_STR && p < w->u.s.len && n >= p && memcmp(got, w->u.s.p, p) == 0) {
                used_prefix = true;
                continue;
            }
            notes_ok = false;
        }
        bool proto_ok = true;
        if (want_proto && want_proto->type == SIG_T_STR)
            proto_ok =
                r.has_proto && str_is(want_proto, r.proto_signature.data, r.proto_signature.len);
        else
            proto_ok = !r.has_proto;
        if (ok && notes_ok && proto_ok) {
            passed++;
            prefix_only += used_prefix;
        } else {
            failed++;
            printf("FAIL %.*s\n", (int)name->u.s.len, name->u.s.p);
            print_value("want", want_sig->u.s.p, want_sig->u.s.len);
            print_value("got ", r.signature.data, r.signature.len);
            if (want_proto && want_proto->type == SIG_T_STR)
                print_value("want proto", want_proto->u.s.p, want_proto->u.s.len);
            if (r.has_proto)
                print_value("got proto ", r.proto_signature.data, r.proto_signature.len);
            for (size_t i = 0; want_notes->type == SIG_T_LIST && i < want_notes->u.list.n; i++)
                print_value("want note", want_notes->u.list.items[i].u.s.p,
                            want_notes->u.list.items[i].u.s.len);
            for (size_t i = 0; i < r.notes.n; i++) {
                size_t n;
                const char *s = sig_strlist_get(&r.notes, i, &n);
                print_value("got note ", s, n);
            }
            for (size_t i = 0; i < r.debug_log.n; i++) {
                size_t n;
                const char *s = sig_strlist_get(&r.debug_log, i, &n);
                print_value("debug", s, n);
            }
        }
        sig_arena_cleanup(&arena);
        line += ll + 1;
    }
    printf("corpus: %zu passed, %zu failed (%zu matched a note on its portable prefix)\n", passed,
           failed, prefix_only);
    sig_result_cleanup(&r);
    sig_generator_free(g);
    sig_lists_unref(lists);
    free(text);
    T_ASSERT_EQ(failed, 0);
    T_ASSERT(passed > 0);
}

T_LIST(T_TEST(test_corpus_cases))
