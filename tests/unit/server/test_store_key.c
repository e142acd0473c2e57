/* SPDX-License-Identifier: MPL-2.0 */
/* test_store_key.c: the backend-neutral parts of storage: key building and checking, attribute
 * checks, percent-encoding, S3 storage URLs (parsed without any network), the URLs url() gives,
 * and SigV4 presigning against AWS's published example. */
#include <string.h>
#include <time.h>

#include "storage/sigv4.h"
#include "storage/store.h"
#include "storage/store_int.h"
#include "sym/alloc.h"
#include "t.h"

static void test_key_build(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    T_ASSERT_OK(
        store_key_build(&b, false, "xul.pdb", "44E4EC8C2F41492B9369D6B9A059577C2", "xul.sym"));
    T_ASSERT_STR_EQ(b.data, "v1/xul.pdb/44E4EC8C2F41492B9369D6B9A059577C2/xul.sym");
    sym_buf_reset(&b);
    T_ASSERT_OK(store_key_build(&b, true, "libxul.so", "ID", "libxul.so.sym"));
    T_ASSERT_STR_EQ(b.data, "try/v1/libxul.so/ID/libxul.so.sym");
    /* Appends, and keeps what was there on failure. */
    sym_buf_reset(&b);
    sym_buf_append_str(&b, "prefix:");
    T_ASSERT_OK(store_key_build(&b, false, "a b+c \xc3\xa9.pdb", "ID", "f.sym"));
    T_ASSERT_STR_EQ(b.data, "prefix:v1/a b+c \xc3\xa9.pdb/ID/f.sym");
    size_t before = b.len;

    char long_comp[300];
    memset(long_comp, 'x', sizeof(long_comp) - 1);
    long_comp[sizeof(long_comp) - 1] = '\0';
    const char *bad[] = {"",
                         ".",
                         "..",
                         "a/b",
                         "a\nb",
                         "a\tb",
                         "\x7f",
                         "\xff",
                         "\xe2\x82", /* truncated sequence */
                         ".sigil-tmp.1",
                         long_comp};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        T_ASSERT_ERR(store_key_build(&b, false, bad[i], "ID", "f.sym"), SYM_EINVAL);
        T_ASSERT_ERR(store_key_build(&b, false, "f.pdb", bad[i], "f.sym"), SYM_EINVAL);
        T_ASSERT_ERR(store_key_build(&b, false, "f.pdb", "ID", bad[i]), SYM_EINVAL);
    }
    T_ASSERT_ERR(store_key_build(&b, false, NULL, "ID", "f"), SYM_EINVAL);
    T_ASSERT_EQ(b.len, before);
    long_comp[255] = '\0'; /* exactly the limit */
    T_ASSERT_OK(store_key_build(&b, false, long_comp, "ID", long_comp));
    sym_buf_cleanup(&b);

    /* A full buffer reports its own error. */
    struct sym_buf small;
    sym_buf_init(&small, 8);
    T_ASSERT_ERR(store_key_build(&small, false, "xul.pdb", "ID", "xul.sym"), SYM_ELIMIT);
    sym_buf_cleanup(&small);
}

static void test_key_check(void)
{
    struct sym_diag d = {0};
    static const char *const good[] = {
        "v1/a/b/c", "a", "try/v1/x.pdb/ID/x.sym", "..a/b..", "v1/\xf0\x9f\x98\x80/x", "v1/%2F/x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        T_ASSERT_OK(store_key_check(good[i], NULL));
    T_ASSERT_ERR(store_key_check("v1//x", &d), SYM_EINVAL);
    T_ASSERT_STR_EQ(d.msg, "an object key component is empty");
    T_ASSERT_ERR(store_key_check("v1/../x", &d), SYM_EINVAL);
    T_ASSERT(strstr(d.msg, "\"..\"") != NULL);
    T_ASSERT_ERR(store_key_check(NULL, &d), SYM_EINVAL);
    T_ASSERT_ERR(store_key_check("v1/\xf4\x90\x80\x80", &d), SYM_EINVAL); /* above U+10FFFF */
    T_ASSERT_ERR(store_key_check("v1/\xe0\x80\xaf", &d), SYM_EINVAL);     /* overlong */
    T_ASSERT(strstr(d.msg, "UTF-8") != NULL);
}

static void test_put_opts(void)
{
    struct store_put_opts ok = {.content_type = "text/plain; charset=utf-8",
                                .original_md5 = "d41d8cd98f00b204e9800998ecf8427e"};
    T_ASSERT_OK(store_put_opts_check(NULL, NULL));
    T_ASSERT_OK(store_put_opts_check(&ok, NULL));
    T_ASSERT_STR_EQ(store_put_content_type(NULL), STORE_DEFAULT_CONTENT_TYPE);
    T_ASSERT_STR_EQ(store_put_content_type(&ok), "text/plain; charset=utf-8");
    struct store_put_opts empty = {.content_type = ""};
    T_ASSERT_STR_EQ(store_put_content_type(&empty), STORE_DEFAULT_CONTENT_TYPE);
    /* content_encoding is read back into char[32]: 31 bytes fit, 32 do not. */
    char enc[33];
    memset(enc, 'e', 32);
    enc[32] = '\0';
    struct store_put_opts too_long = {.content_encoding = enc};
    struct sym_diag d = {0};
    T_ASSERT_ERR(store_put_opts_check(&too_long, &d), SYM_EINVAL);
    T_ASSERT_STR_EQ(d.msg, "content encoding is longer than 31 bytes");
    enc[31] = '\0';
    T_ASSERT_OK(store_put_opts_check(&too_long, NULL));
}

static void test_uri_encode(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    const char *s = "v1/a b+c/~x_y-z.0/\xc3\xa9%/?#&=";
    store_uri_encode(&b, s, strlen(s), true);
    T_ASSERT_STR_EQ(b.data, "v1/a%20b%2Bc/~x_y-z.0/%C3%A9%25/%3F%23%26%3D");
    sym_buf_reset(&b);
    store_uri_encode(&b, "a/b", 3, false);
    T_ASSERT_STR_EQ(b.data, "a%2Fb");
    sym_buf_cleanup(&b);

    char *out = NULL;
    T_ASSERT_OK(store_pct_decode("a%20b+%2fc%C3%A9", 16, &out));
    T_ASSERT_STR_EQ(out, "a b+/c\xc3\xa9");
    sym_free(out);
    T_ASSERT_ERR(store_pct_decode("a%2", 3, &out), SYM_EINVAL);
    T_ASSERT_ERR(store_pct_decode("a%zz", 4, &out), SYM_EINVAL);
    T_ASSERT_ERR(store_pct_decode("a%00", 4, &out), SYM_EINVAL);
}

static struct store open_ok(const char *url, const char *ak, const char *sk, const char *pub)
{
    struct store s = {0};
    struct sym_diag d = {0};
    struct store_config cfg = {.url = url, .access_key = ak, .secret_key = sk, .public_url = pub};
    sym_err rc = store_open(&cfg, &s, &d);
    if (rc != SYM_OK)
        T_FAIL("store_open(%s): %s: %s", url, sym_errname(rc), d.msg);
    T_ASSERT_STR_EQ(s.ops->name, "s3");
    return s;
}

static void url_of(struct store *s, const char *key, char *out, size_t cap)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    T_ASSERT_OK(s->ops->url(s->impl, key, &b));
    T_ASSERT(b.len < cap);
    memcpy(out, b.data, b.len + 1);
    sym_buf_cleanup(&b);
}

static void test_s3_urls(void)
{
    char u[2048];
    /* Public URL from the storage URL, with a key prefix; trailing '/' dropped. */
    struct store s = open_ok("s3://bkt/pre%20fix/?endpoint=http://127.0.0.1:9&public_url="
                             "https://cdn.example.com/sym/",
                             "AK", "SK", NULL);
    url_of(&s, "v1/a+b.pdb/ID/a b.sym", u, sizeof(u));
    T_ASSERT_STR_EQ(u, "https://cdn.example.com/sym/pre%20fix/v1/a%2Bb.pdb/ID/a%20b.sym");
    store_close(&s);
    /* The config's public URL wins over the storage URL's. */
    s = open_ok("s3://bkt?endpoint=http://h:1&public_url=http://a", NULL, NULL, "http://b/");
    url_of(&s, "v1/x", u, sizeof(u));
    T_ASSERT_STR_EQ(u, "http://b/v1/x");
    store_close(&s);
    /* No credentials and no public URL: the plain path-style object URL. */
    s = open_ok("s3://bkt?endpoint=HTTP://Host.Example:8080/base/", NULL, NULL, NULL);
    url_of(&s, "v1/\xc3\xa9", u, sizeof(u));
    T_ASSERT_STR_EQ(u, "http://host.example:8080/base/bkt/v1/%C3%A9");
    store_close(&s);
    /* Empty credentials count as none. */
    s = open_ok("s3://bkt?endpoint=http://h:1", "", "", "");
    url_of(&s, "v1/x", u, sizeof(u));
    T_ASSERT_STR_EQ(u, "http://h:1/bkt/v1/x");
    store_close(&s);
    /* Credentials: a presigned URL for the default AWS endpoint of the region. */
    s = open_ok("s3://bkt?region=eu-west-3&path_style=1", "AKIDEXAMPLE", "secret", NULL);
    url_of(&s, "v1/x", u, sizeof(u));
    T_ASSERT(strncmp(u, "https://s3.eu-west-3.amazonaws.com/bkt/v1/x?X-Amz-Algorithm=", 60) == 0);
    T_ASSERT(strstr(u, "%2Feu-west-3%2Fs3%2Faws4_request&") != NULL);
    T_ASSERT(strstr(u, "&X-Amz-Expires=3600&") != NULL);
    T_ASSERT_ERR(store_fs_open_read(&s, "v1/x", &(int){0}, NULL, NULL), SYM_EINVAL);
    store_close(&s);
}

static void test_s3_bad_urls(void)
{
    static const char *const bad[] = {
        "s3://",
        "s3://ab",                            /* bucket too short */
        "s3://Upper",                         /* bucket case */
        "s3://-bkt",                          /* bucket starts with '-' */
        "s3://bkt?endpoint=ftp://h",          /* scheme */
        "s3://bkt?endpoint=http://user:pw@h", /* credentials in the URL */
        "s3://bkt?endpoint=http://h?x",       /* query in the endpoint */
        "s3://bkt?endpoint=http://",          /* no host */
        "s3://bkt?endpoint",                  /* no '=' */
        "s3://bkt?endpoint=",                 /* empty */
        "s3://bkt?region=us-east-1&region=x", /* twice */
        "s3://bkt?regoin=us-east-1",          /* unknown parameter */
        "s3://bkt?path_style=0",              /* virtual-hosted style */
        "s3://bkt?region=US_EAST",            /* region charset */
        "s3://bkt?public_url=ftp://x",        /* public URL scheme */
        "s3://bkt?public_url=http://x/a%20b", /* public URL with a space */
        "s3://bkt/..?endpoint=http://h",      /* bad prefix */
        "s3://bkt/a%zz",                      /* bad escape */
        "s3://bkt#frag",                      /* fragment */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store s = {0};
        struct sym_diag d = {0};
        struct store_config cfg = {.url = bad[i]};
        if (store_open(&cfg, &s, &d) != SYM_EINVAL)
            T_FAIL("store_open(%s) did not fail with SYM_EINVAL", bad[i]);
        T_ASSERT(d.msg[0] != '\0');
        T_ASSERT(s.ops == NULL);
    }
    struct store s = {0};
    struct sym_diag d = {0};
    struct store_config cfg = {.url = "s3://bkt", .access_key = "AK"};
    T_ASSERT_ERR(store_open(&cfg, &s, &d), SYM_EINVAL); /* secret key missing */
    cfg = (struct store_config){.url = "s3://bkt", .presign_expiry_s = 604801};
    T_ASSERT_ERR(store_open(&cfg, &s, &d), SYM_EINVAL);
    cfg = (struct store_config){.url = "s3://bkt", .retries = 11};
    T_ASSERT_ERR(store_open(&cfg, &s, &d), SYM_EINVAL);
    cfg = (struct store_config){.url = "gs://bkt"};
    T_ASSERT_ERR(store_open(&cfg, &s, &d), SYM_EINVAL);
    T_ASSERT_ERR(store_open(NULL, &s, &d), SYM_EINVAL);
    store_close(NULL);
}

/* AWS's documented example of a presigned GET (S3 API reference, "Authenticating Requests:
 * Using Query Parameters"). */
static void test_sigv4_presign_vector(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    struct store_sigv4_presign p = {
        .method = "GET",
        .host = "examplebucket.s3.amazonaws.com",
        .path = "/test.txt",
        .region = "us-east-1",
        .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        .expires_s = 86400,
        .now = 1369353600, /* 2013-05-24T00:00:00Z */
    };
    T_ASSERT_OK(store_sigv4_presign_query(&p, &b));
    T_ASSERT_STR_EQ(b.data,
                    "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_"
                    "request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                    "&X-Amz-SignedHeaders=host&X-Amz-Signature="
                    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    p.expires_s = 0;
    T_ASSERT_ERR(store_sigv4_presign_query(&p, &b), SYM_EINVAL);
    sym_buf_cleanup(&b);
}

/* AWS's documented header-signed GET example ("Signature Calculations for the Authorization
 * Header: Transferring Payload in a Single Chunk", GET Object). */
static void test_sigv4_signature_vector(void)
{
    const char *canonical = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
                            "range:bytes=0-9\nx-amz-content-sha256:" STORE_SIGV4_EMPTY_SHA256
                            "\nx-amz-date:20130524T000000Z\n\n"
                            "host;range;x-amz-content-sha256;x-amz-date\n" STORE_SIGV4_EMPTY_SHA256;
    char digest[65], sts[256], sig[65];
    T_ASSERT_OK(store_sigv4_sha256_hex(canonical, strlen(canonical), digest));
    T_ASSERT_STR_EQ(digest, "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    snprintf(sts, sizeof(sts),
             "AWS4-HMAC-SHA256\n20130524T000000Z\n"
             "20130524/us-east-1/s3/aws4_request\n%s",
             digest);
    T_ASSERT_OK(store_sigv4_signature("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524",
                                      "us-east-1", "s3", sts, sig));
    T_ASSERT_STR_EQ(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    char stamp[17];
    store_sigv4_timestamp(1369353600, stamp);
    T_ASSERT_STR_EQ(stamp, "20130524T000000Z");
}

T_LIST(T_TEST(test_key_build), T_TEST(test_key_check), T_TEST(test_put_opts),
       T_TEST(test_uri_encode), T_TEST(test_s3_urls), T_TEST(test_s3_bad_urls),
       T_TEST(test_sigv4_presign_vector), T_TEST(test_sigv4_signature_vector))
