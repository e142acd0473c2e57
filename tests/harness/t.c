/* SPDX-License-Identifier: MPL-2.0 */
/* t.c: the runner behind t.h. */
#include "t.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

struct t_state t_state;

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAIL %s (%s:%d): ", t_state.current, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    t_state.failed = 1;
    longjmp(t_state.jump, 1);
}

void t_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t_state.skip_reason, sizeof(t_state.skip_reason), fmt, ap);
    va_end(ap);
    t_state.skipped = 1;
    longjmp(t_state.jump, 1);
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc <= 1)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

/* setjmp lives in its own frame so that the runner's counters cannot be clobbered. */
static void run_one(const struct t_case *c)
{
    t_state.current = c->name;
    t_state.failed = 0;
    t_state.skipped = 0;
    if (setjmp(t_state.jump) == 0)
        c->fn();
}

int t_run(const struct t_case *cases, size_t n_cases, int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < n_cases; i++) {
        if (!selected(cases[i].name, argc, argv))
            continue;
        run_one(&cases[i]);
        if (t_state.skipped) {
            skipped++;
            printf("SKIP %s: %s\n", cases[i].name, t_state.skip_reason);
        } else if (t_state.failed) {
            failed++;
            printf("FAIL %s\n", cases[i].name);
        } else {
            passed++;
            printf("ok   %s\n", cases[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed)
        return 1;
    if (passed == 0 && skipped > 0)
        return 77;
    return 0;
}

const char *t_corpus_dir(void)
{
    const char *dir = getenv("SIGIL_CORPUS_DIR");
    struct stat st;
    if (dir == NULL || *dir == '\0' || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return dir;
}

const char *t_corpus_path(const char *rel)
{
    static _Thread_local char path[4096];
    const char *dir = t_corpus_dir();
    struct stat st;
    if (dir == NULL)
        t_skip("corpus not present (set SIGIL_CORPUS_DIR)");
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    if (stat(path, &st) != 0)
        t_skip("corpus file %s not present", rel);
    return path;
}

char *t_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        T_FAIL("cannot open %s", path);
    if (fseek(f, 0, SEEK_END) != 0)
        T_FAIL("cannot seek %s", path);
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        T_FAIL("cannot size %s", path);
    char *data = malloc((size_t)n + 1);
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n)
        T_FAIL("cannot read %s", path);
    fclose(f);
    data[n] = '\0';
    if (len_out)
        *len_out = (size_t)n;
    return data;
}

const char *t_tmpdir(void)
{
    static _Thread_local char path[256];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/sigil-test-XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(path) == NULL)
        T_FAIL("mkdtemp failed");
    return path;
}
