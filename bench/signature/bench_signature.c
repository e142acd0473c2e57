/* SPDX-License-Identifier: MPL-2.0 */
/* bench_signature.c: single-thread signature throughput over the signature corpus cases,
 * repeated to at least --min-inputs inputs. Prints signatures per second for generation alone
 * (crash data already converted), for the whole JSON path (parse, convert, generate), and the
 * baseline measured in the same run: JSON parse + convert alone, the floor of the JSON path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "crashdata.h"
#include "signature/generator.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct input {
    char *text; /* crash_data as JSON text */
    size_t len;
    json_t *json; /* the converted tree borrows its strings */
    struct srv_crashdata cd;
};

static int load_cases(const char *path, struct input **out, size_t *n_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    struct input *v = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    while ((got = getline(&line, &lcap, f)) > 0) {
        json_t *c = json_loadb(line, (size_t)got, JSON_ALLOW_NUL, NULL);
        json_t *cd = json_object_get(c, "crash_data");
        if (cd == NULL) {
            json_decref(c);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            struct input *nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL)
                abort();
            v = nv;
        }
        v[n].text = json_dumps(cd, JSON_COMPACT);
        v[n].len = strlen(v[n].text);
        v[n].json = json_incref(cd);
        if (srv_crashdata_from_json(cd, &v[n].cd, NULL) != SYM_OK)
            abort();
        n++;
        json_decref(c);
    }
    free(line);
    fclose(f);
    *out = v;
    *n_out = n;
    return n ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *cases = NULL;
    long min_inputs = 100000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--min-inputs") == 0 && i + 1 < argc)
            min_inputs = strtol(argv[++i], NULL, 10);
        else
            cases = argv[i];
    }
    if (cases == NULL || min_inputs <= 0) {
        fprintf(stderr, "usage: bench_signature [--min-inputs N] CASES.jsonl\n");
        return 2;
    }
    struct input *in;
    size_t n;
    if (load_cases(cases, &in, &n) != 0) {
        fprintf(stderr, "no cases in %s\n", cases);
        return 1;
    }
    size_t rounds = ((size_t)min_inputs + n - 1) / n;
    size_t total = rounds * n;

    struct sig_lists *lists;
    struct sym_diag d;
    if (sig_lists_load(sig_lists_default_dir(), true, &lists, &d) != SYM_OK) {
        fprintf(stderr, "lists: %s\n", d.msg);
        return 1;
    }
    struct sig_generator *g;
    if (sig_generator_new(&g) != SYM_OK)
        return 1;
    struct sig_result r;
    sig_result_init(&r);
    size_t checksum = 0;

    /* warm-up: grows every scratch buffer once */
    for (size_t i = 0; i < n; i++)
        if (sig_generate(g, lists, lists, &in[i].cd.root, 0, &r) != SYM_OK)
            return 1;

    double t0 = now_s();
    for (size_t k = 0; k < rounds; k++)
        for (size_t i = 0; i < n; i++) {
            if (sig_generate(g, lists, lists, &in[i].cd.root, 0, &r) != SYM_OK)
                return 1;
            checksum += r.signature.len;
        }
    double t_gen = now_s() - t0;

    t0 = now_s();
    for (size_t k = 0; k < rounds; k++)
        for (size_t i = 0; i < n; i++) {
            json_t *j = json_loadb(in[i].text, in[i].len, JSON_ALLOW_NUL, NULL);
            struct srv_crashdata cd;
            if (j == NULL || srv_crashdata_from_json(j, &cd, NULL) != SYM_OK)
                return 1;
            checksum += cd.root.u.obj.n;
            srv_crashdata_cleanup(&cd);
            json_decref(j);
        }
    double t_base = now_s() - t0;

    t0 = now_s();
    for (size_t k = 0; k < rounds; k++)
        for (size_t i = 0; i < n; i++) {
            json_t *j = json_loadb(in[i].text, in[i].len, JSON_ALLOW_NUL, NULL);
            struct srv_crashdata cd;
            if (j == NULL || srv_crashdata_from_json(j, &cd, NULL) != SYM_OK)
                return 1;
            if (sig_generate(g, lists, lists, &cd.root, 0, &r) != SYM_OK)
                return 1;
            checksum += r.signature.len;
            srv_crashdata_cleanup(&cd);
            json_decref(j);
        }
    double t_json = now_s() - t0;

    printf("cases: %zu, inputs per measurement: %zu (single thread), PCRE2 JIT: %s\n", n, total,
           sig_lists_jit(lists) ? "yes" : "no");
    printf("generate only:                %10.0f signatures/s\n", (double)total / t_gen);
    printf("JSON parse+convert+generate:  %10.0f signatures/s\n", (double)total / t_json);
    printf("baseline JSON parse+convert:  %10.0f documents/s\n", (double)total / t_base);
    printf("ratio generate-only / baseline: %.2f; JSON path / baseline: %.2f\n", t_base / t_gen,
           t_base / t_json);
    printf("target 150000 signatures/s (generate only): %s\n",
           (double)total / t_gen >= 150000 ? "met" : "NOT met");
    printf("(checksum %zu)\n", checksum);

    sig_result_cleanup(&r);
    sig_generator_free(g);
    sig_lists_unref(lists);
    for (size_t i = 0; i < n; i++) {
        free(in[i].text);
        srv_crashdata_cleanup(&in[i].cd);
        json_decref(in[i].json);
    }
    free(in);
    return 0;
}
