/* SPDX-License-Identifier: MPL-2.0 */
/* test_symheader.c: the .sym header fields for the upload row (MODULE, INFO CODE_ID,
 * INFO GENERATOR), including Tecken's all-or-nothing failure and the corpus symbol files. */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "test_support.h"
#include "upload/symheader.h"

static void parse(const char *text, struct symup_header *h)
{
    symup_header_parse(text, strlen(text), h);
}

static void expect(const struct symup_header *h, const char *debug_filename, const char *debug_id,
                   const char *code_file, const char *code_id, const char *generator)
{
    T_ASSERT(h->valid);
    T_ASSERT_STR_EQ(symup_header_debug_filename(h), debug_filename);
    T_ASSERT_STR_EQ(symup_header_debug_id(h), debug_id);
    T_ASSERT_STR_EQ(symup_header_code_file(h), code_file);
    T_ASSERT_STR_EQ(symup_header_code_id(h), code_id);
    T_ASSERT_STR_EQ(symup_header_generator(h), generator);
}

static void expect_invalid(const struct symup_header *h)
{
    T_ASSERT(!h->valid);
    T_ASSERT(symup_header_debug_filename(h) == NULL);
    T_ASSERT(symup_header_debug_id(h) == NULL);
    T_ASSERT(symup_header_code_file(h) == NULL);
    T_ASSERT(symup_header_code_id(h) == NULL);
    T_ASSERT(symup_header_generator(h) == NULL);
}

static void test_windows(void)
{
    struct symup_header h;
    parse("MODULE windows x86_64 d48f191186d67e69df025ad71fb91e1f0 xul.pdb\n"
          "INFO CODE_ID 60533c886efd000 xul.dll\n"
          "INFO RELEASECHANNEL nightly\n"
          "INFO GENERATOR mozilla/dump_syms 2.3.7\n"
          "FILE 0 hg:hg.mozilla.org/mozilla-central:xpcom/base/nsDebug.cpp\n",
          &h);
    expect(&h, "xul.pdb", "D48F191186D67E69DF025AD71FB91E1F0", "xul.dll", "60533C886EFD000",
           "mozilla/dump_syms 2.3.7");
    T_ASSERT(h.has_module);
}

static void test_mac(void)
{
    struct symup_header h;
    parse("MODULE Mac x86_64 BE555D35C9A93D7FBC23ED48502277E30 XUL\r\n"
          "INFO CODE_ID BE555D35C9A93D7FBC23ED48502277E3\r\n"
          "INFO GENERATOR mozilla/dump_syms 2.3.3\r\n"
          "PUBLIC 1f30 0 __cxa_bad_cast\r\n",
          &h);
    expect(&h, "XUL", "BE555D35C9A93D7FBC23ED48502277E30", "", "BE555D35C9A93D7FBC23ED48502277E3",
           "mozilla/dump_syms 2.3.3");
}

static void test_linux_with_and_without_generator(void)
{
    struct symup_header h;
    parse("MODULE Linux x86_64 BAB710EA2FE8C809A3806AFD7981FDEC0 libxul.so\n"
          "INFO CODE_ID EA10B7BAE82F09C8A3806AFD7981FDEC568D55C1\n"
          "INFO GENERATOR mozilla/dump_syms 2.3.3\n",
          &h);
    expect(&h, "libxul.so", "BAB710EA2FE8C809A3806AFD7981FDEC0", "",
           "EA10B7BAE82F09C8A3806AFD7981FDEC568D55C1", "mozilla/dump_syms 2.3.3");
    parse("MODULE Linux x86_64 BAB710EA2FE8C809A3806AFD7981FDEC0 libxul.so\n"
          "INFO CODE_ID EA10B7BAE82F09C8A3806AFD7981FDEC568D55C1\n"
          "FILE 0 a.c\n",
          &h);
    expect(&h, "libxul.so", "BAB710EA2FE8C809A3806AFD7981FDEC0", "",
           "EA10B7BAE82F09C8A3806AFD7981FDEC568D55C1", "");
    /* no INFO at all: empty strings, not NULL */
    parse("MODULE Linux x86_64 BAB710EA2FE8C809A3806AFD7981FDEC0 libxul.so\n", &h);
    expect(&h, "libxul.so", "BAB710EA2FE8C809A3806AFD7981FDEC0", "", "", "");
}

static void test_parse_errors(void)
{
    struct symup_header h;
    parse("MODULE Linux x86_64\n", &h);
    expect_invalid(&h);
    parse("MODULE Linux x86_64 ABC libxul.so extra\n", &h);
    expect_invalid(&h);
    parse("MODULE Linux x86_64 ABC libxul.so\nINFO CODE_ID A B C\n", &h);
    expect_invalid(&h);
    parse("MODULE Linux x86_64 ABC libxul.so\nINFO CODE_ID\n", &h);
    expect_invalid(&h);
    parse("MODULE Linux x86_64 ABC libxul.so\nINFO GENERATOR\n", &h);
    expect_invalid(&h);
    parse("MODULE Linux x86_64 ABC libxul.so\nINFO GENERATOR   \n", &h);
    expect_invalid(&h);
    /* an id longer than its column */
    parse("MODULE Linux x86_64 0123456789012345678901234567890123456789A a\n", &h);
    expect_invalid(&h);
    /* not UTF-8 */
    parse("MODULE Linux x86_64 ABC lib\xffxul.so\n", &h);
    expect_invalid(&h);
    parse("MODULE Linux x86_64 ABC libxul.so\nINFO VENDOR \xc3\n", &h);
    expect_invalid(&h);
    symup_header_parse("MODULE a b C li\0b.so\n", 21, &h);
    expect_invalid(&h);
    /* an error after good lines still voids everything */
    parse("MODULE Linux x86_64 ABC libxul.so\nINFO CODE_ID DEF\nMODULE x\n", &h);
    expect_invalid(&h);
}

static void test_line_rules(void)
{
    struct symup_header h;
    /* parsing stops at the first other line; what follows does not count */
    parse("MODULE Linux x86_64 ABC a.so\nFILE 0 x\nMODULE Linux x86_64 DEF b.so\nINFO CODE_ID"
          " 1 2 3 4\n",
          &h);
    expect(&h, "a.so", "ABC", "", "", "");
    /* no MODULE line: valid, all empty */
    parse("FILE 0 x\n", &h);
    expect(&h, "", "", "", "", "");
    T_ASSERT(!h.has_module);
    parse("", &h);
    expect(&h, "", "", "", "", "");
    symup_header_parse(NULL, 0, &h);
    T_ASSERT(h.valid);
    /* a byte-order mark hides the MODULE line, as in Tecken */
    parse("\xef\xbb\xbfMODULE Linux x86_64 ABC a.so\n", &h);
    expect(&h, "", "", "", "", "");
    /* "starts with" tests, as in Tecken */
    parse("MODULEX Linux x86_64 abc a.so\nINFO CODE_IDX def\nINFO GENERATORS  x  y \n", &h);
    expect(&h, "a.so", "ABC", "", "DEF", "x  y");
    /* lone CR line ends, tabs and Unicode spaces split tokens */
    parse("MODULE\tLinux x86_64 abc a.so\rINFO CODE_ID\xe3\x80\x80"
          "def\xc2\xa0"
          "b.dll\rINFO GENERATOR g\xe2\x80\x83h\r",
          &h);
    expect(&h, "a.so", "ABC", "b.dll", "DEF", "g\xe2\x80\x83h");
    /* a later MODULE line wins while still in the header */
    parse("MODULE a b C1 one\nINFO X\nMODULE a b C2 two\n", &h);
    expect(&h, "two", "C2", "", "", "");
    /* the final line needs no line break */
    parse("MODULE a b c d", &h);
    expect(&h, "d", "C", "", "", "");
}

static void test_generator_cut(void)
{
    char text[1024] = "MODULE a b C d\nINFO GENERATOR ";
    size_t n = strlen(text);
    for (int i = 0; i < 120; i++) {
        memcpy(text + n, "\xc3\xa9", 2); /* e-acute, two bytes */
        n += 2;
    }
    text[n++] = '\n';
    text[n] = '\0';
    struct symup_header h;
    parse(text, &h);
    T_ASSERT(h.valid);
    T_ASSERT_EQ(strlen(h.generator), 200); /* 100 code points */
}

struct corpus_sym {
    const char *path;
    const char *debug_filename, *debug_id, *code_file, *code_id, *generator;
};

static void test_corpus_symbols(void)
{
    static const struct corpus_sym syms[] = {
        {"tecken/tests/data/symbols/ShowSSEConfig.exe/6A4B9A365000/ShowSSEConfig.sym",
         "ShowSSEConfig.pdb", "D57F52D4A2FD56244C4C44205044422E1", "ShowSSEConfig.exe",
         "6A4B9A365000", "mozilla/dump_syms 2.3.7"},
        {"tecken/tests/data/symbols/qipcap64.pdb/293A285ED25871934C4C44205044422E1/qipcap64.sym",
         "qipcap64.pdb", "293A285ED25871934C4C44205044422E1", "qipcap64.dll", "6A4806059000",
         "mozilla/dump_syms 2.2.0"},
        {"tecken/tests/data/symbols/ssltunnel/8A07C88A3DA44E20A3490D88791183060/ssltunnel.sym",
         "ssltunnel", "8A07C88A3DA44E20A3490D88791183060", "",
         "8AC8078AA43D204EA3490D88791183066C426696", "mozilla/dump_syms 2.3.7"},
        {"tecken/tests/data/symbols/libxul_correct_buildid.dylib/"
         "BE555D35C9A93D7FBC23ED48502277E30/libxul_correct_buildid.dylib.sym",
         "libxul_correct_buildid.dylib", "BE555D35C9A93D7FBC23ED48502277E30", "",
         "BE555D35C9A93D7FBC23ED48502277E3", "mozilla/dump_syms 2.3.7"},
        {"tecken/tests/data/symbols/c++filt/B2E65520F14FB5332E38A5A5189839AD0/c++filt.sym",
         "c++filt", "B2E65520F14FB5332E38A5A5189839AD0", "",
         "2055E6B24FF133B52E38A5A5189839AD0C7BD1CC", "mozilla/dump_syms 2.3.7"},
        {"tecken/tests/data/teckentest_js.sym", "teckentest_js.pdb",
         "011702B673B8C2B54C4C44205044422E1", "teckentest_js.exe", "66A2BFC820C6000",
         "mozilla/dump_syms 2.3.3"},
        {"tecken/tests/data/teckentest_libc++abi.dylib.sym", "teckentest_libc++abi.dylib",
         "995DEDE6493B3509A47C85D8BD0AE52B0", "", "995DEDE6493B3509A47C85D8BD0AE52B",
         "mozilla/dump_syms 2.3.3"},
    };
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        size_t len;
        char *data = read_all(t_corpus_path(syms[i].path), &len);
        T_ASSERT(data != NULL);
        struct symup_header h;
        symup_header_parse(data, len < SYMUP_HEADER_WINDOW ? len : SYMUP_HEADER_WINDOW, &h);
        expect(&h, syms[i].debug_filename, syms[i].debug_id, syms[i].code_file, syms[i].code_id,
               syms[i].generator);
        free(data);
    }
    size_t len;
    char *data = read_all(t_corpus_path("tecken/tests/data/teckentest_xpcshell.sym"), &len);
    struct symup_header h;
    symup_header_parse(data, len, &h);
    expect(&h, "tecken_xpcshell", "BAB710EA2FE8C809A3806AFD7981FDEC0", "",
           "EA10B7BAE82F09C8A3806AFD7981FDEC568D55C1", "mozilla/dump_syms 2.3.3");
    free(data);
}

T_LIST(T_TEST(test_windows), T_TEST(test_mac), T_TEST(test_linux_with_and_without_generator),
       T_TEST(test_parse_errors), T_TEST(test_line_rules), T_TEST(test_generator_cut),
       T_TEST(test_corpus_symbols))
