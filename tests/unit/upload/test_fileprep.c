/* SPDX-License-Identifier: MPL-2.0 */
/* test_fileprep.c: a plain symbol file (not in a zip) through the same rules and outputs as a zip
 * member; the caller's file is never removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "test_support.h"
#include "upload/fileprep.h"

static const char *SYM_TEXT = "MODULE windows x86 d57f52d4a2fd56244c4c44205044422e1 foo.pdb\r\n"
                              "INFO CODE_ID 6A4B9A365000 foo.exe\r\n"
                              "FILE 0 a.c\r\n";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    T_ASSERT(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0);
}

static void test_plain_file(void)
{
    struct scratch s;
    scratch_init(&s);
    char src[400], gz[400], link[400];
    snprintf(src, sizeof(src), "%s/foo.sym", s.dir);
    snprintf(gz, sizeof(gz), "%s/foo.sym.gz", s.out);
    snprintf(link, sizeof(link), "%s/link.sym", s.dir);
    write_text(src, SYM_TEXT);
    T_ASSERT_EQ(symlink(src, link), 0);
    struct symup_config cfg;
    symup_config_init(&cfg);
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    T_ASSERT_OK(symup_fileprep_open(link, "foo.pdb/d57f52d4a2fd56244c4c44205044422e1/foo.sym", gz,
                                    &cfg, &ing, &err));
    T_ASSERT_EQ(symup_ingest_n_members(ing), 1);
    const struct symup_member *m = symup_ingest_member(ing, 0);
    T_ASSERT_STR_EQ(m->key, "foo.pdb/D57F52D4A2FD56244C4C44205044422E1/foo.sym");
    T_ASSERT(m->compress && m->is_sym);
    struct symup_prepared p;
    T_ASSERT_OK(symup_prepare(ing, 0, &p, &err));
    char md5[33];
    md5_hex(SYM_TEXT, strlen(SYM_TEXT), md5);
    T_ASSERT_STR_EQ(p.digest.md5, md5);
    T_ASSERT_STR_EQ(p.digest.header.debug_id, "D57F52D4A2FD56244C4C44205044422E1");
    T_ASSERT_STR_EQ(p.digest.header.code_file, "foo.exe");
    T_ASSERT_STR_EQ(p.stored.path, gz);
    size_t len, raw_len;
    char *data = read_all(gz, &len);
    char *raw = gunzip(data, len, &raw_len);
    T_ASSERT_EQ(raw_len, strlen(SYM_TEXT));
    T_ASSERT_MEM_EQ(raw, SYM_TEXT, raw_len);
    free(data);
    free(raw);
    T_ASSERT_ERR(symup_ingest_extract(ing, s.out, NULL, NULL, &err), SYM_EINVAL);
    symup_ingest_free(ing);
    T_ASSERT(access(src, F_OK) == 0); /* the caller's file stays */
    T_ASSERT(access(gz, F_OK) != 0);  /* the gzip copy does not */

    /* the same name rules as zip members */
    T_ASSERT_ERR(symup_fileprep_open(src, "foo.sym", gz, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_PATTERN);
    T_ASSERT_ERR(symup_fileprep_open(src, "build-symbols.txt", gz, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_EMPTY);
    T_ASSERT_ERR(symup_fileprep_open(s.out, "a/B/c.sym", gz, &cfg, &ing, &err), SYM_EINVAL);
    T_ASSERT_EQ(err.reason, SYMUP_R_NOT_REGULAR);
    char missing[400];
    snprintf(missing, sizeof(missing), "%s/missing.sym", s.dir);
    T_ASSERT_ERR(symup_fileprep_open(missing, "a/B/c.sym", gz, &cfg, &ing, &err), SYM_ENOTFOUND);
    cfg.limits.max_member_size = 10;
    T_ASSERT_ERR(symup_fileprep_open(src, "a/B/c.sym", gz, &cfg, &ing, &err), SYM_ELIMIT);
    unlink(link);
    unlink(src);
    scratch_done(&s);
}

T_LIST(T_TEST(test_plain_file))
