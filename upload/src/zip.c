/* SPDX-License-Identifier: MPL-2.0 */
/* zip.c: reading a zip member by member under limits, on top of libarchive's seekable zip
 * reader (which trusts the central directory, as Python's zipfile does, rather than scanning
 * local headers). libarchive converts names through the current locale, so every libarchive call
 * runs under a private C.UTF-8 locale with header charset CP437: names then come out as Python
 * decodes them (UTF-8 when flagged, CP437 otherwise), whatever the process locale. */
#include "upload/zip.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "sym/alloc.h"
#include "upload/key.h"
#include "upload_int.h"

struct symup_zip {
    struct archive *a;
    locale_t loc;
    struct symup_zip_limits lim;
    uint32_t n_entries;
    uint64_t declared_total;
    uint64_t total_read;
    bool failed;
    /* current member */
    struct archive_entry *entry;
    bool have_file;
    bool data_done;
    const char *name;
    size_t name_len;
    uint64_t size;
    uint64_t produced;
    int64_t data_start; /* archive_filter_bytes() when its data began */
};

void symup_zip_limits_init(struct symup_zip_limits *lim)
{
    lim->max_members = SYMUP_DEFAULT_MAX_MEMBERS;
    lim->max_member_size = SYMUP_DEFAULT_MAX_MEMBER_SIZE;
    lim->max_total_size = SYMUP_DEFAULT_MAX_TOTAL_SIZE;
    lim->max_ratio = SYMUP_DEFAULT_MAX_RATIO;
    lim->ratio_min_size = SYMUP_DEFAULT_RATIO_MIN_SIZE;
    lim->max_name_len = SYMUP_DEFAULT_MAX_NAME_LEN;
}

uint64_t symup_zip_total_read(const struct symup_zip *z)
{
    return z->total_read;
}

/* ---- end-of-central-directory pre-check --------------------------------------------------- */

#define EOCD_LEN      22u
#define EOCD_MAX_SCAN (EOCD_LEN + 65535u)

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

static bool pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

enum eocd_result { EOCD_FOUND, EOCD_MISSING, EOCD_IOERR, EOCD_NOMEM };

struct eocd {
    uint64_t entries; /* as announced */
    uint64_t cd_size;
    uint64_t cd_end; /* where the central directory ends: the (Zip64) end record */
};

/* Finds the end-of-central-directory record the way Python's zipfile does (the last signature
 * in the final 64 KiB + 22 bytes), and the Zip64 record when a locator precedes it. */
static enum eocd_result read_eocd(int fd, uint64_t file_size, struct eocd *out)
{
    if (file_size < EOCD_LEN)
        return EOCD_MISSING;
    size_t scan = file_size < EOCD_MAX_SCAN ? (size_t)file_size : EOCD_MAX_SCAN;
    unsigned char *buf = sym_malloc(scan);
    if (buf == NULL)
        return EOCD_NOMEM;
    uint64_t base = file_size - scan;
    if (!pread_full(fd, buf, scan, base)) {
        sym_free(buf);
        return EOCD_IOERR;
    }
    enum eocd_result res = EOCD_MISSING;
    for (size_t pos = scan - EOCD_LEN + 1; pos-- > 0;) {
        if (memcmp(buf + pos, "PK\x05\x06", 4) != 0)
            continue;
        out->entries = le16(buf + pos + 10);
        out->cd_size = le32(buf + pos + 12);
        out->cd_end = base + pos;
        res = EOCD_FOUND;
        unsigned char loc[20], rec[56];
        if (base + pos >= sizeof(loc) + sizeof(rec) &&
            pread_full(fd, loc, sizeof(loc), base + pos - sizeof(loc)) &&
            memcmp(loc, "PK\x06\x07", 4) == 0) {
            uint64_t rec_pos = base + pos - sizeof(loc) - sizeof(rec);
            if (pread_full(fd, rec, sizeof(rec), rec_pos) && memcmp(rec, "PK\x06\x06", 4) == 0) {
                out->entries = le64(rec + 32);
                out->cd_size = le64(rec + 40);
                out->cd_end = rec_pos;
            }
        }
        break;
    }
    sym_free(buf);
    return res;
}

enum cd_result { CD_COUNTED, CD_TOO_MANY, CD_BAD, CD_IOERR, CD_METHOD };

/* Stored, deflate and bzip2: what zip tools write for symbol archives, decoded in bounded memory.
 * LZMA, XZ and Zstandard take their dictionary size from the archive, so one hostile member
 * could make the decoder allocate gigabytes: refused. */
static bool method_allowed(uint16_t method)
{
    return method == 0 || method == 8 || method == 12;
}

/* Counts the central-directory headers, stopping past max: libarchive loads the whole directory
 * before returning the first entry and, like Python, walks it by size, whatever count the end
 * record announces. A directory that does not parse is left for libarchive to report. */
static enum cd_result count_cd(int fd, const struct eocd *e, uint32_t max, uint64_t *n_out)
{
    if (e->cd_size > e->cd_end)
        return CD_BAD;
    uint64_t pos = e->cd_end - e->cd_size, end = e->cd_end, n = 0;
    while (end - pos >= 46) {
        unsigned char h[46];
        if (!pread_full(fd, h, sizeof(h), pos))
            return CD_IOERR;
        if (memcmp(h, "PK\x01\x02", 4) != 0)
            break;
        if (++n > max)
            return CD_TOO_MANY;
        if (!method_allowed(le16(h + 10)))
            return CD_METHOD;
        /* The decoder may follow the local header's method: check it too. */
        unsigned char lh[30];
        if (pread_full(fd, lh, sizeof(lh), le32(h + 42)) && memcmp(lh, "PK\x03\x04", 4) == 0 &&
            !method_allowed(le16(lh + 8)))
            return CD_METHOD;
        pos += 46u + le16(h + 28) + le16(h + 30) + le16(h + 32);
        if (pos > end)
            break;
    }
    *n_out = n;
    return CD_COUNTED;
}

/* ---- libarchive under the private locale --------------------------------------------------- */

/* libarchive messages sometimes end in a line break; the text goes into a JSON error body. */
static void append_text(struct sym_buf *b, const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    sym_buf_append(b, text, n);
}

static sym_err archive_fail(struct symup_zip *z, struct symup_error *err, const char *what)
{
    int e = archive_errno(z->a);
    const char *text = archive_error_string(z->a);
    if (text == NULL)
        text = "unknown error";
    z->failed = true;
    if (e == ENOMEM)
        return symup__fail(err, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
    if (e == EIO || e == ENOSPC || e == EBADF)
        return symup__fail(err, SYM_EIO, SYMUP_R_IO, "cannot read the archive: %s", text);
    struct sym_buf b;
    symup__msg_init(&b);
    sym_buf_append_str(&b, "Bad zip file: ");
    append_text(&b, text);
    if (what != NULL) {
        sym_buf_append_str(&b, " (member ");
        symup_pyrepr(&b, what, strlen(what));
        sym_buf_append_char(&b, ')');
    }
    return symup__fail_buf(err, SYM_EPARSE, SYMUP_R_CORRUPT, &b);
}

static sym_err fail_named(struct symup_zip *z, struct symup_error *err, sym_err code,
                          enum symup_reason reason, const char *before, const char *name,
                          size_t name_len, const char *after)
{
    struct sym_buf b;
    z->failed = true;
    symup__msg_init(&b);
    sym_buf_append_str(&b, before);
    symup_pyrepr(&b, name, name_len);
    sym_buf_append_str(&b, after);
    return symup__fail_buf(err, code, reason, &b);
}

static bool limits_ok(const struct symup_zip_limits *lim)
{
    return lim->max_members != 0 && lim->max_member_size != 0 && lim->max_total_size != 0 &&
           lim->max_ratio != 0 && lim->max_name_len != 0;
}

sym_err symup_zip_open(const char *path, const struct symup_zip_limits *lim, struct symup_zip **out,
                       struct symup_error *err)
{
    if (path == NULL || lim == NULL || out == NULL || !limits_ok(lim))
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "invalid zip reader arguments");

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return symup__fail(err, SYM_EIO, SYMUP_R_IO, "cannot open the archive: %s",
                           strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return symup__fail(err, SYM_EIO, SYMUP_R_IO, "the archive is not a readable file");
    }
    struct eocd eo;
    memset(&eo, 0, sizeof(eo));
    enum eocd_result er = read_eocd(fd, (uint64_t)st.st_size, &eo);
    enum cd_result cr = CD_COUNTED;
    uint64_t counted = 0;
    if (er == EOCD_FOUND)
        cr = count_cd(fd, &eo, lim->max_members, &counted);
    close(fd);
    switch (er) {
    case EOCD_NOMEM:
        return symup__fail(err, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
    case EOCD_IOERR:
        return symup__fail(err, SYM_EIO, SYMUP_R_IO, "cannot read the archive");
    case EOCD_MISSING:
        return symup__fail(err, SYM_EPARSE, SYMUP_R_NOT_ZIP, "File is not a zip file");
    case EOCD_FOUND:
        break;
    }
    if (cr == CD_IOERR)
        return symup__fail(err, SYM_EIO, SYMUP_R_IO, "cannot read the archive");
    if (cr == CD_BAD)
        return symup__fail(err, SYM_EPARSE, SYMUP_R_NOT_ZIP, "File is not a zip file");
    if (cr == CD_METHOD)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_METHOD,
                           "Zip members must be stored, deflated or bzip2-compressed");
    if (cr == CD_TOO_MANY || eo.entries > lim->max_members)
        return symup__fail(err, SYM_ELIMIT, SYMUP_R_TOO_MANY_MEMBERS,
                           "Zip file has too many members (the limit is %lu)",
                           (unsigned long)lim->max_members);
    /* Python reads the directory by its size, not its count: only both zero is an empty zip */
    if (counted == 0 && eo.cd_size == 0)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_EMPTY,
                           "Zip file is empty: it contains no files to upload");

    struct symup_zip *z = sym_calloc(1, sizeof(*z));
    if (z == NULL)
        return symup__fail(err, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
    z->lim = *lim;
    z->loc = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    if (z->loc == (locale_t)0) {
        sym_free(z);
        return symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG,
                           "the C.UTF-8 locale is not available");
    }
    locale_t old = uselocale(z->loc);
    sym_err rc = SYM_OK;
    z->a = archive_read_new();
    if (z->a == NULL) {
        rc = symup__fail(err, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
        goto out;
    }
    if (archive_read_support_format_zip_seekable(z->a) != ARCHIVE_OK ||
        archive_read_set_format_option(z->a, "zip", "hdrcharset", "CP437") != ARCHIVE_OK) {
        rc = archive_fail(z, err, NULL);
        goto out;
    }
    if (archive_read_open_filename(z->a, path, 64 * 1024) != ARCHIVE_OK) {
        if (archive_errno(z->a) == ENOMEM)
            rc = symup__fail(err, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
        else
            rc = symup__fail(err, SYM_EPARSE, SYMUP_R_NOT_ZIP, "File is not a zip file");
        goto out;
    }
out:
    uselocale(old);
    if (rc != SYM_OK) {
        symup_zip_close(z);
        return rc;
    }
    *out = z;
    return SYM_OK;
}

void symup_zip_close(struct symup_zip *z)
{
    if (z == NULL)
        return;
    if (z->a != NULL) {
        locale_t old = uselocale(z->loc);
        archive_read_free(z->a);
        uselocale(old);
    }
    if (z->loc != (locale_t)0)
        freelocale(z->loc);
    sym_free(z);
}

/* ---- members -------------------------------------------------------------------------------- */

/* True when name is absolute or has a "." or ".." component. */
static bool unsafe_path(const char *name, size_t len)
{
    if (len > 0 && name[0] == '/')
        return true;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '/')
            continue;
        size_t n = i - start;
        if ((n == 1 && name[start] == '.') ||
            (n == 2 && name[start] == '.' && name[start + 1] == '.'))
            return true;
        start = i + 1;
    }
    return false;
}

static const char *type_text(unsigned type)
{
    switch (type) {
    case AE_IFLNK:
        return "a symbolic link";
    case AE_IFCHR:
    case AE_IFBLK:
        return "a device";
    case AE_IFIFO:
        return "a FIFO";
    case AE_IFSOCK:
        return "a socket";
    default:
        return "not a regular file";
    }
}

static sym_err check_entry(struct symup_zip *z, struct archive_entry *e, const char *name,
                           struct symup_error *err)
{
    size_t len = strlen(name);
    if (len == 0)
        return fail_named(z, err, SYM_EPARSE, SYMUP_R_BAD_NAME, "Zip member name ", name, len,
                          " is empty");
    if (!symup__utf8_valid(name, len))
        return fail_named(z, err, SYM_EPARSE, SYMUP_R_BAD_NAME, "Zip member name ", name, len,
                          " is not valid UTF-8");
    if (len > z->lim.max_name_len) {
        z->failed = true;
        return symup__fail(err, SYM_ELIMIT, SYMUP_R_NAME_TOO_LONG,
                           "Zip member name is too long (%zu bytes, the limit is %lu)", len,
                           (unsigned long)z->lim.max_name_len);
    }
    if (unsafe_path(name, len))
        return fail_named(z, err, SYM_EINVAL, SYMUP_R_UNSAFE_PATH, "Zip member ", name, len,
                          " has an absolute path or a '.' or '..' component, which is not "
                          "allowed");
    unsigned type = archive_entry_filetype(e);
    if (archive_entry_hardlink(e) != NULL)
        return fail_named(z, err, SYM_EINVAL, SYMUP_R_NOT_REGULAR, "Zip member ", name, len,
                          " is a hard link; only regular files and directories are allowed");
    if (type != AE_IFREG && type != AE_IFDIR) {
        struct sym_buf b;
        z->failed = true;
        symup__msg_init(&b);
        sym_buf_append_str(&b, "Zip member ");
        symup_pyrepr(&b, name, len);
        sym_buf_printf(&b, " is %s; only regular files and directories are allowed",
                       type_text(type));
        return symup__fail_buf(err, SYM_EINVAL, SYMUP_R_NOT_REGULAR, &b);
    }
    if (archive_entry_is_encrypted(e))
        return fail_named(z, err, SYM_EPARSE, SYMUP_R_ENCRYPTED, "Zip member ", name, len,
                          " is encrypted, which is not supported");
    if (type == AE_IFDIR)
        return SYM_OK;
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
        return fail_named(z, err, SYM_EPARSE, SYMUP_R_CORRUPT, "Bad zip file: member ", name, len,
                          " has no recorded size");
    uint64_t size = (uint64_t)archive_entry_size(e);
    if (size > z->lim.max_member_size) {
        struct sym_buf b;
        z->failed = true;
        symup__msg_init(&b);
        sym_buf_append_str(&b, "Zip member ");
        symup_pyrepr(&b, name, len);
        sym_buf_printf(&b, " is too large (%llu bytes uncompressed, the limit is %llu)",
                       (unsigned long long)size, (unsigned long long)z->lim.max_member_size);
        return symup__fail_buf(err, SYM_ELIMIT, SYMUP_R_MEMBER_TOO_LARGE, &b);
    }
    if (size > z->lim.max_total_size - z->declared_total) {
        z->failed = true;
        return symup__fail(err, SYM_ELIMIT, SYMUP_R_TOTAL_TOO_LARGE,
                           "Zip file is too large uncompressed (more than %llu bytes)",
                           (unsigned long long)z->lim.max_total_size);
    }
    z->declared_total += size;
    return SYM_OK;
}

sym_err symup_zip_next(struct symup_zip *z, struct symup_zip_entry *out, struct symup_error *err)
{
    if (z == NULL || out == NULL || z->failed)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "zip reader used after an error");
    z->have_file = false;
    z->entry = NULL;
    locale_t old = uselocale(z->loc);
    struct archive_entry *e = NULL;
    int r = archive_read_next_header(z->a, &e);
    sym_err rc = SYM_OK;
    const char *name = NULL;
    if (r == ARCHIVE_EOF) {
        rc = SYM_ENOTFOUND;
        goto out;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        rc = archive_fail(z, err, NULL);
        goto out;
    }
    if (z->n_entries >= z->lim.max_members) {
        z->failed = true;
        rc = symup__fail(err, SYM_ELIMIT, SYMUP_R_TOO_MANY_MEMBERS,
                         "Zip file has too many members (more than %lu)",
                         (unsigned long)z->lim.max_members);
        goto out;
    }
    name = archive_entry_pathname(e);
    if (name == NULL) {
        /* libarchive drops a name it cannot convert: a UTF-8-flagged name that is not UTF-8. */
        z->failed = true;
        rc = symup__fail(err, SYM_EPARSE, SYMUP_R_BAD_NAME,
                         "Zip member %lu has a name that is not valid UTF-8",
                         (unsigned long)z->n_entries + 1);
        goto out;
    }
    rc = check_entry(z, e, name, err);
    if (rc != SYM_OK)
        goto out;
    out->name = name;
    out->name_len = strlen(name);
    out->type = archive_entry_filetype(e) == AE_IFDIR ? SYMUP_ZIP_DIR : SYMUP_ZIP_FILE;
    out->size = out->type == SYMUP_ZIP_DIR ? 0 : (uint64_t)archive_entry_size(e);
    out->index = z->n_entries++;
    z->entry = e;
    z->have_file = out->type == SYMUP_ZIP_FILE;
    z->data_done = false;
    z->name = out->name;
    z->name_len = out->name_len;
    z->size = out->size;
    z->produced = 0;
    z->data_start = archive_filter_bytes(z->a, -1);
out:
    uselocale(old);
    return rc;
}

static sym_err member_fail(struct symup_zip *z, struct symup_error *err, sym_err code,
                           enum symup_reason reason, const char *text)
{
    return fail_named(z, err, code, reason, "Zip member ", z->name, z->name_len, text);
}

/* Refuses members that expand beyond max_ratio times their compressed bytes, once they have
 * produced ratio_min_size bytes (small files legitimately reach high ratios). */
static bool ratio_exceeded(const struct symup_zip *z, int64_t consumed_now)
{
    if (z->produced < z->lim.ratio_min_size)
        return false;
    uint64_t consumed = consumed_now > z->data_start ? (uint64_t)(consumed_now - z->data_start) : 0;
    return z->produced / z->lim.max_ratio > consumed;
}

sym_err symup_zip_read(struct symup_zip *z, void *buf, size_t cap, size_t *n_out,
                       struct symup_error *err)
{
    if (z == NULL || buf == NULL || n_out == NULL || cap == 0 || z->failed || !z->have_file)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "no zip member to read");
    if (z->data_done) {
        *n_out = 0;
        return SYM_OK;
    }
    locale_t old = uselocale(z->loc);
    la_ssize_t n = archive_read_data(z->a, buf, cap);
    int64_t consumed = archive_filter_bytes(z->a, -1);
    uselocale(old);
    if (n < 0) {
        struct sym_buf b;
        const char *text = archive_error_string(z->a);
        if (archive_errno(z->a) == ENOMEM) {
            z->failed = true;
            return symup__fail(err, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
        }
        z->failed = true;
        symup__msg_init(&b);
        sym_buf_append_str(&b, "Bad zip file: member ");
        symup_pyrepr(&b, z->name, z->name_len);
        sym_buf_append_str(&b, " cannot be read: ");
        append_text(&b, text != NULL ? text : "damaged data");
        return symup__fail_buf(err, SYM_EPARSE, SYMUP_R_CORRUPT, &b);
    }
    if (n == 0) {
        if (z->produced != z->size)
            return member_fail(z, err, SYM_EPARSE, SYMUP_R_CORRUPT,
                               " is shorter than its recorded size");
        z->data_done = true;
        *n_out = 0;
        return SYM_OK;
    }
    uint64_t got = (uint64_t)n;
    z->produced += got;
    if (z->produced > z->size)
        return member_fail(z, err, SYM_EPARSE, SYMUP_R_CORRUPT,
                           " is larger than its recorded size");
    if (z->produced > z->lim.max_member_size)
        return member_fail(z, err, SYM_ELIMIT, SYMUP_R_MEMBER_TOO_LARGE,
                           " is too large uncompressed");
    if (got > z->lim.max_total_size - z->total_read) {
        z->failed = true;
        return symup__fail(err, SYM_ELIMIT, SYMUP_R_TOTAL_TOO_LARGE,
                           "Zip file is too large uncompressed (more than %llu bytes)",
                           (unsigned long long)z->lim.max_total_size);
    }
    z->total_read += got;
    if (ratio_exceeded(z, consumed)) {
        struct sym_buf b;
        z->failed = true;
        symup__msg_init(&b);
        sym_buf_append_str(&b, "Zip member ");
        symup_pyrepr(&b, z->name, z->name_len);
        sym_buf_printf(&b,
                       " expands more than %lu times its compressed size; refusing a possible "
                       "zip bomb",
                       (unsigned long)z->lim.max_ratio);
        return symup__fail_buf(err, SYM_ELIMIT, SYMUP_R_RATIO, &b);
    }
    *n_out = (size_t)n;
    return SYM_OK;
}
