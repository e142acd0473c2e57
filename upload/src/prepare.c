/* SPDX-License-Identifier: MPL-2.0 */
/* prepare.c: step 3 of the ingest, per member and independent of the others: one read of the
 * extracted file for its size, MD5 and .sym header, and a streaming gzip copy. Each call touches
 * only its own member slot, which is what makes concurrent calls for distinct members safe. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "ingest_int.h"
#include "sym/alloc.h"
#include "upload_int.h"

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return sym_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    sym_free(p);
}

/* Reads until buf is full or the file ends. */
static bool read_full(int fd, char *buf, size_t cap, size_t *n_out)
{
    size_t done = 0;
    while (done < cap) {
        ssize_t n = read(fd, buf + done, cap - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *n_out = done;
    return true;
}

/* The header window of a file longer than it ends at its last line break, so that no cut-off
 * line is parsed. */
static void parse_window(const char *buf, size_t n, bool whole_file, struct symup_header *h)
{
    size_t len = n;
    if (!whole_file) {
        while (len > 0 && buf[len - 1] != '\n' && buf[len - 1] != '\r')
            len--;
    }
    symup_header_parse(buf, len, h);
}

static sym_err header_mismatch(const struct symup_member *m, const struct symup_header *h,
                               struct symup_error *err)
{
    struct sym_buf b;
    symup__msg_init(&b);
    sym_buf_append_str(&b, "Symbol file ");
    symup_pyrepr(&b, m->name, strlen(m->name));
    if (!h->valid || !h->has_module) {
        sym_buf_append_str(&b, " has no valid MODULE line");
    } else {
        sym_buf_append_str(&b, " does not match its path: its MODULE line has debug file ");
        symup_pyrepr(&b, h->debug_filename, strlen(h->debug_filename));
        sym_buf_append_str(&b, " and debug id ");
        symup_pyrepr(&b, h->debug_id, strlen(h->debug_id));
        sym_buf_append_str(&b, ", the path has ");
        symup_pyrepr(&b, m->debug_file, strlen(m->debug_file));
        sym_buf_append_str(&b, " and ");
        symup_pyrepr(&b, m->debug_id, strlen(m->debug_id));
    }
    return symup__fail_buf(err, SYM_EINVAL, SYMUP_R_HEADER_MISMATCH, &b);
}

/* Strict mode accepts the debug path (MODULE name and id) or the code path (INFO CODE_ID file
 * and id), the two layouts the download route serves. */
static bool header_matches(const struct symup_member *m, const struct symup_header *h)
{
    if (!h->valid || !h->has_module)
        return false;
    if (strcmp(h->debug_filename, m->debug_file) == 0 && strcmp(h->debug_id, m->debug_id) == 0)
        return true;
    return h->code_file[0] != '\0' && strcmp(h->code_file, m->debug_file) == 0 &&
           strcmp(h->code_id, m->debug_id) == 0;
}

struct work {
    bool digest;
    bool gzip;
    int in_fd;
    int out_fd;
    EVP_MD_CTX *md;
    z_stream zs;
    bool zs_init;
    char *in;
    char *out;
};

static sym_err deflate_out(struct work *w, struct slot *s, int flush, struct symup_error *err)
{
    do {
        w->zs.next_out = (Bytef *)w->out;
        w->zs.avail_out = IO_CHUNK;
        int zr = deflate(&w->zs, flush);
        if (zr == Z_STREAM_ERROR)
            return symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "gzip compression failed");
        size_t have = IO_CHUNK - w->zs.avail_out;
        if (have > 0 && !symup__write_full(w->out_fd, w->out, have))
            return symup__io_fail(err, "cannot write", s->gz_path, errno);
    } while (w->zs.avail_out == 0);
    return SYM_OK;
}

static sym_err open_gzip(struct work *w, struct slot *s, int level, struct symup_error *err)
{
    if (s->gz_path == NULL) {
        /* "<dir>/m<i>.gz", derived from the member's own path so no shared state is touched */
        struct sym_buf b;
        sym_buf_init(&b, 0);
        sym_buf_append_str(&b, s->path);
        sym_buf_append_str(&b, ".gz");
        s->gz_path = sym_buf_steal(&b, NULL);
        if (s->gz_path == NULL)
            return symup__nomem(err);
    }
    /* A failed earlier attempt may have left a partial file. */
    if (unlink(s->gz_path) != 0 && errno != ENOENT)
        return symup__io_fail(err, "cannot remove", s->gz_path, errno);
    w->out_fd = open(s->gz_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (w->out_fd < 0)
        return symup__io_fail(err, "cannot create", s->gz_path, errno);
    s->gz_created = true;
    w->zs.zalloc = z_alloc;
    w->zs.zfree = z_free;
    w->zs.opaque = NULL;
    int zr = deflateInit2(&w->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (zr == Z_MEM_ERROR)
        return symup__nomem(err);
    if (zr != Z_OK)
        return symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "gzip initialisation failed");
    w->zs_init = true;
    return SYM_OK;
}

static void work_cleanup(struct work *w)
{
    if (w->zs_init)
        deflateEnd(&w->zs);
    if (w->out_fd >= 0)
        close(w->out_fd);
    if (w->in_fd >= 0)
        close(w->in_fd);
    EVP_MD_CTX_free(w->md);
    sym_free(w->in);
    sym_free(w->out);
}

static sym_err process(struct symup_ingest *ing, size_t i, bool want_digest, bool want_store,
                       struct symup_digest *dg, struct symup_stored *st, struct symup_error *err)
{
    if (ing == NULL || i >= ing->n_slots || !ing->slots[i].extracted || ing->slots[i].released)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "member not available");
    struct slot *s = &ing->slots[i];
    const struct symup_member *m = &s->m;
    struct work w;
    memset(&w, 0, sizeof(w));
    w.in_fd = w.out_fd = -1;
    w.digest = want_digest;
    w.gzip = want_store && m->compress && !s->gz_done;
    sym_err rc = SYM_OK;
    uint64_t total = 0;
    bool first = true;
    struct symup_header header;
    memset(&header, 0, sizeof(header));
    char md5[33] = "";

    if (!w.digest && !w.gzip)
        goto done;
    w.in = sym_malloc(IO_CHUNK);
    if (w.gzip)
        w.out = sym_malloc(IO_CHUNK);
    if (w.in == NULL || (w.gzip && w.out == NULL)) {
        rc = symup__nomem(err);
        goto out;
    }
    if (w.digest) {
        w.md = EVP_MD_CTX_new();
        if (w.md == NULL) {
            rc = symup__nomem(err);
            goto out;
        }
        if (EVP_DigestInit_ex(w.md, EVP_md5(), NULL) != 1) {
            rc = symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "MD5 is not available");
            goto out;
        }
    }
    w.in_fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (w.in_fd < 0) {
        rc = symup__io_fail(err, "cannot open", s->path, errno);
        goto out;
    }
    if (w.gzip) {
        rc = open_gzip(&w, s, ing->cfg.gzip_level, err);
        if (rc != SYM_OK)
            goto out;
    }
    for (;;) {
        size_t n = 0;
        /* the first chunk is at least the header window: IO_CHUNK >= SYMUP_HEADER_WINDOW */
        if (!read_full(w.in_fd, w.in, IO_CHUNK, &n)) {
            rc = symup__io_fail(err, "cannot read", s->path, errno);
            goto out;
        }
        if (n > m->size - total) {
            rc = symup__changed(err);
            goto out;
        }
        if (first && w.digest && m->is_sym) {
            size_t win = n < SYMUP_HEADER_WINDOW ? n : SYMUP_HEADER_WINDOW;
            parse_window(w.in, win, m->size <= SYMUP_HEADER_WINDOW, &header);
        }
        first = false;
        total += n;
        if (w.digest && n > 0 && EVP_DigestUpdate(w.md, w.in, n) != 1) {
            rc = symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "MD5 failed");
            goto out;
        }
        if (w.gzip) {
            w.zs.next_in = (Bytef *)w.in;
            w.zs.avail_in = (uInt)n;
            rc = deflate_out(&w, s, n == 0 ? Z_FINISH : Z_NO_FLUSH, err);
            if (rc != SYM_OK)
                goto out;
        }
        if (n == 0)
            break;
    }
    if (total != m->size) {
        rc = symup__changed(err);
        goto out;
    }
    if (w.digest) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int dlen = 0;
        if (EVP_DigestFinal_ex(w.md, d, &dlen) != 1 || dlen != 16) {
            rc = symup__fail(err, SYM_EINTERNAL, SYMUP_R_CONFIG, "MD5 failed");
            goto out;
        }
        symup__hex(d, 16, md5);
    }
    if (w.gzip) {
        struct stat sb;
        if (fstat(w.out_fd, &sb) != 0) {
            rc = symup__io_fail(err, "cannot stat", s->gz_path, errno);
            goto out;
        }
        int fd = w.out_fd;
        w.out_fd = -1;
        if (close(fd) != 0) {
            rc = symup__io_fail(err, "cannot write", s->gz_path, errno);
            goto out;
        }
        s->gz_size = (uint64_t)sb.st_size;
        s->gz_done = true;
    }
    if (w.digest && ing->cfg.strict_header && m->is_sym && !header_matches(m, &header)) {
        rc = header_mismatch(m, &header, err);
        goto out;
    }
done:
    if (dg != NULL) {
        dg->size = m->size;
        memcpy(dg->md5, md5, sizeof(dg->md5));
        dg->header = header;
    }
    if (st != NULL) {
        st->compressed = m->compress;
        st->path = m->compress ? s->gz_path : s->path;
        st->size = m->compress ? s->gz_size : m->size;
        st->content_type = m->content_type;
        st->content_encoding = m->compress ? "gzip" : NULL;
    }
out:
    work_cleanup(&w);
    return rc;
}

sym_err symup_member_digest(struct symup_ingest *ing, size_t i, struct symup_digest *out,
                            struct symup_error *err)
{
    if (out == NULL)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "no output");
    return process(ing, i, true, false, out, NULL, err);
}

sym_err symup_member_store_file(struct symup_ingest *ing, size_t i, struct symup_stored *out,
                                struct symup_error *err)
{
    if (out == NULL)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "no output");
    return process(ing, i, false, true, NULL, out, err);
}

sym_err symup_prepare(struct symup_ingest *ing, size_t i, struct symup_prepared *out,
                      struct symup_error *err)
{
    if (out == NULL)
        return symup__fail(err, SYM_EINVAL, SYMUP_R_CONFIG, "no output");
    struct symup_prepared tmp;
    sym_err rc = process(ing, i, true, true, &tmp.digest, &tmp.stored, err);
    if (rc == SYM_OK)
        *out = tmp;
    return rc;
}
