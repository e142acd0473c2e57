/* SPDX-License-Identifier: MPL-2.0 */
/* t.h: Sigil's minimal unit-test harness. Each test executable lists its tests once:
 *
 *     static void test_foo(void) { T_ASSERT_EQ(1 + 1, 2); }
 *     T_LIST(T_TEST(test_foo), T_TEST(test_bar))
 *
 * T_LIST defines main(), runs every test (or the ones named on the command line), prints
 * "N passed, M failed[, K skipped]" and exits 0, 1, or 77 when every test skipped (CTest's
 * SKIP_RETURN_CODE). A failed assertion ends only the current test. */
#ifndef SYM_T_H
#define SYM_T_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct t_case {
    const char *name;
    void (*fn)(void);
};

struct t_state {
    jmp_buf jump;
    const char *current;
    int failed; /* current test failed */
    int skipped;
    char skip_reason[256];
};

extern struct t_state t_state;

void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
__attribute__((noreturn));
void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2))) __attribute__((noreturn));
int t_run(const struct t_case *cases, size_t n_cases, int argc, char **argv);

/* Directory of the public corpus (SIGIL_CORPUS_DIR), or NULL when it is absent. */
const char *t_corpus_dir(void);
/* Joins the corpus dir and a relative path into a static thread-local buffer; skips the current
 * test when the corpus or that file is absent. */
const char *t_corpus_path(const char *rel);
/* Reads a whole file into a malloc'd NUL-terminated buffer; fails the test on error. */
char *t_read_file(const char *path, size_t *len_out);
/* A fresh temporary directory (removed by the OS tmp cleaner, not by the harness). */
const char *t_tmpdir(void);

#define T_TEST(fn) \
    {              \
#fn, fn    \
    }
#define T_LIST(...)                                                        \
    int main(int argc, char **argv)                                        \
    {                                                                      \
        static const struct t_case cases[] = {__VA_ARGS__};                \
        return t_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv); \
    }

#define T_FAIL(...) t_fail(__FILE__, __LINE__, __VA_ARGS__)
#define T_SKIP(...) t_skip(__VA_ARGS__)

#define T_ASSERT(cond)                             \
    do {                                           \
        if (!(cond))                               \
            T_FAIL("assertion failed: %s", #cond); \
    } while (0)

#define T_ASSERT_EQ(a, b)                                                           \
    do {                                                                            \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                     \
        if (t_a_ != t_b_)                                                           \
            T_FAIL("%s == %s: %lld != %lld (0x%llx != 0x%llx)", #a, #b, t_a_, t_b_, \
                   (unsigned long long)t_a_, (unsigned long long)t_b_);             \
    } while (0)

#define T_ASSERT_U64_EQ(a, b)                                                    \
    do {                                                                         \
        uint64_t t_a_ = (uint64_t)(a), t_b_ = (uint64_t)(b);                     \
        if (t_a_ != t_b_)                                                        \
            T_FAIL("%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, #a, #b, t_a_, t_b_); \
    } while (0)

/* For sym_err results: prints the symbolic names. */
#define T_ASSERT_OK(expr) T_ASSERT_ERR(expr, 0)
#define T_ASSERT_ERR(expr, want)                                          \
    do {                                                                  \
        int t_rc_ = (int)(expr), t_want_ = (int)(want);                   \
        if (t_rc_ != t_want_)                                             \
            T_FAIL("%s returned %d, expected %d", #expr, t_rc_, t_want_); \
    } while (0)

#define T_ASSERT_STR_EQ(a, b)                                                    \
    do {                                                                         \
        const char *t_a_ = (a), *t_b_ = (b);                                     \
        if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0)             \
            T_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, t_a_ ? t_a_ : "(null)", \
                   t_b_ ? t_b_ : "(null)");                                      \
    } while (0)

#define T_ASSERT_MEM_EQ(a, b, n)                                                      \
    do {                                                                              \
        if (memcmp((a), (b), (n)) != 0)                                               \
            T_FAIL("%s and %s differ in their first %zu bytes", #a, #b, (size_t)(n)); \
    } while (0)

#endif
