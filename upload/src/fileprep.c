/* SPDX-License-Identifier: MPL-2.0 */
/* fileprep.c: a plain file as a one-member ingest. The checks of a zip's directory (regular file,
 * size and name limits) are made here on the file itself; the upload rules, the digest and the
 * gzip are ingest.c's, shared with zip members. */
#include "upload/fileprep.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "upload_int.h"

sym_err symup_fileprep_open(const char *path, const char *name, const char *gz_path,
                            const struct symup_config *cfg, struct symup_ingest **out,
                            struct symup_error *err)
{
    if (path == NULL || name == NULL || gz_path == NULL || cfg == NULL || out == NULL)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "invalid file preparation call");
    size_t name_len = strlen(name);
    if (name_len > cfg->limits.max_name_len)
        return symup__fail(err, SYM_ELIMIT, SYMUP_R_NAME_TOO_LONG,
                           "File name is longer than %u bytes", cfg->limits.max_name_len);
    /* The ingest reads with O_NOFOLLOW: hand it the resolved path of a linked file. */
    char real[PATH_MAX];
    if (realpath(path, real) == NULL) {
        int e = errno;
        if (e == ENOENT)
            return symup__fail(err, SYM_ENOTFOUND, SYMUP_R_IO, "%s: no such file", path);
        return symup__fail(err, SYM_EIO, SYMUP_R_IO, "%s: %s", path, strerror(e));
    }
    struct stat st;
    sym_err rc = SYM_OK;
    if (stat(real, &st) != 0) {
        rc = symup__fail(err, SYM_EIO, SYMUP_R_IO, "%s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = symup__fail(err, SYM_EINVAL, SYMUP_R_NOT_REGULAR, "%s is not a regular file", path);
    } else if ((uint64_t)st.st_size > cfg->limits.max_member_size) {
        rc = symup__fail(err, SYM_ELIMIT, SYMUP_R_MEMBER_TOO_LARGE, "%s is larger than %llu bytes",
                         path, (unsigned long long)cfg->limits.max_member_size);
    } else {
        rc = symup__ingest_single(real, name, (uint64_t)st.st_size, gz_path, cfg, out, err);
    }
    return rc;
}
