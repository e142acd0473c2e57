/* SPDX-License-Identifier: MPL-2.0 */
/* bench_symcache.c: the measuring half of bench/symcache/run.sh (which prints the figures and
 * the ratios against its baselines). One measurement per process, printed as key=value:
 *
 *   bench_symcache parse FILE.sym [THREADS] [feed]
 *                                           read into the parser's buffers (sym_parser_buffer;
 *                                           with "feed": 1 MiB chunks to sym_parser_feed),
 *                                           parse, build the image in memory: parse_s, input
 *                                           and image bytes, peak RSS (THREADS:
 *                                           sym_parse_opts.threads, default 0)
 *   bench_symcache convert FILE.sym OUT     sym_convert_file (to prepare open and lookup)
 *   bench_symcache open FILE.symc [REPS]    sym_image_open_file + close: best and median us
 *   bench_symcache lookup FILE.symc [N] [REPS]
 *                                           N random offsets inside functions: ns per lookup
 *                                           one at a time (each depends on the previous) and
 *                                           batched (sym_image_lookup_many, 256 at a time);
 *                                           and the baseline: one random 8-byte read from the
 *                                           same file mapping, each address depending on the
 *                                           previous value (this machine's memory latency);
 *                                           each measured REPS times (default 5), best and
 *                                           median */
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sym/image.h"
#include "sym/symfile.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int do_parse(const char *path, unsigned threads, bool copy)
{
    static char chunk[1 << 20];
    struct sym_parse_opts opts;
    sym_parse_opts_init(&opts);
    opts.threads = threads;
    double t0 = now_s();
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    struct sym_parser *p;
    if (sym_parser_new(&opts, &p) != SYM_OK)
        return 1;
    if (copy) {
        ssize_t n;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
            if (sym_parser_feed(p, chunk, (size_t)n) != SYM_OK)
                break;
    } else {
        /* Read straight into the parser's pieces: the reads overlap the parse. A parse error
         * is reported again by finish, with its diagnostic; a read error is not. */
        if (sym_parser_feed_fd(p, fd) == SYM_EIO) {
            perror(path);
            close(fd);
            sym_parser_free(p);
            return 1;
        }
    }
    close(fd);
    struct sym_buf img;
    sym_buf_init(&img, 0);
    struct sym_parse_stats st;
    struct sym_diag d;
    sym_err rc = sym_parser_finish(p, &img, &st, &d);
    double t1 = now_s();
    sym_parser_free(p);
    if (rc != SYM_OK) {
        fprintf(stderr, "parse failed: %s\n", d.msg);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* CPU time too: on a shared machine it is less disturbed by other processes than the
     * elapsed time. */
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    printf("parse_s=%.6f cpu_s=%.6f input_bytes=%" PRIu64 " image_bytes=%zu maxrss_kb=%ld "
           "funcs=%" PRIu64 " lines=%" PRIu64 " inlines=%" PRIu64 " cfi=%" PRIu64
           " warnings=%" PRIu64 "\n",
           t1 - t0, cpu, st.input_bytes, img.len, ru.ru_maxrss, st.kept.funcs, st.kept.lines,
           st.kept.inlines, st.kept.cfi_inits + st.kept.cfi_deltas, st.n_warnings);
    sym_buf_cleanup(&img);
    return 0;
}

static int do_open(const char *path, int reps)
{
    double *t = calloc((size_t)reps, sizeof(double));
    for (int i = 0; i < reps; i++) {
        double t0 = now_s();
        struct sym_image *img;
        struct sym_diag d;
        if (sym_image_open_file(path, &img, &d) != SYM_OK) {
            fprintf(stderr, "open failed: %s\n", d.msg);
            return 1;
        }
        sym_image_close(img);
        t[i] = (now_s() - t0) * 1e6;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    printf("open_us_best=%.2f open_us_median=%.2f reps=%d\n", t[0], t[reps / 2], reps);
    free(t);
    return 0;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* The floor under a one-at-a-time lookup: n dependent random reads from the image file mapped
 * the same way sym_image_open_file maps it (so with the page sizes the kernel gives that
 * mapping), best of reps. Each address is derived from the value read before, so the reads
 * cannot overlap. -1 on error. */
static double random_read_ns(const char *path, size_t n, int reps)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat stbuf;
    if (fd < 0 || fstat(fd, &stbuf) != 0 || stbuf.st_size < 64) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t len = (size_t)stbuf.st_size;
    const uint8_t *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -1;
    size_t slots = len / 8;
    uint64_t acc = 0, seed = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) { /* warm the page cache mapping, as do_lookup does */
        uint64_t v;
        memcpy(&v, m + (rng(&seed) % slots) * 8, 8);
        acc += v;
    }
    volatile uint64_t zero = 0;
    uint64_t z = zero;
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        uint64_t x = 0x243f6a8885a308d3ull;
        double t0 = now_s();
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            x = (x ^ i) * 0x2545f4914f6cdd1dull;
            memcpy(&v, m + ((x >> 16) % slots) * 8, 8);
            x += v & z; /* the next address depends on this read */
        }
        double t = (now_s() - t0) / (double)n;
        if (t < best)
            best = t;
        acc += x;
    }
    munmap((void *)m, len);
    return acc == 42 ? best * 1e9 + 1e-9 : best * 1e9;
}

static int do_lookup(const char *path, size_t n, int reps)
{
    struct sym_image *img;
    struct sym_diag d;
    if (sym_image_open_file(path, &img, &d) != SYM_OK) {
        fprintf(stderr, "open failed: %s\n", d.msg);
        return 1;
    }
    struct sym_image_info info;
    sym_image_info(img, &info);
    if (info.counts.funcs == 0)
        return 1;
    uint64_t *offs = malloc(n * sizeof(uint64_t));
    struct sym_lookup *outs = malloc(256 * sizeof(struct sym_lookup));
    uint64_t seed = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i < n; i++) {
        struct sym_func_info f;
        if (sym_image_func_at(img, (size_t)(rng(&seed) % info.counts.funcs), &f) != SYM_OK)
            return 1;
        offs[i] = f.start + rng(&seed) % f.size;
    }
    /* Warm the page cache and TLB so that the figure is the lookup, not disk reads. */
    size_t with_line = 0, with_inlines = 0;
    for (size_t i = 0; i < n; i++) {
        if (sym_image_lookup(img, offs[i], &outs[0]) != SYM_OK)
            return 1;
        with_line += outs[0].has_line;
        with_inlines += outs[0].n_inlines > 0;
    }

    /* One at a time: each offset depends on the previous answer, so lookups cannot overlap in
     * the CPU (a latency figure, as a caller walking a stack sees it). */
    volatile uint64_t zero = 0;
    uint64_t z = zero;
    struct sym_lookup l;
    double *one = malloc(2 * (size_t)reps * sizeof(double)), *batch = one + reps;
    if (one == NULL)
        return 1;
    for (int rep = 0; rep < reps; rep++) {
        uint64_t dep = 0;
        double t0 = now_s();
        for (size_t i = 0; i < n; i++) {
            if (sym_image_lookup(img, offs[i] + (dep & z), &l) != SYM_OK)
                return 1;
            dep = l.function_start + l.line + l.n_inlines;
        }
        one[rep] = (now_s() - t0) / (double)n * 1e9;
        /* Batches of 256 offsets, a large stack's worth, into one reused result array. */
        t0 = now_s();
        for (size_t i = 0; i < n; i += 256)
            if (sym_image_lookup_many(img, offs + i, n - i < 256 ? n - i : 256, outs) != SYM_OK)
                return 1;
        batch[rep] = (now_s() - t0) / (double)n * 1e9;
    }
    qsort(one, (size_t)reps, sizeof(double), cmp_double);
    qsort(batch, (size_t)reps, sizeof(double), cmp_double);
    double mem_ns = random_read_ns(path, n, reps);
    if (mem_ns < 0)
        return 1;
    printf("lookup_ns_one=%.1f lookup_ns_one_median=%.1f lookup_ns_batch=%.1f "
           "lookup_ns_batch_median=%.1f mem_read_ns=%.1f lookups=%zu with_line=%.3f "
           "with_inlines=%.3f funcs=%" PRIu64 " image_bytes=%" PRIu64 "\n",
           one[0], one[reps / 2], batch[0], batch[reps / 2], mem_ns, n,
           (double)with_line / (double)n, (double)with_inlines / (double)n, info.counts.funcs,
           info.image_bytes);
    free(one);
    free(offs);
    free(outs);
    sym_image_close(img);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "parse") == 0)
        return do_parse(argv[2], argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0,
                        argc > 4 && strcmp(argv[4], "feed") == 0);
    if (argc >= 3 && strcmp(argv[1], "open") == 0)
        return do_open(argv[2], argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1000);
    if (argc >= 4 && strcmp(argv[1], "convert") == 0) {
        struct sym_parse_stats st;
        struct sym_diag d;
        if (sym_convert_file(argv[2], argv[3], NULL, &st, &d) != SYM_OK) {
            fprintf(stderr, "convert failed: %s\n", d.msg);
            return 1;
        }
        printf("image_bytes=%" PRIu64 "\n", st.image_bytes);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "lookup") == 0) {
        int reps = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 5;
        return do_lookup(argv[2], argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : 1000000,
                         reps > 0 && reps <= 100 ? reps : 5);
    }
    fprintf(stderr, "usage: bench_symcache parse FILE.sym [THREADS] | convert FILE.sym OUT.symc | "
                    "open FILE.symc [REPS] | lookup FILE.symc [N] [REPS]\n");
    return 2;
}
