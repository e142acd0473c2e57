/* SPDX-License-Identifier: MPL-2.0 */
/* test_key.c: member-name classification, stored-key normalisation and Python repr quoting. */
#include <string.h>

#include "sym/buf.h"
#include "t.h"
#include "upload/key.h"

static enum symup_name_kind kind(const char *name)
{
    return symup_name_classify(name, strlen(name));
}

static void test_classify(void)
{
    static const char *keys[] = {
        "xul.pdb/B7DC60E91588D8A54C4C44205044422E1/xul.sym",
        "c++filt/B2E65520F14FB5332E38A5A5189839AD0/c++filt.sym",
        "flag/deadbeef/flag.jpeg",
        "a b/0/c\x7f",
        "\xe4\xb8\xad.pdb/A/\xf0\x9f\x98\x80.sym",
        "Font Awesome 5 Free-Solid-900.otf/ABC/x.sym",
        "libgallium-24.2.8-1~bpo12+rpt1.so/ABC/x.sym",
        "a/B/x-symbols.txt.sym",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (kind(keys[i]) != SYMUP_NAME_KEY)
            T_FAIL("%s should be a key", keys[i]);
    static const char *ignored[] = {"build-symbols.txt", "X-SYMBOLS.TXT",     ".DS_Store",
                                    "a/.DS_Store",       "a/b/c/d/.DS_Store", "a/B/x-symbols.txt"};
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        if (kind(ignored[i]) != SYMUP_NAME_IGNORED)
            T_FAIL("%s should be ignored", ignored[i]);
    static const char *invalid[] = {
        "xpcshell.sym",
        "x\xc3\xbcl.pdb/1A2B3C4/xul.sym", /* U+00FC */
        "x%l.pdb/1A2B3C4/xul.sym",
        "xul.pdb/1A2B3C/xul#.ex_",
        "xul.so/1A2B3G4E/xul.sym",
        "xul.pdb/1A2B3C4/x\x01ul.sym",
        "xul.pdb//xul.sym",
        "/ABC/xul.sym",
        "xul.pdb/ABC/",
        "a/b/c/d",
        "-symbols.txt",
        "a/b-symbols.txt",
        "a/.DS_Storex",
        "a/B/c\xc2\x80",     /* U+0080 */
        "a/B/c\xc3\xbf",     /* U+00FF */
        "a/B/c\xff",         /* not UTF-8 */
        "a/B/c\xed\xa0\x80", /* a surrogate */
        "a/B/c\xc0\xaf",     /* overlong '/' */
        "a/B/[x]",
        "a/B/x|y",
        "a/B/x\\y",
        "a/B/x^y",
        "a/B/x`y",
        "a/B/x\"y",
        "a/B/x'y",
        "a/B/x<y>",
        "a/B/x{y}",
        "{e824f0e4-72f7-4295-8879-d8ff4bf348d2}.xpi/0/x",
        "",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        if (kind(invalid[i]) != SYMUP_NAME_INVALID)
            T_FAIL("%s should be invalid", invalid[i]);
    T_ASSERT_EQ(symup_name_classify(NULL, 0), SYMUP_NAME_INVALID);
    /* an embedded NUL is not hidden by the length */
    T_ASSERT_EQ(symup_name_classify("a/B/c\0d", 7), SYMUP_NAME_INVALID);
}

static void test_normalize(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    const char *n = "xul.pdb/b7dc60e91588d8a54c4c44205044422e1/xul.sym";
    T_ASSERT_OK(symup_key_normalize(n, strlen(n), &b));
    T_ASSERT_STR_EQ(b.data, "xul.pdb/B7DC60E91588D8A54C4C44205044422E1/xul.sym");
    sym_buf_reset(&b);
    n = "build-symbols.txt";
    T_ASSERT_ERR(symup_key_normalize(n, strlen(n), &b), SYM_EINVAL);
    char name[400];
    memset(name, 'a', 255);
    memcpy(name + 255, "/AB/x", 6);
    T_ASSERT_OK(symup_key_normalize(name, strlen(name), &b));
    sym_buf_reset(&b);
    memset(name, 'a', 256);
    memcpy(name + 256, "/AB/x", 6);
    T_ASSERT_ERR(symup_key_normalize(name, strlen(name), &b), SYM_EINVAL);
    memset(name, 'a', 200);
    name[200] = '/';
    memset(name + 201, 'A', 48);
    name[249] = '/';
    memset(name + 250, 'b', 50);
    name[300] = '\0';
    T_ASSERT_OK(symup_key_normalize(name, 300, &b));
    sym_buf_reset(&b);
    name[300] = 'c';
    name[301] = '\0';
    T_ASSERT_ERR(symup_key_normalize(name, 301, &b), SYM_EINVAL);
    sym_buf_cleanup(&b);
}

static void repr_is(const char *s, size_t len, const char *want)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    symup_pyrepr(&b, s, len);
    T_ASSERT_OK(sym_buf_err(&b));
    T_ASSERT_STR_EQ(b.data, want);
    sym_buf_cleanup(&b);
}

static void test_pyrepr(void)
{
    repr_is("abc", 3, "'abc'");
    repr_is("it's", 4, "\"it's\"");
    repr_is("it's \"x\"", 8, "'it\\'s \"x\"'");
    repr_is("say \"hi\"", 8, "'say \"hi\"'");
    repr_is("a\\b", 3, "'a\\\\b'");
    repr_is("\t\n\r\x01\x7f", 5, "'\\t\\n\\r\\x01\\x7f'");
    repr_is("p%eter", 6, "'p%eter'");
    repr_is("x\xc3\xbcl", 4, "'x\xc3\xbcl'");                    /* printable Latin-1 as is */
    repr_is("\xc2\xa0\xc2\xad\xc2\x85", 6, "'\\xa0\\xad\\x85'"); /* NBSP, soft hyphen, NEL */
    repr_is("\xe2\x80\x8b\xe2\x80\xa8", 6, "'\\u200b\\u2028'");
    repr_is("\xe4\xb8\xad\xf0\x9f\x98\x80", 7, "'\xe4\xb8\xad\xf0\x9f\x98\x80'");
    repr_is("\xf3\xa0\x80\x81", 4, "'\\U000e0001'");
    repr_is("\xee\x80\x80", 3, "'\\ue000'"); /* private use */
    repr_is("a\xff", 2, "'a\\xff'");
    repr_is("\0", 1, "'\\x00'");
}

T_LIST(T_TEST(test_classify), T_TEST(test_normalize), T_TEST(test_pyrepr))
