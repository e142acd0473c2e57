/* SPDX-License-Identifier: MPL-2.0 */
/* test_ingest.c: the upload pipeline: Tecken's rules and messages on zips written by the test,
 * the corpus fixtures against upload-outcomes.json, extraction, digest, gzip, strict mode,
 * concurrency, temporary-file cleanup and allocation failures. */
#include "t.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sym/alloc.h"
#include "test_support.h"
#include "upload/ingest.h"
#include "zipw.h"

#define PATTERN_MSG                                                                          \
    "Unrecognized file pattern. Should only be <module>/<hex>/<file> or <name>-symbols.txt " \
    "and nothing else. (First unrecognized pattern was "

static const char *SYM_TEXT = "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 libfoo.so\n"
                              "INFO CODE_ID 89674523AB01CDEF0123456789ABCDEF01234567\n"
                              "INFO GENERATOR mozilla/dump_syms 2.3.7\n"
                              "FILE 0 foo.c\n"
                              "FUNC 1000 10 0 foo\n";

/* Opens s->zip with cfg (defaults when NULL); expects failure with code/reason and, when msg is
 * non-NULL, that exact message. */
static void expect_refused(struct scratch *s, const struct symup_config *cfg, sym_err code,
                           enum symup_reason reason, const char *msg)
{
    struct symup_config def;
    symup_config_init(&def);
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    sym_err rc = symup_ingest_open(s->zip, cfg ? cfg : &def, &ing, &err);
    if (rc == SYM_OK)
        symup_ingest_free(ing);
    T_ASSERT_ERR(rc, code);
    T_ASSERT_EQ(err.code, code);
    if (err.reason != reason)
        T_FAIL("reason %s, expected %s (%s)", symup_reason_name(err.reason),
               symup_reason_name(reason), err.msg);
    if (msg != NULL)
        T_ASSERT_STR_EQ(err.msg, msg);
    T_ASSERT(symup_error_is_input(&err) == (reason != SYMUP_R_CONFIG));
    T_ASSERT(strncmp(err.diag.msg, err.msg, sizeof(err.diag.msg) - 4) == 0 ||
             strlen(err.msg) < sizeof(err.diag.msg));
}

static struct symup_ingest *open_ok(struct scratch *s, const struct symup_config *cfg)
{
    struct symup_config def;
    symup_config_init(&def);
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    sym_err rc = symup_ingest_open(s->zip, cfg ? cfg : &def, &ing, &err);
    if (rc != SYM_OK)
        T_FAIL("open failed: %s %s: %s", sym_errname(rc), symup_reason_name(err.reason), err.msg);
    return ing;
}

static void write_one(struct scratch *s, const char *name, const char *text)
{
    struct zipw *z = zipw_new();
    zipw_file(z, name, text);
    zipw_write(z, s->zip);
}

/* ---- corpus fixtures against upload-outcomes.json ---------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_files(const struct jcase *c, struct symup_ingest *ing, const char *dir)
{
    T_ASSERT_OK(symup_ingest_extract(ing, dir, NULL, NULL, NULL));
    const char *files = json_find(c, NULL, "expected_files");
    if (files == NULL)
        return;
    const char *p = files;
    char key[512];
    while ((p = json_find(c, p, "key")) != NULL && json_str(c, p - 8, "key", key, sizeof(key))) {
        /* Tecken stores the name as is; Sigil upper-cases the debug id in the key */
        size_t i, n = symup_ingest_n_members(ing);
        for (i = 0; i < n; i++)
            if (strcmp(symup_ingest_member(ing, i)->name, key) == 0)
                break;
        if (i == n)
            T_FAIL("expected file %s not listed", key);
        T_ASSERT(strcasecmp(symup_ingest_member(ing, i)->key, key) == 0);
        struct symup_prepared pr;
        struct symup_error err;
        if (symup_prepare(ing, i, &pr, &err) != SYM_OK)
            T_FAIL("prepare %s: %s", key, err.msg);
        /* the fields of this file's object: up to its closing brace */
        const char *obj_end = strchr(p, '}');
        struct jcase obj = {p, obj_end ? obj_end : c->end};
        bool compressed;
        long long size;
        char text[256];
        if (json_bool(&obj, NULL, "compressed", &compressed))
            T_ASSERT_EQ(pr.stored.compressed, compressed);
        if (json_int(&obj, NULL, "size", &size))
            T_ASSERT_U64_EQ(pr.stored.size, size);
        if (json_int(&obj, NULL, "size_less_than", &size))
            T_ASSERT(pr.stored.size < (uint64_t)size);
        if (json_str(&obj, NULL, "debug_filename", text, sizeof(text)))
            T_ASSERT_STR_EQ(symup_header_debug_filename(&pr.digest.header), text);
        if (json_str(&obj, NULL, "debug_id", text, sizeof(text)))
            T_ASSERT_STR_EQ(symup_header_debug_id(&pr.digest.header), text);
        p = obj.end;
    }
}

static void check_ignored(const struct jcase *c, struct symup_ingest *ing, bool sorted)
{
    char *want[32];
    int n = json_str_array(c, sorted ? "ignored_keys_sorted" : "ignored_keys", want, 32);
    if (n < 0)
        return;
    T_ASSERT_EQ(symup_ingest_n_ignored(ing), n);
    const char *got[32];
    for (int i = 0; i < n; i++)
        got[i] = symup_ingest_ignored(ing, (size_t)i);
    if (sorted)
        qsort(got, (size_t)n, sizeof(got[0]), cmp_str);
    for (int i = 0; i < n; i++) {
        T_ASSERT_STR_EQ(got[i], want[i]);
        free(want[i]);
    }
}

static void run_case(const struct jcase *c, const char *json_dir)
{
    char zip_rel[256], field[128], want_err[1024], text[256];
    long long status = 0;
    char *snippets[8];
    struct scratch s;
    if (!json_int(c, NULL, "expected_status", &status) && json_find(c, NULL, "zip") == NULL)
        return;
    if (json_str(c, NULL, "field_name", field, sizeof(field)) &&
        (strlen(field) < 4 || strcmp(field + strlen(field) - 4, ".zip") != 0))
        return; /* the archive-name rule belongs to the HTTP layer */
    if (json_find(c, NULL, "request") != NULL)
        return; /* HTTP-level cases */
    scratch_init(&s);
    if (json_str(c, NULL, "zip", zip_rel, sizeof(zip_rel))) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", json_dir, zip_rel);
        size_t len;
        char *data = read_all(path, &len);
        if (data == NULL)
            T_FAIL("cannot read %s", path);
        FILE *f = fopen(s.zip, "wb");
        T_ASSERT(f != NULL && fwrite(data, 1, len, f) == len && fclose(f) == 0);
        free(data);
    } else if (json_str(c, NULL, "body_of_file_part", text, sizeof(text))) {
        FILE *f = fopen(s.zip, "wb");
        T_ASSERT(f != NULL && fwrite(text, 1, strlen(text), f) == strlen(text) && fclose(f) == 0);
    } else {
        scratch_done(&s);
        return;
    }
    struct symup_config cfg;
    symup_config_init(&cfg);
    int n_snip = json_str_array(c, "DISALLOWED_SYMBOLS_SNIPPETS", snippets, 8);
    if (n_snip >= 0) {
        cfg.disallowed_snippets = (const char *const *)snippets;
        cfg.n_disallowed_snippets = (size_t)n_snip;
    }
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    sym_err rc = symup_ingest_open(s.zip, &cfg, &ing, &err);
    if (json_str(c, NULL, "error", want_err, sizeof(want_err))) {
        T_ASSERT_EQ(status, 400);
        if (rc == SYM_OK)
            T_FAIL("accepted, expected \"%s\"", want_err);
        T_ASSERT(rc == SYM_EPARSE || rc == SYM_EINVAL);
        T_ASSERT_STR_EQ(err.msg, want_err);
    } else {
        if (rc != SYM_OK)
            T_FAIL("refused: %s", err.msg);
        if (json_str(c, NULL, "content_hash", text, sizeof(text)))
            T_ASSERT_STR_EQ(symup_ingest_content_hash(ing), text);
        check_ignored(c, ing, false);
        check_ignored(c, ing, true);
        char *members[8];
        int n = json_str_array(c, "expected_extracted_members", members, 8);
        if (n >= 0) {
            T_ASSERT_EQ(symup_ingest_n_members(ing), n);
            for (int i = 0; i < n; i++) {
                T_ASSERT_STR_EQ(symup_ingest_member(ing, (size_t)i)->name, members[i]);
                free(members[i]);
            }
        }
        long long rows;
        if (json_int(c, NULL, "expected_file_rows", &rows))
            T_ASSERT_EQ(symup_ingest_n_members(ing), rows);
        check_files(c, ing, s.out);
        symup_ingest_free(ing);
    }
    for (int i = 0; i < n_snip; i++)
        free(snippets[i]);
    scratch_done(&s);
}

static void test_corpus_outcomes(void)
{
    const char *json_path = t_corpus_path("tecken/expected/upload-outcomes.json");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/tecken", t_corpus_dir());
    char *json = read_all(json_path, NULL);
    T_ASSERT(json != NULL);
    const char *pos = json;
    struct jcase c;
    int cases = 0;
    while (json_next_case(&pos, &c)) {
        char name[128] = "";
        json_str(&c, NULL, "name", name, sizeof(name));
        fprintf(stderr, "  case %s\n", name);
        run_case(&c, dir);
        cases++;
    }
    T_ASSERT(cases >= 10);
    free(json);
}

static void test_corpus_sample_details(void)
{
    const char *zip = t_corpus_path("tecken/tests/data/sample.zip");
    struct scratch s;
    scratch_init(&s);
    struct symup_config cfg;
    symup_config_init(&cfg);
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    T_ASSERT_OK(symup_ingest_open(zip, &cfg, &ing, &err));
    T_ASSERT_STR_EQ(symup_ingest_content_hash(ing), "984270ef458d9d1e27e8d844ad52a9");
    T_ASSERT_EQ(symup_ingest_n_members(ing), 2);
    const struct symup_member *jpeg = symup_ingest_member(ing, 0);
    const struct symup_member *sym = symup_ingest_member(ing, 1);
    T_ASSERT_STR_EQ(jpeg->name, "flag/deadbeef/flag.jpeg");
    T_ASSERT_STR_EQ(jpeg->key, "flag/DEADBEEF/flag.jpeg");
    T_ASSERT_STR_EQ(jpeg->debug_id, "DEADBEEF"); /* upper-cased in the key */
    T_ASSERT_STR_EQ(sym->key, "xpcshell.dbg/A7D6F1BB18CD4CB48/xpcshell.sym");
    T_ASSERT_STR_EQ(sym->debug_file, "xpcshell.dbg");
    T_ASSERT_STR_EQ(sym->file, "xpcshell.sym");
    T_ASSERT(sym->compress && sym->is_sym && !jpeg->compress && !jpeg->is_sym);
    T_ASSERT_STR_EQ(sym->content_type, "text/plain");
    T_ASSERT(jpeg->content_type == NULL);
    T_ASSERT_OK(symup_ingest_extract(ing, s.out, NULL, NULL, &err));

    struct symup_prepared p;
    T_ASSERT_OK(symup_prepare(ing, 1, &p, &err));
    T_ASSERT_U64_EQ(p.digest.size, 1156);
    T_ASSERT_STR_EQ(p.digest.md5, "5f7616797a4bfdf072fe9d2a63e38452");
    T_ASSERT(p.digest.header.valid);
    T_ASSERT_STR_EQ(symup_header_debug_filename(&p.digest.header), "xpcshell");
    T_ASSERT_STR_EQ(symup_header_debug_id(&p.digest.header), "BBACA09FD1C13F6C84254BFD8732AF400");
    T_ASSERT(p.stored.compressed);
    T_ASSERT_STR_EQ(p.stored.content_encoding, "gzip");
    T_ASSERT_STR_EQ(p.stored.content_type, "text/plain");
    T_ASSERT(p.stored.size < 1156);
    size_t gz_len, raw_len, orig_len;
    char *gz = read_all(p.stored.path, &gz_len);
    T_ASSERT(gz != NULL);
    T_ASSERT_U64_EQ(gz_len, p.stored.size);
    char *raw = gunzip(gz, gz_len, &raw_len);
    char *orig = read_all(symup_member_path(ing, 1), &orig_len);
    T_ASSERT_EQ(raw_len, 1156);
    T_ASSERT_EQ(orig_len, 1156);
    T_ASSERT_MEM_EQ(raw, orig, raw_len);
    free(gz);
    free(raw);
    free(orig);

    T_ASSERT_OK(symup_prepare(ing, 0, &p, &err));
    T_ASSERT_STR_EQ(p.digest.md5, "709271bafe632603db8075b0a6619452");
    T_ASSERT(!p.digest.header.valid && symup_header_debug_id(&p.digest.header) == NULL);
    T_ASSERT(!p.stored.compressed && p.stored.content_encoding == NULL);
    T_ASSERT_U64_EQ(p.stored.size, 69183);
    T_ASSERT_STR_EQ(p.stored.path, symup_member_path(ing, 0));
    symup_ingest_free(ing);
    scratch_done(&s);
}

/* ---- rules on generated zips ------------------------------------------------------------ */

static void test_not_a_zip(void)
{
    struct scratch s;
    scratch_init(&s);
    FILE *f = fopen(s.zip, "wb");
    fputs("Despite the name, plain text.\n", f);
    fclose(f);
    expect_refused(&s, NULL, SYM_EPARSE, SYMUP_R_NOT_ZIP, "File is not a zip file");
    f = fopen(s.zip, "wb");
    fclose(f);
    expect_refused(&s, NULL, SYM_EPARSE, SYMUP_R_NOT_ZIP, "File is not a zip file");
    /* a zip whose central directory points nowhere */
    f = fopen(s.zip, "wb");
    fwrite("PK\x05\x06\0\0\0\0\x01\0\x01\0\x30\0\0\0\x10\0\0\0\0\0", 1, 22, f);
    fclose(f);
    struct symup_config cfg;
    symup_config_init(&cfg);
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    T_ASSERT(symup_ingest_open(s.zip, &cfg, &ing, &err) == SYM_EPARSE);
    scratch_done(&s);
}

static void test_empty_archives(void)
{
    struct scratch s;
    scratch_init(&s);
    zipw_write(zipw_new(), s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_EMPTY, NULL);

    struct zipw *z = zipw_new();
    zipw_dir(z, "flag/");
    zipw_dir(z, "flag/deadbeef/");
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_EMPTY,
                   "Zip file contains no files to upload, only directories");

    z = zipw_new();
    zipw_file(z, "build-symbols.txt", "please ignore");
    zipw_file(z, "a/.DS_Store", "x");
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_EMPTY,
                   "Zip file contains no files to upload, only ignored files");
    scratch_done(&s);
}

static void test_duplicates(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    zipw_file(z, "foo.pdb/ABC/ntdll.sym", "MODULE windows x86 ABC ntdll.pdb\n");
    zipw_file(z, "foo.pdb/ABC/other.sym", "x");
    zipw_file(z, "foo.pdb/ABC/ntdll.sym", "MODULE windows x86 DEF ntdll.pdb\n");
    zipw_write(z, s.zip);
    struct symup_ingest *ing = open_ok(&s, NULL);
    T_ASSERT_EQ(symup_ingest_n_members(ing), 2);
    T_ASSERT_STR_EQ(symup_ingest_member(ing, 0)->name, "foo.pdb/ABC/ntdll.sym");
    T_ASSERT_EQ(symup_ingest_member(ing, 0)->zip_index, 2); /* the last copy wins */
    T_ASSERT_OK(symup_ingest_extract(ing, s.out, NULL, NULL, NULL));
    struct symup_digest d;
    T_ASSERT_OK(symup_member_digest(ing, 0, &d, NULL));
    T_ASSERT_STR_EQ(d.header.debug_id, "DEF");
    symup_ingest_free(ing);

    z = zipw_new();
    zipw_file(z, "foo.pdb/ABC/a.sym", "123456789");
    zipw_file(z, "foo.pdb/ABC/a.sym", "123456789");
    zipw_file(z, "foo.pdb/ABC/a.sym", "1234");
    zipw_file(z, "foo.pdb/ABC/b.sym", "1");
    zipw_file(z, "foo.pdb/ABC/b.sym", "12");
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_DUPLICATE,
                   "The zipfile buffer contains two files both called foo.pdb/ABC/a.sym and they "
                   "have difference sizes (4 != 9)");
    scratch_done(&s);
}

static void test_unsafe_entries(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw_opts link = {.mode = 0120777};
    struct zipw *z = zipw_new();
    zipw_add(z, "a/B/link.sym", 12, "/etc/passwd", 11, &link);
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_NOT_REGULAR,
                   "Zip member 'a/B/link.sym' is a symbolic link; only regular files and "
                   "directories are allowed");

    const char *bad[] = {"/etc/B/passwd", "a/../B/c.sym", "../a/B/c.sym", "./a/B/c.sym", "a/B/.."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_one(&s, bad[i], "x");
        expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_UNSAFE_PATH, NULL);
    }
    struct zipw_opts enc = {.flags = 1};
    z = zipw_new();
    zipw_add(z, "a/B/c.sym", 9, "xxxxxxxxxxxxxxxx", 16, &enc);
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EPARSE, SYMUP_R_ENCRYPTED, NULL);
    scratch_done(&s);
}

static void test_patterns(void)
{
    struct scratch s;
    scratch_init(&s);
    write_one(&s, "xpcshell.sym", "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN, PATTERN_MSG "'xpcshell.sym')");

    struct zipw *z = zipw_new();
    zipw_file(z, "xpcshell.dbg/A7D6F1BB18CD4CB48/xpcshell.sym", "x");
    zipw_file(z, "xpcfoo.dbg/A7D6F1BB18CD4CB48/p%eter.sym", "x");
    zipw_file(z, "zzz.sym", "x");
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN,
                   PATTERN_MSG "'xpcfoo.dbg/A7D6F1BB18CD4CB48/p%eter.sym')");

    /* U+00FC is refused (and shown as Python shows it), CJK and emoji are fine */
    write_one(&s, "x\xc3\xbcl.pdb/1A2B3C4/xul.sym", "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN,
                   PATTERN_MSG "'x\xc3\xbcl.pdb/1A2B3C4/xul.sym')");
    z = zipw_new();
    zipw_file(z, "\xe4\xb8\xad\xe6\x96\x87.pdb/ABC/\xe4\xb8\xad.sym", "x");
    zipw_file(z, "emoji\xf0\x9f\x98\x80.so/abc/x\x7f y.sym", "x");
    zipw_write(z, s.zip);
    struct symup_ingest *ing = open_ok(&s, NULL);
    T_ASSERT_EQ(symup_ingest_n_members(ing), 2);
    T_ASSERT_STR_EQ(symup_ingest_member(ing, 1)->key, "emoji\xf0\x9f\x98\x80.so/ABC/x\x7f y.sym");
    symup_ingest_free(ing);

    /* a name without the UTF-8 flag is CP437, as Python decodes it: 0x81 is u-umlaut */
    struct zipw_opts cp437 = {0};
    z = zipw_new();
    zipw_add(z, "x\x81l.pdb/ABC/x.sym", 17, "x", 1, &cp437);
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN,
                   PATTERN_MSG "'x\xc3\xbcl.pdb/ABC/x.sym')");
    /* a flagged name that is not UTF-8 */
    struct zipw_opts utf8 = {.flags = ZIPW_UTF8};
    z = zipw_new();
    zipw_add(z, "x\xffl.pdb/ABC/x.sym", 17, "x", 1, &utf8);
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EPARSE, SYMUP_R_BAD_NAME, NULL);

    /* Python repr quoting and escapes */
    write_one(&s, "it's/ABC/a\tb.sym", "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN, PATTERN_MSG "\"it's/ABC/a\\tb.sym\")");
    write_one(&s, "a/ABCG/x.sym", "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN, PATTERN_MSG "'a/ABCG/x.sym')");
    write_one(&s, "a/B/c/d.sym", "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN, PATTERN_MSG "'a/B/c/d.sym')");
    write_one(&s, "a//x.sym", "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN, PATTERN_MSG "'a//x.sym')");
    scratch_done(&s);
}

static void test_ignored_and_hash(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    zipw_file(z, "target-symbols.txt", "please ignore");
    zipw_file(z, "libfoo.so/0123456789abcdef0123456789abcdef0/libfoo.so.sym", SYM_TEXT);
    zipw_file(z, "deep/er/.DS_Store", "ds");
    zipw_file(z, "libfoo.so/ABC/notes-Symbols.TXT", "x");
    zipw_file(z, "UPPER-SYMBOLS.TXT", "x");
    zipw_dir(z, "libfoo.so/");
    zipw_file(z, ".DS_Store", "x");
    zipw_write(z, s.zip);
    struct symup_ingest *ing = open_ok(&s, NULL);
    T_ASSERT_EQ(symup_ingest_n_members(ing), 1);
    T_ASSERT_STR_EQ(symup_ingest_member(ing, 0)->key,
                    "libfoo.so/0123456789ABCDEF0123456789ABCDEF0/libfoo.so.sym");
    T_ASSERT_STR_EQ(symup_ingest_member(ing, 0)->name,
                    "libfoo.so/0123456789abcdef0123456789abcdef0/libfoo.so.sym");
    T_ASSERT_EQ(symup_ingest_n_ignored(ing), 5);
    T_ASSERT_STR_EQ(symup_ingest_ignored(ing, 0), "target-symbols.txt");
    T_ASSERT_STR_EQ(symup_ingest_ignored(ing, 1), "deep/er/.DS_Store");
    T_ASSERT_STR_EQ(symup_ingest_ignored(ing, 2), "libfoo.so/ABC/notes-Symbols.TXT");
    T_ASSERT_STR_EQ(symup_ingest_ignored(ing, 3), "UPPER-SYMBOLS.TXT");
    T_ASSERT_STR_EQ(symup_ingest_ignored(ing, 4), ".DS_Store");
    /* the hash covers every file by its name as uploaded, sorted, ignored ones included */
    char lines[1024];
    snprintf(lines, sizeof(lines),
             ".DS_Store:1\nUPPER-SYMBOLS.TXT:1\ndeep/er/.DS_Store:2\n"
             "libfoo.so/0123456789abcdef0123456789abcdef0/libfoo.so.sym:%zu\n"
             "libfoo.so/ABC/notes-Symbols.TXT:1\ntarget-symbols.txt:13",
             strlen(SYM_TEXT));
    char md5[33];
    md5_hex(lines, strlen(lines), md5);
    md5[30] = '\0';
    T_ASSERT_STR_EQ(symup_ingest_content_hash(ing), md5);
    symup_ingest_free(ing);

    /* deeper -symbols.txt is not an allowed pattern */
    write_one(&s, "a/b/c/x-symbols.txt", "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_PATTERN, NULL);
    scratch_done(&s);
}

static void test_rule_order_and_snippets(void)
{
    struct scratch s;
    scratch_init(&s);
    /* duplicates are reported before patterns, snippets before patterns */
    struct zipw *z = zipw_new();
    zipw_file(z, "bad", "x");
    zipw_file(z, "a/B/c.sym", "1");
    zipw_file(z, "a/B/c.sym", "12");
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_DUPLICATE, NULL);
    z = zipw_new();
    zipw_file(z, "bad", "x");
    zipw_file(z, "vendor/qcom/proprietary/x.sym", "1");
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_SNIPPET,
                   "Content of archive file contains the snippet 'qcom/proprietary' which is not "
                   "allowed");
    const char *snips[] = {"secret", "x.sym"};
    struct symup_config cfg;
    symup_config_init(&cfg);
    cfg.disallowed_snippets = snips;
    cfg.n_disallowed_snippets = 2;
    expect_refused(&s, &cfg, SYM_EINVAL, SYMUP_R_SNIPPET,
                   "Content of archive file contains the snippet 'x.sym' which is not allowed");
    cfg.n_disallowed_snippets = 0;
    expect_refused(&s, &cfg, SYM_EINVAL, SYMUP_R_PATTERN, PATTERN_MSG "'bad')");
    scratch_done(&s);
}

static void test_key_limits_and_conflicts(void)
{
    struct scratch s;
    scratch_init(&s);
    char name[600];
    memset(name, 'a', 256);
    snprintf(name + 256, sizeof(name) - 256, "/ABC/x.sym");
    write_one(&s, name, "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_KEY_TOO_LONG, NULL);
    memset(name, 'a', 200);
    memset(name + 200, '/', 1);
    memset(name + 201, 'B', 40);
    snprintf(name + 241, sizeof(name) - 241, "/%0100d.sym", 0);
    write_one(&s, name, "x");
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_KEY_TOO_LONG, NULL);

    struct zipw *z = zipw_new();
    zipw_file(z, "a.pdb/abc/a.sym", "x");
    zipw_file(z, "a.pdb/ABC/b.sym", "x");
    zipw_file(z, "a.pdb/ABC/a.sym", "x");
    zipw_write(z, s.zip);
    expect_refused(&s, NULL, SYM_EINVAL, SYMUP_R_KEY_CONFLICT,
                   "The zip file contains both 'a.pdb/abc/a.sym' and 'a.pdb/ABC/a.sym', which are "
                   "the same file once the debug id is upper-cased");

    struct symup_config cfg;
    symup_config_init(&cfg);
    cfg.limits.max_name_len = 20;
    write_one(&s, "abcdefghij/ABCDEF/abc.sym", "x");
    expect_refused(&s, &cfg, SYM_ELIMIT, SYMUP_R_NAME_TOO_LONG, NULL);
    scratch_done(&s);
}

static void test_limits(void)
{
    struct scratch s;
    scratch_init(&s);
    struct symup_config cfg;
    symup_config_init(&cfg);
    cfg.limits.max_members = 10;
    struct zipw *z = zipw_new();
    for (int i = 0; i < 11; i++) {
        char n[64];
        snprintf(n, sizeof(n), "a/B/%d.sym", i);
        zipw_file(z, n, "x");
    }
    zipw_write(z, s.zip);
    expect_refused(&s, &cfg, SYM_ELIMIT, SYMUP_R_TOO_MANY_MEMBERS, NULL);
    /* the end record understating the count does not get past the limit */
    z = zipw_new();
    for (int i = 0; i < 11; i++) {
        char n[64];
        snprintf(n, sizeof(n), "a/B/%d.sym", i);
        zipw_file(z, n, "x");
    }
    zipw_set_eocd_count(z, 3);
    zipw_write(z, s.zip);
    expect_refused(&s, &cfg, SYM_ELIMIT, SYMUP_R_TOO_MANY_MEMBERS,
                   "Zip file has too many members (the limit is 10)");
    /* ...and an understated count does not hide members either */
    cfg.limits.max_members = 20;
    struct symup_ingest *ing = open_ok(&s, &cfg);
    T_ASSERT_EQ(symup_ingest_n_members(ing), 11);
    symup_ingest_free(ing);

    symup_config_init(&cfg);
    cfg.limits.max_member_size = 100;
    char big[200];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_one(&s, "a/B/big.sym", big);
    expect_refused(&s, &cfg, SYM_ELIMIT, SYMUP_R_MEMBER_TOO_LARGE,
                   "Zip member 'a/B/big.sym' is too large (199 bytes uncompressed, the limit is "
                   "100)");
    symup_config_init(&cfg);
    cfg.limits.max_total_size = 300;
    z = zipw_new();
    zipw_file(z, "a/B/1.sym", big);
    zipw_file(z, "a/B/2.sym", big);
    zipw_write(z, s.zip);
    expect_refused(&s, &cfg, SYM_ELIMIT, SYMUP_R_TOTAL_TOO_LARGE, NULL);
    scratch_done(&s);
}

static sym_err extract_err(struct scratch *s, const struct symup_config *cfg,
                           struct symup_error *err)
{
    struct symup_ingest *ing = open_ok(s, cfg);
    sym_err rc = symup_ingest_extract(ing, s->out, NULL, NULL, err);
    symup_ingest_free(ing);
    return rc;
}

static void test_bombs_and_damage(void)
{
    struct scratch s;
    scratch_init(&s);
    size_t n = 8u << 20;
    char *zeros = calloc(1, n);
    struct zipw_opts def = {.deflate = true};
    struct zipw *z = zipw_new();
    zipw_add(z, "a/B/bomb.sym", 12, zeros, n, &def);
    zipw_write(z, s.zip);
    struct symup_error err;
    T_ASSERT_ERR(extract_err(&s, NULL, &err), SYM_ELIMIT);
    T_ASSERT_EQ(err.reason, SYMUP_R_RATIO);
    T_ASSERT_STR_EQ(err.msg, "Zip member 'a/B/bomb.sym' expands more than 250 times its "
                             "compressed size; refusing a possible zip bomb");
    /* a member lying about its size is stopped once it passes the recorded size */
    struct zipw_opts liar = {.deflate = true, .override_size = true, .size = 1000};
    z = zipw_new();
    zipw_add(z, "a/B/liar.sym", 12, zeros, 1 << 20, &liar);
    zipw_write(z, s.zip);
    T_ASSERT_ERR(extract_err(&s, NULL, &err), SYM_EPARSE);
    T_ASSERT_EQ(err.reason, SYMUP_R_CORRUPT);
    free(zeros);

    struct zipw_opts crc = {.bad_crc = true};
    z = zipw_new();
    zipw_add(z, "a/B/crc.sym", 11, "hello world", 11, &crc);
    zipw_write(z, s.zip);
    T_ASSERT_ERR(extract_err(&s, NULL, &err), SYM_EPARSE);
    T_ASSERT_EQ(err.reason, SYMUP_R_CORRUPT);
    scratch_done(&s);
}

/* ---- extraction and preparation --------------------------------------------------------- */

struct cb_log {
    size_t calls[16];
    size_t n;
    size_t stop_at;
};

static sym_err on_extracted(void *ctx, size_t i)
{
    struct cb_log *log = ctx;
    log->calls[log->n++] = i;
    return log->n == log->stop_at ? SYM_EUNAVAIL : SYM_OK;
}

static void test_extract_callback_and_release(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    zipw_file(z, "a/B/1.sym", "one");
    zipw_file(z, "a-symbols.txt", "ignored");
    zipw_file(z, "a/B/2.bin", "two");
    zipw_file(z, "a/B/3.SYM", "three");
    zipw_write(z, s.zip);
    struct symup_ingest *ing = open_ok(&s, NULL);
    struct cb_log log = {.stop_at = 0};
    T_ASSERT_OK(symup_ingest_extract(ing, s.out, on_extracted, &log, NULL));
    T_ASSERT_EQ(log.n, 3);
    T_ASSERT(log.calls[0] == 0 && log.calls[1] == 1 && log.calls[2] == 2);
    T_ASSERT(symup_ingest_member(ing, 2)->compress); /* extension case does not matter */
    struct symup_stored st;
    T_ASSERT_OK(symup_member_store_file(ing, 2, &st, NULL));
    T_ASSERT(access(st.path, F_OK) == 0);
    const char *gz = st.path;
    symup_member_release(ing, 2);
    T_ASSERT(access(gz, F_OK) != 0);
    T_ASSERT(symup_member_path(ing, 2) == NULL);
    struct symup_error err;
    T_ASSERT_ERR(symup_member_store_file(ing, 2, &st, &err), SYM_EINVAL);
    T_ASSERT_ERR(symup_ingest_extract(ing, s.out, NULL, NULL, &err), SYM_EINVAL);
    symup_ingest_free(ing);

    ing = open_ok(&s, NULL);
    struct cb_log stop = {.stop_at = 2};
    T_ASSERT_ERR(symup_ingest_extract(ing, s.out, on_extracted, &stop, &err), SYM_EUNAVAIL);
    T_ASSERT_EQ(stop.n, 2);
    T_ASSERT(symup_member_path(ing, 0) != NULL && symup_member_path(ing, 2) == NULL);
    struct symup_digest d;
    T_ASSERT_OK(symup_member_digest(ing, 0, &d, NULL));
    T_ASSERT_ERR(symup_member_digest(ing, 2, &d, NULL), SYM_EINVAL);
    symup_ingest_free(ing);
    scratch_done(&s);
}

static void test_gzip_deterministic_and_config(void)
{
    struct scratch s;
    scratch_init(&s);
    write_one(&s, "libfoo.so/0123456789ABCDEF0123456789ABCDEF0/libfoo.so.sym", SYM_TEXT);
    char *first = NULL;
    size_t first_len = 0;
    for (int round = 0; round < 2; round++) {
        struct symup_ingest *ing = open_ok(&s, NULL);
        T_ASSERT_OK(symup_ingest_extract(ing, s.out, NULL, NULL, NULL));
        struct symup_prepared p;
        T_ASSERT_OK(symup_prepare(ing, 0, &p, NULL));
        struct symup_stored again;
        T_ASSERT_OK(symup_member_store_file(ing, 0, &again, NULL));
        T_ASSERT_STR_EQ(again.path, p.stored.path);
        T_ASSERT_U64_EQ(again.size, p.stored.size);
        size_t len;
        char *gz = read_all(p.stored.path, &len);
        if (round == 0) {
            first = gz;
            first_len = len;
        } else {
            T_ASSERT_EQ(len, first_len);
            T_ASSERT_MEM_EQ(gz, first, len);
            free(gz);
        }
        T_ASSERT_STR_EQ(p.digest.header.code_id, "89674523AB01CDEF0123456789ABCDEF01234567");
        T_ASSERT_STR_EQ(p.digest.header.code_file, "");
        T_ASSERT_STR_EQ(p.digest.header.generator, "mozilla/dump_syms 2.3.7");
        symup_ingest_free(ing);
    }
    free(first);

    /* nothing compressed when the list is empty; other MIME types apply */
    static const struct symup_mime mime[] = {{"sym", "text/x-breakpad"}};
    struct symup_config cfg;
    symup_config_init(&cfg);
    cfg.n_compress_extensions = 0;
    cfg.mime_overrides = mime;
    struct symup_ingest *ing = open_ok(&s, &cfg);
    T_ASSERT_OK(symup_ingest_extract(ing, s.out, NULL, NULL, NULL));
    struct symup_prepared p;
    T_ASSERT_OK(symup_prepare(ing, 0, &p, NULL));
    T_ASSERT(!p.stored.compressed);
    T_ASSERT_STR_EQ(p.stored.content_type, "text/x-breakpad");
    T_ASSERT_U64_EQ(p.stored.size, strlen(SYM_TEXT));
    symup_ingest_free(ing);

    symup_config_init(&cfg);
    cfg.gzip_level = 0;
    struct symup_error err;
    T_ASSERT_ERR(symup_ingest_open(s.zip, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_CONFIG);
    T_ASSERT(!symup_error_is_input(&err));
    symup_error_clear(&err);
    T_ASSERT(err.code == SYM_OK && err.msg[0] == '\0' && !symup_error_is_input(&err));
    T_ASSERT_STR_EQ(symup_reason_name(SYMUP_R_RATIO), "ratio");
    scratch_done(&s);
}

static void test_strict_header(void)
{
    struct scratch s;
    scratch_init(&s);
    struct symup_config cfg;
    symup_config_init(&cfg);
    cfg.strict_header = true;
    struct zipw *z = zipw_new();
    zipw_file(z, "libfoo.so/0123456789abcdef0123456789abcdef0/libfoo.so.sym", SYM_TEXT);
    zipw_file(z, "xul.dll/6A4B9A365000/xul.sym",
              "MODULE windows x86 D57F52D4A2FD56244C4C44205044422E1 xul.pdb\n"
              "INFO CODE_ID 6A4B9A365000 xul.dll\n");
    zipw_file(z, "libfoo.so/ABC/libfoo.so.sym", SYM_TEXT);
    zipw_file(z, "libfoo.so/ABC/nothing.sym", "FILE 0 x\n");
    zipw_file(z, "libfoo.so/ABC/libfoo.so.dbg", "not checked");
    zipw_write(z, s.zip);
    struct symup_ingest *ing = open_ok(&s, &cfg);
    T_ASSERT_OK(symup_ingest_extract(ing, s.out, NULL, NULL, NULL));
    struct symup_prepared p;
    struct symup_error err;
    T_ASSERT_OK(symup_prepare(ing, 0, &p, &err));
    T_ASSERT_OK(symup_prepare(ing, 1, &p, &err)); /* the code-id layout */
    T_ASSERT_ERR(symup_prepare(ing, 2, &p, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_HEADER_MISMATCH);
    T_ASSERT_STR_EQ(err.msg, "Symbol file 'libfoo.so/ABC/libfoo.so.sym' does not match its path: "
                             "its MODULE line has debug file 'libfoo.so' and debug id "
                             "'0123456789ABCDEF0123456789ABCDEF0', the path has 'libfoo.so' and "
                             "'ABC'");
    struct symup_digest d;
    T_ASSERT_ERR(symup_member_digest(ing, 3, &d, &err), SYM_EINVAL);
    T_ASSERT_STR_EQ(err.msg, "Symbol file 'libfoo.so/ABC/nothing.sym' has no valid MODULE line");
    T_ASSERT_OK(symup_prepare(ing, 4, &p, &err));
    symup_ingest_free(ing);
    /* off by default: the same archive goes through */
    ing = open_ok(&s, NULL);
    T_ASSERT_OK(symup_ingest_extract(ing, s.out, NULL, NULL, NULL));
    for (size_t i = 0; i < symup_ingest_n_members(ing); i++)
        T_ASSERT_OK(symup_prepare(ing, i, &p, NULL));
    symup_ingest_free(ing);
    scratch_done(&s);
}

#define N_PAR 24

struct par_job {
    struct symup_ingest *ing;
    size_t first, step;
    sym_err rc;
};

static void *par_worker(void *arg)
{
    struct par_job *j = arg;
    size_t n = symup_ingest_n_members(j->ing);
    for (size_t i = j->first; i < n; i += j->step) {
        struct symup_prepared p;
        j->rc = symup_prepare(j->ing, i, &p, NULL);
        if (j->rc != SYM_OK)
            break;
    }
    return NULL;
}

static void test_parallel_prepare(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    char *texts[N_PAR];
    struct zipw_opts def = {.deflate = true};
    for (int i = 0; i < N_PAR; i++) {
        char name[64];
        size_t len = 20000 + (size_t)i * 997;
        texts[i] = malloc(len + 1);
        for (size_t k = 0; k < len; k++)
            texts[i][k] = (char)('a' + (k * 7 + (size_t)i) % 26);
        texts[i][len] = '\0';
        snprintf(name, sizeof(name), "m%d.pdb/ABC%d/m%d.%s", i, i, i, i % 2 ? "sym" : "pd_");
        zipw_add(z, name, strlen(name), texts[i], len, &def);
    }
    zipw_write(z, s.zip);
    struct symup_ingest *ing = open_ok(&s, NULL);
    T_ASSERT_OK(symup_ingest_extract(ing, s.out, NULL, NULL, NULL));
    pthread_t th[4];
    struct par_job jobs[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (struct par_job){ing, (size_t)t, 4, SYM_OK};
        T_ASSERT_EQ(pthread_create(&th[t], NULL, par_worker, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        T_ASSERT_OK(jobs[t].rc);
    }
    for (int i = 0; i < N_PAR; i++) {
        struct symup_prepared p;
        T_ASSERT_OK(symup_prepare(ing, (size_t)i, &p, NULL));
        char md5[33];
        md5_hex(texts[i], strlen(texts[i]), md5);
        T_ASSERT_STR_EQ(p.digest.md5, md5);
        T_ASSERT_EQ(p.stored.compressed, i % 2 == 1);
        size_t len;
        char *stored = read_all(p.stored.path, &len);
        if (p.stored.compressed) {
            size_t raw_len;
            char *raw = gunzip(stored, len, &raw_len);
            T_ASSERT_EQ(raw_len, strlen(texts[i]));
            T_ASSERT_MEM_EQ(raw, texts[i], raw_len);
            free(raw);
        } else {
            T_ASSERT_EQ(len, strlen(texts[i]));
        }
        free(stored);
        free(texts[i]);
    }
    symup_ingest_free(ing);
    scratch_done(&s);
}

/* The server's intended use: each member is handed to a worker as soon as it is extracted, while
 * extraction goes on. */
struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t items[N_PAR];
    size_t head, tail;
    bool closed;
    struct symup_ingest *ing;
    int failures;
};

static sym_err enqueue(void *ctx, size_t i)
{
    struct queue *q = ctx;
    pthread_mutex_lock(&q->mu);
    q->items[q->tail++] = i;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return SYM_OK;
}

static void *queue_worker(void *arg)
{
    struct queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->head == q->tail && !q->closed)
            pthread_cond_wait(&q->cv, &q->mu);
        if (q->head == q->tail) {
            pthread_mutex_unlock(&q->mu);
            return NULL;
        }
        size_t i = q->items[q->head++];
        pthread_mutex_unlock(&q->mu);
        struct symup_prepared p;
        sym_err rc = symup_prepare(q->ing, i, &p, NULL);
        if (rc == SYM_OK) {
            symup_member_release(q->ing, i);
        } else {
            pthread_mutex_lock(&q->mu);
            q->failures++;
            pthread_mutex_unlock(&q->mu);
        }
    }
}

static void test_pipelined_extract_prepare(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    struct zipw_opts def = {.deflate = true};
    for (int i = 0; i < N_PAR; i++) {
        char name[64];
        snprintf(name, sizeof(name), "libfoo.so/ABC%d/libfoo.so.sym", i);
        zipw_add(z, name, strlen(name), SYM_TEXT, strlen(SYM_TEXT), &def);
    }
    zipw_write(z, s.zip);
    struct queue q = {.ing = open_ok(&s, NULL)};
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        T_ASSERT_EQ(pthread_create(&th[t], NULL, queue_worker, &q), 0);
    sym_err rc = symup_ingest_extract(q.ing, s.out, enqueue, &q, NULL);
    pthread_mutex_lock(&q.mu);
    q.closed = true;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    T_ASSERT_OK(rc);
    T_ASSERT_EQ(q.head, N_PAR);
    T_ASSERT_EQ(q.failures, 0);
    symup_ingest_free(q.ing);
    pthread_cond_destroy(&q.cv);
    pthread_mutex_destroy(&q.mu);
    scratch_done(&s);
}

/* Every allocation of the pipeline fails in turn: each run ends in SYM_ENOMEM or success, and
 * leaves no file and (under LSan) no leak. */
static void test_alloc_failures(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    zipw_file(z, "libfoo.so/0123456789abcdef0123456789abcdef0/libfoo.so.sym", SYM_TEXT);
    zipw_file(z, "libfoo.so/ABC/libfoo.so.dbg", "raw");
    zipw_file(z, "x-symbols.txt", "ignored");
    zipw_file(z, "bad name", "x");
    zipw_write(z, s.zip);
    struct symup_config cfg;
    symup_config_init(&cfg);
    const char *snips[] = {"nothing-matches"};
    cfg.disallowed_snippets = snips;
    /* first the refusal path (the bad name), then a valid archive through every step */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            z = zipw_new();
            zipw_file(z, "libfoo.so/0123456789abcdef0123456789abcdef0/libfoo.so.sym", SYM_TEXT);
            zipw_file(z, "libfoo.so/ABC/libfoo.so.dbg", "raw");
            zipw_file(z, "x-symbols.txt", "ignored");
            zipw_write(z, s.zip);
        }
        bool done = false;
        for (unsigned long k = 1; k < 500 && !done; k++) {
            sym_alloc_fail_at(k);
            struct symup_ingest *ing = NULL;
            struct symup_error err;
            sym_err rc = symup_ingest_open(s.zip, &cfg, &ing, &err);
            if (rc == SYM_OK) {
                rc = symup_ingest_extract(ing, s.out, NULL, NULL, &err);
                for (size_t i = 0; rc == SYM_OK && i < symup_ingest_n_members(ing); i++) {
                    struct symup_prepared p;
                    rc = symup_prepare(ing, i, &p, &err);
                }
                symup_ingest_free(ing);
            }
            bool hit = sym_alloc_count() >= k;
            sym_alloc_fail_at(0);
            if (!hit) {
                T_ASSERT(pass == 0 ? rc == SYM_EINVAL : rc == SYM_OK);
                done = true;
            } else if (rc != SYM_ENOMEM) {
                T_FAIL("allocation %lu failed: got %s (%s)", k, sym_errname(rc), err.msg);
            }
        }
        T_ASSERT(done);
    }
    scratch_done(&s);
}

T_LIST(T_TEST(test_corpus_outcomes), T_TEST(test_corpus_sample_details), T_TEST(test_not_a_zip),
       T_TEST(test_empty_archives), T_TEST(test_duplicates), T_TEST(test_unsafe_entries),
       T_TEST(test_patterns), T_TEST(test_ignored_and_hash), T_TEST(test_rule_order_and_snippets),
       T_TEST(test_key_limits_and_conflicts), T_TEST(test_limits), T_TEST(test_bombs_and_damage),
       T_TEST(test_extract_callback_and_release), T_TEST(test_gzip_deterministic_and_config),
       T_TEST(test_strict_header), T_TEST(test_parallel_prepare),
       T_TEST(test_pipelined_extract_prepare), T_TEST(test_alloc_failures))
