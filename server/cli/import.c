/* SPDX-License-Identifier: MPL-2.0 */
/* import.c: `sigil import DIR`, ingesting an existing Breakpad symbol store
 * (<debug_file>/<debug_id>/<file>) into storage and PostgreSQL with the upload pipeline's rules:
 * every file goes through fileprep (key, digest, .sym header, gzip) and storefile (skip when
 * unchanged, store, record), so imported files are stored and indexed exactly like uploaded
 * ones. A walker thread feeds a bounded queue; a fixed number of workers store in parallel. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "db/pool.h"
#include "db/queries.h"
#include "upload/fileprep.h"
#include "upload/settings.h"
#include "upload/storefile.h"

#define DEFAULT_USER      "import@localhost"
#define MAX_SKIPPED_KEYS  10000
#define PROGRESS_EVERY_US 1000000

static const char usage[] =
    "usage: sigil import [settings] [--try] [--user EMAIL] DIR\n\n"
    "Ingests an existing Breakpad symbol store, DIR/<debug_file>/<debug_id>/<file>, into storage\n"
    "and the database, as an upload would: .sym files are stored gzip-compressed with their\n"
    "header fields recorded (so the code-id lookup finds them), the other downloadable files\n"
    "(.dl_, .ex_, .pd_, .dbg.gz, .tar.bz2) as they are. Files already stored unchanged are\n"
    "skipped. Runs upload-workers files at once and prints progress on stderr, then\n"
    "\"imported N, skipped N, failed N\" on stdout; the exit code is 1 when a file failed.\n"
    "  --try          store into try storage\n"
    "  --user EMAIL   uploader recorded in the database (created when missing; "
    "default " DEFAULT_USER ")\n";

struct item {
    char *path; /* absolute or DIR-relative path of the file */
    char *name; /* <debug_file>/<debug_id>/<file> */
};

struct importer {
    /* Read-only once the workers start. */
    struct srv_upload_settings settings;
    struct srv_storefile_target target;
    char **exts;
    const char *tmp_dir;
    bool tty;
    uint64_t total_files, total_bytes;

    /* The queue. */
    pthread_mutex_t lock;
    pthread_cond_t nonempty, nonfull;
    struct item *ring;
    size_t cap, head, n;
    bool closed;

    /* Progress. */
    _Atomic uint64_t done, imported, skipped, failed, ignored, bytes_done, seq;
    pthread_mutex_t out_lock;
    uint64_t last_progress_us;
    json_t *skipped_keys; /* under out_lock; capped */
    bool skipped_truncated;
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- walking the store --------------------------------------------------------------------- */

static bool has_download_ext(char *const *exts, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = exts; *e; e++) {
        size_t k = strlen(*e);
        if (n > k && memcmp(name + n - k, *e, k) == 0)
            return true;
    }
    return false;
}

typedef void (*file_fn)(struct importer *im, const char *path, const char *name, uint64_t size);

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Calls fn for every regular file at depth 3 under root whose name has a downloadable
 * extension; other files at that depth are counted as ignored when count_ignored. */
static int walk(struct importer *im, const char *root, file_fn fn, bool count_ignored)
{
    DIR *d1 = opendir(root);
    if (d1 == NULL) {
        fprintf(stderr, "sigil import: cannot open %s: %s\n", root, strerror(errno));
        return -1;
    }
    struct dirent *e1;
    char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX];
    while ((e1 = readdir(d1)) != NULL) {
        if (strcmp(e1->d_name, ".") == 0 || strcmp(e1->d_name, "..") == 0)
            continue;
        if (snprintf(p1, sizeof(p1), "%s/%s", root, e1->d_name) >= (int)sizeof(p1) || !is_dir(p1))
            continue;
        DIR *d2 = opendir(p1);
        struct dirent *e2;
        while (d2 != NULL && (e2 = readdir(d2)) != NULL) {
            if (strcmp(e2->d_name, ".") == 0 || strcmp(e2->d_name, "..") == 0)
                continue;
            if (snprintf(p2, sizeof(p2), "%s/%s", p1, e2->d_name) >= (int)sizeof(p2) || !is_dir(p2))
                continue;
            DIR *d3 = opendir(p2);
            struct dirent *e3;
            while (d3 != NULL && (e3 = readdir(d3)) != NULL) {
                if (strcmp(e3->d_name, ".") == 0 || strcmp(e3->d_name, "..") == 0)
                    continue;
                if (snprintf(p3, sizeof(p3), "%s/%s", p2, e3->d_name) >= (int)sizeof(p3))
                    continue;
                struct stat st;
                if (stat(p3, &st) != 0 || !S_ISREG(st.st_mode))
                    continue;
                if (!has_download_ext(im->exts, e3->d_name)) {
                    if (count_ignored)
                        atomic_fetch_add(&im->ignored, 1);
                    continue;
                }
                char name[PATH_MAX];
                if (snprintf(name, sizeof(name), "%s/%s/%s", e1->d_name, e2->d_name, e3->d_name) >=
                    (int)sizeof(name))
                    continue;
                fn(im, p3, name, (uint64_t)st.st_size);
            }
            if (d3 != NULL)
                closedir(d3);
        }
        if (d2 != NULL)
            closedir(d2);
    }
    closedir(d1);
    return 0;
}

static void count_file(struct importer *im, const char *path, const char *name, uint64_t size)
{
    (void)path;
    (void)name;
    im->total_files++;
    im->total_bytes += size;
}

static void enqueue_file(struct importer *im, const char *path, const char *name, uint64_t size)
{
    (void)size;
    struct item it = {strdup(path), strdup(name)};
    if (it.path == NULL || it.name == NULL) {
        free(it.path);
        free(it.name);
        fprintf(stderr, "sigil import: %s: out of memory\n", name);
        atomic_fetch_add(&im->failed, 1);
        atomic_fetch_add(&im->done, 1);
        return;
    }
    pthread_mutex_lock(&im->lock);
    while (im->n == im->cap)
        pthread_cond_wait(&im->nonfull, &im->lock);
    im->ring[(im->head + im->n) % im->cap] = it;
    im->n++;
    pthread_cond_signal(&im->nonempty);
    pthread_mutex_unlock(&im->lock);
}

/* --- workers -------------------------------------------------------------------------------- */

static void print_progress(struct importer *im, bool final)
{
    uint64_t now = mono_us();
    pthread_mutex_lock(&im->out_lock);
    uint64_t every = im->tty ? PROGRESS_EVERY_US : 5 * PROGRESS_EVERY_US;
    if (final || now - im->last_progress_us >= every) {
        im->last_progress_us = now;
        fprintf(stderr,
                "%simport: %" PRIu64 "/%" PRIu64 " files, %.1f/%.1f MB (imported %" PRIu64
                ", skipped %" PRIu64 ", failed %" PRIu64 ")%s",
                im->tty ? "\r" : "", atomic_load(&im->done), im->total_files,
                (double)atomic_load(&im->bytes_done) / 1e6, (double)im->total_bytes / 1e6,
                atomic_load(&im->imported), atomic_load(&im->skipped), atomic_load(&im->failed),
                im->tty && !final ? "" : "\n");
        fflush(stderr);
    }
    pthread_mutex_unlock(&im->out_lock);
}

static void import_one(struct importer *im, const struct item *it)
{
    char gz[PATH_MAX];
    snprintf(gz, sizeof(gz), "%s/f%" PRIu64 ".gz", im->tmp_dir, atomic_fetch_add(&im->seq, 1));
    struct symup_error err;
    symup_error_clear(&err);
    struct symup_ingest *ing = NULL;
    struct srv_storefile_result res;
    sym_err rc = symup_fileprep_open(it->path, it->name, gz, &im->settings.symup, &ing, &err);
    if (rc == SYM_OK)
        rc = srv_storefile_member(&im->target, ing, 0, &res, &err);
    if (rc != SYM_OK) {
        atomic_fetch_add(&im->failed, 1);
        pthread_mutex_lock(&im->out_lock);
        fprintf(stderr, "%ssigil import: %s: %s\n", im->tty ? "\n" : "", it->name, err.msg);
        pthread_mutex_unlock(&im->out_lock);
    } else if (res.skipped) {
        atomic_fetch_add(&im->skipped, 1);
        pthread_mutex_lock(&im->out_lock);
        if (json_array_size(im->skipped_keys) < MAX_SKIPPED_KEYS)
            json_array_append_new(im->skipped_keys, json_string(res.key));
        else
            im->skipped_truncated = true;
        pthread_mutex_unlock(&im->out_lock);
    } else {
        atomic_fetch_add(&im->imported, 1);
    }
    if (ing != NULL)
        atomic_fetch_add(&im->bytes_done, symup_ingest_member(ing, 0)->size);
    symup_ingest_free(ing);
    atomic_fetch_add(&im->done, 1);
    print_progress(im, false);
}

static void *worker_main(void *arg)
{
    struct importer *im = arg;
    for (;;) {
        pthread_mutex_lock(&im->lock);
        while (im->n == 0 && !im->closed)
            pthread_cond_wait(&im->nonempty, &im->lock);
        if (im->n == 0) {
            pthread_mutex_unlock(&im->lock);
            return NULL;
        }
        struct item it = im->ring[im->head];
        im->head = (im->head + 1) % im->cap;
        im->n--;
        pthread_cond_signal(&im->nonfull);
        pthread_mutex_unlock(&im->lock);
        import_one(im, &it);
        free(it.path);
        free(it.name);
    }
}

/* --- the command ---------------------------------------------------------------------------- */

static const char *base_name(const char *dir, char *buf, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/')
        b--;
    snprintf(buf, cap, "%.*s", (int)(n - b), dir + b);
    return buf;
}

/* Creates the user and the upload row, runs the workers, completes the row. */
static int run(struct importer *im, const struct srv_config *cfg, const char *dir,
               const char *email, bool try_storage)
{
    struct sym_diag d = {0};
    struct db_pool_config pcfg = {
        .conninfo = cfg->database_url,
        .size = im->settings.workers + 1,
        .statement_timeout_ms = cfg->db_statement_timeout_ms,
        .connect_timeout_s = cfg->db_connect_timeout_s,
        .application_name = "sigil-import",
    };
    struct db_pool *db = NULL;
    if (db_pool_open(&pcfg, &db, &d) != SYM_OK) {
        fprintf(stderr, "sigil: database-url: %s\n", d.msg);
        return 1;
    }
    int code = 1;
    char bucket[256], name[256];
    srv_bucket_name(cfg->storage_url, bucket, sizeof(bucket));
    pthread_t *threads = NULL;
    unsigned started = 0;
    int64_t user_id = 0, upload_id = 0;
    PGconn *conn = NULL;
    sym_err rc = db_acquire(db, &conn, &d);
    if (rc == SYM_OK)
        rc = db_user_ensure(conn, email, &user_id, &d);
    if (rc == SYM_OK) {
        struct db_upload u = {
            .user_id = user_id,
            .filename = base_name(dir, name, sizeof(name)),
            .bucket_name = bucket,
            .size = im->total_bytes,
            .try_symbols = try_storage,
        };
        rc = db_upload_create(conn, &u, &upload_id, &d);
    }
    if (conn != NULL)
        db_release(db, conn);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil import: database: %s\n", d.msg);
        goto out;
    }
    im->target.db = db;
    im->target.bucket_name = bucket;
    im->target.try_storage = try_storage;
    im->target.upload_id = upload_id;

    threads = calloc(im->settings.workers, sizeof(*threads));
    if (threads == NULL) {
        fprintf(stderr, "sigil import: out of memory\n");
        goto out;
    }
    for (; started < im->settings.workers; started++)
        if (pthread_create(&threads[started], NULL, worker_main, im) != 0)
            break;
    if (started == 0) {
        fprintf(stderr, "sigil import: cannot start threads\n");
        goto out;
    }
    int walked = walk(im, dir, enqueue_file, false);
    pthread_mutex_lock(&im->lock);
    im->closed = true;
    pthread_cond_broadcast(&im->nonempty);
    pthread_mutex_unlock(&im->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    print_progress(im, true);

    uint64_t failed = atomic_load(&im->failed);
    if (walked == 0 && failed == 0) {
        /* Incomplete runs keep completed_at NULL: a rerun finishes them. */
        json_t *ignored = json_array();
        rc = db_acquire(db, &conn, &d);
        if (rc == SYM_OK) {
            rc = db_upload_complete(conn, upload_id,
                                    im->skipped_truncated ? NULL : im->skipped_keys, ignored, &d);
            db_release(db, conn);
        }
        json_decref(ignored);
        if (rc != SYM_OK) {
            fprintf(stderr, "sigil import: database: %s\n", d.msg);
            goto out;
        }
        code = 0;
    }
    printf("imported %" PRIu64 ", skipped %" PRIu64 ", failed %" PRIu64 "\n",
           atomic_load(&im->imported), atomic_load(&im->skipped), failed);
    if (atomic_load(&im->ignored) > 0)
        printf("not symbol files (ignored): %" PRIu64 "\n", atomic_load(&im->ignored));
    printf("upload id %" PRId64 "\n", upload_id);
out:
    free(threads);
    db_pool_close(db);
    return code;
}

int cli_import_main(int argc, char **argv)
{
    const unsigned scopes = SRV_CFG_DB | SRV_CFG_STORAGE;
    struct srv_config cfg;
    const char **pos = NULL;
    int n_pos = 0, code = 0;
    if (!cli_load_config(&cfg, scopes, argc, argv, usage, &pos, &n_pos, &code))
        return code;
    bool try_storage = false;
    const char *email = DEFAULT_USER, *dir = NULL;
    for (int i = 0; i < n_pos && code == 0; i++) {
        if (strcmp(pos[i], "--try") == 0) {
            try_storage = true;
        } else if (strcmp(pos[i], "--user") == 0 && i + 1 < n_pos) {
            email = pos[++i];
        } else if (strncmp(pos[i], "--user=", 7) == 0) {
            email = pos[i] + 7;
        } else if (pos[i][0] == '-' || dir != NULL) {
            fprintf(stderr, "sigil import: unexpected argument '%s' (see sigil import --help)\n",
                    pos[i]);
            code = 2;
        } else {
            dir = pos[i];
        }
    }
    free(pos);
    if (code == 0 && (dir == NULL || *email == '\0')) {
        fprintf(stderr, "sigil import: %s (see sigil import --help)\n",
                dir == NULL ? "missing DIR" : "empty --user");
        code = 2;
    }
    if (code == 0 && !is_dir(dir)) {
        fprintf(stderr, "sigil import: %s is not a folder\n", dir);
        code = 2;
    }
    if (code != 0) {
        srv_config_free(&cfg);
        return code;
    }

    struct importer im;
    memset(&im, 0, sizeof(im));
    struct sym_diag d = {0};
    struct store store = {0};
    char tmp[PATH_MAX] = "";
    code = 1;
    if (srv_upload_settings_init(&im.settings, &cfg, &d) != SYM_OK) {
        fprintf(stderr, "sigil import: %s\n", d.msg);
        srv_config_free(&cfg);
        return code;
    }
    pthread_mutex_init(&im.lock, NULL);
    pthread_mutex_init(&im.out_lock, NULL);
    pthread_cond_init(&im.nonempty, NULL);
    pthread_cond_init(&im.nonfull, NULL);
    im.exts = srv_list_split(cfg.download_extensions);
    im.cap = (size_t)im.settings.workers * 4;
    im.ring = calloc(im.cap, sizeof(*im.ring));
    im.skipped_keys = json_array();
    im.tty = isatty(STDERR_FILENO);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(tmp, sizeof(tmp), "%s/sigil-import-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (im.exts == NULL || im.ring == NULL || im.skipped_keys == NULL) {
        fprintf(stderr, "sigil import: out of memory\n");
    } else if (mkdtemp(tmp) == NULL) {
        fprintf(stderr, "sigil import: cannot create a work folder %s: %s\n", tmp, strerror(errno));
        tmp[0] = '\0';
    } else if (cli_store_open(&cfg, &store)) {
        im.tmp_dir = tmp;
        im.target.store = &store;
        if (walk(&im, dir, count_file, true) == 0)
            code = run(&im, &cfg, dir, email, try_storage);
        store_close(&store);
    }
    if (tmp[0] != '\0')
        rmdir(tmp);
    json_decref(im.skipped_keys);
    free(im.ring);
    srv_list_free(im.exts);
    pthread_cond_destroy(&im.nonempty);
    pthread_cond_destroy(&im.nonfull);
    pthread_mutex_destroy(&im.lock);
    pthread_mutex_destroy(&im.out_lock);
    srv_upload_settings_cleanup(&im.settings);
    srv_config_free(&cfg);
    return code;
}
