/* SPDX-License-Identifier: MPL-2.0 */
/* test_cache.c: the LMDB symcache store: round trips with zero-copy images, misses, negative
 * entries and their TTL, key validation, the size bound with least-recently-used eviction,
 * restart survival (entries and recency), format-version invalidation, corrupt stores, and
 * reader threads running against a writer. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/alloc.h"
#include "sym/cache.h"
#include "symtest.h"

static const char fixture[] = "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 app\n"
                              "FILE 0 main.c\nFUNC 1000 10 0 main\n1000 10 7 0\n";

static struct sym_slice S(const char *s) {
    return sym_slice_cstr(s);
}

static void
rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static struct sym_cache *open_cache(const char *dir, uint64_t max_bytes, uint32_t version)
{
    struct sym_cache_opts o;
    sym_cache_opts_init(&o);
    o.max_bytes = max_bytes;
    o.no_sync = true;
    o.touch_granularity_s = 0;
    o.format_version = version;
    struct sym_cache *c;
    struct sym_diag d;
    sym_err rc = sym_cache_open(dir, &o, &c, &d);
    if (rc != SYM_OK)
        T_FAIL("sym_cache_open: %s: %s", sym_errname(rc), d.msg);
    return c;
}

/* A blob of n bytes all equal to tag, so that a torn or mixed-up read is visible. */
static char *blob(size_t n, char tag)
{
    char *b = malloc(n);
    memset(b, tag, n);
    return b;
}

static bool has(struct sym_cache *c, const char *file, const char *id, uint64_t now)
{
    struct sym_cache_reader *r;
    T_ASSERT_OK(sym_cache_reader_new(c, &r));
    struct sym_cache_value v;
    sym_err rc = sym_cache_get(r, S(file), S(id), now, &v);
    T_ASSERT(rc == SYM_OK || rc == SYM_ENOTFOUND);
    sym_cache_reader_free(r);
    return rc == SYM_OK;
}

static void test_round_trip(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    struct sym_cache *c = open_cache(dir, 1 << 20, 0);
    struct st_image s;
    st_build(&s, fixture);
    T_ASSERT_OK(sym_cache_put(c, S("app"), S("0123456789ABCDEF0123456789ABCDEF0"), s.buf.data,
                              s.buf.len, 1000));
    struct sym_cache_reader *r;
    T_ASSERT_OK(sym_cache_reader_new(c, &r));
    struct sym_cache_value v;
    T_ASSERT_OK(sym_cache_get(r, S("app"), S("0123456789ABCDEF0123456789ABCDEF0"), 1001, &v));
    T_ASSERT_EQ(v.kind, SYM_CACHE_IMAGE);
    T_ASSERT_EQ(v.len, s.buf.len);
    T_ASSERT_U64_EQ(v.stored_at, 1000);
    T_ASSERT_MEM_EQ(v.data, s.buf.data, v.len);
    /* The value is used in place, straight from the map. */
    struct sym_image *img;
    T_ASSERT_OK(sym_image_open(v.data, v.len, &img, NULL));
    struct sym_lookup l;
    T_ASSERT_OK(sym_image_lookup(img, 0x1004, &l));
    T_ASSERT_STR_EQ(st_str(l.function), "main");
    sym_image_close(img);
    T_ASSERT_ERR(sym_cache_get(r, S("app"), S("other"), 1001, &v), SYM_ENOTFOUND);
    T_ASSERT_ERR(sym_cache_get(r, S("other"), S("0123456789ABCDEF0123456789ABCDEF0"), 1001, &v),
                 SYM_ENOTFOUND);
    sym_cache_release(r);
    sym_cache_release(r);
    /* The reader's transaction is reusable after a release. */
    T_ASSERT_OK(sym_cache_get(r, S("app"), S("0123456789ABCDEF0123456789ABCDEF0"), 1002, &v));
    sym_cache_reader_free(r);

    struct sym_cache_stats st;
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT_EQ(st.entries, 1);
    T_ASSERT_EQ(st.hits, 2);
    T_ASSERT_EQ(st.misses, 2);
    T_ASSERT(st.bytes >= s.buf.len && st.bytes < s.buf.len + 1024);

    /* Replacing keeps one entry; deleting removes it. */
    T_ASSERT_OK(sym_cache_put(c, S("app"), S("0123456789ABCDEF0123456789ABCDEF0"), "x", 1, 1003));
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT_EQ(st.entries, 1);
    T_ASSERT(st.bytes < 1024);
    T_ASSERT_OK(sym_cache_delete(c, S("app"), S("0123456789ABCDEF0123456789ABCDEF0")));
    T_ASSERT_ERR(sym_cache_delete(c, S("app"), S("0123456789ABCDEF0123456789ABCDEF0")),
                 SYM_ENOTFOUND);
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT_EQ(st.entries, 0);
    T_ASSERT_EQ(st.bytes, 0);
    sym_cache_close(c);
    st_free(&s);
    rm_rf(dir);
}

static void test_keys(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    struct sym_cache *c = open_cache(dir, 1 << 20, 0);
    char longname[SYM_CACHE_MAX_KEY + 10];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    T_ASSERT_ERR(sym_cache_put(c, S(""), S("id"), "x", 1, 1), SYM_EINVAL);
    T_ASSERT_ERR(sym_cache_put(c, S("f"), S(""), "x", 1, 1), SYM_EINVAL);
    T_ASSERT_ERR(sym_cache_put(c, S(longname), S("id"), "x", 1, 1), SYM_EINVAL);
    T_ASSERT_ERR(sym_cache_put(c, sym_slice_make("a\0b", 3), S("id"), "x", 1, 1), SYM_EINVAL);
    T_ASSERT_ERR(sym_cache_put_negative(c, S("f"), sym_slice_make("i\0d", 3), 1, 0), SYM_EINVAL);
    /* (file, id) is one key: no aliasing between "a"+"bc" and "ab"+"c". */
    T_ASSERT_OK(sym_cache_put(c, S("a"), S("bc"), "1", 1, 1));
    T_ASSERT(!has(c, "ab", "c", 2));
    T_ASSERT(has(c, "a", "bc", 2));
    struct sym_cache_reader *r;
    T_ASSERT_OK(sym_cache_reader_new(c, &r));
    struct sym_cache_value v;
    T_ASSERT_ERR(sym_cache_get(r, S(longname), S("x"), 1, &v), SYM_EINVAL);
    sym_cache_reader_free(r);
    sym_cache_close(c);
    rm_rf(dir);
}

static void test_negative_entries(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    struct sym_cache *c = open_cache(dir, 1 << 20, 0);
    T_ASSERT_OK(sym_cache_put_negative(c, S("nosyms.pdb"), S("ABC1"), 1000, 10));
    struct sym_cache_reader *r;
    T_ASSERT_OK(sym_cache_reader_new(c, &r));
    struct sym_cache_value v;
    T_ASSERT_OK(sym_cache_get(r, S("nosyms.pdb"), S("ABC1"), 1009, &v));
    T_ASSERT_EQ(v.kind, SYM_CACHE_NEGATIVE);
    T_ASSERT_U64_EQ(v.expires_at, 1010);
    T_ASSERT_EQ(v.len, 0);
    T_ASSERT_ERR(sym_cache_get(r, S("nosyms.pdb"), S("ABC1"), 1010, &v), SYM_ENOTFOUND);
    sym_cache_release(r);
    /* The default TTL, and an image replacing a negative entry. */
    T_ASSERT_OK(sym_cache_put_negative(c, S("nosyms.pdb"), S("ABC2"), 1000, 0));
    T_ASSERT_OK(sym_cache_get(r, S("nosyms.pdb"), S("ABC2"), 1000 + 3599, &v));
    T_ASSERT_ERR(sym_cache_get(r, S("nosyms.pdb"), S("ABC2"), 1000 + 3600, &v), SYM_ENOTFOUND);
    sym_cache_release(r);
    T_ASSERT_OK(sym_cache_put(c, S("nosyms.pdb"), S("ABC2"), "img", 3, 2000));
    T_ASSERT_OK(sym_cache_get(r, S("nosyms.pdb"), S("ABC2"), 5000000, &v));
    T_ASSERT_EQ(v.kind, SYM_CACHE_IMAGE);
    sym_cache_reader_free(r);
    struct sym_cache_stats st;
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT_EQ(st.entries, 2);
    T_ASSERT_EQ(st.negative_entries, 1);
    T_ASSERT_EQ(st.negative_hits, 2);
    sym_cache_close(c);
    rm_rf(dir);
}

static void test_lru_eviction(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    /* Room for three 10 KB entries, not four. */
    struct sym_cache *c = open_cache(dir, 35000, 0);
    char *b = blob(10000, 'x');
    T_ASSERT_OK(sym_cache_put(c, S("a"), S("1"), b, 10000, 1));
    T_ASSERT_OK(sym_cache_put(c, S("b"), S("1"), b, 10000, 2));
    T_ASSERT_OK(sym_cache_put(c, S("c"), S("1"), b, 10000, 3));
    T_ASSERT(has(c, "a", "1", 10)); /* a is now the most recently used */
    T_ASSERT_OK(sym_cache_put(c, S("d"), S("1"), b, 10000, 11));
    T_ASSERT(!has(c, "b", "1", 12));
    T_ASSERT(has(c, "a", "1", 12) && has(c, "c", "1", 12) && has(c, "d", "1", 12));
    struct sym_cache_stats st;
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT_EQ(st.evictions, 1);
    T_ASSERT_EQ(st.entries, 3);
    T_ASSERT(st.bytes <= 35000);
    /* An entry larger than the whole bound is refused. */
    char *big = blob(40000, 'y');
    T_ASSERT_ERR(sym_cache_put(c, S("big"), S("1"), big, 40000, 20), SYM_ELIMIT);
    /* Many puts of varied sizes never exceed the bound. */
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof(name), "m%d", i);
        size_t n = 100 + (size_t)(i * 7919) % 9000;
        T_ASSERT_OK(sym_cache_put(c, S(name), S("1"), big, n, 100 + (uint64_t)i));
        T_ASSERT_OK(sym_cache_stats(c, &st));
        T_ASSERT(st.bytes <= 35000);
    }
    T_ASSERT(has(c, "m199", "1", 1000));
    T_ASSERT(!has(c, "m0", "1", 1000));
    free(big);
    free(b);
    sym_cache_close(c);
    rm_rf(dir);
}

static void test_restart(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    struct sym_cache *c = open_cache(dir, 35000, 0);
    char *b = blob(10000, 'z');
    T_ASSERT_OK(sym_cache_put(c, S("a"), S("1"), b, 10000, 1));
    T_ASSERT_OK(sym_cache_put(c, S("b"), S("1"), b, 10000, 2));
    T_ASSERT_OK(sym_cache_put(c, S("c"), S("1"), b, 10000, 3));
    T_ASSERT(has(c, "a", "1", 5)); /* recorded in memory, written at close */
    sym_cache_close(c);
    c = open_cache(dir, 35000, 0);
    struct sym_cache_stats st;
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT_EQ(st.entries, 3);
    T_ASSERT_OK(sym_cache_put(c, S("d"), S("1"), b, 10000, 6));
    T_ASSERT(!has(c, "b", "1", 7));
    T_ASSERT(has(c, "a", "1", 7));
    struct sym_cache_reader *r;
    T_ASSERT_OK(sym_cache_reader_new(c, &r));
    struct sym_cache_value v;
    T_ASSERT_OK(sym_cache_get(r, S("c"), S("1"), 8, &v));
    T_ASSERT_EQ(v.len, 10000);
    T_ASSERT(((const char *)v.data)[9999] == 'z');
    sym_cache_reader_free(r);
    sym_cache_close(c);

    /* Another format version drops every entry. */
    c = open_cache(dir, 35000, SYM_IMAGE_VERSION + 100);
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT_EQ(st.entries, 0);
    T_ASSERT(!has(c, "a", "1", 9));
    T_ASSERT_OK(sym_cache_put(c, S("a"), S("1"), b, 10, 10));
    sym_cache_close(c);
    c = open_cache(dir, 35000, 0);
    T_ASSERT(!has(c, "a", "1", 11));
    sym_cache_close(c);
    free(b);
    rm_rf(dir);
}

static void test_corrupt_store(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    T_ASSERT(mkdir(dir, 0755) == 0);
    char p[600];
    snprintf(p, sizeof(p), "%s/data.mdb", dir);
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    char junk[8192];
    memset(junk, 0x5a, sizeof(junk));
    T_ASSERT(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
    close(fd);
    struct sym_cache_opts o;
    sym_cache_opts_init(&o);
    struct sym_cache *c;
    struct sym_diag d;
    sym_err rc = sym_cache_open(dir, &o, &c, &d);
    T_ASSERT(rc == SYM_ECORRUPT || rc == SYM_EIO);
    T_ASSERT(strstr(d.msg, "symcache store") != NULL);
    rm_rf(dir);
    o.map_bytes = 10;
    o.max_bytes = 100;
    T_ASSERT_ERR(sym_cache_open(dir, &o, &c, &d), SYM_EINVAL);
}

/* Readers in several threads while a writer replaces and evicts entries: every value read is
 * one whole blob as written. */
struct reader_arg {
    struct sym_cache *c;
    int id;
    size_t reads, hits;
    bool bad;
};

static void *reader_main(void *p)
{
    struct reader_arg *a = p;
    struct sym_cache_reader *r;
    if (sym_cache_reader_new(a->c, &r) != SYM_OK) {
        a->bad = true;
        return NULL;
    }
    for (int i = 0; i < 3000; i++) {
        char name[16];
        snprintf(name, sizeof(name), "k%d", (i * 7 + a->id) % 12);
        struct sym_cache_value v;
        sym_err rc = sym_cache_get(r, S(name), S("1"), 100 + (uint64_t)i, &v);
        a->reads++;
        if (rc == SYM_OK) {
            const char *d = v.data;
            for (size_t k = 1; k < v.len; k++)
                if (d[k] != d[0])
                    a->bad = true;
            a->hits++;
        } else if (rc != SYM_ENOTFOUND) {
            a->bad = true;
        }
        if (i % 5 == 0)
            sym_cache_release(r);
    }
    sym_cache_reader_free(r);
    return NULL;
}

static void test_threads(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    struct sym_cache *c = open_cache(dir, 200000, 0);
    char *b = blob(30000, 'a');
    for (int k = 0; k < 6; k++) {
        char name[16];
        snprintf(name, sizeof(name), "k%d", k);
        T_ASSERT_OK(sym_cache_put(c, S(name), S("1"), b, 30000, 1));
    }
    enum { N = 4 };
    pthread_t th[N];
    struct reader_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct reader_arg){c, i, 0, 0, false};
        T_ASSERT(pthread_create(&th[i], NULL, reader_main, &args[i]) == 0);
    }
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof(name), "k%d", i % 12);
        memset(b, 'a' + i % 26, 30000);
        T_ASSERT_OK(
            sym_cache_put(c, S(name), S("1"), b, 30000 - (size_t)(i % 100), 2 + (uint64_t)i));
    }
    size_t hits = 0;
    for (int i = 0; i < N; i++) {
        T_ASSERT(pthread_join(th[i], NULL) == 0);
        T_ASSERT(!args[i].bad);
        hits += args[i].hits;
    }
    T_ASSERT(hits > 0);
    struct sym_cache_stats st;
    T_ASSERT_OK(sym_cache_stats(c, &st));
    T_ASSERT(st.bytes <= 200000);
    free(b);
    sym_cache_close(c);
    rm_rf(dir);
}

/* A parser finished straight into the store gives the same image as an ordinary parse. */
static void test_put_parsed(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    struct sym_cache *c = open_cache(dir, 1 << 20, 0);
    struct sym_parser *p;
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    T_ASSERT_OK(sym_parser_feed(p, fixture, sizeof(fixture) - 1));
    struct sym_parse_stats st;
    struct sym_diag d;
    T_ASSERT_OK(sym_cache_put_parsed(c, S("app"), S("ID"), p, 100, &st, &d));
    sym_parser_free(p);
    struct sym_buf direct;
    sym_buf_init(&direct, 0);
    T_ASSERT_OK(sym_parse_buffer(fixture, sizeof(fixture) - 1, NULL, &direct, NULL, NULL));
    T_ASSERT_U64_EQ(st.image_bytes, direct.len);
    struct sym_cache_reader *r;
    T_ASSERT_OK(sym_cache_reader_new(c, &r));
    struct sym_cache_value v;
    T_ASSERT_OK(sym_cache_get(r, S("app"), S("ID"), 101, &v));
    T_ASSERT_EQ(v.kind, SYM_CACHE_IMAGE);
    T_ASSERT_EQ(v.len, direct.len);
    T_ASSERT_MEM_EQ(v.data, direct.data, direct.len);
    sym_cache_release(r);
    /* A parse error stores nothing and keeps the previous entry. */
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    T_ASSERT_ERR(sym_parser_feed(p, "junk junk\n", 10), SYM_EPARSE);
    T_ASSERT_ERR(sym_cache_put_parsed(c, S("app"), S("ID"), p, 102, NULL, &d), SYM_EPARSE);
    T_ASSERT(strstr(d.msg, "not a Breakpad symbol file") != NULL);
    sym_parser_free(p);
    T_ASSERT_OK(sym_cache_get(r, S("app"), S("ID"), 103, &v));
    T_ASSERT_EQ(v.len, direct.len);
    sym_cache_reader_free(r);
    struct sym_cache_stats cs;
    T_ASSERT_OK(sym_cache_stats(c, &cs));
    T_ASSERT_EQ(cs.entries, 1);
    T_ASSERT(cs.bytes >= direct.len && cs.bytes < direct.len + 1024);
    /* Too large for the bound: refused, nothing stored. */
    sym_cache_close(c);
    c = open_cache(dir, 300, 0);
    T_ASSERT_OK(sym_parser_new(NULL, &p));
    T_ASSERT_OK(sym_parser_feed(p, fixture, sizeof(fixture) - 1));
    T_ASSERT_ERR(sym_cache_put_parsed(c, S("big"), S("ID"), p, 104, NULL, NULL), SYM_ELIMIT);
    sym_parser_free(p);
    T_ASSERT(!has(c, "big", "ID", 105));
    sym_cache_close(c);
    sym_buf_cleanup(&direct);
    rm_rf(dir);
}

/* Every allocation failure gives SYM_ENOMEM and leaks nothing, except the copy of the use log,
 * whose failure only delays recency updates (the put still succeeds). */
static void test_allocation_failures(void)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/c", t_tmpdir());
    struct sym_cache_opts o;
    sym_cache_opts_init(&o);
    o.no_sync = true;
    o.touch_granularity_s = 0;
    int enomem = 0;
    for (unsigned long k = 1;; k++) {
        sym_alloc_fail_at(k);
        struct sym_cache *c = NULL;
        struct sym_cache_reader *r = NULL;
        sym_err rc = sym_cache_open(dir, &o, &c, NULL);
        if (rc == SYM_OK)
            rc = sym_cache_put(c, S("f"), S("1"), "data", 4, 1);
        if (rc == SYM_OK)
            rc = sym_cache_reader_new(c, &r);
        struct sym_cache_value v;
        if (rc == SYM_OK)
            rc = sym_cache_get(r, S("f"), S("1"), 2, &v);
        if (rc == SYM_OK)
            rc = sym_cache_put(c, S("g"), S("1"), "more", 4, 3); /* applies the recorded use */
        unsigned long used = sym_alloc_count();
        sym_alloc_fail_at(0);
        sym_cache_reader_free(r);
        sym_cache_close(c);
        if (k > used) {
            T_ASSERT_OK(rc);
            break;
        }
        T_ASSERT(rc == SYM_ENOMEM || rc == SYM_OK);
        enomem += rc == SYM_ENOMEM;
    }
    T_ASSERT(enomem >= 3);
    rm_rf(dir);
}

T_LIST(T_TEST(test_round_trip), T_TEST(test_keys), T_TEST(test_negative_entries),
       T_TEST(test_lru_eviction), T_TEST(test_restart), T_TEST(test_corrupt_store),
       T_TEST(test_threads), T_TEST(test_put_parsed), T_TEST(test_allocation_failures))
