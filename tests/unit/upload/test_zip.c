/* SPDX-License-Identifier: MPL-2.0 */
/* test_zip.c: the zip reader on its own: entry order and types, reading in pieces, name decoding
 * independent of the process locale, and misuse after errors. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "test_support.h"
#include "upload/zip.h"
#include "zipw.h"

static void test_iterate_and_read(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    struct zipw_opts def = {.deflate = true};
    char text[5000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (char)('0' + i % 10);
    zipw_dir(z, "dir/");
    zipw_add(z, "dir/a.txt", 9, text, sizeof(text), &def);
    zipw_file(z, "empty", "");
    zipw_write(z, s.zip);

    struct symup_zip_limits lim;
    symup_zip_limits_init(&lim);
    struct symup_zip *zr = NULL;
    struct symup_error err;
    T_ASSERT_OK(symup_zip_open(s.zip, &lim, &zr, &err));
    struct symup_zip_entry e;
    T_ASSERT_OK(symup_zip_next(zr, &e, &err));
    T_ASSERT_STR_EQ(e.name, "dir/");
    T_ASSERT_EQ(e.type, SYMUP_ZIP_DIR);
    T_ASSERT_EQ(e.index, 0);
    char buf[777];
    size_t n;
    T_ASSERT_ERR(symup_zip_read(zr, buf, sizeof(buf), &n, &err), SYM_EINVAL);
    T_ASSERT_OK(symup_zip_next(zr, &e, &err));
    T_ASSERT_STR_EQ(e.name, "dir/a.txt");
    T_ASSERT_EQ(e.type, SYMUP_ZIP_FILE);
    T_ASSERT_U64_EQ(e.size, sizeof(text));
    T_ASSERT_EQ(e.index, 1);
    size_t got = 0;
    char *all = malloc(sizeof(text));
    for (;;) {
        T_ASSERT_OK(symup_zip_read(zr, buf, sizeof(buf), &n, &err));
        if (n == 0)
            break;
        T_ASSERT(got + n <= sizeof(text));
        memcpy(all + got, buf, n);
        got += n;
    }
    T_ASSERT_EQ(got, sizeof(text));
    T_ASSERT_MEM_EQ(all, text, got);
    free(all);
    T_ASSERT_OK(symup_zip_read(zr, buf, sizeof(buf), &n, &err));
    T_ASSERT_EQ(n, 0);
    T_ASSERT_OK(symup_zip_next(zr, &e, &err));
    T_ASSERT_STR_EQ(e.name, "empty");
    T_ASSERT_U64_EQ(e.size, 0);
    T_ASSERT_OK(symup_zip_read(zr, buf, sizeof(buf), &n, &err));
    T_ASSERT_EQ(n, 0);
    T_ASSERT_ERR(symup_zip_next(zr, &e, &err), SYM_ENOTFOUND);
    T_ASSERT_U64_EQ(symup_zip_total_read(zr), sizeof(text));
    symup_zip_close(zr);
    symup_zip_close(NULL);
    scratch_done(&s);
}

static void test_skip_unread_and_misuse(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    zipw_file(z, "one", "1111");
    zipw_file(z, "/abs", "x");
    zipw_file(z, "three", "3");
    zipw_write(z, s.zip);
    struct symup_zip_limits lim;
    symup_zip_limits_init(&lim);
    struct symup_zip *zr = NULL;
    struct symup_error err;
    T_ASSERT_OK(symup_zip_open(s.zip, &lim, &zr, &err));
    struct symup_zip_entry e;
    T_ASSERT_OK(symup_zip_next(zr, &e, &err));
    T_ASSERT_ERR(symup_zip_next(zr, &e, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_UNSAFE_PATH);
    T_ASSERT_STR_EQ(err.msg, "Zip member '/abs' has an absolute path or a '.' or '..' component, "
                             "which is not allowed");
    /* the handle is finished after an error */
    T_ASSERT_ERR(symup_zip_next(zr, &e, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_CONFIG);
    symup_zip_close(zr);

    lim.max_ratio = 0;
    T_ASSERT_ERR(symup_zip_open(s.zip, &lim, &zr, &err), SYM_EINVAL);
    symup_zip_limits_init(&lim);
    T_ASSERT_ERR(symup_zip_open(s.dir, &lim, &zr, &err), SYM_EIO);
    char missing[400];
    snprintf(missing, sizeof(missing), "%s/missing.zip", s.dir);
    T_ASSERT_ERR(symup_zip_open(missing, &lim, &zr, &err), SYM_EIO);
    scratch_done(&s);
}

static void test_names_ignore_process_locale(void)
{
    struct scratch s;
    scratch_init(&s);
    struct zipw_opts cp437 = {0}, utf8 = {.flags = ZIPW_UTF8};
    struct zipw *z = zipw_new();
    zipw_add(z, "\x81\x9a", 2, "x", 1, &cp437);
    zipw_add(z, "\xc3\xbc\xe4\xb8\xad", 5, "x", 1, &utf8);
    zipw_write(z, s.zip);
    const char *locales[] = {"C", "C.UTF-8"};
    for (int l = 0; l < 2; l++) {
        if (setlocale(LC_ALL, locales[l]) == NULL)
            continue;
        struct symup_zip_limits lim;
        symup_zip_limits_init(&lim);
        struct symup_zip *zr = NULL;
        struct symup_error err;
        T_ASSERT_OK(symup_zip_open(s.zip, &lim, &zr, &err));
        struct symup_zip_entry e;
        T_ASSERT_OK(symup_zip_next(zr, &e, &err));
        T_ASSERT_STR_EQ(e.name, "\xc3\xbc\xc3\x9c"); /* CP437 0x81 0x9A: u and U umlaut */
        T_ASSERT_OK(symup_zip_next(zr, &e, &err));
        T_ASSERT_STR_EQ(e.name, "\xc3\xbc\xe4\xb8\xad");
        symup_zip_close(zr);
    }
    setlocale(LC_ALL, "C");
    scratch_done(&s);
}

/* Compression methods whose decoders size their memory from the archive (LZMA, XZ, Zstandard)
 * are refused before any member is decoded; stored, deflate and bzip2 are accepted. */
static void test_compression_methods(void)
{
    static const uint16_t refused[] = {14, 93, 95, 99};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        struct scratch s;
        scratch_init(&s);
        struct zipw *z = zipw_new();
        struct zipw_opts lzma = {.method = refused[i]};
        zipw_file(z, "a.pdb/ABC/a.sym", "MODULE windows x86 ABC a.pdb\n");
        zipw_add(z, "b.pdb/ABC/b.sym", 15, "\x09\x14\x05\x00\x5d\x00\x00\x00\x80", 9, &lzma);
        zipw_write(z, s.zip);
        struct symup_zip_limits lim;
        symup_zip_limits_init(&lim);
        struct symup_zip *zr = NULL;
        struct symup_error err;
        T_ASSERT_ERR(symup_zip_open(s.zip, &lim, &zr, &err), SYM_EINVAL);
        T_ASSERT_EQ(err.reason, SYMUP_R_METHOD);
        T_ASSERT(symup_error_is_input(&err));
        scratch_done(&s);
    }
    struct scratch s;
    scratch_init(&s);
    struct zipw *z = zipw_new();
    struct zipw_opts def = {.deflate = true};
    zipw_add(z, "a.pdb/ABC/a.sym", 15, "MODULE x\n", 9, &def);
    zipw_file(z, "b.pdb/ABC/b.sym", "MODULE y\n");
    zipw_write(z, s.zip);
    struct symup_zip_limits lim;
    symup_zip_limits_init(&lim);
    struct symup_zip *zr = NULL;
    struct symup_error err;
    T_ASSERT_OK(symup_zip_open(s.zip, &lim, &zr, &err));
    symup_zip_close(zr);
    scratch_done(&s);
}

T_LIST(T_TEST(test_iterate_and_read), T_TEST(test_skip_unread_and_misuse),
       T_TEST(test_names_ignore_process_locale), T_TEST(test_compression_methods))
