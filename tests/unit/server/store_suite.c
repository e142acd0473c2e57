/* SPDX-License-Identifier: MPL-2.0 */
/* store_suite.c: the backend-independent storage tests (see store_suite.h).
 * Assertions run on the main thread only: worker threads record failures in their results. */
#include "store_suite.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "t.h"

/* ------------------------------------------------------------------------------------------ */
/* Suite plumbing                                                                             */
/* ------------------------------------------------------------------------------------------ */

static struct store open_store(void)
{
    struct store s = {0};
    suite_backend.open(&s);
    T_ASSERT(s.ops != NULL);
    return s;
}

static void close_store(struct store *s)
{
    store_close(s);
    if (suite_backend.cleanup)
        suite_backend.cleanup();
}

static void put_str(struct store *s, const char *key, const char *text,
                    const struct store_put_opts *opts)
{
    struct sym_diag d = {0};
    sym_err rc = s->ops->put_mem(s->impl, key, text, strlen(text), opts, &d);
    if (rc != SYM_OK)
        T_FAIL("put %s: %s: %s", key, sym_errname(rc), d.msg);
}

/* Reads key fully (capped at 1 MiB) into m; returns the result code. */
static sym_err get_all(struct store *s, const char *key, struct mem_sink *m,
                       struct store_object_info *info)
{
    memset(m, 0, sizeof(*m));
    m->cap = 1 << 20;
    return s->ops->get(s->impl, key, mem_sink, m, info, NULL);
}

static void expect_text(struct store *s, const char *key, const char *want)
{
    struct mem_sink m;
    struct store_object_info info;
    T_ASSERT_OK(get_all(s, key, &m, &info));
    T_ASSERT_EQ(m.len, strlen(want));
    T_ASSERT_EQ(info.size, strlen(want));
    T_ASSERT_MEM_EQ(m.data, want, m.len);
    mem_sink_free(&m);
}

static const char *const MD5_A = "0123456789abcdef0123456789abcdef";

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */
/* ------------------------------------------------------------------------------------------ */

void suite_roundtrip(void)
{
    struct store s = open_store();
    struct store_object_info info;
    const char *key = "v1/xul.pdb/44E4EC8C2F41492B9369D6B9A059577C2/xul.sym";
    put_str(&s, key, "MODULE windows x86 44E4 xul.pdb\n", NULL);
    T_ASSERT_OK(s.ops->head(s.impl, key, &info, NULL));
    T_ASSERT_EQ(info.size, 32);
    expect_text(&s, key, "MODULE windows x86 44E4 xul.pdb\n");
    T_ASSERT_OK(s.ops->del(s.impl, key, NULL));
    T_ASSERT_ERR(s.ops->head(s.impl, key, &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_OK(s.ops->del(s.impl, key, NULL)); /* deleting twice is fine */
    /* put_file takes the same path as put_mem. */
    char path[512];
    snprintf(path, sizeof(path), "%s/src.bin", t_tmpdir());
    FILE *f = fopen(path, "wb");
    T_ASSERT(f != NULL);
    fputs("from a file", f);
    T_ASSERT(fclose(f) == 0);
    T_ASSERT_OK(s.ops->put_file(s.impl, "try/v1/a.pdb/ID/a.sym", path, NULL, NULL));
    expect_text(&s, "try/v1/a.pdb/ID/a.sym", "from a file");
    remove(path);
    close_store(&s);
}

void suite_metadata(void)
{
    struct store s = open_store();
    struct store_object_info info, got_info;
    struct store_put_opts opts = {
        .content_type = "text/plain",
        .content_encoding = "gzip",
        .cache_control = "no-transform",
        .has_original_size = true,
        .original_size = 1234567890123ULL,
        .original_md5 = MD5_A,
    };
    put_str(&s, "v1/a.pdb/ID/a.sym", "\x1f\x8b compressed", &opts);
    T_ASSERT_OK(s.ops->head(s.impl, "v1/a.pdb/ID/a.sym", &info, NULL));
    T_ASSERT_STR_EQ(info.content_type, "text/plain");
    T_ASSERT_STR_EQ(info.content_encoding, "gzip");
    T_ASSERT_STR_EQ(info.cache_control, "no-transform");
    T_ASSERT(info.has_original_size);
    T_ASSERT_U64_EQ(info.original_size, 1234567890123ULL);
    T_ASSERT_STR_EQ(info.original_md5, MD5_A);
    T_ASSERT_EQ(info.size, 13);
    T_ASSERT(info.etag[0] == '"');
    int64_t now = (int64_t)time(NULL);
    T_ASSERT(info.last_modified > now - 86400 && info.last_modified < now + 86400);

    /* get() reports the same before the bytes. */
    struct mem_sink m;
    T_ASSERT_OK(get_all(&s, "v1/a.pdb/ID/a.sym", &m, &got_info));
    T_ASSERT_STR_EQ(got_info.content_encoding, "gzip");
    T_ASSERT_STR_EQ(got_info.original_md5, MD5_A);
    T_ASSERT_U64_EQ(got_info.original_size, 1234567890123ULL);
    T_ASSERT_STR_EQ(got_info.etag, info.etag);
    mem_sink_free(&m);

    /* No attributes: only the default content type comes back. */
    put_str(&s, "v1/b.pdb/ID/b.pd_", "raw", NULL);
    T_ASSERT_OK(s.ops->head(s.impl, "v1/b.pdb/ID/b.pd_", &info, NULL));
    T_ASSERT_STR_EQ(info.content_type, STORE_DEFAULT_CONTENT_TYPE);
    T_ASSERT_STR_EQ(info.content_encoding, "");
    T_ASSERT_STR_EQ(info.cache_control, "");
    T_ASSERT(!info.has_original_size);
    T_ASSERT_STR_EQ(info.original_md5, "");

    /* Only a cache control, as Tecken writes for non-.sym files; empty strings mean none. */
    struct store_put_opts cc = {.cache_control = "no-transform", .content_encoding = ""};
    put_str(&s, "v1/c.pdb/ID/c.dl_", "raw", &cc);
    T_ASSERT_OK(s.ops->head(s.impl, "v1/c.pdb/ID/c.dl_", &info, NULL));
    T_ASSERT_STR_EQ(info.cache_control, "no-transform");
    T_ASSERT_STR_EQ(info.content_encoding, "");
    close_store(&s);
}

void suite_not_found(void)
{
    struct store s = open_store();
    struct store_object_info info;
    memset(&info, 0x5a, sizeof(info));
    struct mem_sink m = {.cap = 100};
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/none.pdb/ID/none.sym", &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/none.pdb/ID/none.sym", mem_sink, &m, &info, NULL),
                 SYM_ENOTFOUND);
    T_ASSERT_EQ(m.calls, 0);
    T_ASSERT_EQ((unsigned char)info.content_type[0], 0x5a); /* untouched on failure */
    T_ASSERT_OK(s.ops->del(s.impl, "v1/none.pdb/ID/none.sym", NULL));
    /* A prefix of stored keys is not an object. */
    put_str(&s, "v1/a.pdb/ID/a.sym", "x", NULL);
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/a.pdb/ID", &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/a.pdb/ID/a.sym/deeper", &info, NULL), SYM_ENOTFOUND);
    close_store(&s);
}

void suite_empty_object(void)
{
    struct store s = open_store();
    struct store_object_info info;
    struct store_put_opts opts = {.content_type = "text/plain"};
    memset(&info, 0x5a, sizeof(info));
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/e.pdb/ID/e.sym", NULL, 0, &opts, NULL));
    struct mem_sink m = {.cap = 100};
    T_ASSERT_OK(s.ops->get(s.impl, "v1/e.pdb/ID/e.sym", mem_sink, &m, &info, NULL));
    T_ASSERT_EQ(m.calls, 0);
    T_ASSERT_EQ(info.size, 0);
    T_ASSERT_STR_EQ(info.content_type, "text/plain");
    close_store(&s);
}

/* Overwrites: sequential semantics first, then readers racing a writer. */
struct overwrite_ctx {
    struct store *s;
    pthread_rwlock_t turn; /* taken only when the backend does not overwrite atomically */
    int stop;              /* atomic */
    int reads, torn, errors;
    char why[160];
};

#define OW_KEY    "v1/ow.pdb/ID/ow.sym"
#define OW_A_SIZE (96 * 1024)
#define OW_B_SIZE (160 * 1024)

static void overwrite_put(struct overwrite_ctx *o, char which, const char *buf)
{
    struct store_put_opts a = {.content_encoding = "gzip",
                               .has_original_size = true,
                               .original_size = 1,
                               .original_md5 = MD5_A};
    struct store_put_opts b = {.content_type = "text/plain", .cache_control = "no-transform"};
    if (!suite_backend.atomic_overwrite)
        pthread_rwlock_wrlock(&o->turn);
    sym_err rc = o->s->ops->put_mem(o->s->impl, OW_KEY, buf, which == 'a' ? OW_A_SIZE : OW_B_SIZE,
                                    which == 'a' ? &a : &b, NULL);
    if (!suite_backend.atomic_overwrite)
        pthread_rwlock_unlock(&o->turn);
    if (rc != SYM_OK)
        __atomic_add_fetch(&o->errors, 1, __ATOMIC_RELAXED);
}

/* True when what was read is entirely object A with A's attributes, or entirely B with B's. */
static bool overwrite_consistent(const struct mem_sink *m, const struct store_object_info *i)
{
    if (m->len == 0)
        return false;
    char c = m->data[0];
    for (size_t k = 0; k < m->len; k++)
        if (m->data[k] != c)
            return false;
    if (c == 'a')
        return m->len == OW_A_SIZE && i->size == OW_A_SIZE &&
               strcmp(i->content_encoding, "gzip") == 0 && i->has_original_size &&
               strcmp(i->original_md5, MD5_A) == 0;
    if (c == 'b')
        return m->len == OW_B_SIZE && i->size == OW_B_SIZE &&
               strcmp(i->content_type, "text/plain") == 0 && i->content_encoding[0] == '\0' &&
               !i->has_original_size;
    return false;
}

static void *overwrite_reader(void *arg)
{
    struct overwrite_ctx *o = arg;
    struct mem_sink m = {0};
    while (!__atomic_load_n(&o->stop, __ATOMIC_RELAXED)) {
        struct store_object_info info;
        m.len = 0;
        m.cap = 1 << 20;
        if (!suite_backend.atomic_overwrite)
            pthread_rwlock_rdlock(&o->turn);
        sym_err rc = o->s->ops->get(o->s->impl, OW_KEY, mem_sink, &m, &info, NULL);
        if (!suite_backend.atomic_overwrite)
            pthread_rwlock_unlock(&o->turn);
        __atomic_add_fetch(&o->reads, 1, __ATOMIC_RELAXED);
        if (rc != SYM_OK)
            __atomic_add_fetch(&o->errors, 1, __ATOMIC_RELAXED);
        else if (!overwrite_consistent(&m, &info))
            __atomic_add_fetch(&o->torn, 1, __ATOMIC_RELAXED);
    }
    mem_sink_free(&m);
    return NULL;
}

void suite_overwrite(void)
{
    struct store s = open_store();
    struct overwrite_ctx o = {.s = &s};
    char *a = malloc(OW_A_SIZE), *b = malloc(OW_B_SIZE);
    T_ASSERT(a != NULL && b != NULL);
    memset(a, 'a', OW_A_SIZE);
    memset(b, 'b', OW_B_SIZE);
    /* Writer first: with glibc's default (readers first) two readers in a loop kept the writer
     * waiting for seconds at a time. */
    pthread_rwlockattr_t turn_attr;
    T_ASSERT(pthread_rwlockattr_init(&turn_attr) == 0);
    T_ASSERT(pthread_rwlockattr_setkind_np(&turn_attr,
                                           PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) == 0);
    T_ASSERT(pthread_rwlock_init(&o.turn, &turn_attr) == 0);
    pthread_rwlockattr_destroy(&turn_attr);

    /* Sequential: the second put replaces bytes and every attribute. */
    struct store_object_info info;
    struct mem_sink m;
    overwrite_put(&o, 'a', a);
    overwrite_put(&o, 'b', b);
    T_ASSERT_EQ(o.errors, 0);
    T_ASSERT_OK(get_all(&s, OW_KEY, &m, &info));
    T_ASSERT(overwrite_consistent(&m, &info));
    T_ASSERT_EQ(m.data[0], 'b');
    mem_sink_free(&m);

    pthread_t readers[2];
    for (int i = 0; i < 2; i++)
        T_ASSERT(pthread_create(&readers[i], NULL, overwrite_reader, &o) == 0);
    for (int i = 0; i < 40; i++)
        overwrite_put(&o, i % 2 ? 'a' : 'b', i % 2 ? a : b);
    /* Let the readers see the last version at least once. */
    int seen = __atomic_load_n(&o.reads, __ATOMIC_RELAXED);
    while (__atomic_load_n(&o.reads, __ATOMIC_RELAXED) < seen + 4)
        sched_yield();
    __atomic_store_n(&o.stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);
    printf("    %d reads raced 40 overwrites (%s)\n", o.reads,
           suite_backend.atomic_overwrite ? "concurrently" : "taking turns");
    T_ASSERT_EQ(o.errors, 0);
    T_ASSERT_EQ(o.torn, 0);
    T_ASSERT(o.reads > 0);
    pthread_rwlock_destroy(&o.turn);
    free(a);
    free(b);
    close_store(&s);
}

void suite_special_keys(void)
{
    static const char *const keys[] = {
        "v1/a+b.pdb/ID/a+b.sym",
        "v1/with space.pdb/ID/with space.sym",
        "v1/caf\xc3\xa9.pdb/ID/\xe6\x97\xa5\xe6\x9c\xac.sym",
        "v1/emoji\xf0\x9f\x98\x80.so/ID/x.sym",
        "v1/%41%2F.pdb/ID/pct%.sym",
        "v1/q?x=y&z#h.pdb/ID/semi;colon,comma=eq.sym",
        "v1/~tilde(paren)'quote'!*.pdb/ID/a.sym",
        "v1/.hidden/ID/..dots",
    };
    struct store s = open_store();
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct store_object_info info;
        struct store_put_opts opts = {.content_encoding = "gzip"};
        put_str(&s, keys[i], keys[i], &opts);
        T_ASSERT_OK(s.ops->head(s.impl, keys[i], &info, NULL));
        T_ASSERT_EQ(info.size, strlen(keys[i]));
        expect_text(&s, keys[i], keys[i]);
        if (suite_backend.has_urls) {
            struct sym_buf url;
            struct mem_sink m = {.cap = 4096};
            char ce[32];
            sym_buf_init(&url, 0);
            T_ASSERT_OK(s.ops->url(s.impl, keys[i], &url));
            T_ASSERT_EQ(http_fetch(url.data, &m, ce, sizeof(ce)), 200);
            T_ASSERT_EQ(m.len, strlen(keys[i]));
            T_ASSERT_MEM_EQ(m.data, keys[i], m.len);
            T_ASSERT_STR_EQ(ce, "gzip");
            mem_sink_free(&m);
            sym_buf_cleanup(&url);
        }
        T_ASSERT_OK(s.ops->del(s.impl, keys[i], NULL));
        T_ASSERT_ERR(s.ops->head(s.impl, keys[i], &info, NULL), SYM_ENOTFOUND);
    }
    close_store(&s);
}

/* Feeds an MD5 without keeping the bytes. */
struct md5_sink {
    EVP_MD_CTX *ctx;
    uint64_t len;
};

static int md5_sink(void *ctx, const void *data, size_t len)
{
    struct md5_sink *m = ctx;
    m->len += len;
    return EVP_DigestUpdate(m->ctx, data, len) == 1 ? 0 : 1;
}

/* Samples the resident set while a put runs, to catch a backend that holds the object. */
struct rss_sampler {
    pthread_t thread;
    int stop; /* atomic */
    long base_kib, peak_kib;
};

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *rss_sample(void *arg)
{
    struct rss_sampler *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
        long now = rss_kib();
        if (now > r->peak_kib)
            r->peak_kib = now;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

void suite_large_streamed(void)
{
    const uint64_t size = 50ULL * 1024 * 1024;
    char path[512], md5[33], got[33];
    snprintf(path, sizeof(path), "%s/large.bin", t_tmpdir());
    gen_file(path, size, 0x5161u, md5);

    struct store s = open_store();
    struct sym_diag d = {0};
    struct rss_sampler rss = {.base_kib = rss_kib()};
    rss.peak_kib = rss.base_kib;
    T_ASSERT(pthread_create(&rss.thread, NULL, rss_sample, &rss) == 0);
    sym_err rc = s.ops->put_file(s.impl, "v1/big.pdb/ID/big.pdb", path, NULL, &d);
    __atomic_store_n(&rss.stop, 1, __ATOMIC_RELAXED);
    pthread_join(rss.thread, NULL);
    long rss_growth_kib = rss.peak_kib - rss.base_kib;
    remove(path);
    if (rc != SYM_OK)
        T_FAIL("put_file: %s: %s", sym_errname(rc), d.msg);
    printf("    peak RSS grew by %ld KiB while storing a %" PRIu64 " MiB file\n", rss_growth_kib,
           size >> 20);
    /* Holding the file would cost 51200 KiB; streaming costs buffers. */
    T_ASSERT(rss_growth_kib < 16 * 1024);

    struct store_object_info info;
    T_ASSERT_OK(s.ops->head(s.impl, "v1/big.pdb/ID/big.pdb", &info, NULL));
    T_ASSERT_U64_EQ(info.size, size);
    struct md5_sink m = {EVP_MD_CTX_new(), 0};
    T_ASSERT(m.ctx != NULL && EVP_DigestInit_ex(m.ctx, EVP_md5(), NULL) == 1);
    rc = s.ops->get(s.impl, "v1/big.pdb/ID/big.pdb", md5_sink, &m, &info, &d);
    if (rc != SYM_OK)
        T_FAIL("get: %s: %s", sym_errname(rc), d.msg);
    unsigned char dig[16];
    unsigned int n = 0;
    T_ASSERT(EVP_DigestFinal_ex(m.ctx, dig, &n) == 1);
    EVP_MD_CTX_free(m.ctx);
    hex_encode(dig, 16, got);
    T_ASSERT_U64_EQ(m.len, size);
    T_ASSERT_STR_EQ(got, md5);
    T_ASSERT_OK(s.ops->del(s.impl, "v1/big.pdb/ID/big.pdb", NULL));
    close_store(&s);
}

void suite_invalid_keys(void)
{
    static const char *const bad[] = {
        "",
        "/v1/a/b/c",
        "v1/a/b/c/",
        "v1//b/c",
        "v1/../etc/passwd",
        "..",
        "v1/./b",
        "v1/a\nb/c",
        "v1/a\x7f/c",
        "v1/\xff\xfe/c",       /* not UTF-8 */
        "v1/\xc0\xaf/c",       /* overlong '/' */
        "v1/\xed\xa0\x80/c",   /* surrogate */
        "v1/.sigil-tmp.abc/c", /* reserved for temporary files */
    };
    struct store s = open_store();
    char long_key[STORE_MAX_KEY_LEN + 2], long_comp[STORE_MAX_COMPONENT_LEN + 8];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    memcpy(long_comp, "v1/", 3);
    memset(long_comp + 3, 'c', sizeof(long_comp) - 4);
    long_comp[sizeof(long_comp) - 1] = '\0';
    const char *all[sizeof(bad) / sizeof(bad[0]) + 3];
    size_t n = 0;
    for (; n < sizeof(bad) / sizeof(bad[0]); n++)
        all[n] = bad[n];
    all[n++] = long_key;
    all[n++] = long_comp;
    all[n++] = NULL;
    for (size_t i = 0; i < n; i++) {
        struct store_object_info info;
        struct mem_sink m = {.cap = 10};
        struct sym_buf url;
        struct sym_diag d = {0};
        sym_buf_init(&url, 0);
        T_ASSERT_ERR(s.ops->put_mem(s.impl, all[i], "x", 1, NULL, &d), SYM_EINVAL);
        T_ASSERT(d.msg[0] != '\0');
        T_ASSERT_ERR(s.ops->put_file(s.impl, all[i], "/dev/null", NULL, NULL), SYM_EINVAL);
        T_ASSERT_ERR(s.ops->head(s.impl, all[i], &info, NULL), SYM_EINVAL);
        T_ASSERT_ERR(s.ops->get(s.impl, all[i], mem_sink, &m, NULL, NULL), SYM_EINVAL);
        T_ASSERT_ERR(s.ops->del(s.impl, all[i], NULL), SYM_EINVAL);
        T_ASSERT_ERR(s.ops->url(s.impl, all[i], &url), SYM_EINVAL);
        T_ASSERT_EQ(url.len, 0);
        sym_buf_cleanup(&url);
    }
    /* The longest valid component still works (as a directory: s3rver adds a suffix to the
     * file name of an object, which then exceeds NAME_MAX). */
    memcpy(long_comp + 3 + STORE_MAX_COMPONENT_LEN, "/x", 3);
    put_str(&s, long_comp, "ok", NULL);
    expect_text(&s, long_comp, "ok");
    close_store(&s);
}

void suite_invalid_opts(void)
{
    struct store s = open_store();
    char long_ct[200];
    memset(long_ct, 'x', sizeof(long_ct) - 1);
    long_ct[sizeof(long_ct) - 1] = '\0';
    const struct store_put_opts bad[] = {
        {.content_type = "text/plain\r\nX-Injected: 1"},
        {.content_type = long_ct},
        {.content_encoding = "gzip\n"},
        {.cache_control = "caf\xc3\xa9"},
        {.original_md5 = "0123456789ABCDEF0123456789ABCDEF"},
        {.original_md5 = "0123"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store_object_info info;
        T_ASSERT_ERR(s.ops->put_mem(s.impl, "v1/o.pdb/ID/o.sym", "x", 1, &bad[i], NULL),
                     SYM_EINVAL);
        T_ASSERT_ERR(s.ops->put_file(s.impl, "v1/o.pdb/ID/o.sym", "/dev/null", &bad[i], NULL),
                     SYM_EINVAL);
        T_ASSERT_ERR(s.ops->head(s.impl, "v1/o.pdb/ID/o.sym", &info, NULL), SYM_ENOTFOUND);
    }
    close_store(&s);
}

/* Several threads each put and read back their own objects through one shared store. */
struct conc_ctx {
    struct store *s;
    int id;
    int failures;
    char why[512];
};

/* MD5 of a buffer as lowercase hex, or "?" on failure: for worker threads, which must not fail
 * the test themselves (md5_hex_of() does). */
static void conc_md5(const void *data, size_t len, char out[33])
{
    unsigned char md[16];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_md5(), NULL) == 1 && n == 16)
        hex_encode(md, 16, out);
    else
        snprintf(out, 33, "?");
}

/* Says which check a read-back failed (length, bytes or original_size), with the numbers needed
 * to tell a short read from someone else's bytes; false when everything matches. The MD5s let
 * an S3 ETag (the MD5 of the stored object) be compared with what was put and what was read. */
static bool conc_mismatch(const char *key, const char *put, size_t len, const struct mem_sink *m,
                          const struct store_object_info *info, char *why, size_t cap)
{
    size_t common = m->len < len ? m->len : len, off = 0;
    while (off < common && m->data[off] == put[off])
        off++;
    const char *what = NULL;
    if (m->len != len)
        what = "length differs";
    else if (off < len)
        what = "content differs";
    else if (!info->has_original_size || info->original_size != len)
        what = "original_size differs";
    if (what == NULL)
        return false;
    char md5_put[33], md5_read[33];
    conc_md5(put, len, md5_put);
    conc_md5(m->len > 0 ? m->data : "", m->len, md5_read);
    int n = snprintf(why, cap,
                     "%s: read back different bytes: %s: put %zu bytes, read %zu (in %u sink "
                     "calls, size %" PRIu64 "), ",
                     key, what, len, m->len, m->calls, info->size);
    if (n < 0 || (size_t)n >= cap)
        return true;
    if (off < common)
        n += snprintf(why + n, cap - (size_t)n,
                      "first difference at offset %zu (0x%02x, put 0x%02x), ", off,
                      (unsigned char)m->data[off], (unsigned char)put[off]);
    else if (m->len != len)
        n += snprintf(why + n, cap - (size_t)n, "the shorter is a prefix of the longer, ");
    if (n < 0 || (size_t)n >= cap)
        return true;
    snprintf(why + n, cap - (size_t)n,
             "original_size %s%" PRIu64 ", etag %s, md5 put %s, md5 read %s",
             info->has_original_size ? "" : "absent ", info->original_size, info->etag, md5_put,
             md5_read);
    return true;
}

static void *conc_worker(void *arg)
{
    struct conc_ctx *c = arg;
    char key[128], *buf = malloc(64 * 1024 + 64);
    struct mem_sink m = {0};
    if (buf == NULL) {
        c->failures++;
        return NULL;
    }
    for (int i = 0; i < 12 && c->failures == 0; i++) {
        size_t len = (size_t)(1 + (c->id * 7919 + i * 104729) % (64 * 1024));
        for (size_t k = 0; k < len; k++)
            buf[k] = (char)('A' + (c->id * 31 + i + (int)k) % 26);
        snprintf(key, sizeof(key), "v1/t%d.pdb/ID%d/f.sym", c->id, i);
        struct sym_diag d = {0};
        struct store_put_opts opts = {.has_original_size = true, .original_size = len};
        sym_err rc = c->s->ops->put_mem(c->s->impl, key, buf, len, &opts, &d);
        struct store_object_info info = {0};
        m.len = 0;
        m.cap = 1 << 20;
        m.calls = 0;
        if (rc == SYM_OK)
            rc = c->s->ops->get(c->s->impl, key, mem_sink, &m, &info, &d);
        if (rc != SYM_OK) {
            snprintf(c->why, sizeof(c->why), "%s: %s: %s", key, sym_errname(rc), d.msg);
            c->failures++;
        } else if (conc_mismatch(key, buf, len, &m, &info, c->why, sizeof(c->why))) {
            c->failures++;
        }
    }
    mem_sink_free(&m);
    free(buf);
    return NULL;
}

void suite_concurrent(void)
{
    enum { N = 6 };
    struct store s = open_store();
    pthread_t th[N];
    struct conc_ctx ctx[N];
    for (int i = 0; i < N; i++) {
        ctx[i] = (struct conc_ctx){.s = &s, .id = i};
        T_ASSERT(pthread_create(&th[i], NULL, conc_worker, &ctx[i]) == 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++)
        if (ctx[i].failures)
            T_FAIL("thread %d: %s", i, ctx[i].why);
    close_store(&s);
}

void suite_url_fetch(void)
{
    struct store s = open_store();
    struct sym_buf url;
    sym_buf_init(&url, 0);
    struct store_put_opts opts = {
        .content_type = "text/plain", .content_encoding = "gzip", .cache_control = "no-transform"};
    put_str(&s, "v1/u.pdb/ID/u.sym", "\x1f\x8b not really gzip", &opts);
    sym_err rc = s.ops->url(s.impl, "v1/u.pdb/ID/u.sym", &url);
    if (!suite_backend.has_urls) {
        T_ASSERT_ERR(rc, SYM_ENOTFOUND);
        T_ASSERT_EQ(url.len, 0);
    } else {
        T_ASSERT_OK(rc);
        struct mem_sink m = {.cap = 4096};
        char ce[32];
        T_ASSERT_EQ(http_fetch(url.data, &m, ce, sizeof(ce)), 200);
        T_ASSERT_STR_EQ(ce, "gzip"); /* as stored, not decoded on the way */
        T_ASSERT_EQ(m.len, 18);
        T_ASSERT_MEM_EQ(m.data, "\x1f\x8b not really gzip", 18);
        mem_sink_free(&m);
        /* Appends: a prefix already in the buffer is kept. */
        sym_buf_reset(&url);
        sym_buf_append_str(&url, "Location: ");
        T_ASSERT_OK(s.ops->url(s.impl, "v1/u.pdb/ID/u.sym", &url));
        T_ASSERT(strncmp(url.data, "Location: http", 14) == 0);
    }
    sym_buf_cleanup(&url);
    close_store(&s);
}

void suite_ping(void)
{
    struct store s = open_store();
    struct sym_diag d = {0};
    sym_err rc = s.ops->ping(s.impl, &d);
    if (rc != SYM_OK)
        T_FAIL("ping: %s: %s", sym_errname(rc), d.msg);
    close_store(&s);
}

void suite_ping_dead(void)
{
    struct store s = {0};
    struct sym_diag d = {0};
    struct timespec t0, t1;
    suite_backend.open_dead(&s);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    T_ASSERT_ERR(s.ops->ping(s.impl, &d), SYM_EUNAVAIL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("    dead %s backend: \"%s\" after %.3f s\n", suite_backend.name, d.msg, secs);
    T_ASSERT(d.msg[0] != '\0');
    T_ASSERT(secs < 5.0);
    struct store_object_info info;
    T_ASSERT(s.ops->head(s.impl, "v1/a.pdb/ID/a.sym", &info, NULL) != SYM_OK);
    close_store(&s);
}

void suite_put_file_missing(void)
{
    struct store s = open_store();
    struct sym_diag d = {0};
    struct store_object_info info;
    T_ASSERT_ERR(s.ops->put_file(s.impl, "v1/m.pdb/ID/m.sym", "/nonexistent/sigil/file", NULL, &d),
                 SYM_EIO);
    T_ASSERT(strstr(d.msg, "source file") != NULL);
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/m.pdb/ID/m.sym", &info, NULL), SYM_ENOTFOUND);
    close_store(&s);
}

void suite_sink_refusal(void)
{
    struct store s = open_store();
    char *buf = malloc(300 * 1024);
    T_ASSERT(buf != NULL);
    memset(buf, 'z', 300 * 1024);
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/r.pdb/ID/r.sym", buf, 300 * 1024, NULL, NULL));
    free(buf);
    struct mem_sink m = {.cap = 1000}; /* refuses once it would exceed 1000 bytes */
    T_ASSERT_ERR(s.ops->get(s.impl, "v1/r.pdb/ID/r.sym", mem_sink, &m, NULL, NULL), SYM_ELIMIT);
    T_ASSERT(m.len <= 1000);
    mem_sink_free(&m);
    close_store(&s);
}
