/* SPDX-License-Identifier: MPL-2.0 */
/* bench_upload.c: throughput of the upload pipeline on generated Breakpad text: gzip per zlib
 * level (baseline: level 9, what Tecken's Python gzip uses), extraction of a deflated member
 * (baseline: the same member stored), and prepare on two threads (baseline: one thread). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "upload/ingest.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Text shaped like dump_syms output: FILE records, then FUNC records with C++ names, each followed
 * by line records whose addresses follow on from each other and whose line numbers drift, as in
 * real symbol files. */
static char *make_sym(size_t size, size_t *len_out)
{
    static const char *const words[] = {
        "mozilla", "dom",    "Element", "nsTArray", "js",      "gc",     "Compile", "Frame",
        "RefPtr",  "layout", "net",     "Http",     "Channel", "Run",    "Resolve", "Promise",
        "Atomic",  "Vector", "Span",    "Maybe",    "Result",  "Parser", "Token",   "Style"};
    size_t nw = sizeof(words) / sizeof(words[0]);
    char *buf = malloc(size + 4096);
    size_t n = (size_t)snprintf(buf, 512,
                                "MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 "
                                "libxul.so\nINFO CODE_ID 89674523AB01CDEF0123456789ABCDEF01234567"
                                "\nINFO GENERATOR mozilla/dump_syms 2.3.7\n");
    for (unsigned f = 0; f < 2000 && n < size; f++)
        n += (size_t)snprintf(buf + n, 256,
                              "FILE %u hg:hg.mozilla.org/mozilla-central:%s/%s/%s%u.cpp:"
                              "0123456789abcdef0123456789abcdef01234567\n",
                              f, words[rng() % nw], words[rng() % nw], words[rng() % nw], f);
    uint64_t addr = 0x1000;
    while (n < size) {
        char line[2048];
        unsigned lines = (unsigned)(rng() % 12 + 1);
        uint64_t fsize = 0;
        int k = 0;
        unsigned file = (unsigned)(rng() % 2000), ln = (unsigned)(rng() % 3000 + 1);
        char body[1536];
        int bk = 0;
        for (unsigned j = 0; j < lines && bk < 1400; j++) {
            uint64_t sz = rng() % 24 + 2;
            bk += snprintf(body + bk, sizeof(body) - (size_t)bk, "%llx %llx %u %u\n",
                           (unsigned long long)(addr + fsize), (unsigned long long)sz, ln, file);
            fsize += sz;
            ln += (unsigned)(rng() % 5);
        }
        k = snprintf(line, sizeof(line), "FUNC %llx %llx 0 %s::%s::%s(%s const&, unsigned int)\n%s",
                     (unsigned long long)addr, (unsigned long long)fsize, words[rng() % nw],
                     words[rng() % nw], words[rng() % nw], words[rng() % nw], body);
        size_t take = (size_t)k < size - n ? (size_t)k : size - n;
        memcpy(buf + n, line, take);
        n += take;
        addr += fsize + rng() % 16;
    }
    *len_out = n;
    return buf;
}

static void write_zip(const char *path, const char *compression, char **texts, size_t n_texts,
                      size_t len)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, compression);
    if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    for (size_t i = 0; i < n_texts; i++) {
        char name[128];
        snprintf(name, sizeof(name), "libxul%zu.so/0123456789ABCDEF0123456789ABCDEF0/libxul.so.sym",
                 i);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_write_header(a, e);
        archive_write_data(a, texts[i], len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static struct symup_ingest *open_extract(const char *zip, const char *dir, int level,
                                         double *extract_s)
{
    struct symup_config cfg;
    symup_config_init(&cfg);
    cfg.gzip_level = level;
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    if (symup_ingest_open(zip, &cfg, &ing, &err) != SYM_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    double t0 = now_s();
    if (symup_ingest_extract(ing, dir, NULL, NULL, &err) != SYM_OK) {
        fprintf(stderr, "extract: %s\n", err.msg);
        exit(1);
    }
    if (extract_s)
        *extract_s = now_s() - t0;
    return ing;
}

struct job {
    struct symup_ingest *ing;
    size_t first, step;
};

static void *prepare_worker(void *arg)
{
    struct job *j = arg;
    for (size_t i = j->first; i < symup_ingest_n_members(j->ing); i += j->step) {
        struct symup_prepared p;
        struct symup_error err;
        if (symup_prepare(j->ing, i, &p, &err) != SYM_OK) {
            fprintf(stderr, "prepare: %s\n", err.msg);
            exit(1);
        }
    }
    return NULL;
}

static double prepare_all(struct symup_ingest *ing, size_t threads)
{
    pthread_t th[8];
    struct job jobs[8];
    double t0 = now_s();
    for (size_t t = 0; t < threads; t++) {
        jobs[t] = (struct job){ing, t, threads};
        pthread_create(&th[t], NULL, prepare_worker, &jobs[t]);
    }
    for (size_t t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 64;
    if (mb == 0 || mb > 4096)
        mb = 64;
    char dir[] = "/tmp/sigil-bench-upload-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char zip_store[300], zip_deflate[300], zip_many[300];
    snprintf(zip_store, sizeof(zip_store), "%s/store.zip", dir);
    snprintf(zip_deflate, sizeof(zip_deflate), "%s/deflate.zip", dir);
    snprintf(zip_many, sizeof(zip_many), "%s/many.zip", dir);
    size_t len;
    char *text = make_sym(mb << 20, &len);
    write_zip(zip_store, "zip:compression=store", &text, 1, len);
    write_zip(zip_deflate, "zip:compression=deflate", &text, 1, len);
    double mbf = (double)len / (1 << 20);
    printf("upload bench: one generated .sym of %.1f MiB\n", mbf);

    /* gzip level: level 9 first as the baseline */
    static const int levels[] = {9, 6, 4, 1};
    double base_s = 0;
    for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
        struct symup_ingest *ing = open_extract(zip_store, dir, levels[k], NULL);
        struct symup_stored st;
        struct symup_error err;
        double t0 = now_s();
        if (symup_member_store_file(ing, 0, &st, &err) != SYM_OK) {
            fprintf(stderr, "gzip: %s\n", err.msg);
            return 1;
        }
        double s = now_s() - t0;
        if (k == 0)
            base_s = s;
        printf("gzip level %d: %7.1f MiB/s, %5.2f%% of original size, %.2fx the speed of level 9\n",
               levels[k], mbf / s, 100.0 * (double)st.size / (double)len, base_s / s);
        symup_ingest_free(ing);
    }

    /* extraction: deflated member against the same member stored */
    double store_s, deflate_s;
    struct symup_ingest *ing = open_extract(zip_store, dir, 6, &store_s);
    symup_ingest_free(ing);
    ing = open_extract(zip_deflate, dir, 6, &deflate_s);
    symup_ingest_free(ing);
    printf("extract: stored %.1f MiB/s, deflated %.1f MiB/s (%.2fx the stored time)\n",
           mbf / store_s, mbf / deflate_s, deflate_s / store_s);

    /* prepare (MD5 + header + gzip 6) on 8 members of size/8: 2 threads against 1 */
    size_t part = len / 8;
    char *parts[8];
    for (int i = 0; i < 8; i++)
        parts[i] = text + (size_t)i * part;
    write_zip(zip_many, "zip:compression=store", parts, 8, part);
    ing = open_extract(zip_many, dir, 6, NULL);
    double one = prepare_all(ing, 1);
    symup_ingest_free(ing);
    ing = open_extract(zip_many, dir, 6, NULL);
    double two = prepare_all(ing, 2);
    symup_ingest_free(ing);
    printf("prepare 8 members: 1 thread %.1f MiB/s, 2 threads %.1f MiB/s (%.2fx)\n", mbf / one,
           mbf / two, one / two);

    unlink(zip_store);
    unlink(zip_deflate);
    unlink(zip_many);
    rmdir(dir);
    free(text);
    return 0;
}
