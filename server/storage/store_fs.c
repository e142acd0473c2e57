/* SPDX-License-Identifier: MPL-2.0 */
/* store_fs.c: the local-folder storage backend. An object lives at <root>/<key> as a plain file
 * holding exactly the stored bytes; its attributes (content type, encoding, cache control,
 * original size and MD5) live in one extended attribute of that same file, "user.sigil.attrs".
 *
 * Invariants: a put writes a temporary file in the object's own directory, sets the attribute,
 * fsyncs, then renames it over the key, so bytes and attributes are published together by one
 * atomic rename (no sidecar file that could disagree with the object, no lock); readers hold an
 * open descriptor, so an overwrite or delete never tears what they read. Every path is walked
 * component by component from the root's descriptor with O_NOFOLLOW, so neither ".." (rejected
 * by store_key_check()) nor a symlink planted in the tree can lead outside the root.
 * store_open() fails on a filesystem without user extended attributes rather than silently
 * dropping attributes (ext4, xfs, btrfs, and tmpfs since Linux 6.6 have them). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "storage/store.h"
#include "storage/store_int.h"
#include "sym/alloc.h"

#define ATTR_NAME    "user.sigil.attrs"
#define ATTR_VERSION "sigil-attrs 1"
#define ATTR_MAX     1024         /* serialized attributes stay far below this */
#define COPY_BUF     (128 * 1024) /* read/write chunk for gets and copy fallbacks */

struct fs_store {
    int root_fd;
    char *root; /* absolute path, for ping() and messages at open */
};

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

static sym_err io_err(struct sym_diag *d, const char *what, int err)
{
    char buf[128];
    return sym_diag_set(d, SYM_EIO, "%s: %s", what, strerror_r(err, buf, sizeof(buf)));
}

static sym_err write_all(int fd, const void *data, size_t len, struct sym_diag *d)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return io_err(d, "cannot write object", errno);
        p += n;
        len -= (size_t)n;
    }
    return SYM_OK;
}

/* Copies src from its current offset to EOF into dst: in the kernel when it can (and as a
 * reflink on filesystems that share extents), else through a buffer. */
static sym_err copy_fd(int src, int dst, struct sym_diag *d)
{
    for (;;) {
        ssize_t n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
        if (n == 0)
            return SYM_OK;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
            errno == EBADF)
            break;
        return io_err(d, "cannot copy object", errno);
    }
    char *buf = sym_malloc(COPY_BUF);
    if (buf == NULL)
        return sym_diag_set(d, SYM_ENOMEM, "out of memory copying an object");
    sym_err rc = SYM_OK;
    for (;;) {
        ssize_t n = read(src, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = io_err(d, "cannot read source file", errno);
            break;
        }
        if (n == 0)
            break;
        rc = write_all(dst, buf, (size_t)n, d);
        if (rc != SYM_OK)
            break;
    }
    sym_free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Attributes: "sigil-attrs 1\n" then "name: value\n" lines                                   */
/* ------------------------------------------------------------------------------------------ */

static sym_err attrs_format(const struct store_put_opts *opts, struct sym_buf *out)
{
    sym_buf_printf(out, "%s\ncontent-type: %s\n", ATTR_VERSION, store_put_content_type(opts));
    if (opts != NULL && opts->content_encoding != NULL && opts->content_encoding[0] != '\0')
        sym_buf_printf(out, "content-encoding: %s\n", opts->content_encoding);
    if (opts != NULL && opts->cache_control != NULL && opts->cache_control[0] != '\0')
        sym_buf_printf(out, "cache-control: %s\n", opts->cache_control);
    if (opts != NULL && opts->has_original_size)
        sym_buf_printf(out, "original-size: %" PRIu64 "\n", opts->original_size);
    if (opts != NULL && opts->original_md5 != NULL && opts->original_md5[0] != '\0')
        sym_buf_printf(out, "original-md5: %s\n", opts->original_md5);
    return sym_buf_err(out);
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    char tmp[24];
    if (len == 0 || len >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* One "name: value" line into info; unknown names are skipped so that a newer writer's
 * attributes stay readable. */
static bool attrs_line(const char *line, size_t len, struct store_object_info *info)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || (size_t)(colon - line) + 1 >= len || colon[1] != ' ')
        return false;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 2;
    size_t vlen = len - nlen - 2;
#define IS(lit) (nlen == sizeof(lit) - 1 && memcmp(line, lit, nlen) == 0)
    if (IS("content-type"))
        return store_attr_copy(info->content_type, sizeof(info->content_type), v, vlen);
    if (IS("content-encoding"))
        return store_attr_copy(info->content_encoding, sizeof(info->content_encoding), v, vlen);
    if (IS("cache-control"))
        return store_attr_copy(info->cache_control, sizeof(info->cache_control), v, vlen);
    if (IS("original-md5"))
        return store_md5_hex_ok(v, vlen) &&
               store_attr_copy(info->original_md5, sizeof(info->original_md5), v, vlen);
    if (IS("original-size")) {
        info->has_original_size = parse_u64(v, vlen, &info->original_size);
        return info->has_original_size;
    }
#undef IS
    return true;
}

sym_err store_fs_attrs_parse(const char *buf, size_t len, struct store_object_info *info,
                             struct sym_diag *d)
{
    const char *p = buf, *end = buf + len;
    bool first = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t llen = (size_t)(stop - p);
        bool ok = first ? (llen == strlen(ATTR_VERSION) && memcmp(p, ATTR_VERSION, llen) == 0)
                        : attrs_line(p, llen, info);
        if (!ok)
            return sym_diag_set(d, SYM_ECORRUPT, "stored object attributes are malformed");
        first = false;
        p = nl ? nl + 1 : end;
    }
    if (first)
        return sym_diag_set(d, SYM_ECORRUPT, "stored object attributes are empty");
    return SYM_OK;
}

/* Fills info from an open object: its size and times, and its attribute if it has one (a file
 * dropped into the folder by hand has none and is served with no attributes). */
static sym_err info_from_fd(int fd, const struct stat *st, struct store_object_info *info,
                            struct sym_diag *d)
{
    memset(info, 0, sizeof(*info));
    info->size = (uint64_t)st->st_size;
    info->last_modified = (int64_t)st->st_mtim.tv_sec;
    snprintf(info->etag, sizeof(info->etag), "\"%" PRIx64 ".%lx-%" PRIx64 "\"",
             (uint64_t)st->st_mtim.tv_sec, (unsigned long)st->st_mtim.tv_nsec,
             (uint64_t)st->st_size);
    char buf[ATTR_MAX];
    ssize_t n = fgetxattr(fd, ATTR_NAME, buf, sizeof(buf));
    if (n < 0 && (errno == ENODATA || errno == ENOTSUP))
        return SYM_OK;
    if (n < 0 && errno == ERANGE)
        return sym_diag_set(d, SYM_ECORRUPT, "stored object attributes are too large");
    if (n < 0)
        return io_err(d, "cannot read object attributes", errno);
    return store_fs_attrs_parse(buf, (size_t)n, info, d);
}

/* ------------------------------------------------------------------------------------------ */
/* Paths                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Opens the directory that holds key's object (creating missing directories when create) and
 * points *leaf at the key's last component. Without create, a missing directory or a
 * non-directory on the way is SYM_ENOTFOUND; with create it is SYM_EEXISTS. The key must have
 * passed store_key_check(). */
static sym_err open_parent(struct fs_store *fs, const char *key, bool create, int *dirfd_out,
                           const char **leaf_out, struct sym_diag *d)
{
    char comp[STORE_MAX_COMPONENT_LEN + 1];
    int fd = openat(fs->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_err(d, "cannot open storage folder", errno);
    const char *p = key;
    for (const char *slash = strchr(p, '/'); slash != NULL; slash = strchr(p, '/')) {
        size_t len = (size_t)(slash - p);
        memcpy(comp, p, len);
        comp[len] = '\0';
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0755) == 0) {
                /* The new entry must survive a crash along with the object put under it. */
                if (fsync(fd) != 0) {
                    int e = errno;
                    close(fd);
                    return io_err(d, "cannot sync storage directory", e);
                }
            } else if (errno != EEXIST) {
                int e = errno;
                close(fd);
                return io_err(d, "cannot create storage directory", e);
            }
            next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        close(fd);
        if (next < 0) {
            if (e == ENOENT && !create)
                return SYM_ENOTFOUND;
            if (e == ENOTDIR || e == ELOOP)
                return create
                           ? sym_diag_set(d, SYM_EEXISTS, "the key runs through an existing object")
                           : SYM_ENOTFOUND;
            return io_err(d, "cannot open storage directory", e);
        }
        fd = next;
        p = slash + 1;
    }
    *dirfd_out = fd;
    *leaf_out = p;
    return SYM_OK;
}

/* Opens key's object for reading: a regular file, never through a symlink. */
static sym_err open_object(struct fs_store *fs, const char *key, int *fd_out, struct stat *st,
                           struct sym_diag *d)
{
    int dirfd;
    const char *leaf;
    sym_err rc = store_key_check(key, d);
    if (rc == SYM_OK)
        rc = open_parent(fs, key, false, &dirfd, &leaf, d);
    if (rc != SYM_OK)
        return rc;
    int fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    int e = errno;
    close(dirfd);
    if (fd < 0)
        return (e == ENOENT || e == ELOOP || e == ENOTDIR || e == ENXIO)
                   ? SYM_ENOTFOUND
                   : io_err(d, "cannot open object", e);
    if (fstat(fd, st) != 0) {
        e = errno;
        close(fd);
        return io_err(d, "cannot stat object", e);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return SYM_ENOTFOUND;
    }
    /* O_NONBLOCK only kept a FIFO planted at the key from blocking the open. */
    if (fcntl(fd, F_SETFL, 0) != 0) {
        e = errno;
        close(fd);
        return io_err(d, "cannot open object", e);
    }
    *fd_out = fd;
    return SYM_OK;
}

/* Creates a new temporary file in dirfd, named STORE_TMP_PREFIX + 12 hex digits. */
static int make_temp(int dirfd, char *name, size_t cap)
{
    for (int attempt = 0; attempt < 32; attempt++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)attempt;
            memcpy(rnd, &v, sizeof(rnd));
        }
        snprintf(name, cap, "%s%02x%02x%02x%02x%02x%02x", STORE_TMP_PREFIX, rnd[0], rnd[1], rnd[2],
                 rnd[3], rnd[4], rnd[5]);
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Operations                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* The body of both puts: the bytes come from src_fd when it is >= 0, else from data/len. */
static sym_err put_common(struct fs_store *fs, const char *key, int src_fd, const void *data,
                          size_t len, const struct store_put_opts *opts, struct sym_diag *d)
{
    struct sym_buf attrs;
    char tmp[64];
    int dirfd = -1, fd = -1;
    const char *leaf;
    bool tmp_made = false;
    sym_buf_init(&attrs, ATTR_MAX);
    sym_err rc = attrs_format(opts, &attrs);
    if (rc != SYM_OK) {
        sym_diag_set(d, rc, "cannot format object attributes");
        goto out;
    }
    rc = open_parent(fs, key, true, &dirfd, &leaf, d);
    if (rc != SYM_OK)
        goto out;
    fd = make_temp(dirfd, tmp, sizeof(tmp));
    if (fd < 0) {
        rc = io_err(d, "cannot create temporary object", errno);
        goto out;
    }
    tmp_made = true;
    if (fsetxattr(fd, ATTR_NAME, attrs.data, attrs.len, 0) != 0) {
        rc = io_err(d, "cannot store object attributes", errno);
        goto out;
    }
    rc = src_fd >= 0 ? copy_fd(src_fd, fd, d) : write_all(fd, data, len, d);
    if (rc != SYM_OK)
        goto out;
    if (fsync(fd) != 0) {
        rc = io_err(d, "cannot sync object", errno);
        goto out;
    }
    int closed = close(fd);
    fd = -1;
    if (closed != 0) {
        rc = io_err(d, "cannot write object", errno);
        goto out;
    }
    if (renameat(dirfd, tmp, dirfd, leaf) != 0) {
        int e = errno;
        rc = (e == EISDIR || e == ENOTEMPTY || e == EEXIST)
                 ? sym_diag_set(d, SYM_EEXISTS, "a directory of other objects is at that key")
                 : io_err(d, "cannot move object into place", e);
        goto out;
    }
    tmp_made = false;
    if (fsync(dirfd) != 0)
        rc = io_err(d, "cannot sync storage directory", errno);
out:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlinkat(dirfd, tmp, 0);
    if (dirfd >= 0)
        close(dirfd);
    sym_buf_cleanup(&attrs);
    return rc;
}

static sym_err fs_put_file(void *impl, const char *key, const char *path,
                           const struct store_put_opts *opts, struct sym_diag *d)
{
    sym_err rc = store_key_check(key, d);
    if (rc == SYM_OK)
        rc = store_put_opts_check(opts, d);
    if (rc != SYM_OK)
        return rc;
    if (path == NULL)
        return sym_diag_set(d, SYM_EINVAL, "source file path is missing");
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return io_err(d, "cannot open source file", errno);
    struct stat st;
    int e = fstat(src, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (e != 0) {
        close(src);
        return io_err(d, "cannot read source file", e);
    }
    rc = put_common(impl, key, src, NULL, 0, opts, d);
    close(src);
    return rc;
}

static sym_err fs_put_mem(void *impl, const char *key, const void *data, size_t len,
                          const struct store_put_opts *opts, struct sym_diag *d)
{
    sym_err rc = store_key_check(key, d);
    if (rc == SYM_OK)
        rc = store_put_opts_check(opts, d);
    if (rc != SYM_OK)
        return rc;
    if (data == NULL && len > 0)
        return sym_diag_set(d, SYM_EINVAL, "object bytes are missing");
    return put_common(impl, key, -1, data, len, opts, d);
}

static sym_err fs_head(void *impl, const char *key, struct store_object_info *out,
                       struct sym_diag *d)
{
    struct store_object_info info;
    struct stat st;
    int fd = -1;
    if (out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no place for the object information");
    sym_err rc = open_object(impl, key, &fd, &st, d);
    if (rc != SYM_OK)
        return rc;
    rc = info_from_fd(fd, &st, &info, d);
    close(fd);
    if (rc == SYM_OK)
        *out = info;
    return rc;
}

static sym_err fs_open_read(void *impl, const char *key, int *fd_out,
                            struct store_object_info *info_out, struct sym_diag *d)
{
    struct store_object_info info;
    struct stat st;
    int fd = -1;
    sym_err rc = open_object(impl, key, &fd, &st, d);
    if (rc != SYM_OK)
        return rc;
    rc = info_from_fd(fd, &st, &info, d);
    if (rc != SYM_OK) {
        close(fd);
        return rc;
    }
    if (info_out != NULL)
        *info_out = info;
    *fd_out = fd;
    return SYM_OK;
}

static sym_err fs_get(void *impl, const char *key, store_sink_fn sink, void *sink_ctx,
                      struct store_object_info *info_out, struct sym_diag *d)
{
    int fd = -1;
    if (sink == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no sink for the object bytes");
    sym_err rc = fs_open_read(impl, key, &fd, info_out, d);
    if (rc != SYM_OK)
        return rc;
    char *buf = sym_malloc(COPY_BUF);
    if (buf == NULL) {
        close(fd);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory reading an object");
    }
    for (;;) {
        ssize_t n = read(fd, buf, COPY_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = io_err(d, "cannot read object", errno);
            break;
        }
        if (n == 0)
            break;
        if (sink(sink_ctx, buf, (size_t)n) != 0) {
            rc = sym_diag_set(d, SYM_ELIMIT, "the reader refused the object bytes");
            break;
        }
    }
    sym_free(buf);
    close(fd);
    return rc;
}

static sym_err fs_del(void *impl, const char *key, struct sym_diag *d)
{
    int dirfd;
    const char *leaf;
    sym_err rc = store_key_check(key, d);
    if (rc == SYM_OK)
        rc = open_parent(impl, key, false, &dirfd, &leaf, d);
    if (rc == SYM_ENOTFOUND)
        return SYM_OK;
    if (rc != SYM_OK)
        return rc;
    if (unlinkat(dirfd, leaf, 0) != 0) {
        int e = errno;
        close(dirfd);
        /* EISDIR: a directory of other objects, so no object at this key. */
        return (e == ENOENT || e == EISDIR) ? SYM_OK : io_err(d, "cannot delete object", e);
    }
    /* Empty directories are left behind: removing them would race with a put walking down. */
    if (fsync(dirfd) != 0)
        rc = io_err(d, "cannot sync storage directory", errno);
    close(dirfd);
    return rc;
}

static sym_err fs_ping(void *impl, struct sym_diag *d)
{
    struct fs_store *fs = impl;
    struct stat held, named;
    if (fstat(fs->root_fd, &held) != 0 || held.st_nlink == 0)
        return sym_diag_set(d, SYM_EUNAVAIL, "the storage folder was removed");
    if (stat(fs->root, &named) != 0 || !S_ISDIR(named.st_mode))
        return sym_diag_set(d, SYM_EUNAVAIL, "the storage folder is missing");
    if (named.st_dev != held.st_dev || named.st_ino != held.st_ino)
        return sym_diag_set(d, SYM_EUNAVAIL, "the storage folder was replaced since startup");
    return SYM_OK;
}

static sym_err fs_url(void *impl, const char *key, struct sym_buf *out)
{
    (void)impl;
    (void)out;
    /* The server serves local objects itself; a bad key is still reported as such. */
    return store_key_check(key, NULL) != SYM_OK ? SYM_EINVAL : SYM_ENOTFOUND;
}

static void fs_close(void *impl)
{
    struct fs_store *fs = impl;
    if (fs == NULL)
        return;
    close(fs->root_fd);
    sym_free(fs->root);
    sym_free(fs);
}

const struct store_ops store_fs_ops = {
    .name = "file",
    .head = fs_head,
    .get = fs_get,
    .put_file = fs_put_file,
    .put_mem = fs_put_mem,
    .del = fs_del,
    .ping = fs_ping,
    .url = fs_url,
    .close = fs_close,
    .open_read = fs_open_read,
};

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* mkdir -p for an absolute path (modified in place and restored). */
static sym_err make_dirs(char *path, struct sym_diag *d)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int r = mkdir(path, 0755);
        int e = errno;
        *p = saved;
        if (r != 0 && e != EEXIST) {
            char buf[128];
            return sym_diag_set(d, SYM_EIO, "cannot create storage folder %s: %s", path,
                                strerror_r(e, buf, sizeof(buf)));
        }
        if (saved == '\0')
            return SYM_OK;
    }
}

/* Fails when the folder's filesystem cannot hold the attributes. A read-only folder passes: it
 * can still serve, and puts will report their own errors. */
static sym_err probe_xattrs(struct fs_store *fs, struct sym_diag *d)
{
    char tmp[64];
    int fd = make_temp(fs->root_fd, tmp, sizeof(tmp));
    if (fd < 0)
        return (errno == EACCES || errno == EROFS || errno == EPERM)
                   ? SYM_OK
                   : io_err(d, "cannot write in the storage folder", errno);
    int r = fsetxattr(fd, ATTR_NAME, ATTR_VERSION "\n", strlen(ATTR_VERSION) + 1, 0);
    int e = errno;
    close(fd);
    unlinkat(fs->root_fd, tmp, 0);
    if (r == 0)
        return SYM_OK;
    char buf[128];
    return sym_diag_set(d, SYM_EIO,
                        "the filesystem of storage folder %s cannot store user extended "
                        "attributes (%s); use ext4, xfs, btrfs or tmpfs on Linux 6.6 or later",
                        fs->root, strerror_r(e, buf, sizeof(buf)));
}

sym_err store_fs_open(const char *rest, struct store *out, struct sym_diag *d)
{
    if (strncmp(rest, "localhost/", 10) == 0)
        rest += 9;
    if (rest[0] != '/')
        return sym_diag_set(d, SYM_EINVAL, "file storage URL must be file:///absolute/path");
    if (strpbrk(rest, "?#") != NULL)
        return sym_diag_set(d, SYM_EINVAL, "file storage URL takes no query or fragment");
    char *path;
    if (store_pct_decode(rest, strlen(rest), &path) != SYM_OK)
        return sym_diag_set(d, SYM_EINVAL, "file storage URL has a malformed %%-escape");
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    struct fs_store *fs = sym_calloc(1, sizeof(*fs));
    sym_err rc = SYM_OK;
    if (fs == NULL) {
        sym_free(path);
        return sym_diag_set(d, SYM_ENOMEM, "out of memory opening storage");
    }
    fs->root = path;
    fs->root_fd = -1;
    rc = make_dirs(path, d);
    if (rc != SYM_OK)
        goto fail;
    fs->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fs->root_fd < 0) {
        char buf[128];
        rc = sym_diag_set(d, SYM_EIO, "cannot open storage folder %s: %s", path,
                          strerror_r(errno, buf, sizeof(buf)));
        goto fail;
    }
    rc = probe_xattrs(fs, d);
    if (rc != SYM_OK)
        goto fail;
    out->ops = &store_fs_ops;
    out->impl = fs;
    return SYM_OK;
fail:
    if (fs->root_fd >= 0)
        close(fs->root_fd);
    sym_free(fs->root);
    sym_free(fs);
    return rc;
}
