/* SPDX-License-Identifier: MPL-2.0 */
/* store_source.c: the storage-backed symbol supplier (see store_source.h). */
#include "symsource/store_source.h"

#include <string.h>

#include "sym/alloc.h"
#include "sym/buf.h"
#include "sym/symfile.h"
#include "symsource/image_cache.h"
#include "symsource/sympath.h"
#include "symsource/symstream.h"

struct srv_store_source {
    const struct store *store;
    size_t max_body_bytes;
    struct srv_image_cache *cache;
};

sym_err srv_store_source_new(const struct store *store, size_t max_body_bytes,
                             const struct srv_image_cache_opts *cache_opts,
                             struct srv_store_source **out)
{
    if (store == NULL || store->ops == NULL || out == NULL)
        return SYM_EINVAL;
    struct srv_store_source *s = sym_calloc(1, sizeof(*s));
    if (s == NULL)
        return SYM_ENOMEM;
    s->store = store;
    s->max_body_bytes = max_body_bytes ? max_body_bytes : (size_t)1 << 30;
    if (srv_image_cache_new(cache_opts, &s->cache) != SYM_OK) {
        sym_free(s);
        return SYM_ENOMEM;
    }
    *out = s;
    return SYM_OK;
}

void srv_store_source_free(struct srv_store_source *s)
{
    if (s == NULL)
        return;
    srv_image_cache_free(s->cache);
    sym_free(s);
}

struct load {
    struct srv_store_source *s;
    const char *key; /* storage key */
};

static int sink(void *ctx, const void *data, size_t len)
{
    return srv_symstream_feed(ctx, data, len) == SYM_OK ? 0 : 1;
}

static sym_err loader(void *vctx, struct sym_buf *image, struct srv_image_meta *meta)
{
    struct load *l = vctx;
    struct sym_parse_opts popts;
    sym_parse_opts_init(&popts);
    popts.max_input_bytes = l->s->max_body_bytes;
    struct sym_parser *p = NULL;
    sym_err rc = sym_parser_new(&popts, &p);
    if (rc != SYM_OK)
        return rc;
    struct srv_symstream ss;
    srv_symstream_init(&ss, p, NULL, l->s->max_body_bytes);
    rc = l->s->store->ops->get(l->s->store->impl, l->key, sink, &ss, NULL, NULL);
    if (rc == SYM_ELIMIT && ss.err != SYM_OK)
        rc = ss.err; /* the sink refused: say why */
    if (rc == SYM_OK)
        rc = srv_symstream_finish(&ss);
    struct sym_parse_stats stats;
    memset(&stats, 0, sizeof(stats));
    if (rc == SYM_OK)
        rc = sym_parser_finish(p, image, &stats, NULL);
    meta->corrupt = stats.n_warnings > 0;
    srv_symstream_cleanup(&ss);
    sym_parser_free(p);
    return rc;
}

/* Looks one store path ("<file>/<id>/<name>.sym") up as v1/<...>. */
/* srv_sym_try_fn: ctx is the source. */
static sym_err try_rel(void *ctx, const char *rel, struct sw_symbols *out)
{
    struct srv_store_source *s = ctx;
    const char *a = rel, *b = strchr(a, '/');
    const char *c = b ? strchr(b + 1, '/') : NULL;
    if (b == NULL || c == NULL)
        return SYM_EINVAL;
    char file[256], id[256];
    size_t fl = (size_t)(b - a), il = (size_t)(c - b - 1);
    if (fl >= sizeof(file) || il >= sizeof(id))
        return SYM_EINVAL;
    memcpy(file, a, fl);
    file[fl] = '\0';
    memcpy(id, b + 1, il);
    id[il] = '\0';
    struct sym_buf key;
    sym_buf_init(&key, 4096);
    sym_err rc = store_key_build(&key, false, file, id, c + 1);
    if (rc == SYM_OK)
        rc = sym_buf_err(&key);
    if (rc != SYM_OK) {
        sym_buf_cleanup(&key);
        return rc;
    }
    struct load l = {s, key.data};
    struct srv_cached_image ci;
    rc = srv_image_cache_get(s->cache, key.data, loader, &l, &ci);
    sym_buf_cleanup(&key);
    if (rc != SYM_OK)
        return rc;
    srv_sym_from_cache(&ci, out);
    return SYM_OK;
}

static sym_err get(void *impl, const struct sw_module_key *key, struct sw_symbols *out)
{
    return srv_sym_find(key, true, try_rel, impl, out);
}

static void release(void *impl, const struct sw_symbols *syms)
{
    struct srv_store_source *s = impl;
    srv_image_cache_release(s->cache, syms->handle);
}

static const struct sw_supplier_ops store_ops = {get, release};

struct sw_supplier srv_store_source_supplier(struct srv_store_source *s)
{
    struct sw_supplier sup = {&store_ops, s};
    return sup;
}
