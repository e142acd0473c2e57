/* SPDX-License-Identifier: MPL-2.0 */
/* ingest.c: a symbols zip through Tecken's rules (scan) and into temporary files (extract); the
 * per-member digest and gzip are in prepare.c. Invariants: after a successful open the member
 * table and every string are immutable, so step-3 calls for distinct members share nothing but
 * read-only data; every temporary file is recorded in its member slot before it is created, so
 * symup_ingest_free() can always remove it. */
#include "upload/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ingest_int.h"
#include "sym/alloc.h"
#include "sym/buf.h"
#include "upload/key.h"
#include "upload_int.h"

static const char *const default_snippets[] = {"qcom/proprietary"};
static const char *const default_compress[] = {"sym"};
static const struct symup_mime default_mime[] = {{"sym", "text/plain"}};

void symup_config_init(struct symup_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    symup_zip_limits_init(&cfg->limits);
    cfg->disallowed_snippets = default_snippets;
    cfg->n_disallowed_snippets = 1;
    cfg->compress_extensions = default_compress;
    cfg->n_compress_extensions = 1;
    cfg->mime_overrides = default_mime;
    cfg->n_mime_overrides = 1;
    cfg->gzip_level = SYMUP_DEFAULT_GZIP_LEVEL;
    cfg->strict_header = false;
}

static bool config_ok(const struct symup_config *cfg)
{
    const struct symup_zip_limits *l = &cfg->limits;
    if (l->max_members == 0 || l->max_member_size == 0 || l->max_total_size == 0 ||
        l->max_ratio == 0 || l->max_name_len == 0)
        return false;
    if (cfg->gzip_level < 1 || cfg->gzip_level > 9)
        return false;
    if ((cfg->n_disallowed_snippets && cfg->disallowed_snippets == NULL) ||
        (cfg->n_compress_extensions && cfg->compress_extensions == NULL) ||
        (cfg->n_mime_overrides && cfg->mime_overrides == NULL))
        return false;
    for (size_t i = 0; i < cfg->n_disallowed_snippets; i++)
        if (cfg->disallowed_snippets[i] == NULL || cfg->disallowed_snippets[i][0] == '\0')
            return false;
    for (size_t i = 0; i < cfg->n_compress_extensions; i++)
        if (cfg->compress_extensions[i] == NULL)
            return false;
    for (size_t i = 0; i < cfg->n_mime_overrides; i++)
        if (cfg->mime_overrides[i].ext == NULL || cfg->mime_overrides[i].content_type == NULL)
            return false;
    return true;
}

static const char *rec_name(const struct symup_ingest *ing, const struct rec *r)
{
    return ing->names.data + r->name_off;
}

sym_err symup__nomem(struct symup_error *err)
{
    return symup__fail(err, SYM_ENOMEM, SYMUP_R_NOMEM, "out of memory");
}

/* ==== step 1: listing and rules ============================================================= */

static sym_err list_members(struct symup_ingest *ing, struct symup_error *err)
{
    struct symup_zip *z = NULL;
    sym_err rc = symup_zip_open(ing->zip_path, &ing->cfg.limits, &z, err);
    if (rc != SYM_OK)
        return rc;
    size_t cap = 0;
    for (;;) {
        struct symup_zip_entry e;
        rc = symup_zip_next(z, &e, err);
        if (rc == SYM_ENOTFOUND) {
            rc = SYM_OK;
            break;
        }
        if (rc != SYM_OK)
            break;
        if (e.type != SYMUP_ZIP_FILE)
            continue; /* directories are dropped, as they never become files */
        if (ing->n_recs == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct rec *r = sym_reallocarray(ing->recs, ncap, sizeof(*r));
            if (r == NULL) {
                rc = symup__nomem(err);
                break;
            }
            ing->recs = r;
            cap = ncap;
        }
        struct rec *r = &ing->recs[ing->n_recs];
        r->name_off = ing->names.len;
        r->name_len = e.name_len;
        r->size = e.size;
        r->zip_index = e.index;
        sym_buf_append(&ing->names, e.name, e.name_len + 1);
        if (sym_buf_err(&ing->names) != SYM_OK) {
            rc = symup__nomem(err);
            break;
        }
        ing->n_recs++;
    }
    symup_zip_close(z);
    return rc;
}

/* qsort context is not portable, so sort an index array with the strings alongside. */
struct sort_item {
    const char *name;
    size_t rec;
};

static int cmp_item(const void *a, const void *b)
{
    const struct sort_item *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

static int cmp_uniq_first(const void *a, const void *b)
{
    const struct uniq *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Duplicates: Tecken compares each occurrence with the one before it; report the first
 * mismatch in archive order. Then keep one entry per name. */
static sym_err dedupe(struct symup_ingest *ing, struct uniq **uniq_out, size_t *n_uniq,
                      struct symup_error *err)
{
    size_t n = ing->n_recs;
    struct sort_item *items = sym_calloc(n, sizeof(*items));
    struct uniq *u = sym_calloc(n, sizeof(*u));
    if (items == NULL || u == NULL) {
        sym_free(items);
        sym_free(u);
        return symup__nomem(err);
    }
    for (size_t i = 0; i < n; i++) {
        items[i].name = rec_name(ing, &ing->recs[i]);
        items[i].rec = i;
    }
    qsort(items, n, sizeof(*items), cmp_item);
    size_t bad = SIZE_MAX, bad_prev = 0, nu = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(items[i].name, items[i - 1].name) == 0) {
            const struct rec *cur = &ing->recs[items[i].rec];
            const struct rec *prev = &ing->recs[items[i - 1].rec];
            if (cur->size != prev->size && items[i].rec < bad) {
                bad = items[i].rec;
                bad_prev = items[i - 1].rec;
            }
            u[nu - 1].last = items[i].rec;
            continue;
        }
        u[nu].first = u[nu].last = items[i].rec;
        nu++;
    }
    sym_free(items);
    if (bad != SIZE_MAX) {
        const struct rec *cur = &ing->recs[bad];
        const struct rec *prev = &ing->recs[bad_prev];
        sym_free(u);
        struct sym_buf b;
        symup__msg_init(&b);
        sym_buf_append_str(&b, "The zipfile buffer contains two files both called ");
        sym_buf_append(&b, rec_name(ing, cur), cur->name_len);
        sym_buf_printf(&b, " and they have difference sizes (%llu != %llu)",
                       (unsigned long long)cur->size, (unsigned long long)prev->size);
        return symup__fail_buf(err, SYM_EINVAL, SYMUP_R_DUPLICATE, &b);
    }
    qsort(u, nu, sizeof(*u), cmp_uniq_first);
    *uniq_out = u;
    *n_uniq = nu;
    return SYM_OK;
}

static sym_err check_snippets(const struct symup_ingest *ing, const struct uniq *u, size_t nu,
                              struct symup_error *err)
{
    for (size_t i = 0; i < nu; i++) {
        const char *name = rec_name(ing, &ing->recs[u[i].first]);
        for (size_t k = 0; k < ing->cfg.n_disallowed_snippets; k++) {
            const char *snip = ing->cfg.disallowed_snippets[k];
            if (strstr(name, snip) == NULL)
                continue;
            struct sym_buf b;
            symup__msg_init(&b);
            sym_buf_append_str(&b, "Content of archive file contains the snippet '");
            sym_buf_append_str(&b, snip);
            sym_buf_append_str(&b, "' which is not allowed");
            return symup__fail_buf(err, SYM_EINVAL, SYMUP_R_SNIPPET, &b);
        }
    }
    return SYM_OK;
}

static sym_err check_patterns(const struct symup_ingest *ing, struct uniq *u, size_t nu,
                              struct symup_error *err)
{
    for (size_t i = 0; i < nu; i++) {
        const struct rec *r = &ing->recs[u[i].first];
        u[i].kind = symup_name_classify(rec_name(ing, r), r->name_len);
        if (u[i].kind != SYMUP_NAME_INVALID)
            continue;
        struct sym_buf b;
        symup__msg_init(&b);
        sym_buf_append_str(&b, "Unrecognized file pattern. Should only be <module>/<hex>/<file> "
                               "or <name>-symbols.txt and nothing else. (First unrecognized "
                               "pattern was ");
        symup_pyrepr(&b, rec_name(ing, r), r->name_len);
        sym_buf_append_char(&b, ')');
        return symup__fail_buf(err, SYM_EINVAL, SYMUP_R_PATTERN, &b);
    }
    return SYM_OK;
}

static sym_err too_long(const char *name, size_t len, struct symup_error *err)
{
    struct sym_buf b;
    symup__msg_init(&b);
    sym_buf_append_str(&b, "File name too long: ");
    symup_pyrepr(&b, name, len);
    sym_buf_printf(&b, " (at most %u bytes per path component and %u in all)",
                   SYMUP_MAX_COMPONENT_LEN, SYMUP_MAX_KEY_LEN);
    return symup__fail_buf(err, SYM_EINVAL, SYMUP_R_KEY_TOO_LONG, &b);
}

/* Tecken's splitext() on the file component: the text after the last dot, where dots leading
 * the name do not count. */
static const char *extension(const char *file)
{
    const char *p = file;
    while (*p == '.')
        p++;
    const char *dot = strrchr(p, '.');
    return dot != NULL ? dot + 1 : "";
}

static bool ext_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

/* Fills slot s for a KEY name: the key with its debug id upper-cased and its components. */
static sym_err build_slot(struct symup_ingest *ing, struct slot *s, const struct rec *r,
                          struct symup_error *err)
{
    const char *name = rec_name(ing, r);
    struct sym_buf key;
    sym_buf_init(&key, 0);
    sym_err rc = symup_key_normalize(name, r->name_len, &key);
    if (rc == SYM_EINVAL) {
        sym_buf_cleanup(&key);
        return too_long(name, r->name_len, err);
    }
    if (rc != SYM_OK) {
        sym_buf_cleanup(&key);
        return symup__nomem(err);
    }
    /* key, then its components, each NUL-terminated */
    size_t klen = key.len;
    s->block = sym_malloc(2 * klen + 2);
    if (s->block == NULL) {
        sym_buf_cleanup(&key);
        return symup__nomem(err);
    }
    memcpy(s->block, key.data, klen + 1);
    memcpy(s->block + klen + 1, key.data, klen + 1);
    sym_buf_cleanup(&key);
    char *comp = s->block + klen + 1;
    char *slash1 = strchr(comp, '/');
    char *slash2 = strchr(slash1 + 1, '/');
    *slash1 = '\0';
    *slash2 = '\0';
    s->m.name = name;
    s->m.key = s->block;
    s->m.debug_file = comp;
    s->m.debug_id = slash1 + 1;
    s->m.file = slash2 + 1;
    s->m.size = r->size;
    s->m.zip_index = r->zip_index;
    s->m.is_sym = symup__ends_with_ci(name, r->name_len, ".sym");
    const char *ext = extension(s->m.file);
    for (size_t k = 0; k < ing->cfg.n_compress_extensions; k++)
        if (ext_eq(ext, ing->cfg.compress_extensions[k]))
            s->m.compress = true;
    for (size_t k = 0; k < ing->cfg.n_mime_overrides; k++)
        if (ext_eq(ext, ing->cfg.mime_overrides[k].ext)) {
            s->m.content_type = ing->cfg.mime_overrides[k].content_type;
            break;
        }
    return SYM_OK;
}

/* Upper-casing debug ids can map two names onto one key: refuse rather than pick one. */
static sym_err check_key_conflicts(const struct symup_ingest *ing, struct symup_error *err)
{
    size_t n = ing->n_slots;
    if (n < 2)
        return SYM_OK;
    struct sort_item *items = sym_calloc(n, sizeof(*items));
    if (items == NULL)
        return symup__nomem(err);
    for (size_t i = 0; i < n; i++) {
        items[i].name = ing->slots[i].m.key;
        items[i].rec = i;
    }
    qsort(items, n, sizeof(*items), cmp_item);
    size_t bad = SIZE_MAX, other = 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(items[i].name, items[i - 1].name) == 0 && items[i].rec < bad) {
            bad = items[i].rec;
            other = items[i - 1].rec;
        }
    sym_free(items);
    if (bad == SIZE_MAX)
        return SYM_OK;
    const struct symup_member *x = &ing->slots[other].m, *y = &ing->slots[bad].m;
    struct sym_buf b;
    symup__msg_init(&b);
    sym_buf_append_str(&b, "The zip file contains both ");
    symup_pyrepr(&b, x->name, strlen(x->name));
    sym_buf_append_str(&b, " and ");
    symup_pyrepr(&b, y->name, strlen(y->name));
    sym_buf_append_str(&b, ", which are the same file once the debug id is upper-cased");
    return symup__fail_buf(err, SYM_EINVAL, SYMUP_R_KEY_CONFLICT, &b);
}

static sym_err build_members(struct symup_ingest *ing, const struct uniq *u, size_t nu,
                             struct symup_error *err)
{
    size_t n_keys = 0, n_ign = 0;
    for (size_t i = 0; i < nu; i++) {
        if (u[i].kind == SYMUP_NAME_KEY)
            n_keys++;
        else
            n_ign++;
    }
    ing->slots = sym_calloc(n_keys ? n_keys : 1, sizeof(*ing->slots));
    ing->ignored = sym_calloc(n_ign ? n_ign : 1, sizeof(*ing->ignored));
    if (ing->slots == NULL || ing->ignored == NULL)
        return symup__nomem(err);
    for (size_t i = 0; i < nu; i++) {
        const struct rec *last = &ing->recs[u[i].last];
        if (u[i].kind == SYMUP_NAME_IGNORED) {
            if (last->name_len > SYMUP_MAX_KEY_LEN)
                return too_long(rec_name(ing, last), last->name_len, err);
            ing->ignored[ing->n_ignored++] = rec_name(ing, last);
            continue;
        }
        sym_err rc = build_slot(ing, &ing->slots[ing->n_slots], last, err);
        if (rc != SYM_OK)
            return rc;
        ing->n_slots++;
    }
    sym_err rc = check_key_conflicts(ing, err);
    if (rc != SYM_OK)
        return rc;
    if (ing->n_slots == 0)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_EMPTY,
                           n_ign ? "Zip file contains no files to upload, only ignored files"
                                 : "Zip file contains no files to upload, only directories");
    return SYM_OK;
}

void symup__hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Tecken's content hash: every distinct file, "<name>:<size>" lines sorted by name. */
static sym_err content_hash(struct symup_ingest *ing, const struct uniq *u, size_t nu,
                            struct symup_error *err)
{
    struct sort_item *items = sym_calloc(nu ? nu : 1, sizeof(*items));
    if (items == NULL)
        return symup__nomem(err);
    for (size_t i = 0; i < nu; i++) {
        items[i].name = rec_name(ing, &ing->recs[u[i].last]);
        items[i].rec = u[i].last;
    }
    qsort(items, nu, sizeof(*items), cmp_item);
    sym_err rc = SYM_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = symup__nomem(err);
        goto out;
    }
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        rc = symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "MD5 is not available");
        goto out;
    }
    for (size_t i = 0; i < nu; i++) {
        char line[32];
        int n =
            snprintf(line, sizeof(line), ":%llu", (unsigned long long)ing->recs[items[i].rec].size);
        if ((i > 0 && EVP_DigestUpdate(ctx, "\n", 1) != 1) ||
            EVP_DigestUpdate(ctx, items[i].name, strlen(items[i].name)) != 1 ||
            EVP_DigestUpdate(ctx, line, (size_t)n) != 1) {
            rc = symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "MD5 failed");
            goto out;
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 16) {
        rc = symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "MD5 failed");
        goto out;
    }
    char full[33];
    symup__hex(md, 16, full);
    memcpy(ing->content_hash, full, 30);
    ing->content_hash[30] = '\0';
out:
    EVP_MD_CTX_free(ctx);
    sym_free(items);
    return rc;
}

sym_err symup_ingest_open(const char *zip_path, const struct symup_config *cfg,
                          struct symup_ingest **out, struct symup_error *err)
{
    if (zip_path == NULL || cfg == NULL || out == NULL || !config_ok(cfg))
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "invalid upload configuration");
    struct symup_ingest *ing = sym_calloc(1, sizeof(*ing));
    if (ing == NULL)
        return symup__nomem(err);
    ing->cfg = *cfg;
    sym_buf_init(&ing->names, 0);
    struct uniq *u = NULL;
    size_t nu = 0;
    sym_err rc = SYM_OK;
    ing->zip_path = sym_strndup(zip_path, strlen(zip_path));
    if (ing->zip_path == NULL) {
        rc = symup__nomem(err);
        goto out;
    }
    rc = list_members(ing, err);
    if (rc != SYM_OK)
        goto out;
    rc = dedupe(ing, &u, &nu, err);
    if (rc != SYM_OK)
        goto out;
    rc = check_snippets(ing, u, nu, err);
    if (rc != SYM_OK)
        goto out;
    rc = check_patterns(ing, u, nu, err);
    if (rc != SYM_OK)
        goto out;
    rc = build_members(ing, u, nu, err);
    if (rc != SYM_OK)
        goto out;
    rc = content_hash(ing, u, nu, err);
out:
    sym_free(u);
    if (rc != SYM_OK) {
        symup_ingest_free(ing);
        return rc;
    }
    *out = ing;
    return SYM_OK;
}

size_t symup_ingest_n_members(const struct symup_ingest *ing)
{
    return ing->n_slots;
}

const struct symup_member *symup_ingest_member(const struct symup_ingest *ing, size_t i)
{
    return i < ing->n_slots ? &ing->slots[i].m : NULL;
}

size_t symup_ingest_n_ignored(const struct symup_ingest *ing)
{
    return ing->n_ignored;
}

const char *symup_ingest_ignored(const struct symup_ingest *ing, size_t i)
{
    return i < ing->n_ignored ? ing->ignored[i] : NULL;
}

const char *symup_ingest_content_hash(const struct symup_ingest *ing)
{
    return ing->content_hash;
}

/* ==== step 2: extraction ==================================================================== */

sym_err symup__io_fail(struct symup_error *err, const char *what, const char *path, int e)
{
    return symup__fail(err, SYM_EIO, SYMUP_R_IO, "%s %s: %s", what, path, strerror(e));
}

bool symup__write_full(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

static char *make_path(const char *dir, size_t i, const char *suffix)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    sym_buf_printf(&b, "%s/m%zu%s", dir, i, suffix);
    return sym_buf_steal(&b, NULL);
}

/* Creates the member's file (exclusively: the directory is ours alone) and streams its data. */
static sym_err extract_one(struct symup_ingest *ing, struct symup_zip *z, size_t i, char *buf,
                           struct symup_error *err)
{
    struct slot *s = &ing->slots[i];
    s->path = make_path(ing->dir, i, "");
    if (s->path == NULL)
        return symup__nomem(err);
    int fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return symup__io_fail(err, "cannot create", s->path, errno);
    s->created = true;
    sym_err rc = SYM_OK;
    for (;;) {
        size_t n = 0;
        rc = symup_zip_read(z, buf, IO_CHUNK, &n, err);
        if (rc != SYM_OK || n == 0)
            break;
        if (!symup__write_full(fd, buf, n)) {
            rc = symup__io_fail(err, "cannot write", s->path, errno);
            break;
        }
    }
    if (close(fd) != 0 && rc == SYM_OK)
        rc = symup__io_fail(err, "cannot write", s->path, errno);
    if (rc == SYM_OK)
        s->extracted = true;
    return rc;
}

struct plan_item {
    uint32_t zip_index;
    size_t slot;
};

static int cmp_plan(const void *a, const void *b)
{
    const struct plan_item *x = a, *y = b;
    return x->zip_index < y->zip_index ? -1 : x->zip_index > y->zip_index;
}

sym_err symup__changed(struct symup_error *err)
{
    return symup__fail(err, SYM_EIO, SYMUP_R_IO, "the archive changed while it was processed");
}

sym_err symup_ingest_extract(struct symup_ingest *ing, const char *dir, symup_extracted_fn cb,
                             void *ctx, struct symup_error *err)
{
    if (ing == NULL || dir == NULL || ing->extract_started)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "invalid extraction call");
    ing->extract_started = true;
    ing->dir = sym_strndup(dir, strlen(dir));
    struct plan_item *plan = sym_calloc(ing->n_slots, sizeof(*plan));
    char *buf = sym_malloc(IO_CHUNK);
    struct symup_zip *z = NULL;
    sym_err rc = SYM_OK;
    if (ing->dir == NULL || plan == NULL || buf == NULL) {
        rc = symup__nomem(err);
        goto out;
    }
    for (size_t i = 0; i < ing->n_slots; i++) {
        plan[i].zip_index = ing->slots[i].m.zip_index;
        plan[i].slot = i;
    }
    qsort(plan, ing->n_slots, sizeof(*plan), cmp_plan);
    rc = symup_zip_open(ing->zip_path, &ing->cfg.limits, &z, err);
    if (rc != SYM_OK)
        goto out;
    size_t next = 0;
    while (next < ing->n_slots) {
        struct symup_zip_entry e;
        rc = symup_zip_next(z, &e, err);
        if (rc == SYM_ENOTFOUND) {
            rc = symup__changed(err);
            break;
        }
        if (rc != SYM_OK)
            break;
        if (e.index != plan[next].zip_index)
            continue;
        const struct symup_member *m = &ing->slots[plan[next].slot].m;
        if (e.type != SYMUP_ZIP_FILE || e.size != m->size || strcmp(e.name, m->name) != 0) {
            rc = symup__changed(err);
            break;
        }
        rc = extract_one(ing, z, plan[next].slot, buf, err);
        if (rc != SYM_OK)
            break;
        if (cb != NULL) {
            rc = cb(ctx, plan[next].slot);
            if (rc != SYM_OK) {
                symup__fail(err, rc, SYMUP_R_CONFIG, "extraction stopped by the caller");
                break;
            }
        }
        next++;
    }
out:
    symup_zip_close(z);
    sym_free(buf);
    sym_free(plan);
    return rc;
}

const char *symup_member_path(const struct symup_ingest *ing, size_t i)
{
    if (i >= ing->n_slots || !ing->slots[i].extracted || ing->slots[i].released)
        return NULL;
    return ing->slots[i].path;
}

/* ==== cleanup =============================================================================== */

static void remove_files(struct slot *s)
{
    if (s->created && s->path != NULL)
        unlink(s->path);
    if (s->gz_created && s->gz_path != NULL)
        unlink(s->gz_path);
    s->created = false;
    s->gz_created = false;
}

void symup_member_release(struct symup_ingest *ing, size_t i)
{
    if (ing == NULL || i >= ing->n_slots)
        return;
    remove_files(&ing->slots[i]);
    ing->slots[i].released = true;
}

void symup_ingest_free(struct symup_ingest *ing)
{
    if (ing == NULL)
        return;
    for (size_t i = 0; i < ing->n_slots; i++) {
        remove_files(&ing->slots[i]);
        sym_free(ing->slots[i].block);
        sym_free(ing->slots[i].path);
        sym_free(ing->slots[i].gz_path);
    }
    sym_free(ing->slots);
    sym_free(ing->ignored);
    sym_free(ing->recs);
    sym_buf_cleanup(&ing->names);
    sym_free(ing->zip_path);
    sym_free(ing->dir);
    sym_free(ing);
}

/* ==== one file outside any archive (fileprep.c) ============================================= */

/* The same rules and member slot as a zip member named `name`, for a file that already exists:
 * it is "extracted" from the start, never created (so never removed) by the ingest, and its gzip
 * goes to gz_path. */
sym_err symup__ingest_single(const char *path, const char *name, uint64_t size, const char *gz_path,
                             const struct symup_config *cfg, struct symup_ingest **out,
                             struct symup_error *err)
{
    if (path == NULL || name == NULL || gz_path == NULL || cfg == NULL || out == NULL ||
        !config_ok(cfg))
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "invalid upload configuration");
    struct symup_ingest *ing = sym_calloc(1, sizeof(*ing));
    if (ing == NULL)
        return symup__nomem(err);
    ing->cfg = *cfg;
    ing->extract_started = true;
    sym_buf_init(&ing->names, 0);
    struct uniq u = {.first = 0, .last = 0, .kind = SYMUP_NAME_INVALID};
    sym_err rc = SYM_OK;
    size_t len = strlen(name);
    ing->recs = sym_calloc(1, sizeof(*ing->recs));
    ing->zip_path = sym_strndup(path, strlen(path));
    sym_buf_append(&ing->names, name, len + 1);
    if (ing->recs == NULL || ing->zip_path == NULL || sym_buf_err(&ing->names) != SYM_OK) {
        rc = symup__nomem(err);
        goto out;
    }
    ing->recs[0] = (struct rec){.name_off = 0, .name_len = len, .size = size, .zip_index = 0};
    ing->n_recs = 1;
    rc = check_snippets(ing, &u, 1, err);
    if (rc == SYM_OK)
        rc = check_patterns(ing, &u, 1, err);
    if (rc == SYM_OK)
        rc = build_members(ing, &u, 1, err);
    if (rc == SYM_OK)
        rc = content_hash(ing, &u, 1, err);
    if (rc != SYM_OK)
        goto out;
    struct slot *s = &ing->slots[0];
    s->path = sym_strndup(path, strlen(path));
    s->gz_path = sym_strndup(gz_path, strlen(gz_path));
    if (s->path == NULL || s->gz_path == NULL) {
        rc = symup__nomem(err);
        goto out;
    }
    s->extracted = true; /* created stays false: the caller's file is never removed */
out:
    if (rc != SYM_OK) {
        symup_ingest_free(ing);
        return rc;
    }
    *out = ing;
    return SYM_OK;
}
