/* SPDX-License-Identifier: MPL-2.0 */
/* test_http_source.c: the HTTP symbol-server client against a scripted local HTTP server (a
 * thread on a random loopback port): servers tried in order, 404, gzip (Content-Encoding and raw
 * gzip bodies), the code-file/code-id redirect, retries on 503 and 429, body-size cap, timeout,
 * non-symbol bodies, parse-once caching and single-flight under concurrency. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "sym/alloc.h"
#include "sym/symfile.h"
#include "symsource/http_source.h"
#include "symsource/image_cache.h"
#include "symsource/local_source.h"
#include "symsource/store_source.h"
#include "t.h"

#define DEBUG_ID "5A9832E5287241C1838ED98914E9B7FF1"

static const char sym_text[] = "MODULE windows x86 " DEBUG_ID " app.pdb\n"
                               "FILE 1 c:\\app.c\n"
                               "FUNC 1000 10 0 main\n"
                               "1000 10 7 1\n";

/* ---- the scripted server ---- */

struct server {
    int fd;
    int port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int hits;   /* requests served */
    atomic_int flaky;  /* 503s left to serve on /flaky/ */
    atomic_int active; /* connection threads running */
    uint8_t *gz;       /* sym_text gzip-compressed */
    size_t gz_len;
};

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, int status, const char *extra_headers, const void *body, size_t n)
{
    char head[512];
    int h = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     n, extra_headers ? extra_headers : "");
    send_all(fd, head, (size_t)h);
    if (n)
        send_all(fd, body, n);
}

static void serve_one(struct server *s, int c)
{
    char req[4096];
    size_t n = 0;
    while (n < sizeof(req) - 1) {
        ssize_t r = recv(c, req + n, sizeof(req) - 1 - n, 0);
        if (r <= 0)
            return;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    char path[1024] = "";
    if (sscanf(req, "GET %1023s", path) != 1)
        return;
    atomic_fetch_add(&s->hits, 1);
    const char *sym = "/app.pdb/" DEBUG_ID "/app.sym";
    if (strncmp(path, "/sym", 4) == 0 && strcmp(path + 4, sym) == 0) {
        respond(c, 200, NULL, sym_text, sizeof(sym_text) - 1);
    } else if (strcmp(path, "/sym/app.exe/5E0000001000/app.sym") == 0) {
        respond(c, 302, "Location: /sym/app.pdb/" DEBUG_ID "/app.sym\r\n", NULL, 0);
    } else if (strncmp(path, "/gz", 3) == 0 && strcmp(path + 3, sym) == 0) {
        respond(c, 200, "Content-Encoding: gzip\r\n", s->gz, s->gz_len);
    } else if (strncmp(path, "/raw", 4) == 0 && strcmp(path + 4, sym) == 0) {
        respond(c, 200, "Content-Type: application/octet-stream\r\n", s->gz, s->gz_len);
    } else if (strncmp(path, "/flaky", 6) == 0 && strcmp(path + 6, sym) == 0) {
        if (atomic_fetch_sub(&s->flaky, 1) > 0)
            respond(c, 503, NULL, "busy", 4);
        else
            respond(c, 200, NULL, sym_text, sizeof(sym_text) - 1);
    } else if (strncmp(path, "/busy/", 6) == 0) {
        respond(c, 429, "Retry-After: 0\r\n", "slow down", 9);
    } else if (strncmp(path, "/big/", 5) == 0) {
        size_t big = 3u << 20;
        char *b = malloc(big);
        memset(b, 'x', big);
        memcpy(b, "MODULE windows x86 " DEBUG_ID " app.pdb\nINFO ", 60);
        respond(c, 200, NULL, b, big);
        free(b);
    } else if (strncmp(path, "/slow/", 6) == 0) {
        for (int i = 0; i < 40 && !atomic_load(&s->stop); i++)
            usleep(50000); /* never answers within the client's timeout */
    } else if (strncmp(path, "/html/", 6) == 0) {
        respond(c, 200, "Content-Type: text/html\r\n", "<html>hello</html>\n", 19);
    } else {
        respond(c, 404, NULL, "not found", 9);
    }
}

struct conn {
    struct server *s;
    int fd;
};

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    serve_one(c->s, c->fd);
    close(c->fd);
    atomic_fetch_sub(&c->s->active, 1);
    free(c);
    return NULL;
}

/* One thread per connection, so a stalled response does not hold up the others. */
static void *server_main(void *arg)
{
    struct server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0)
            continue;
        struct conn *c = malloc(sizeof(*c));
        pthread_t t;
        c->s = s;
        c->fd = fd;
        atomic_fetch_add(&s->active, 1);
        if (pthread_create(&t, NULL, conn_main, c) != 0) {
            close(fd);
            free(c);
            atomic_fetch_sub(&s->active, 1);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

static void gzip_text(struct server *s)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    T_ASSERT(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    s->gz = malloc(4096);
    z.next_in = (Bytef *)sym_text;
    z.avail_in = sizeof(sym_text) - 1;
    z.next_out = s->gz;
    z.avail_out = 4096;
    T_ASSERT(deflate(&z, Z_FINISH) == Z_STREAM_END);
    s->gz_len = 4096 - z.avail_out;
    deflateEnd(&z);
}

static void server_start(struct server *s)
{
    memset(s, 0, sizeof(*s));
    gzip_text(s);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    T_ASSERT(s->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_ASSERT(bind(s->fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    T_ASSERT(listen(s->fd, 16) == 0);
    socklen_t al = sizeof(a);
    T_ASSERT(getsockname(s->fd, (struct sockaddr *)&a, &al) == 0);
    s->port = ntohs(a.sin_port);
    T_ASSERT(pthread_create(&s->thread, NULL, server_main, s) == 0);
}

static void server_stop(struct server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    while (atomic_load(&s->active) > 0)
        usleep(10000);
    close(s->fd);
    free(s->gz);
}

static struct srv_http_source *client(struct server *s, const char *const *prefixes, size_t n)
{
    static bool curl_ready;
    if (!curl_ready) {
        T_ASSERT(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
        curl_ready = true;
    }
    static char urls[8][128];
    const char *u[8];
    for (size_t i = 0; i < n; i++) {
        snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d%s", s->port, prefixes[i]);
        u[i] = urls[i];
    }
    struct srv_http_source_opts o;
    srv_http_source_opts_init(&o);
    o.urls = u;
    o.n_urls = n;
    o.retry_base_ms = 1;
    o.retry_max_ms = 5;
    o.timeout_ms = 400;
    o.max_body_bytes = 1u << 20;
    struct srv_http_source *c;
    struct sym_diag d;
    T_ASSERT_OK(srv_http_source_new(&o, &c, &d));
    return c;
}

static const struct srv_http_key key = {"app.pdb", DEBUG_ID, "app.exe", "5E0000001000"};

static void fetch_ok(struct srv_http_source *c, const struct srv_http_key *k)
{
    struct sym_buf text;
    sym_buf_init(&text, 0);
    struct srv_http_origin o;
    struct sym_diag d;
    sym_err rc = srv_http_fetch(c, k, &text, &o, &d);
    if (rc != SYM_OK)
        T_FAIL("fetch failed: %s", d.msg);
    T_ASSERT_EQ(text.len, sizeof(sym_text) - 1);
    T_ASSERT_MEM_EQ(text.data, sym_text, text.len);
    srv_http_origin_cleanup(&o);
    sym_buf_cleanup(&text);
}

static void test_order_404_and_gzip(void)
{
    struct server s;
    server_start(&s);
    const char *p[] = {"/nothing", "/sym"};
    struct srv_http_source *c = client(&s, p, 2);
    fetch_ok(c, &key);
    struct srv_http_stats st;
    srv_http_source_stats(c, &st);
    T_ASSERT_EQ(st.not_found, 1);
    srv_http_source_free(c);

    const char *g[] = {"/gz"};
    c = client(&s, g, 1);
    fetch_ok(c, &key);
    srv_http_source_free(c);
    const char *r[] = {"/raw"};
    c = client(&s, r, 1);
    fetch_ok(c, &key);
    srv_http_source_free(c);
    server_stop(&s);
}

static void test_code_id_redirect(void)
{
    struct server s;
    server_start(&s);
    const char *p[] = {"/sym"};
    struct srv_http_source *c = client(&s, p, 1);
    struct srv_http_key k = {"", "", "app.exe", "5e0000001000"};
    struct sym_buf text;
    sym_buf_init(&text, 0);
    struct srv_http_origin o;
    struct sym_diag d;
    T_ASSERT_OK(srv_http_fetch(c, &k, &text, &o, &d));
    T_ASSERT_STR_EQ(o.debug_file, "app.pdb");
    T_ASSERT_STR_EQ(o.debug_id, DEBUG_ID);
    T_ASSERT(strstr(o.url, "/sym/app.exe/5E0000001000/app.sym") != NULL);
    srv_http_origin_cleanup(&o);
    sym_buf_cleanup(&text);
    /* The supplier view passes the redirect's identifiers on to the walker. */
    struct srv_http_image img;
    T_ASSERT_OK(srv_http_image(c, &k, &img, &d));
    T_ASSERT_STR_EQ(img.debug_id, DEBUG_ID);
    srv_http_image_release(c, &img);
    srv_http_source_free(c);
    server_stop(&s);
}

static void test_retries(void)
{
    struct server s;
    server_start(&s);
    atomic_store(&s.flaky, 2);
    const char *p[] = {"/flaky"};
    struct srv_http_source *c = client(&s, p, 1);
    fetch_ok(c, &key);
    struct srv_http_stats st;
    srv_http_source_stats(c, &st);
    T_ASSERT_EQ(st.retries, 2);
    srv_http_source_free(c);

    const char *b[] = {"/busy"};
    c = client(&s, b, 1);
    struct sym_buf text;
    sym_buf_init(&text, 0);
    struct srv_http_origin o;
    struct sym_diag d;
    int before = atomic_load(&s.hits);
    T_ASSERT_ERR(srv_http_fetch(c, &key, &text, &o, &d), SYM_EUNAVAIL);
    /* Debug path and code path, each tried 1 + 3 times. */
    T_ASSERT_EQ(atomic_load(&s.hits) - before, 8);
    sym_buf_cleanup(&text);
    srv_http_source_free(c);
    server_stop(&s);
}

static void test_limits_and_errors(void)
{
    struct server s;
    server_start(&s);
    struct sym_buf text;
    sym_buf_init(&text, 0);
    struct srv_http_origin o;
    struct sym_diag d;
    const char *big[] = {"/big"};
    struct srv_http_source *c = client(&s, big, 1);
    T_ASSERT_ERR(srv_http_fetch(c, &key, &text, &o, &d), SYM_ELIMIT);
    srv_http_source_free(c);

    const char *slow[] = {"/slow"};
    c = client(&s, slow, 1);
    struct srv_http_key k1 = {"app.pdb", DEBUG_ID, "", ""};
    T_ASSERT_ERR(srv_http_fetch(c, &k1, &text, &o, &d), SYM_EUNAVAIL);
    srv_http_source_free(c);

    const char *none[] = {"/nothing"};
    c = client(&s, none, 1);
    T_ASSERT_ERR(srv_http_fetch(c, &key, &text, &o, &d), SYM_ENOTFOUND);
    struct srv_http_key bad = {"..", DEBUG_ID, "", ""};
    T_ASSERT_ERR(srv_http_fetch(c, &bad, &text, &o, &d), SYM_EINVAL);
    srv_http_source_free(c);

    const char *html[] = {"/html"};
    c = client(&s, html, 1);
    struct srv_http_image img;
    T_ASSERT_ERR(srv_http_image(c, &k1, &img, &d), SYM_EPARSE);
    srv_http_source_free(c);

    struct srv_http_source_opts opts;
    srv_http_source_opts_init(&opts);
    const char *ftp[] = {"ftp://example.com/"};
    opts.urls = ftp;
    opts.n_urls = 1;
    T_ASSERT_ERR(srv_http_source_new(&opts, &c, &d), SYM_EINVAL);
    sym_buf_cleanup(&text);
    server_stop(&s);
}

struct race {
    struct srv_http_source *c;
    const struct sym_image *img;
    struct srv_http_image held;
    sym_err rc;
    struct sym_diag d;
};

static void *race_main(void *arg)
{
    struct race *r = arg;
    struct srv_http_image img;
    r->rc = srv_http_image(r->c, &key, &img, &r->d);
    if (r->rc == SYM_OK) {
        r->img = img.image;
        r->held = img;
    }
    return NULL;
}

static void test_image_cache_single_flight(void)
{
    struct server s;
    server_start(&s);
    const char *p[] = {"/gz"};
    struct srv_http_source *c = client(&s, p, 1);
    struct race r[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        r[i].c = c;
        r[i].img = NULL;
        T_ASSERT(pthread_create(&th[i], NULL, race_main, &r[i]) == 0);
    }
    for (int i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 6; i++) {
        if (r[i].img == NULL)
            T_FAIL("thread %d: %d %s", i, r[i].rc, r[i].d.msg);
        T_ASSERT(r[i].img == r[0].img);
    }
    T_ASSERT_EQ(atomic_load(&s.hits), 1);
    /* The image is usable: lookups work. */
    struct sym_lookup lk;
    T_ASSERT_OK(sym_image_lookup(r[0].img, 0x1004, &lk));
    T_ASSERT(lk.found);
    T_ASSERT(sym_slice_eq_cstr(lk.function, "main"));
    for (int i = 0; i < 6; i++)
        srv_http_image_release(c, &r[i].held);
    srv_http_source_free(c);
    server_stop(&s);
}

static void test_local_source(void)
{
    const char *dir = t_tmpdir();
    char path[4096];
    snprintf(path, sizeof(path), "%s/app.pdb", dir);
    T_ASSERT(mkdir(path, 0755) == 0);
    snprintf(path, sizeof(path), "%s/app.pdb/%s", dir, DEBUG_ID);
    T_ASSERT(mkdir(path, 0755) == 0);
    snprintf(path, sizeof(path), "%s/app.pdb/%s/app.sym", dir, DEBUG_ID);
    FILE *f = fopen(path, "w");
    T_ASSERT(f != NULL);
    fputs(sym_text, f);
    fclose(f);
    const char *dirs[] = {"/nonexistent-dir", dir};
    struct srv_local_source *ls;
    T_ASSERT_OK(srv_local_source_new(dirs, 2, 0, &ls));
    struct sw_supplier sup = srv_local_source_supplier(ls);
    struct sw_module_key k = {"C:\\app.exe", "5E0000001000", "c:\\build\\APP.PDB", DEBUG_ID};
    struct sw_symbols out;
    /* ".pdb" is stripped case-insensitively but the directory keeps the name as given. */
    T_ASSERT_ERR(sup.ops->get(sup.impl, &k, &out), SYM_ENOTFOUND);
    k.debug_file = "c:\\build\\app.pdb";
    T_ASSERT_OK(sup.ops->get(sup.impl, &k, &out));
    T_ASSERT(out.image != NULL && out.url == NULL && !out.corrupt);
    const struct sym_image *first = out.image;
    struct sw_symbols again;
    T_ASSERT_OK(sup.ops->get(sup.impl, &k, &again));
    T_ASSERT(again.image == first); /* parsed once */
    sup.ops->release(sup.impl, &out);
    sup.ops->release(sup.impl, &again);
    srv_local_source_free(ls);
}

/* ---- the image cache on its own ---- */

static sym_err fake_bad_loader(void *ctx, struct sym_buf *image, struct srv_image_meta *meta)
{
    (void)ctx;
    (void)meta;
    sym_buf_append_str(image, "definitely not an image");
    return sym_buf_err(image);
}

struct fake_load {
    int calls;
    sym_err rc;
};

static sym_err fake_loader(void *ctx, struct sym_buf *image, struct srv_image_meta *meta)
{
    struct fake_load *f = ctx;
    f->calls++;
    if (f->rc != SYM_OK)
        return f->rc;
    meta->url = sym_strndup("u", 1);
    return sym_parse_buffer(sym_text, sizeof(sym_text) - 1, NULL, image, NULL, NULL);
}

static void test_image_cache(void)
{
    struct sym_buf probe;
    sym_buf_init(&probe, 0);
    T_ASSERT_OK(sym_parse_buffer(sym_text, sizeof(sym_text) - 1, NULL, &probe, NULL, NULL));
    size_t one = probe.len;
    sym_buf_cleanup(&probe);

    /* Room for two images: a third evicts the least recently used unreferenced one. */
    struct srv_image_cache_opts o = {2 * one, 0, 0};
    struct srv_image_cache *c;
    T_ASSERT_OK(srv_image_cache_new(&o, &c));
    struct fake_load f = {0, SYM_OK};
    struct srv_cached_image a, b, x;
    T_ASSERT_OK(srv_image_cache_get(c, "a", fake_loader, &f, &a));
    T_ASSERT_OK(srv_image_cache_get(c, "b", fake_loader, &f, &b));
    T_ASSERT_STR_EQ(a.url, "u");
    /* Both referenced: no room for a third. */
    T_ASSERT_ERR(srv_image_cache_get(c, "x", fake_loader, &f, &x), SYM_ELIMIT);
    srv_image_cache_release(c, a.ref);
    T_ASSERT_OK(srv_image_cache_get(c, "x", fake_loader, &f, &x)); /* "a" evicted */
    size_t bytes, entries;
    srv_image_cache_stats(c, &bytes, &entries);
    T_ASSERT_EQ(entries, 2);
    T_ASSERT_EQ(bytes, 2 * one);
    int calls = f.calls;
    struct srv_cached_image b2;
    T_ASSERT_OK(srv_image_cache_get(c, "b", fake_loader, &f, &b2)); /* still cached */
    T_ASSERT_EQ(f.calls, calls);
    T_ASSERT(b2.image == b.image);
    srv_image_cache_release(c, b.ref);
    srv_image_cache_release(c, b2.ref);
    srv_image_cache_release(c, x.ref);
    srv_image_cache_free(c);

    /* Not-found answers are remembered for the TTL; transient failures are not. */
    struct srv_image_cache_opts neg = {0, 0, 50};
    T_ASSERT_OK(srv_image_cache_new(&neg, &c));
    f.calls = 0;
    f.rc = SYM_ENOTFOUND;
    T_ASSERT_ERR(srv_image_cache_get(c, "n", fake_loader, &f, &x), SYM_ENOTFOUND);
    T_ASSERT_ERR(srv_image_cache_get(c, "n", fake_loader, &f, &x), SYM_ENOTFOUND);
    T_ASSERT_EQ(f.calls, 1);
    usleep(60000);
    T_ASSERT_ERR(srv_image_cache_get(c, "n", fake_loader, &f, &x), SYM_ENOTFOUND);
    T_ASSERT_EQ(f.calls, 2);
    f.rc = SYM_EUNAVAIL;
    T_ASSERT_ERR(srv_image_cache_get(c, "t", fake_loader, &f, &x), SYM_EUNAVAIL);
    f.rc = SYM_OK;
    T_ASSERT_OK(srv_image_cache_get(c, "t", fake_loader, &f, &x));
    srv_image_cache_release(c, x.ref);
    /* Bytes that are not an image. */
    T_ASSERT_ERR(srv_image_cache_get(c, "bad", fake_bad_loader, NULL, &x), SYM_ECORRUPT);
    srv_image_cache_free(c);

    /* The entry bound evicts old unreferenced entries. */
    struct srv_image_cache_opts few = {0, 3, 0};
    T_ASSERT_OK(srv_image_cache_new(&few, &c));
    f.rc = SYM_ENOTFOUND;
    char name[8];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        T_ASSERT_ERR(srv_image_cache_get(c, name, fake_loader, &f, &x), SYM_ENOTFOUND);
    }
    srv_image_cache_stats(c, &bytes, &entries);
    T_ASSERT(entries <= 3);
    srv_image_cache_free(c);
}

static void test_store_source(void)
{
    char url[600];
    snprintf(url, sizeof(url), "file://%s", t_tmpdir());
    struct store_config cfg = {0};
    cfg.url = url;
    struct store st;
    struct sym_diag d;
    sym_err rc = store_open(&cfg, &st, &d);
    if (rc == SYM_EIO)
        T_SKIP("local-folder storage unavailable here: %s", d.msg);
    T_ASSERT_OK(rc);
    /* One plain object under the debug id, one gzip object under the code id. */
    struct server gz; /* only for its gzip of sym_text */
    memset(&gz, 0, sizeof(gz));
    gzip_text(&gz);
    struct store_put_opts po = {0};
    T_ASSERT_OK(st.ops->put_mem(st.impl, "v1/app.pdb/" DEBUG_ID "/app.sym", sym_text,
                                sizeof(sym_text) - 1, &po, &d));
    po.content_encoding = "gzip";
    T_ASSERT_OK(
        st.ops->put_mem(st.impl, "v1/other.exe/5E0000001000/other.sym", gz.gz, gz.gz_len, &po, &d));
    free(gz.gz);
    struct srv_store_source *ss;
    T_ASSERT_OK(srv_store_source_new(&st, 0, NULL, &ss));
    struct sw_supplier sup = srv_store_source_supplier(ss);
    struct sw_module_key k = {"C:\\app.exe", "", "app.pdb", "5a9832e5287241c1838ed98914e9b7ff1"};
    struct sw_symbols out;
    T_ASSERT_OK(sup.ops->get(sup.impl, &k, &out)); /* debug id upper-cased for the key */
    T_ASSERT(out.image != NULL);
    sup.ops->release(sup.impl, &out);
    struct sw_module_key byc = {"C:\\other.exe", "5e0000001000", "", ""};
    T_ASSERT_OK(sup.ops->get(sup.impl, &byc, &out)); /* by code id, gzip-compressed */
    struct sym_lookup lk;
    T_ASSERT_OK(sym_image_lookup(out.image, 0x1002, &lk));
    T_ASSERT(lk.found && lk.line == 7);
    sup.ops->release(sup.impl, &out);
    struct sw_module_key none = {"x.exe", "", "x.pdb", DEBUG_ID};
    T_ASSERT_ERR(sup.ops->get(sup.impl, &none, &out), SYM_ENOTFOUND);
    srv_store_source_free(ss);
    store_close(&st);
}

T_LIST(T_TEST(test_image_cache), T_TEST(test_store_source), T_TEST(test_order_404_and_gzip),
       T_TEST(test_code_id_redirect), T_TEST(test_retries), T_TEST(test_limits_and_errors),
       T_TEST(test_image_cache_single_flight), T_TEST(test_local_source))
