/* SPDX-License-Identifier: MPL-2.0 */
/* test_upload_args.c: the small parsers and rules of the upload server: form values, listing
 * filters, token keys and permissions, public addresses for upload by download, bucket names. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "upload/fetch.h"
#include "upload/filters.h"
#include "upload/form.h"
#include "upload/settings.h"
#include "upload/token.h"

static char *value(const char *body, const char *key, bool *present)
{
    return srv_form_value(body, strlen(body), key, present, NULL);
}

static void test_form_value(void)
{
    bool present;
    char *v = value("a=1&url=https%3A%2F%2Fx.org%2Fa+b.zip&try=", "url", &present);
    T_ASSERT(present);
    T_ASSERT_STR_EQ(v, "https://x.org/a b.zip");
    free(v);
    v = value("a=1&try=&x", "try", &present);
    T_ASSERT(present);
    T_ASSERT_STR_EQ(v, "");
    free(v);
    v = value("a=1&x", "x", &present);
    T_ASSERT_STR_EQ(v, "");
    free(v);
    T_ASSERT(value("a=1&tryx=2", "try", &present) == NULL);
    T_ASSERT(!present);
    v = value("k=%zz%4", "k", &present);
    T_ASSERT_STR_EQ(v, "%zz%4"); /* malformed escapes are kept */
    free(v);
    size_t len;
    v = srv_form_value("k=a%00b", 7, "k", &present, &len);
    T_ASSERT_EQ(len, 3);
    free(v);
}

static void test_size_filter(void)
{
    int64_t lo, hi;
    T_ASSERT(srv_filter_size(">=1mb,<2g", 9, &lo, &hi));
    T_ASSERT_EQ(lo, 1048576);
    T_ASSERT_EQ(hi, 2147483647);
    T_ASSERT(srv_filter_size("100", 3, &lo, &hi));
    T_ASSERT_EQ(lo, 100);
    T_ASSERT_EQ(hi, 100);
    T_ASSERT(srv_filter_size(">10k", 4, &lo, &hi));
    T_ASSERT_EQ(lo, 10241);
    T_ASSERT_EQ(hi, -1);
    T_ASSERT(srv_filter_size("<= 1.5 KB", 9, &lo, &hi) == false); /* space before the unit */
    T_ASSERT(srv_filter_size("<=1.5KB", 7, &lo, &hi));
    T_ASSERT_EQ(lo, -1);
    T_ASSERT_EQ(hi, 1536);
    static const char *const bad[] = {
        "", "big", ">=1tb", "1mbb", ">", "1,,x", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        T_ASSERT(!srv_filter_size(bad[i], strlen(bad[i]), &lo, &hi));
}

static void test_date_filter(void)
{
    int64_t from, to;
    bool null;
    const int64_t day = 86400LL * 1000000;
    const int64_t jul10 = 1783641600LL * 1000000; /* 2026-07-10T00:00:00Z */
    T_ASSERT(srv_filter_date("2026-07-10", 10, 0, &from, &to, &null));
    T_ASSERT_EQ(from, jul10);
    T_ASSERT_EQ(to, jul10 + day);
    T_ASSERT(!null);
    T_ASSERT(srv_filter_date(">2026-07-10", 11, 0, &from, &to, &null));
    T_ASSERT_EQ(from, jul10 + day);
    T_ASSERT_EQ(to, 0);
    T_ASSERT(srv_filter_date("<=2026-07-10T10:30", 18, 0, &from, &to, &null));
    T_ASSERT_EQ(from, 0);
    T_ASSERT_EQ(to, jul10 + (10 * 3600 + 31 * 60) * 1000000LL);
    T_ASSERT(srv_filter_date(">=2026-07-09,<2026-07-10", 24, 0, &from, &to, &null));
    T_ASSERT_EQ(from, jul10 - day);
    T_ASSERT_EQ(to, jul10);
    int64_t now = jul10 + 5 * 3600 * 1000000LL;
    T_ASSERT(srv_filter_date("today", 5, now, &from, &to, &null));
    T_ASSERT_EQ(from, jul10);
    T_ASSERT(srv_filter_date("yesterday", 9, now, &from, &to, &null));
    T_ASSERT_EQ(from, jul10 - day);
    T_ASSERT_EQ(to, jul10);
    T_ASSERT(srv_filter_date("incomplete", 10, now, &from, &to, &null));
    T_ASSERT(null);
    static const char *const bad[] = {
        "",           "soon", "2026-13-01", "2026-07-10T25:00", "2026-07-10X",
        "1969-12-31", ">=",   "2026-7-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        T_ASSERT(!srv_filter_date(bad[i], strlen(bad[i]), now, &from, &to, &null));
}

static void test_token_keys(void)
{
    char key[SRV_TOKEN_KEY_LEN + 1], other[SRV_TOKEN_KEY_LEN + 1];
    T_ASSERT_OK(srv_token_generate(key));
    T_ASSERT_OK(srv_token_generate(other));
    T_ASSERT_EQ(strlen(key), 32);
    T_ASSERT(strcmp(key, other) != 0);
    T_ASSERT_EQ(strspn(key, "0123456789abcdef"), 32);
    unsigned char h1[32], h2[32];
    T_ASSERT(srv_token_hash(key, 32, h1));
    char labelled[64];
    snprintf(labelled, sizeof(labelled), " %s-uploadtry-20230913", key);
    T_ASSERT(srv_token_hash(labelled, strlen(labelled), h2));
    T_ASSERT_MEM_EQ(h1, h2, 32);
    key[0] = 'E'; /* keys are lower case; the comparison is exact */
    T_ASSERT(!srv_token_hash(key, 32, h2));
    T_ASSERT(!srv_token_hash("abc", 3, h2));
    T_ASSERT(!srv_token_hash("", 0, h2));
}

static void test_permissions(void)
{
    T_ASSERT_EQ(srv_permission_by_name("upload_symbols"), 1);
    T_ASSERT_EQ(srv_permission_by_name("upload.upload_try_symbols"), 2);
    T_ASSERT_EQ(srv_permission_by_name("view_all_uploads"), 3);
    T_ASSERT_EQ(srv_permission_by_name("tokens.manage_tokens"), 4);
    T_ASSERT_EQ(srv_permission_by_name("upload.manage_tokens"), 0);
    T_ASSERT_STR_EQ(srv_permission_display(2), "Upload Try Symbols Files");
    T_ASSERT(srv_permissions_valid(1 | 4 | 8));
    T_ASSERT(!srv_permissions_valid(1 | 2));
}

static bool public_v4(const char *a)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    T_ASSERT_EQ(inet_pton(AF_INET, a, &in.sin_addr), 1);
    return srv_fetch_public_address((struct sockaddr *)&in);
}

static bool public_v6(const char *a)
{
    struct sockaddr_in6 in = {.sin6_family = AF_INET6};
    T_ASSERT_EQ(inet_pton(AF_INET6, a, &in.sin6_addr), 1);
    return srv_fetch_public_address((struct sockaddr *)&in);
}

static void test_public_addresses(void)
{
    T_ASSERT(public_v4("8.8.8.8"));
    T_ASSERT(public_v4("34.117.1.1"));
    static const char *const private4[] = {
        "127.0.0.1",       "10.1.2.3",   "172.16.0.1", "172.31.255.1", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "0.0.0.0",    "224.0.0.1",    "255.255.255.255"};
    for (size_t i = 0; i < sizeof(private4) / sizeof(private4[0]); i++)
        T_ASSERT(!public_v4(private4[i]));
    T_ASSERT(public_v4("172.32.0.1"));
    T_ASSERT(public_v6("2606:4700::1111"));
    static const char *const private6[] = {"::1",
                                           "::",
                                           "fd00::1",
                                           "fe80::1",
                                           "ff02::1",
                                           "::ffff:127.0.0.1",
                                           "::ffff:10.0.0.1",
                                           "2001:db8::1",
                                           "64:ff9b::7f00:1"};
    for (size_t i = 0; i < sizeof(private6) / sizeof(private6[0]); i++)
        T_ASSERT(!public_v6(private6[i]));
    T_ASSERT(public_v6("::ffff:8.8.8.8"));
}

static void test_bucket_name(void)
{
    char b[64];
    srv_bucket_name("s3://symbols/prefix?endpoint=http://h:9000&region=x", b, sizeof(b));
    T_ASSERT_STR_EQ(b, "symbols/prefix");
    srv_bucket_name("file:///var/lib/sigil/storage", b, sizeof(b));
    T_ASSERT_STR_EQ(b, "/var/lib/sigil/storage");
}

static void test_list_split(void)
{
    char **l = srv_list_split(" a , b,,c ");
    T_ASSERT_EQ(srv_list_len(l), 3);
    T_ASSERT_STR_EQ(l[0], "a");
    T_ASSERT_STR_EQ(l[2], "c");
    srv_list_free(l);
    l = srv_list_split("");
    T_ASSERT_EQ(srv_list_len(l), 0);
    srv_list_free(l);
}

T_LIST(T_TEST(test_form_value), T_TEST(test_size_filter), T_TEST(test_date_filter),
       T_TEST(test_token_keys), T_TEST(test_permissions), T_TEST(test_public_addresses),
       T_TEST(test_bucket_name), T_TEST(test_list_split))
