/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_zip.c: arbitrary bytes as an uploaded zip: validation, extraction, digest and gzip of every
 * member, and the .sym header reader and name rules on the raw bytes. The input goes through a
 * file because the upload library reads the spooled request body from disk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/buf.h"
#include "upload/ingest.h"
#include "upload/key.h"
#include "upload/symheader.h"

static char dir[256];
static char zip_path[300];
static char out_dir[300];

static void remove_scratch(void)
{
    unlink(zip_path);
    rmdir(out_dir);
    rmdir(dir);
}

static int setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/sigil-fuzz-zip-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(zip_path, sizeof(zip_path), "%s/in.zip", dir);
    snprintf(out_dir, sizeof(out_dir), "%s/out", dir);
    if (mkdir(out_dir, 0700) != 0)
        return -1;
    atexit(remove_scratch);
    return 0;
}

static void run_ingest(const struct symup_config *cfg)
{
    struct symup_ingest *ing = NULL;
    struct symup_error err;
    if (symup_ingest_open(zip_path, cfg, &ing, &err) != SYM_OK)
        return;
    (void)symup_ingest_content_hash(ing);
    for (size_t i = 0; i < symup_ingest_n_ignored(ing); i++)
        (void)symup_ingest_ignored(ing, i);
    /* members extracted before an error stay usable, so prepare whatever exists */
    sym_err rc = symup_ingest_extract(ing, out_dir, NULL, NULL, &err);
    (void)rc;
    for (size_t i = 0; i < symup_ingest_n_members(ing); i++) {
        struct symup_prepared p;
        if (symup_member_path(ing, i) == NULL)
            continue;
        rc = symup_prepare(ing, i, &p, &err);
        (void)rc;
    }
    symup_ingest_free(ing);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (setup() != 0)
            abort();
        ready = 1;
    }
    FILE *f = fopen(zip_path, "wb");
    if (f == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();

    struct symup_config cfg;
    symup_config_init(&cfg);
    cfg.limits.max_members = 64;
    cfg.limits.max_member_size = 1u << 20;
    cfg.limits.max_total_size = 4u << 20;
    cfg.limits.ratio_min_size = 64u << 10;
    cfg.limits.max_name_len = 512;
    run_ingest(&cfg);
    cfg.strict_header = true;
    cfg.gzip_level = 1;
    run_ingest(&cfg);

    struct symup_header h;
    symup_header_parse((const char *)data, size < SYMUP_HEADER_WINDOW ? size : SYMUP_HEADER_WINDOW,
                       &h);
    size_t name_len = size < 1024 ? size : 1024;
    (void)symup_name_classify((const char *)data, name_len);
    struct sym_buf b;
    sym_buf_init(&b, 0);
    symup_pyrepr(&b, (const char *)data, name_len);
    if (symup_key_normalize((const char *)data, name_len, &b) != SYM_OK)
        sym_buf_reset(&b);
    sym_buf_cleanup(&b);
    return 0;
}
