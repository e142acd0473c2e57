/* SPDX-License-Identifier: MPL-2.0 */
/* test_line_fast.c: the line record classifier of the tokenizer's fast path, called directly.
 * Whatever it refuses, the byte-by-byte parse still reads with the same values, so a refusal
 * of a usual line is invisible in images and lookups and shows only as a slower parse. This
 * test therefore states which shapes it must take: every line of four fields of 1 to 8
 * digits and single spaces, at most 32 bytes. */
#include "t.h"

#include <stdlib.h>

#include "symfile.c" /* the static classifier under test */

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

/* n random digits (hex or decimal) into out, NUL-terminated; the value read back. */
static uint64_t digits(char *out, unsigned n, bool hex, uint32_t *seed)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        unsigned d = (*seed >> 16) % (hex ? 16u : 10u);
        out[i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v = v * (hex ? 16u : 10u) + d;
    }
    out[n] = '\0';
    return v;
}

static void test_every_field_length(void)
{
    uint32_t seed = 7;
    size_t taken = 0;
    for (unsigned k1 = 1; k1 <= 8; k1++)
        for (unsigned k2 = 1; k2 <= 8; k2++)
            for (unsigned k3 = 1; k3 <= 8; k3++)
                for (unsigned k4 = 1; k4 <= 8; k4++) {
                    char f[4][16], line[96];
                    uint64_t addr = digits(f[0], k1, true, &seed);
                    uint64_t size = digits(f[1], k2, true, &seed);
                    uint64_t ln = digits(f[2], k3, false, &seed);
                    uint64_t file = digits(f[3], k4, false, &seed);
                    int n = snprintf(line, sizeof(line), "%s %s %s %s\n", f[0], f[1], f[2], f[3]);
                    T_ASSERT(n > 0 && n < 64);
                    size_t len = (size_t)n - 1; /* the classifier sees the line without '\n' */
                    struct line_rec r;
                    bool took = line_fields_fast(line, len, line + sizeof(line), &r);
                    if (len > 32) { /* two 16-byte loads hold the line: longer ones are refused */
                        T_ASSERT(!took);
                        continue;
                    }
                    if (!took)
                        T_FAIL("refused \"%.*s\" (field lengths %u %u %u %u)", (int)len, line, k1,
                               k2, k3, k4);
                    T_ASSERT_EQ(r.addr, addr);
                    T_ASSERT_EQ(r.size, size);
                    T_ASSERT_EQ(r.line, ln);
                    T_ASSERT_EQ(r.file, file);
                    taken++;
                }
    T_ASSERT_EQ(taken, 4081); /* the combinations of four lengths 1-8 summing to 29 or less */
}

/* A field of 9 digits, or a line over 32 bytes, is for the byte-by-byte parse. */
static void test_refuses_long_fields(void)
{
    struct line_rec r;
    char line[96];
    snprintf(line, sizeof(line), "%s", "123456789 1 1 1");
    T_ASSERT(!line_fields_fast(line, strlen(line), line + sizeof(line), &r));
    snprintf(line, sizeof(line), "%s", "1 1 1 123456789");
    T_ASSERT(!line_fields_fast(line, strlen(line), line + sizeof(line), &r));
    snprintf(line, sizeof(line), "%s", "12345678 12345678 12345678 123456");
    T_ASSERT(!line_fields_fast(line, strlen(line), line + sizeof(line), &r));
}

T_LIST(T_TEST(test_every_field_length), T_TEST(test_refuses_long_fields))

#else

static void test_no_fast_path(void)
{
}

T_LIST(T_TEST(test_no_fast_path))

#endif
