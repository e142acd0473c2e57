/* SPDX-License-Identifier: MPL-2.0 */
/* test_symbolicate_fetch.c: the source -> inflate -> parse pipeline of symbolication (plain and
 * gzip text in pieces of every size, concatenated gzip members, truncated and corrupt data,
 * size limits), the module checks (MODULE id against the requested debug id), the own-storage
 * source (regular then try, on the local-folder backend) and the Eliot library cases of the
 * corpus (debug ids, module names, parsing). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "storage/store.h"
#include "sym/image.h"
#include "symbolicate/fetch.h"
#include "symbolicate/modkey.h"
#include "t.h"

#define ID "0123456789ABCDEF0123456789ABCDEF0"

static const char sym[] = "MODULE Linux x86_64 " ID " app\r\n"
                          "INFO CODE_ID 0011223344 app.dll\r\n"
                          "FILE 0 /src/main.c\r\n"
                          "FUNC 1000 20 0 main\r\n"
                          "1000 10 7 0\r\n"
                          "1010 10 8 0\r\n"
                          "PUBLIC 2000 0 exported\r\n";

static struct srv_symb_sources sources(void)
{
    struct srv_symb_sources s;
    memset(&s, 0, sizeof(s));
    s.max_sym_bytes = 1 << 20;
    return s;
}

/* gzip of data (one member). */
static unsigned char *gz(const void *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    T_ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    T_ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void expect_main(const struct srv_symb_fetch_out *out)
{
    T_ASSERT_EQ(out->result, SRV_SYMB_FETCH_FOUND);
    struct sym_image *img;
    T_ASSERT_OK(sym_image_open(out->image.data, out->image.len, &img, NULL));
    struct sym_lookup l;
    T_ASSERT_OK(sym_image_lookup(img, 0x1012, &l));
    T_ASSERT(l.found);
    T_ASSERT(sym_slice_eq_cstr(l.function, "main"));
    T_ASSERT_EQ(l.line, 8);
    T_ASSERT(sym_slice_eq_cstr(sym_image_module_name(img, sym_slice_cstr("app")), "app.dll"));
    sym_image_close(img);
}

static void test_plain_and_gzip_in_every_split(void)
{
    struct srv_symb_sources src = sources();
    size_t zlen;
    unsigned char *z = gz(sym, sizeof(sym) - 1, &zlen);
    size_t chunks[] = {0, 1, 2, 3, 7, 64};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct srv_symb_fetch_out out;
        T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, sym, sizeof(sym) - 1, chunks[i], &out));
        expect_main(&out);
        T_ASSERT_EQ(out.sym_bytes, sizeof(sym) - 1);
        srv_symb_fetch_out_cleanup(&out);
        T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, z, zlen, chunks[i], &out));
        expect_main(&out);
        T_ASSERT_EQ(out.sym_bytes, sizeof(sym) - 1);
        T_ASSERT_EQ(out.stored_bytes, zlen);
        srv_symb_fetch_out_cleanup(&out);
    }
    free(z);
}

static void test_gzip_members_and_damage(void)
{
    struct srv_symb_sources src = sources();
    size_t half = 60, alen, blen;
    unsigned char *a = gz(sym, half, &alen);
    unsigned char *b = gz(sym + half, sizeof(sym) - 1 - half, &blen);
    unsigned char *both = malloc(alen + blen);
    memcpy(both, a, alen);
    memcpy(both + alen, b, blen);
    struct srv_symb_fetch_out out;
    /* `cat a.gz b.gz` is one gzip stream. */
    T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, both, alen + blen, 5, &out));
    expect_main(&out);
    srv_symb_fetch_out_cleanup(&out);
    /* Truncated: invalid, not a crash and not a partial module. */
    T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, both, alen + blen / 2, 0, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_INVALID);
    T_ASSERT(strstr(out.reason, "gzip") != NULL);
    T_ASSERT(out.image.data == NULL);
    srv_symb_fetch_out_cleanup(&out);
    both[alen + 12] ^= 0x55;
    T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, both, alen + blen, 0, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_INVALID);
    srv_symb_fetch_out_cleanup(&out);
    free(a);
    free(b);
    free(both);
}

static void test_checks(void)
{
    struct srv_symb_sources src = sources();
    struct srv_symb_fetch_out out;
    struct {
        const char *id, *text, *reason;
    } cases[] = {
        {"abcde", sym, "bad_debug_id"},
        {"0123456789ABCDEF0123456789ABCDEF1", sym, "sym_debug_id_lookup_error"},
        {ID, "FUNC 1000 20 0 main\n", "sym_debug_id_lookup_error"}, /* no MODULE */
        {ID, "this is junk", "sym_malformed"},
        {ID, "", "sym_malformed"},
        {ID, "\x1f", "sym_malformed"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        T_ASSERT_OK(srv_symb_fetch_from_memory(&src, cases[i].id, cases[i].text,
                                               strlen(cases[i].text), 0, &out));
        T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_INVALID);
        if (strncmp(out.reason, cases[i].reason, strlen(cases[i].reason)) != 0)
            T_FAIL("case %zu: reason \"%s\"", i, out.reason);
        srv_symb_fetch_out_cleanup(&out);
    }
    /* Ids match as decoded Breakpad ids: case and a longer age of the same value. */
    T_ASSERT_OK(srv_symb_fetch_from_memory(&src, "0123456789abcdef0123456789abcdef00", sym,
                                           sizeof(sym) - 1, 0, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_FOUND);
    srv_symb_fetch_out_cleanup(&out);
    /* Size limit on the uncompressed text. */
    src.max_sym_bytes = 64;
    T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, sym, sizeof(sym) - 1, 16, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_INVALID);
    T_ASSERT(strncmp(out.reason, "sym_too_large", 13) == 0);
    srv_symb_fetch_out_cleanup(&out);
}

/* Files past a few MB are parsed on a thread of their own while the bytes still arrive. */
static void test_large_files_parse_on_a_thread(void)
{
    struct sym_buf text;
    sym_buf_init(&text, 0);
    sym_buf_append_str(&text, "MODULE Linux x86_64 " ID " big\nFILE 0 /src/big.c\n");
    for (unsigned i = 0; i < 150000; i++)
        sym_buf_printf(&text,
                       "FUNC %x 10 0 some_namespace::SomeClass::function_%u(int, char)\n"
                       "%x 10 %u 0\n",
                       0x1000 + i * 16, i, 0x1000 + i * 16, i + 1);
    T_ASSERT_OK(sym_buf_err(&text));
    T_ASSERT(text.len > 9u << 20);
    size_t zlen;
    unsigned char *z = gz(text.data, text.len, &zlen);
    struct srv_symb_sources src = sources();
    src.max_sym_bytes = 1u << 30;
    for (int gzip = 0; gzip < 2; gzip++) {
        struct srv_symb_fetch_out out;
        T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, gzip ? (void *)z : (void *)text.data,
                                               gzip ? zlen : text.len, 65536, &out));
        T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_FOUND);
        T_ASSERT_EQ(out.sym_bytes, text.len);
        struct sym_image *img;
        T_ASSERT_OK(sym_image_open(out.image.data, out.image.len, &img, NULL));
        struct sym_lookup l;
        T_ASSERT_OK(sym_image_lookup(img, 0x1000 + 149999 * 16 + 3, &l));
        T_ASSERT(l.found);
        T_ASSERT(
            sym_slice_eq_cstr(l.function, "some_namespace::SomeClass::function_149999(int, char)"));
        T_ASSERT_EQ(l.line, 150000);
        sym_image_close(img);
        srv_symb_fetch_out_cleanup(&out);
    }
    /* A limit met by the parser's thread ends the fetch the same way. */
    src.max_sym_bytes = 9u << 20; /* past the 8 MB where the thread starts */
    struct srv_symb_fetch_out out;
    T_ASSERT_OK(srv_symb_fetch_from_memory(&src, ID, z, zlen, 65536, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_INVALID);
    T_ASSERT(strncmp(out.reason, "sym_too_large", 13) == 0);
    srv_symb_fetch_out_cleanup(&out);
    free(z);
    sym_buf_cleanup(&text);
}

static void put(struct store *st, bool try_storage, const char *file, const char *id,
                const char *name, const void *data, size_t len)
{
    struct sym_buf key;
    sym_buf_init(&key, 0);
    T_ASSERT_OK(store_key_build(&key, try_storage, file, id, name));
    struct store_put_opts o = {.content_type = "text/plain", .content_encoding = "gzip"};
    T_ASSERT_OK(st->ops->put_mem(st->impl, key.data, data, len, &o, NULL));
    sym_buf_cleanup(&key);
}

static void test_storage_source(void)
{
    char url[4200];
    snprintf(url, sizeof(url), "file://%s/store", t_tmpdir());
    struct store_config cfg = {.url = url};
    struct store st;
    T_ASSERT_OK(store_open(&cfg, &st, NULL));
    struct srv_symb_sources src = sources();
    src.store = &st;
    size_t zlen;
    unsigned char *z = gz(sym, sizeof(sym) - 1, &zlen);
    struct srv_symb_fetch_out out;
    T_ASSERT_OK(srv_symb_fetch(&src, "app", ID, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_NOTFOUND);
    srv_symb_fetch_out_cleanup(&out);
    /* In try storage only: found there, second. Debug ids are upper-cased in keys. */
    put(&st, true, "app", ID, "app.sym", z, zlen);
    T_ASSERT_OK(srv_symb_fetch(&src, "app", "0123456789abcdef0123456789abcdef0", &out));
    expect_main(&out);
    T_ASSERT_STR_EQ(out.source, "storage-try");
    srv_symb_fetch_out_cleanup(&out);
    /* A .pdb module's file is <name>.sym; regular storage comes first. */
    static const char pdb[] = "MODULE windows x86 " ID " app.pdb\nFUNC 1000 20 0 main\n";
    put(&st, false, "app.pdb", ID, "app.sym", pdb, sizeof(pdb) - 1);
    T_ASSERT_OK(srv_symb_fetch(&src, "app.pdb", ID, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_FOUND);
    T_ASSERT_STR_EQ(out.source, "storage");
    srv_symb_fetch_out_cleanup(&out);
    /* Names no storage key can hold are simply not found. */
    T_ASSERT_OK(srv_symb_fetch(&src, "app\n", ID, &out));
    T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_NOTFOUND);
    srv_symb_fetch_out_cleanup(&out);
    free(z);
    store_close(&st);
}

/* ---- the Eliot library cases of the corpus -------------------------------------------------- */

static json_t *load_case(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "eliot/cases/%s.json", name);
    json_error_t e;
    json_t *c = json_load_file(t_corpus_path(rel), 0, &e);
    if (c == NULL)
        T_FAIL("%s: %s", rel, e.text);
    return c;
}

static const char *str_at(json_t *obj, const char *a, const char *b)
{
    json_t *v = json_object_get(obj, a);
    if (b != NULL)
        v = json_object_get(v, b);
    return json_string_value(v);
}

static char *read_corpus(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "eliot/%s", rel);
    return t_read_file(t_corpus_path(path), len);
}

static void test_eliot_debug_ids(void)
{
    json_t *c = load_case("debug-id-to-uuid");
    const char *id = str_at(c, "request", "debug_id");
    struct srv_symb_debug_id d;
    char uuid[SRV_SYMB_UUID_BUF];
    T_ASSERT(srv_symb_debug_id_parse(id, strlen(id), &d));
    srv_symb_debug_id_format(&d, uuid);
    T_ASSERT_STR_EQ(uuid, str_at(c, "expected_response", "uuid"));
    json_decref(c);
    c = load_case("debug-id-invalid");
    id = str_at(c, "request", "debug_id");
    T_ASSERT(!srv_symb_debug_id_parse(id, strlen(id), &d));
    json_decref(c);
    /* get_symcache reports the parsed module's id in UUID form (age 0 dropped). */
    c = load_case("symcache-from-cache");
    id = str_at(c, "request", "debug_id");
    T_ASSERT(srv_symb_debug_id_parse(id, strlen(id), &d));
    srv_symb_debug_id_format(&d, uuid);
    T_ASSERT_STR_EQ(uuid, str_at(c, "expected_response", "debug_id_uuid"));
    json_decref(c);
}

static void test_eliot_module_names(void)
{
    const char *names[] = {"module-name-linux-code-id", "module-name-pe",
                           "module-name-without-info"};
    struct srv_symb_sources src = sources();
    for (size_t i = 0; i < 3; i++) {
        json_t *c = load_case(names[i]);
        size_t len;
        char *text = read_corpus(str_at(c, "request", "sym_file"), &len);
        /* The id of the file itself: its MODULE line. */
        const char *mod = strstr(text, "MODULE ");
        T_ASSERT(mod != NULL);
        char id[64] = "";
        sscanf(mod, "MODULE %*s %*s %63s", id);
        struct srv_symb_fetch_out out;
        T_ASSERT_OK(srv_symb_fetch_from_memory(&src, id, text, len, 0, &out));
        T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_FOUND);
        struct sym_image *img;
        T_ASSERT_OK(sym_image_open(out.image.data, out.image.len, &img, NULL));
        struct sym_slice name =
            sym_image_module_name(img, sym_slice_cstr(str_at(c, "request", "debug_filename")));
        if (!sym_slice_eq_cstr(name, str_at(c, "expected_response", "module_name")))
            T_FAIL("%s: %.*s", names[i], SYM_SLICE_FMT_ARGS(name));
        sym_image_close(img);
        srv_symb_fetch_out_cleanup(&out);
        free(text);
        json_decref(c);
    }
}

static void test_eliot_parse_cases(void)
{
    const char *names[] = {"parse-sym-file-bad-debug-id", "parse-sym-file-debug-id-mismatch",
                           "parse-sym-file-malformed", "parse-sym-file-lookup"};
    struct srv_symb_sources src = sources();
    for (size_t i = 0; i < 4; i++) {
        json_t *c = load_case(names[i]);
        json_t *req = json_object_get(c, "request");
        size_t len;
        char *text;
        if (json_object_get(req, "sym_file_bytes") != NULL) {
            const char *b = str_at(req, "sym_file_bytes", NULL);
            len = strlen(b);
            text = strdup(b);
        } else {
            text = read_corpus(str_at(req, "sym_file", NULL), &len);
        }
        struct srv_symb_fetch_out out;
        T_ASSERT_OK(
            srv_symb_fetch_from_memory(&src, str_at(req, "debug_id", NULL), text, len, 0, &out));
        const char *reason = str_at(c, "expected_response", "error_reason");
        if (reason != NULL) {
            T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_INVALID);
            if (strncmp(out.reason, reason, strlen(reason)) != 0)
                T_FAIL("%s: reason \"%s\", want %s", names[i], out.reason, reason);
        } else {
            T_ASSERT_EQ(out.result, SRV_SYMB_FETCH_FOUND);
            struct sym_image *img;
            T_ASSERT_OK(sym_image_open(out.image.data, out.image.len, &img, NULL));
            struct sym_lookup l;
            const char *off = str_at(req, "module_offset", NULL);
            T_ASSERT_OK(sym_image_lookup(img, strtoull(off, NULL, 16), &l));
            T_ASSERT(l.found);
            T_ASSERT(sym_slice_eq_cstr(l.function, str_at(c, "expected_response", "function")));
            sym_image_close(img);
        }
        srv_symb_fetch_out_cleanup(&out);
        free(text);
        json_decref(c);
    }
}

T_LIST(T_TEST(test_plain_and_gzip_in_every_split), T_TEST(test_gzip_members_and_damage),
       T_TEST(test_checks), T_TEST(test_large_files_parse_on_a_thread), T_TEST(test_storage_source),
       T_TEST(test_eliot_debug_ids), T_TEST(test_eliot_module_names),
       T_TEST(test_eliot_parse_cases))
