/* SPDX-License-Identifier: MPL-2.0 */
/* test_store_fs.c: the storage suite against the local-folder backend, plus what only that
 * backend has: the on-disk layout, attributes in an extended attribute, containment in the root
 * (symlinks, key conflicts), store_fs_open_read(), and its URL forms. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "storage/store.h"
#include "store_suite.h"
#include "t.h"

static char g_root[512];

static void open_in(const char *dir, struct store *out)
{
    char url[600];
    struct store_config cfg = {.url = url};
    struct sym_diag d = {0};
    snprintf(url, sizeof(url), "file://%s", dir);
    sym_err rc = store_open(&cfg, out, &d);
    if (rc != SYM_OK)
        T_FAIL("store_open(%s): %s: %s", url, sym_errname(rc), d.msg);
}

static void fs_open(struct store *out)
{
    snprintf(g_root, sizeof(g_root), "%s/objects", t_tmpdir());
    open_in(g_root, out);
}

static void fs_open_dead(struct store *out)
{
    fs_open(out);
    T_ASSERT(rmdir(g_root) == 0);
}

static void fs_cleanup(void)
{
    remove_tree(g_root);
}

const struct suite_backend suite_backend = {
    .name = "file",
    .open = fs_open,
    .open_dead = fs_open_dead,
    .cleanup = fs_cleanup,
    .atomic_overwrite = true,
    .has_urls = false,
};

static char *path_of(const char *key)
{
    static char p[1200];
    snprintf(p, sizeof(p), "%s/%s", g_root, key);
    return p;
}

/* Counts directory entries starting with the temporary-file prefix, recursively. */
static int count_temps(const char *dir)
{
    int n = 0;
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return 0;
    for (struct dirent *e = readdir(dp); e != NULL; e = readdir(dp)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strncmp(e->d_name, ".sigil-tmp.", 11) == 0)
            n++;
        char sub[1200];
        snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            n += count_temps(sub);
    }
    closedir(dp);
    return n;
}

static void test_fs_layout(void)
{
    struct store s;
    fs_open(&s);
    struct store_put_opts opts = {.content_type = "text/plain", .content_encoding = "gzip"};
    const char *key = "v1/xul.pdb/ID/xul.sym";
    T_ASSERT_OK(s.ops->put_mem(s.impl, key, "plain bytes", 11, &opts, NULL));
    /* The object is a plain file at its key holding exactly its bytes. */
    size_t len;
    char *data = t_read_file(path_of(key), &len);
    T_ASSERT_EQ(len, 11);
    T_ASSERT_MEM_EQ(data, "plain bytes", 11);
    free(data);
    /* The attributes sit in the file's own extended attribute, nowhere in the key space. */
    char attrs[1024];
    ssize_t n = getxattr(path_of(key), "user.sigil.attrs", attrs, sizeof(attrs) - 1);
    T_ASSERT(n > 0);
    attrs[n] = '\0';
    T_ASSERT(strstr(attrs, "content-encoding: gzip\n") != NULL);
    T_ASSERT_EQ(count_temps(g_root), 0);
    /* A failed put leaves no temporary file behind either. */
    T_ASSERT_ERR(s.ops->put_file(s.impl, key, g_root, NULL, NULL), SYM_EIO);
    T_ASSERT_EQ(count_temps(g_root), 0);
    store_close(&s);
    fs_cleanup();
}

static void test_fs_handmade_and_corrupt(void)
{
    struct store s;
    struct store_object_info info;
    struct sym_diag d = {0};
    fs_open(&s);
    /* A file copied in by hand has no attributes and is still served. */
    T_ASSERT(mkdir(path_of("v1"), 0755) == 0);
    FILE *f = fopen(path_of("v1/hand"), "wb");
    T_ASSERT(f != NULL);
    fputs("by hand", f);
    T_ASSERT(fclose(f) == 0);
    T_ASSERT_OK(s.ops->head(s.impl, "v1/hand", &info, NULL));
    T_ASSERT_EQ(info.size, 7);
    T_ASSERT_STR_EQ(info.content_type, "");
    /* Garbled attributes are reported, not half-used. */
    static const char *const garbled[] = {"nonsense", "sigil-attrs 1\ncontent-type text/plain\n",
                                          "sigil-attrs 1\noriginal-size: 12x\n",
                                          "sigil-attrs 1\noriginal-md5: XYZ\n"};
    for (size_t i = 0; i < sizeof(garbled) / sizeof(garbled[0]); i++) {
        T_ASSERT(setxattr(path_of("v1/hand"), "user.sigil.attrs", garbled[i], strlen(garbled[i]),
                          0) == 0);
        T_ASSERT_ERR(s.ops->head(s.impl, "v1/hand", &info, &d), SYM_ECORRUPT);
    }
    /* Unknown attribute names from a newer version are skipped. */
    const char *newer = "sigil-attrs 1\ncontent-type: a/b\nfuture-thing: 1\n";
    T_ASSERT(setxattr(path_of("v1/hand"), "user.sigil.attrs", newer, strlen(newer), 0) == 0);
    T_ASSERT_OK(s.ops->head(s.impl, "v1/hand", &info, NULL));
    T_ASSERT_STR_EQ(info.content_type, "a/b");
    store_close(&s);
    fs_cleanup();
}

static void test_fs_contained(void)
{
    struct store s;
    struct store_object_info info;
    char outside[600], target[700];
    snprintf(outside, sizeof(outside), "%s/outside", t_tmpdir());
    T_ASSERT(mkdir(outside, 0755) == 0);
    snprintf(target, sizeof(target), "%s/secret", outside);
    FILE *f = fopen(target, "wb");
    T_ASSERT(f != NULL);
    fputs("secret", f);
    T_ASSERT(fclose(f) == 0);
    fs_open(&s);
    T_ASSERT(mkdir(path_of("v1"), 0755) == 0);
    /* A directory symlink inside the tree is not followed, for reads or writes. */
    T_ASSERT(symlink(outside, path_of("v1/evil")) == 0);
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/evil/secret", &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_ERR(s.ops->put_mem(s.impl, "v1/evil/new", "x", 1, NULL, NULL), SYM_EEXISTS);
    T_ASSERT(access(path_of("v1/evil/new"), F_OK) != 0);
    /* A file symlink at a key is not an object, and a put replaces the link, not its target. */
    T_ASSERT(symlink(target, path_of("v1/link")) == 0);
    T_ASSERT_ERR(s.ops->head(s.impl, "v1/link", &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/link", "mine", 4, NULL, NULL));
    size_t len;
    char *data = t_read_file(target, &len);
    T_ASSERT_STR_EQ(data, "secret");
    free(data);
    store_close(&s);
    fs_cleanup();
    remove_tree(outside);
}

static void test_fs_key_conflicts(void)
{
    struct store s;
    struct sym_diag d = {0};
    fs_open(&s);
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/a", "x", 1, NULL, NULL));
    T_ASSERT_ERR(s.ops->put_mem(s.impl, "v1/a/b", "x", 1, NULL, &d), SYM_EEXISTS);
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/c/d", "x", 1, NULL, NULL));
    T_ASSERT_ERR(s.ops->put_mem(s.impl, "v1/c", "x", 1, NULL, &d), SYM_EEXISTS);
    T_ASSERT_OK(s.ops->del(s.impl, "v1/c", NULL)); /* a directory: no object there */
    T_ASSERT_EQ(count_temps(g_root), 0);
    store_close(&s);
    fs_cleanup();
}

static void test_fs_open_read(void)
{
    struct store s;
    struct store_object_info info;
    int fd = -1;
    fs_open(&s);
    struct store_put_opts opts = {.content_encoding = "gzip", .cache_control = "no-transform"};
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/o.pdb/ID/o.sym", "first", 5, &opts, NULL));
    T_ASSERT_OK(store_fs_open_read(&s, "v1/o.pdb/ID/o.sym", &fd, &info, NULL));
    T_ASSERT_EQ(info.size, 5);
    T_ASSERT_STR_EQ(info.content_encoding, "gzip");
    T_ASSERT_STR_EQ(info.cache_control, "no-transform");
    /* An overwrite and a delete do not disturb a reader that already holds the object. */
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/o.pdb/ID/o.sym", "second!", 7, NULL, NULL));
    T_ASSERT_OK(s.ops->del(s.impl, "v1/o.pdb/ID/o.sym", NULL));
    char buf[16];
    T_ASSERT_EQ(read(fd, buf, sizeof(buf)), 5);
    T_ASSERT_MEM_EQ(buf, "first", 5);
    close(fd);
    fd = -7;
    T_ASSERT_ERR(store_fs_open_read(&s, "v1/o.pdb/ID/o.sym", &fd, &info, NULL), SYM_ENOTFOUND);
    T_ASSERT_ERR(store_fs_open_read(&s, "../x", &fd, &info, NULL), SYM_EINVAL);
    T_ASSERT_EQ(fd, -7);
    /* info is optional. */
    T_ASSERT_OK(s.ops->put_mem(s.impl, "v1/o.pdb/ID/o.sym", "third", 5, NULL, NULL));
    T_ASSERT_OK(store_fs_open_read(&s, "v1/o.pdb/ID/o.sym", &fd, NULL, NULL));
    close(fd);
    /* A FIFO planted at a key neither blocks nor counts as an object. */
    T_ASSERT(mkfifo(path_of("v1/o.pdb/ID/fifo"), 0644) == 0);
    T_ASSERT_ERR(store_fs_open_read(&s, "v1/o.pdb/ID/fifo", &fd, NULL, NULL), SYM_ENOTFOUND);
    store_close(&s);
    fs_cleanup();
}

static void test_fs_urls(void)
{
    const char *base = t_tmpdir();
    char url[700], path[700];
    struct store s;
    struct sym_diag d = {0};
    struct store_config cfg = {.url = url};
    /* %-escapes are decoded; "localhost" is the only host; trailing slashes are ignored. */
    snprintf(url, sizeof(url), "file://localhost%s/with%%20space/", base);
    T_ASSERT_OK(store_open(&cfg, &s, &d));
    T_ASSERT_STR_EQ(s.ops->name, "file");
    store_close(&s);
    store_close(&s); /* closing twice is harmless */
    snprintf(path, sizeof(path), "%s/with space", base);
    struct stat st;
    T_ASSERT(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    /* Missing parents are created. */
    snprintf(url, sizeof(url), "file://%s/deep/er/still", base);
    T_ASSERT_OK(store_open(&cfg, &s, &d));
    store_close(&s);

    static const char *const bad[] = {
        "file://host/tmp/x",  "file://relative", "file:///tmp/x?y=1", "file:///tmp/bad%zz",
        "file:///tmp/nul%00", "ftp://x",         "/tmp/plain"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store untouched = {0};
        cfg.url = bad[i];
        d.msg[0] = '\0';
        T_ASSERT_ERR(store_open(&cfg, &untouched, &d), SYM_EINVAL);
        T_ASSERT(d.msg[0] != '\0');
        T_ASSERT(untouched.ops == NULL);
    }
    /* A folder that cannot be created. */
    snprintf(path, sizeof(path), "%s/file", base);
    FILE *f = fopen(path, "wb");
    T_ASSERT(f != NULL);
    T_ASSERT(fclose(f) == 0);
    snprintf(url, sizeof(url), "file://%s/file/sub", base);
    cfg.url = url;
    T_ASSERT_ERR(store_open(&cfg, &s, &d), SYM_EIO);
    T_ASSERT(strstr(d.msg, "cannot create storage folder") != NULL);
    cfg.url = NULL;
    T_ASSERT_ERR(store_open(&cfg, &s, &d), SYM_EINVAL);
    remove_tree(base);
}

T_LIST(STORE_SUITE_TESTS, T_TEST(test_fs_layout), T_TEST(test_fs_handmade_and_corrupt),
       T_TEST(test_fs_contained), T_TEST(test_fs_key_conflicts), T_TEST(test_fs_open_read),
       T_TEST(test_fs_urls))
