/* SPDX-License-Identifier: MPL-2.0 */
/* local_source.c: the local symbol-directory supplier (see local_source.h). Files are streamed
 * through the .sym parser in 64 KiB chunks; results, found or not, are cached per store path. */
#include "symsource/local_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sym/alloc.h"
#include "sym/symfile.h"
#include "symsource/image_cache.h"
#include "symsource/sympath.h"

struct srv_local_source {
    size_t n_dirs;
    char **dirs;
    struct srv_image_cache *cache;
};

sym_err srv_local_source_new(const char *const *dirs, size_t n_dirs, size_t max_bytes,
                             struct srv_local_source **out)
{
    if (dirs == NULL || n_dirs == 0)
        return SYM_EINVAL;
    struct srv_local_source *s = sym_calloc(1, sizeof(*s));
    if (s == NULL)
        return SYM_ENOMEM;
    s->dirs = sym_calloc(n_dirs, sizeof(char *));
    if (s->dirs == NULL)
        goto oom;
    for (size_t i = 0; i < n_dirs; i++) {
        s->dirs[i] = sym_strndup(dirs[i], strlen(dirs[i]));
        if (s->dirs[i] == NULL)
            goto oom;
        s->n_dirs = i + 1;
    }
    struct srv_image_cache_opts co = {max_bytes, 0, 0};
    if (srv_image_cache_new(&co, &s->cache) != SYM_OK)
        goto oom;
    *out = s;
    return SYM_OK;
oom:
    srv_local_source_free(s);
    return SYM_ENOMEM;
}

void srv_local_source_free(struct srv_local_source *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_dirs; i++)
        sym_free(s->dirs[i]);
    sym_free(s->dirs);
    srv_image_cache_free(s->cache);
    sym_free(s);
}

struct load_ctx {
    const struct srv_local_source *s;
    const char *rel; /* store path */
};

/* Parses one .sym file into image. SYM_ENOTFOUND when it does not exist. */
static sym_err parse_file(const char *path, struct sym_buf *image, bool *corrupt)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? SYM_ENOTFOUND : SYM_EIO;
    struct sym_parser *p = NULL;
    sym_err rc = sym_parser_new(NULL, &p);
    if (rc == SYM_OK)
        rc = sym_parser_feed_fd(p, fd);
    struct sym_parse_stats stats;
    memset(&stats, 0, sizeof(stats));
    if (rc == SYM_OK)
        rc = sym_parser_finish(p, image, &stats, NULL);
    if (rc == SYM_OK)
        *corrupt = stats.n_warnings > 0;
    sym_parser_free(p);
    close(fd);
    return rc;
}

static sym_err load(void *vctx, struct sym_buf *image, struct srv_image_meta *meta)
{
    const struct load_ctx *lc = vctx;
    sym_err last = SYM_ENOTFOUND;
    for (size_t i = 0; i < lc->s->n_dirs; i++) {
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", lc->s->dirs[i], lc->rel);
        if (n < 0 || (size_t)n >= sizeof(path))
            continue;
        sym_err rc = parse_file(path, image, &meta->corrupt);
        if (rc == SYM_OK)
            return SYM_OK;
        if (rc != SYM_ENOTFOUND)
            last = rc;
        sym_buf_reset(image);
    }
    return last;
}

/* srv_sym_try_fn: ctx is the source. */
static sym_err try_path(void *ctx, const char *rel, struct sw_symbols *out)
{
    struct srv_local_source *s = ctx;
    struct load_ctx lc = {s, rel};
    struct srv_cached_image ci;
    sym_err rc = srv_image_cache_get(s->cache, rel, load, &lc, &ci);
    if (rc != SYM_OK)
        return rc;
    srv_sym_from_cache(&ci, out);
    return SYM_OK;
}

static sym_err get(void *impl, const struct sw_module_key *key, struct sw_symbols *out)
{
    return srv_sym_find(key, false, try_path, impl, out);
}

static void release(void *impl, const struct sw_symbols *syms)
{
    struct srv_local_source *s = impl;
    srv_image_cache_release(s->cache, syms->handle);
}

static const struct sw_supplier_ops local_ops = {get, release};

struct sw_supplier srv_local_source_supplier(struct srv_local_source *s)
{
    struct sw_supplier sup = {&local_ops, s};
    return sup;
}
