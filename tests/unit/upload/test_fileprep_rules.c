/* SPDX-License-Identifier: MPL-2.0 */
/* test_fileprep_rules.c: a plain file as a one-member ingest, as `sigil import` uses it: key,
 * digest, header fields and gzip as for a zip member; the source file is never written or
 * removed, the gzip copy always is; the refusals; allocation failures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/alloc.h"
#include "t.h"
#include "test_support.h"
#include "upload/fileprep.h"

static const char SYM[] = "MODULE windows x86_64 0123456789abcdef0123456789abcdef1 app.pdb\n"
                          "INFO CODE_ID 5F3A1B2C9000 app.exe\n"
                          "INFO GENERATOR mozilla/dump_syms 2.3.7\n"
                          "FILE 0 main.c\n"
                          "FUNC 1000 10 0 main\n";

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    T_ASSERT(f != NULL);
    T_ASSERT_EQ(fwrite(data, 1, len, f), len);
    T_ASSERT_EQ(fclose(f), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_sym_file(void)
{
    struct scratch s;
    scratch_init(&s);
    char src[400], gz[400];
    snprintf(src, sizeof(src), "%s/app.sym", s.dir);
    snprintf(gz, sizeof(gz), "%s/out/x.gz", s.dir);
    write_file(src, SYM, sizeof(SYM) - 1);
    struct symup_config cfg;
    symup_config_init(&cfg);
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    T_ASSERT_OK(symup_fileprep_open(src, "app.pdb/0123456789abcdef0123456789abcdef1/app.sym", gz,
                                    &cfg, &ing, &err));
    T_ASSERT_EQ(symup_ingest_n_members(ing), 1);
    const struct symup_member *m = symup_ingest_member(ing, 0);
    T_ASSERT_STR_EQ(m->key, "app.pdb/0123456789ABCDEF0123456789ABCDEF1/app.sym");
    T_ASSERT(m->compress);
    T_ASSERT(m->is_sym);
    T_ASSERT_STR_EQ(m->content_type, "text/plain");
    T_ASSERT_EQ(m->size, sizeof(SYM) - 1);
    struct symup_prepared p;
    T_ASSERT_OK(symup_prepare(ing, 0, &p, &err));
    char md5[33];
    md5_hex(SYM, sizeof(SYM) - 1, md5);
    T_ASSERT_STR_EQ(p.digest.md5, md5);
    T_ASSERT(p.digest.header.valid);
    T_ASSERT_STR_EQ(p.digest.header.debug_id, "0123456789ABCDEF0123456789ABCDEF1");
    T_ASSERT_STR_EQ(p.digest.header.code_file, "app.exe");
    T_ASSERT_STR_EQ(p.digest.header.code_id, "5F3A1B2C9000");
    T_ASSERT_STR_EQ(p.stored.path, gz);
    T_ASSERT_STR_EQ(p.stored.content_encoding, "gzip");
    size_t glen, olen;
    char *gzdata = read_all(gz, &glen);
    T_ASSERT(gzdata != NULL);
    T_ASSERT_EQ(glen, p.stored.size);
    char *orig = gunzip(gzdata, glen, &olen);
    T_ASSERT_EQ(olen, sizeof(SYM) - 1);
    T_ASSERT_MEM_EQ(orig, SYM, olen);
    free(orig);
    free(gzdata);
    symup_ingest_free(ing);
    T_ASSERT(exists(src)); /* the source stays */
    T_ASSERT(!exists(gz)); /* the work file goes */
    T_ASSERT_EQ(unlink(src), 0);
    scratch_done(&s);
}

static void test_plain_file_and_release(void)
{
    struct scratch s;
    scratch_init(&s);
    char src[400], gz[400];
    snprintf(src, sizeof(src), "%s/app.dl_", s.dir);
    snprintf(gz, sizeof(gz), "%s/out/y.gz", s.dir);
    write_file(src, "MSCF\0\1\2\3", 8);
    struct symup_config cfg;
    symup_config_init(&cfg);
    struct symup_ingest *ing = NULL;
    T_ASSERT_OK(symup_fileprep_open(src, "app.dll/5F3A1B2C9000/app.dl_", gz, &cfg, &ing, NULL));
    struct symup_prepared p;
    T_ASSERT_OK(symup_prepare(ing, 0, &p, NULL));
    T_ASSERT(!p.stored.compressed);
    T_ASSERT_STR_EQ(p.stored.path, src);
    T_ASSERT(!p.digest.header.valid);
    symup_member_release(ing, 0);
    T_ASSERT(exists(src));
    struct symup_error err;
    T_ASSERT_ERR(symup_prepare(ing, 0, &p, &err), SYM_EINVAL);
    T_ASSERT_ERR(symup_ingest_extract(ing, s.out, NULL, NULL, &err), SYM_EINVAL);
    symup_ingest_free(ing);
    T_ASSERT_EQ(unlink(src), 0);
    scratch_done(&s);
}

static void test_refusals(void)
{
    struct scratch s;
    scratch_init(&s);
    char src[400], gz[400], link[400];
    snprintf(src, sizeof(src), "%s/f.sym", s.dir);
    snprintf(gz, sizeof(gz), "%s/out/z.gz", s.dir);
    snprintf(link, sizeof(link), "%s/link.sym", s.dir);
    write_file(src, "x", 1);
    struct symup_config cfg;
    symup_config_init(&cfg);
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    T_ASSERT_ERR(symup_fileprep_open(src, "f.sym", gz, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_PATTERN);
    T_ASSERT(strstr(err.msg, "'f.sym'") != NULL);
    T_ASSERT_ERR(symup_fileprep_open(src, "a/ZZ/f.sym", gz, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_ERR(symup_fileprep_open(src, "build-symbols.txt", gz, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_EMPTY);
    T_ASSERT_ERR(symup_fileprep_open(src, "qcom/proprietary/f.sym", gz, &cfg, &ing, &err),
                 SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_SNIPPET);
    T_ASSERT_ERR(symup_fileprep_open(s.dir, "a/1/f.sym", gz, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_NOT_REGULAR);
    char missing[400];
    snprintf(missing, sizeof(missing), "%s/missing.sym", s.dir);
    T_ASSERT_ERR(symup_fileprep_open(missing, "a/1/f.sym", gz, &cfg, &ing, &err), SYM_ENOTFOUND);
    cfg.limits.max_members = 0; /* an invalid configuration */
    T_ASSERT_ERR(symup_fileprep_open(src, "a/1/f.sym", gz, &cfg, &ing, &err), SYM_EINVAL);
    symup_config_init(&cfg);
    cfg.limits.max_name_len = 4;
    T_ASSERT_ERR(symup_fileprep_open(src, "a/1/f.sym", gz, &cfg, &ing, &err), SYM_ELIMIT);
    /* a symbolic link to a regular file is followed */
    symup_config_init(&cfg);
    T_ASSERT_EQ(symlink(src, link), 0);
    T_ASSERT_OK(symup_fileprep_open(link, "a/1/f.sym", gz, &cfg, &ing, &err));
    struct symup_digest dg;
    T_ASSERT_OK(symup_member_digest(ing, 0, &dg, &err));
    T_ASSERT_EQ(dg.size, 1);
    symup_ingest_free(ing);
    T_ASSERT_EQ(unlink(link), 0);
    T_ASSERT_EQ(unlink(src), 0);
    scratch_done(&s);
}

static void test_out_of_memory(void)
{
    struct scratch s;
    scratch_init(&s);
    char src[400], gz[400];
    snprintf(src, sizeof(src), "%s/app.sym", s.dir);
    snprintf(gz, sizeof(gz), "%s/out/m.gz", s.dir);
    write_file(src, SYM, sizeof(SYM) - 1);
    struct symup_config cfg;
    symup_config_init(&cfg);
    for (unsigned long k = 1;; k++) {
        struct symup_ingest *ing = NULL;
        struct symup_error err;
        sym_alloc_fail_at(k);
        sym_err rc = symup_fileprep_open(src, "app.pdb/0123/app.sym", gz, &cfg, &ing, &err);
        if (rc == SYM_OK) {
            struct symup_prepared p;
            rc = symup_prepare(ing, 0, &p, &err);
            symup_ingest_free(ing);
        }
        sym_alloc_fail_at(0);
        if (rc == SYM_OK)
            break;
        T_ASSERT_EQ(rc, SYM_ENOMEM);
        T_ASSERT(!exists(gz));
        T_ASSERT(k < 1000);
    }
    T_ASSERT_EQ(unlink(src), 0);
    scratch_done(&s);
}

T_LIST(T_TEST(test_sym_file), T_TEST(test_plain_file_and_release), T_TEST(test_refusals),
       T_TEST(test_out_of_memory))
