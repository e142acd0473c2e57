/* SPDX-License-Identifier: MPL-2.0 */
/* bench_stackwalk.c: stack-walking throughput over every minidump of the public corpus with a
 * warm symbol cache (each symbol directory's images parsed once before timing). Per dump it
 * prints threads, frames, the best and median time of a full walk (read + unwind + symbolicate,
 * all threads) and of walk + JSON rendering; overall it prints stackwalk_frames_per_s and, as
 * the baseline measured in the same run, the time of reading the dumps alone
 * (sw_minidump_open), with the walk/read ratio. Run through bench/stackwalk/run.sh. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "stackwalk/minidump.h"
#include "stackwalk/process.h"
#include "stackwalk_json.h"
#include "symsource/local_source.h"

struct dump {
    char name[128];
    char *data;
    size_t len;
    struct srv_local_source *src;
    size_t threads, frames;
    double walk_best, walk_med, json_best, json_med, read_best;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc(n > 0 ? (size_t)n : 1);
    if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return d;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One walk; returns false for an unreadable dump. render: also build and serialize the JSON. */
static bool walk_once(struct dump *d, bool render, size_t *frames, size_t *threads)
{
    struct sw_minidump *md;
    if (sw_minidump_open(d->data, d->len, NULL, &md, NULL) != SYM_OK)
        return false;
    struct sw_supplier sup = srv_local_source_supplier(d->src);
    struct sw_process_state *st;
    if (sw_process(md, &sup, 1, NULL, &st, NULL) != SYM_OK) {
        sw_minidump_free(md);
        return false;
    }
    *frames = (size_t)st->n_frames_total;
    *threads = st->n_threads;
    if (render) {
        json_t *j;
        if (srv_stackwalk_json(st, &j) == SYM_OK) {
            char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
            free(s);
            json_decref(j);
        }
    }
    sw_process_state_free(st);
    sw_minidump_free(md);
    return true;
}

static double timed(struct dump *d, int mode, int reps, double *median)
{
    double *t = calloc((size_t)reps, sizeof(double));
    size_t f, th;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (mode == 0) {
            struct sw_minidump *md;
            if (sw_minidump_open(d->data, d->len, NULL, &md, NULL) == SYM_OK)
                sw_minidump_free(md);
        } else {
            walk_once(d, mode == 2, &f, &th);
        }
        t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    double best = t[0];
    if (median)
        *median = t[reps / 2];
    free(t);
    return best;
}

static const struct {
    const char *dir, *dump_root, *symbols;
} dirs[] = {
    {"breakpad", "breakpad/src/processor/testdata", "breakpad/src/processor/testdata/symbols"},
    {"rust-minidump", "rust-minidump/testdata", "rust-minidump/testdata/symbols"},
    {"symbolic", "symbolic/py/tests/res/minidump", "symbolic/expected/symbols"},
    {"symbolicator", "symbolicator/tests/fixtures", "symbolicator/expected/symbols"},
};

int main(int argc, char **argv)
{
    const char *corpus = argc > 1 ? argv[1] : getenv("SIGIL_CORPUS_DIR");
    int reps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 21;
    if (corpus == NULL || reps < 1) {
        fprintf(stderr, "usage: bench_stackwalk CORPUS_DIR [REPETITIONS]\n");
        return 2;
    }
    struct dump *dumps = calloc(256, sizeof(*dumps));
    size_t n = 0;
    struct srv_local_source *sources[8];
    size_t n_sources = 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char exp_dir[4096], sym_dir[4096];
        snprintf(exp_dir, sizeof(exp_dir), "%s/%s/expected", corpus, dirs[i].dir);
        snprintf(sym_dir, sizeof(sym_dir), "%s/%s", corpus, dirs[i].symbols);
        const char *sd[1] = {sym_dir};
        struct srv_local_source *src;
        if (srv_local_source_new(sd, 1, 0, &src) != SYM_OK)
            return 1;
        sources[n_sources++] = src;
        struct dirent **names;
        int k = scandir(exp_dir, &names, NULL, alphasort);
        for (int j = 0; j < k; j++) {
            const char *e = names[j]->d_name, *suf = ".stackwalk.machine_readable.txt";
            size_t el = strlen(e), sl = strlen(suf);
            if (el > sl && strcmp(e + el - sl, suf) == 0 && strstr(e, ".with-new-sym") == NULL &&
                n < 256) {
                struct dump *d = &dumps[n];
                snprintf(d->name, sizeof(d->name), "%.*s", (int)(el - sl), e);
                char path[8192];
                snprintf(path, sizeof(path), "%s/%s/%s.dmp", corpus, dirs[i].dump_root, d->name);
                d->data = slurp(path, &d->len);
                d->src = src;
                if (d->data != NULL)
                    n++;
            }
            free(names[j]);
        }
        free(names);
    }
    char cpu[512] = "unknown";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (ci && fgets(line, sizeof(line), ci)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            snprintf(cpu, sizeof(cpu), "%.200s", c ? c + 2 : line);
            cpu[strcspn(cpu, "\n")] = '\0';
            break;
        }
    }
    if (ci)
        fclose(ci);
    printf("machine: %ld cores, %s\n", sysconf(_SC_NPROCESSORS_ONLN), cpu);
    printf("corpus: %zu minidumps, %d timed repetitions each after a warm-up walk "
           "(symbols parsed once, kept in memory)\n\n",
           n, reps);
    printf("%-40s %8s %7s %6s %10s %10s %10s\n", "dump", "bytes", "threads", "frames", "walk ms",
           "+json ms", "read ms");
    size_t total_frames = 0;
    double total_walk = 0, total_json = 0, total_read = 0, worst = 0;
    const char *worst_name = "";
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        struct dump *d = &dumps[i];
        if (!walk_once(d, false, &d->frames, &d->threads)) {
            printf("%-40s %8zu  unreadable (rejected), not timed\n", d->name, d->len);
            skipped++;
            continue;
        }
        d->walk_best = timed(d, 1, reps, &d->walk_med);
        d->json_best = timed(d, 2, reps, &d->json_med);
        d->read_best = timed(d, 0, reps, NULL);
        printf("%-40s %8zu %7zu %6zu %10.3f %10.3f %10.4f\n", d->name, d->len, d->threads,
               d->frames, d->walk_med * 1e3, d->json_med * 1e3, d->read_best * 1e3);
        total_frames += d->frames;
        total_walk += d->walk_med;
        total_json += d->json_med;
        total_read += d->read_best;
        if (d->walk_med > worst) {
            worst = d->walk_med;
            worst_name = d->name;
        }
    }
    printf("\nframes walked per pass: %zu in %zu dumps (%zu unreadable dumps not timed)\n",
           total_frames, n - skipped, skipped);
    printf("walk (median per dump, summed): %.3f ms; with JSON: %.3f ms\n", total_walk * 1e3,
           total_json * 1e3);
    printf("slowest dump: %s, %.3f ms (target <= 50 ms)\n", worst_name, worst * 1e3);
    printf("stackwalk_frames_per_s %.0f\n", (double)total_frames / total_walk);
    printf("stackwalk_frames_per_s_with_json %.0f\n", (double)total_frames / total_json);
    printf("baseline (same run): reading the dumps alone %.3f ms; walk/read ratio %.1f\n",
           total_read * 1e3, total_read > 0 ? total_walk / total_read : 0.0);
    for (size_t i = 0; i < n; i++)
        free(dumps[i].data);
    free(dumps);
    for (size_t i = 0; i < n_sources; i++)
        srv_local_source_free(sources[i]);
    return 0;
}
