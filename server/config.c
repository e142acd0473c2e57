/* SPDX-License-Identifier: MPL-2.0 */
/* config.c: the settings table and its loader. Each row names the flag, the environment variable,
 * the type with its bounds, the default and the help text; validation happens here, at start-up,
 * so that a bad setting is reported in one line naming it. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum cfg_type {
    CFG_STR,
    CFG_U32,
    CFG_U64,
    CFG_BOOL,
    CFG_LISTEN,
    CFG_STORAGE_URL,
    CFG_LOG_LEVEL,
    CFG_URL_LIST,
};

struct cfg_row {
    const char *name; /* flag without the leading "--" */
    const char *env;
    enum cfg_type type;
    const char *def;
    uint64_t min, max;
    size_t offset;
    unsigned scopes;
    bool secret;
    const char *help;
};

#define OFF(field) offsetof(struct srv_config, field)
#define ALL        (SRV_CFG_SERVE | SRV_CFG_DB | SRV_CFG_STORAGE)
#define SERVE      SRV_CFG_SERVE
#define DB         SRV_CFG_DB
#define STORE      SRV_CFG_STORAGE

static const struct cfg_row rows[] = {
    {"listen", "SIGIL_LISTEN", CFG_LISTEN, "127.0.0.1:8000", 0, 0, OFF(listen), SERVE, false,
     "address to listen on, host:port (IPv4, [IPv6] or a host name)"},
    {"workers", "SIGIL_WORKERS", CFG_U32, "0", 0, 256, OFF(workers), SERVE, false,
     "event-loop threads; 0 means one per CPU core"},
    {"blocking-threads", "SIGIL_BLOCKING_THREADS", CFG_U32, "8", 1, 512, OFF(blocking_threads),
     SERVE, false, "threads for blocking work (database, storage, parsing)"},
    {"body-threads", "SIGIL_BODY_THREADS", CFG_U32, "4", 1, 256, OFF(body_threads), SERVE, false,
     "threads serving requests with large bodies (uploads, minidumps), each for a whole request"},
    {"spool-dir", "SIGIL_SPOOL_DIR", CFG_STR, "", 0, 0, OFF(spool_dir), SERVE, false,
     "folder for request bodies and upload work files; empty means <cache-dir>/spool"},
    {"max-body-bytes", "SIGIL_MAX_BODY_BYTES", CFG_U64, "4294967296", 1024, 1099511627776ULL,
     OFF(max_body_bytes), SERVE, false,
     "largest request body accepted (symbol zip uploads); larger bodies get 413"},
    {"shutdown-timeout-s", "SIGIL_SHUTDOWN_TIMEOUT_S", CFG_U32, "30", 1, 3600,
     OFF(shutdown_timeout_s), SERVE, false,
     "on SIGTERM, how long in-flight requests may take before the server exits anyway"},
    {"request-timeout-s", "SIGIL_REQUEST_TIMEOUT_S", CFG_U32, "60", 1, 86400,
     OFF(request_timeout_s), SERVE, false, "idle timeout for reading a request"},
    {"access-log", "SIGIL_ACCESS_LOG", CFG_BOOL, "true", 0, 0, OFF(access_log), SERVE, false,
     "write one JSON line per request to stderr"},
    {"log-level", "SIGIL_LOG_LEVEL", CFG_LOG_LEVEL, "info", 0, 0, OFF(log_level), ALL, false,
     "debug, info, warn or error"},
    {"public-url", "SIGIL_PUBLIC_URL", CFG_STR, "", 0, 0, OFF(public_url), SERVE, false,
     "external base URL of this server (e.g. https://symbols.example.com), for absolute links"},

    {"database-url", "SIGIL_DATABASE_URL", CFG_STR, "dbname=sigil", 0, 0, OFF(database_url), DB,
     true, "PostgreSQL connection string or URI (libpq syntax)"},
    {"db-pool-size", "SIGIL_DB_POOL_SIZE", CFG_U32, "8", 1, 256, OFF(db_pool_size), DB, false,
     "database connections kept open"},
    {"db-statement-timeout-ms", "SIGIL_DB_STATEMENT_TIMEOUT_MS", CFG_U32, "10000", 0, 3600000,
     OFF(db_statement_timeout_ms), DB, false, "statement_timeout set on every connection"},
    {"db-connect-timeout-s", "SIGIL_DB_CONNECT_TIMEOUT_S", CFG_U32, "5", 1, 600,
     OFF(db_connect_timeout_s), DB, false, "timeout for opening a database connection"},
    {"migrate-on-start", "SIGIL_MIGRATE_ON_START", CFG_BOOL, "false", 0, 0, OFF(migrate_on_start),
     SERVE, false, "apply pending migrations when the server starts"},

    {"storage-url", "SIGIL_STORAGE_URL", CFG_STORAGE_URL, "file:///var/lib/sigil/storage", 0, 0,
     OFF(storage_url), STORE, false,
     "object storage: file:///abs/dir or s3://bucket?endpoint=http://host:port&region=..."},
    {"s3-access-key", "SIGIL_S3_ACCESS_KEY", CFG_STR, "", 0, 0, OFF(s3_access_key), STORE, true,
     "S3 access key id"},
    {"s3-secret-key", "SIGIL_S3_SECRET_KEY", CFG_STR, "", 0, 0, OFF(s3_secret_key), STORE, true,
     "S3 secret access key"},
    {"storage-public-url", "SIGIL_STORAGE_PUBLIC_URL", CFG_STR, "", 0, 0, OFF(storage_public_url),
     STORE, false,
     "public base URL of the bucket for download redirects; empty means presigned URLs"},
    {"storage-presign-expiry-s", "SIGIL_STORAGE_PRESIGN_EXPIRY_S", CFG_U32, "3600", 60, 604800,
     OFF(storage_presign_expiry_s), STORE, false, "lifetime of presigned download URLs"},
    {"storage-timeout-ms", "SIGIL_STORAGE_TIMEOUT_MS", CFG_U32, "10000", 100, 3600000,
     OFF(storage_timeout_ms), STORE, false, "timeout of one storage request"},
    {"storage-retries", "SIGIL_STORAGE_RETRIES", CFG_U32, "2", 0, 10, OFF(storage_retries), STORE,
     false, "extra attempts on storage network errors and 5xx answers"},

    {"cache-dir", "SIGIL_CACHE_DIR", CFG_STR, "/var/lib/sigil/cache", 0, 0, OFF(cache_dir), SERVE,
     false, "folder of the parsed-symbol cache (LMDB)"},
    {"cache-max-mb", "SIGIL_CACHE_MAX_MB", CFG_U64, "4096", 16, 16777216, OFF(cache_max_mb), SERVE,
     false, "size bound of the parsed-symbol cache; least recently used entries go first"},
    {"exists-cache-entries", "SIGIL_EXISTS_CACHE_ENTRIES", CFG_U32, "100000", 0, 100000000,
     OFF(exists_cache_entries), SERVE, false,
     "in-process cache of storage lookups for downloads; 0 disables it"},
    {"exists-cache-ttl-s", "SIGIL_EXISTS_CACHE_TTL_S", CFG_U32, "3600", 1, 604800,
     OFF(exists_cache_ttl_s), SERVE, false, "how long a found object stays cached"},
    {"exists-cache-negative-ttl-s", "SIGIL_EXISTS_CACHE_NEGATIVE_TTL_S", CFG_U32, "60", 0, 86400,
     OFF(exists_cache_negative_ttl_s), SERVE, false, "how long a missing object stays cached"},
    {"codeid-cache-ttl-s", "SIGIL_CODEID_CACHE_TTL_S", CFG_U32, "600", 0, 86400,
     OFF(codeid_cache_ttl_s), SERVE, false, "how long a code-id lookup result stays cached"},
    {"missing-flush-interval-ms", "SIGIL_MISSING_FLUSH_INTERVAL_MS", CFG_U32, "5000", 100, 3600000,
     OFF(missing_flush_interval_ms), SERVE, false,
     "how often counted missing-symbol requests are written to the database"},
    {"missing-max-pending", "SIGIL_MISSING_MAX_PENDING", CFG_U32, "50000", 1, 10000000,
     OFF(missing_max_pending), SERVE, false,
     "distinct missing symbols kept between two writes; more are counted as dropped"},

    {"download-extensions", "SIGIL_DOWNLOAD_EXTENSIONS", CFG_STR,
     ".sym,.dl_,.ex_,.pd_,.dbg.gz,.tar.bz2", 0, 0, OFF(download_extensions), SERVE | STORE, false,
     "file name endings served by the download API (case-sensitive)"},
    {"max-path-component", "SIGIL_MAX_PATH_COMPONENT", CFG_U32, "255", 16, 4096,
     OFF(max_path_component), SERVE, false, "longest accepted debug file, id or file name"},

    {"minidump-max-bytes", "SIGIL_MINIDUMP_MAX_BYTES", CFG_U64, "268435456", 1024, 4294967296ULL,
     OFF(minidump_max_bytes), SERVE, false,
     "largest minidump accepted by POST /stackwalk and /process; larger ones get 413"},
    {"stackwalk-max-frames", "SIGIL_STACKWALK_MAX_FRAMES", CFG_U32, "1024", 1, 262144,
     OFF(stackwalk_max_frames), SERVE, false, "frames walked per thread of a minidump"},
    {"signature-rules", "SIGIL_SIGNATURE_RULES", CFG_STR, "", 0, 0, OFF(signature_rules), SERVE,
     false, "folder of the signature lists (reloaded on SIGHUP); empty means the built-in ones"},
    {"signature-max-bytes", "SIGIL_SIGNATURE_MAX_BYTES", CFG_U64, "10485760", 1024, 1073741824,
     OFF(signature_max_bytes), SERVE, false, "largest crash_data body of POST /signature"},
    {"symbol-urls", "SIGIL_SYMBOL_URLS", CFG_URL_LIST, "", 0, 0, OFF(symbol_urls), SERVE, false,
     "comma-separated upstream symbol servers consulted after this server's own storage"},
    {"symbol-timeout-ms", "SIGIL_SYMBOL_TIMEOUT_MS", CFG_U32, "120000", 100, 3600000,
     OFF(symbol_timeout_ms), SERVE, false,
     "timeout of one request to an upstream symbol server (whole transfer)"},
    {"symbol-connect-timeout-ms", "SIGIL_SYMBOL_CONNECT_TIMEOUT_MS", CFG_U32, "5000", 100, 600000,
     OFF(symbol_connect_timeout_ms), SERVE, false, "timeout for connecting to a symbol server"},
    {"symbol-retries", "SIGIL_SYMBOL_RETRIES", CFG_U32, "4", 0, 10, OFF(symbol_retries), SERVE,
     false, "extra attempts after a 429 or 5xx answer or a failed connection (with backoff)"},

    {"symbolicate-max-bytes", "SIGIL_SYMBOLICATE_MAX_BYTES", CFG_U64, "8388608", 1024, 1073741824,
     OFF(symbolicate_max_bytes), SERVE, false,
     "largest symbolication request body; larger ones get 413"},
    {"symbolicate-max-frames", "SIGIL_SYMBOLICATE_MAX_FRAMES", CFG_U64, "250000", 1, 100000000,
     OFF(symbolicate_max_frames), SERVE, false,
     "most frames in one symbolication request (all jobs); more gets 413"},
    {"symbolicate-max-modules", "SIGIL_SYMBOLICATE_MAX_MODULES", CFG_U32, "5000", 1, 10000000,
     OFF(symbolicate_max_modules), SERVE, false,
     "most memoryMap entries in one symbolication job; more gets 413"},
    {"symbolicate-max-stacks", "SIGIL_SYMBOLICATE_MAX_STACKS", CFG_U32, "10000", 1, 10000000,
     OFF(symbolicate_max_stacks), SERVE, false,
     "most stacks in one symbolication job; more gets 413"},
    {"symbolicate-threads", "SIGIL_SYMBOLICATE_THREADS", CFG_U32, "4", 1, 256,
     OFF(symbolicate_threads), SERVE, false,
     "threads fetching and parsing symbol files for symbolication"},
    {"symbolicate-negative-ttl-s", "SIGIL_SYMBOLICATE_NEGATIVE_TTL_S", CFG_U32, "300", 1, 604800,
     OFF(symbolicate_negative_ttl_s), SERVE, false,
     "how long a module no source has (or with an unusable symbol file) is remembered"},
    {"symbolicate-error-ttl-s", "SIGIL_SYMBOLICATE_ERROR_TTL_S", CFG_U32, "15", 0, 86400,
     OFF(symbolicate_error_ttl_s), SERVE, false,
     "how long a module is remembered as missing after a source failed; 0: not at all"},
    {"symbolicate-max-sym-bytes", "SIGIL_SYMBOLICATE_MAX_SYM_BYTES", CFG_U64, "4294967296", 1024,
     1099511627776ULL, OFF(symbolicate_max_sym_bytes), SERVE, false,
     "largest (uncompressed) symbol file parsed for symbolication"},
    {"symbolicate-loop-frames", "SIGIL_SYMBOLICATE_LOOP_FRAMES", CFG_U32, "5000", 0, 100000000,
     OFF(symbolicate_loop_frames), SERVE, false,
     "requests with more frames are symbolicated on a blocking thread; 0: always on the loop"},

    {"upload-workers", "SIGIL_UPLOAD_WORKERS", CFG_U32, "0", 0, 64, OFF(upload_workers),
     SERVE | STORE, false,
     "threads compressing and storing the files of one upload or import; 0 means one per core"},
    {"upload-max-members", "SIGIL_UPLOAD_MAX_MEMBERS", CFG_U32, "50000", 1, 10000000,
     OFF(upload_max_members), SERVE | STORE, false,
     "most entries in an uploaded zip (directories included); more gets 400"},
    {"upload-max-file-bytes", "SIGIL_UPLOAD_MAX_FILE_BYTES", CFG_U64, "4294967296", 1,
     1099511627776ULL, OFF(upload_max_file_bytes), SERVE | STORE, false,
     "largest uncompressed file in an upload or import; larger gets 400"},
    {"upload-max-total-bytes", "SIGIL_UPLOAD_MAX_TOTAL_BYTES", CFG_U64, "17179869184", 1,
     1099511627776ULL, OFF(upload_max_total_bytes), SERVE | STORE, false,
     "largest uncompressed size of all files of one zip; larger gets 400"},
    {"upload-max-ratio", "SIGIL_UPLOAD_MAX_RATIO", CFG_U32, "250", 1, 1000000,
     OFF(upload_max_ratio), SERVE | STORE, false,
     "largest compression ratio of a zip member (zip-bomb defence); higher gets 400"},
    {"upload-max-name-bytes", "SIGIL_UPLOAD_MAX_NAME_BYTES", CFG_U32, "1024", 16, 65535,
     OFF(upload_max_name_bytes), SERVE | STORE, false,
     "longest member name in a zip; longer gets 400"},
    {"upload-disallowed-snippets", "SIGIL_UPLOAD_DISALLOWED_SNIPPETS", CFG_STR, "qcom/proprietary",
     0, 0, OFF(upload_disallowed_snippets), SERVE | STORE, false,
     "comma-separated texts that refuse an upload when a member name contains one"},
    {"upload-compress-extensions", "SIGIL_UPLOAD_COMPRESS_EXTENSIONS", CFG_STR, "sym", 0, 0,
     OFF(upload_compress_extensions), SERVE | STORE, false,
     "comma-separated file extensions stored gzip-compressed (Content-Encoding gzip)"},
    {"upload-gzip-level", "SIGIL_UPLOAD_GZIP_LEVEL", CFG_U32, "6", 1, 9, OFF(upload_gzip_level),
     SERVE | STORE, false, "zlib level of the stored gzip files"},
    {"upload-strict-headers", "SIGIL_UPLOAD_STRICT_HEADERS", CFG_BOOL, "false", 0, 0,
     OFF(upload_strict_headers), SERVE | STORE, false,
     "refuse .sym files whose MODULE line does not match their path (debug file and id)"},
    {"upload-by-download-domains", "SIGIL_UPLOAD_BY_DOWNLOAD_DOMAINS", CFG_STR,
     "queue.taskcluster.net,firefox-ci-tc.services.mozilla.com,"
     "stage.taskcluster.nonprod.cloudops.mozgcp.net,"
     "tecken-system-tests.symbols.nonprod.webservices.mozgcp.net",
     0, 0, OFF(upload_by_download_domains), SERVE, false,
     "comma-separated hosts an upload by URL may download from (every redirect is checked)"},
    {"upload-by-download-any-domain", "SIGIL_UPLOAD_BY_DOWNLOAD_ANY_DOMAIN", CFG_BOOL, "false", 0,
     0, OFF(upload_by_download_any_domain), SERVE, false,
     "let an upload by URL download from any host (still https and public addresses only)"},
    {"upload-by-download-allow-local", "SIGIL_UPLOAD_BY_DOWNLOAD_ALLOW_LOCAL", CFG_BOOL, "false", 0,
     0, OFF(upload_by_download_allow_local), SERVE, false,
     "let an upload by URL use http:// and loopback or private addresses (tests only)"},
    {"upload-by-download-timeout-s", "SIGIL_UPLOAD_BY_DOWNLOAD_TIMEOUT_S", CFG_U32, "300", 1, 86400,
     OFF(upload_by_download_timeout_s), SERVE, false,
     "time limit of the download of an upload by URL"},
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static const char *type_hint(enum cfg_type t)
{
    switch (t) {
    case CFG_U32:
    case CFG_U64:
        return "N";
    case CFG_BOOL:
        return "BOOL";
    case CFG_LISTEN:
        return "HOST:PORT";
    case CFG_STORAGE_URL:
    case CFG_URL_LIST:
        return "URL";
    case CFG_LOG_LEVEL:
        return "LEVEL";
    case CFG_STR:
        break;
    }
    return "STR";
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s == '\0' || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* host:port, [v6]:port; port 0 is allowed (the kernel picks one, useful for tests). */
static bool split_listen(const char *s, char **host, uint16_t *port)
{
    const char *colon;
    const char *hstart = s, *hend;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return false;
        hstart = s + 1;
        hend = close;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return false;
        hend = colon;
    }
    if (hend == hstart)
        return false;
    uint64_t p;
    if (!parse_u64(colon + 1, &p) || p > 65535)
        return false;
    *host = strndup(hstart, (size_t)(hend - hstart));
    if (*host == NULL)
        return false;
    *port = (uint16_t)p;
    return true;
}

static bool valid_storage_url(const char *s, const char **why)
{
    if (strncmp(s, "file://", 7) == 0) {
        if (s[7] != '/') {
            *why = "a file:// URL needs an absolute path, e.g. file:///var/lib/sigil/storage";
            return false;
        }
        return true;
    }
    if (strncmp(s, "s3://", 5) == 0) {
        const char *b = s + 5;
        size_t n = strcspn(b, "/?");
        if (n == 0) {
            *why = "an s3:// URL needs a bucket name, e.g. s3://symbols?endpoint=http://host:9000";
            return false;
        }
        return true;
    }
    *why = "expected file:///abs/dir or s3://bucket?endpoint=...";
    return false;
}

static bool valid_url_list(const char *s, const char **why)
{
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n > 0 && !(strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)) {
            *why = "each URL must start with http:// or https://";
            return false;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

static sym_err set_value(struct srv_config *cfg, const struct cfg_row *r, const char *v,
                         const char *source, FILE *err_out)
{
    char *base = (char *)cfg;
    const char *why = NULL;
    switch (r->type) {
    case CFG_U32:
    case CFG_U64: {
        uint64_t n;
        if (!parse_u64(v, &n) || n < r->min || n > r->max) {
            fprintf(err_out, "sigil: invalid %s (%s) '%s': expected an integer from %llu to %llu\n",
                    r->name, source, v, (unsigned long long)r->min, (unsigned long long)r->max);
            return SYM_EINVAL;
        }
        if (r->type == CFG_U32)
            *(uint32_t *)(base + r->offset) = (uint32_t)n;
        else
            *(uint64_t *)(base + r->offset) = n;
        return SYM_OK;
    }
    case CFG_BOOL: {
        bool b;
        if (!parse_bool(v, &b)) {
            fprintf(err_out, "sigil: invalid %s (%s) '%s': expected true or false\n", r->name,
                    source, v);
            return SYM_EINVAL;
        }
        *(bool *)(base + r->offset) = b;
        return SYM_OK;
    }
    case CFG_LISTEN: {
        char *host = NULL;
        uint16_t port = 0;
        if (!split_listen(v, &host, &port)) {
            fprintf(err_out,
                    "sigil: invalid %s (%s) '%s': expected host:port, e.g. 127.0.0.1:8000\n",
                    r->name, source, v);
            return SYM_EINVAL;
        }
        free(cfg->listen_host);
        cfg->listen_host = host;
        cfg->listen_port = port;
        break;
    }
    case CFG_STORAGE_URL:
        if (!valid_storage_url(v, &why)) {
            fprintf(err_out, "sigil: invalid %s (%s) '%s': %s\n", r->name, source, v, why);
            return SYM_EINVAL;
        }
        break;
    case CFG_URL_LIST:
        if (!valid_url_list(v, &why)) {
            fprintf(err_out, "sigil: invalid %s (%s) '%s': %s\n", r->name, source, v, why);
            return SYM_EINVAL;
        }
        break;
    case CFG_LOG_LEVEL:
        if (strcmp(v, "debug") != 0 && strcmp(v, "info") != 0 && strcmp(v, "warn") != 0 &&
            strcmp(v, "error") != 0) {
            fprintf(err_out, "sigil: invalid %s (%s) '%s': expected debug, info, warn or error\n",
                    r->name, source, v);
            return SYM_EINVAL;
        }
        break;
    case CFG_STR:
        break;
    }
    char *copy = strdup(v);
    if (copy == NULL) {
        fprintf(err_out, "sigil: out of memory\n");
        return SYM_ENOMEM;
    }
    char **slot = (char **)(base + r->offset);
    free(*slot);
    *slot = copy;
    return SYM_OK;
}

static const struct cfg_row *find_flag(const char *name, size_t len, unsigned scopes)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if ((rows[i].scopes & scopes) && strlen(rows[i].name) == len &&
            strncmp(rows[i].name, name, len) == 0)
            return &rows[i];
    return NULL;
}

sym_err srv_config_load(struct srv_config *cfg, unsigned scopes, int argc, char **argv,
                        const char ***positional, int *n_positional, FILE *err_out)
{
    memset(cfg, 0, sizeof(*cfg));
    sym_err rc;
    /* Every row gets its default, so that unrelated settings are valid too. */
    for (size_t i = 0; i < N_ROWS; i++) {
        rc = set_value(cfg, &rows[i], rows[i].def, "default", err_out);
        if (rc != SYM_OK)
            return rc;
    }
    for (size_t i = 0; i < N_ROWS; i++) {
        if (!(rows[i].scopes & scopes))
            continue;
        const char *v = getenv(rows[i].env);
        if (v != NULL) {
            rc = set_value(cfg, &rows[i], v, rows[i].env, err_out);
            if (rc != SYM_OK)
                return rc;
        }
    }
    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    if (pos == NULL)
        return SYM_ENOMEM;
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                pos[n_pos++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            pos[n_pos++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct cfg_row *r = find_flag(name, len, scopes);
        if (r == NULL) {
            /* Flags that are not settings belong to the subcommand; hand them over. */
            pos[n_pos++] = a;
            continue;
        }
        const char *v;
        if (eq != NULL)
            v = eq + 1;
        else if (r->type == CFG_BOOL)
            v = "true";
        else if (i + 1 < argc)
            v = argv[++i];
        else {
            fprintf(err_out, "sigil: --%s needs a value\n", r->name);
            free(pos);
            return SYM_EINVAL;
        }
        rc = set_value(cfg, r, v, "flag", err_out);
        if (rc != SYM_OK) {
            free(pos);
            return rc;
        }
    }
    if (positional != NULL) {
        *positional = pos;
        *n_positional = n_pos;
    } else {
        free(pos);
    }
    return SYM_OK;
}

void srv_config_free(struct srv_config *cfg)
{
    for (size_t i = 0; i < N_ROWS; i++) {
        switch (rows[i].type) {
        case CFG_U32:
        case CFG_U64:
        case CFG_BOOL:
            break;
        default: {
            char **slot = (char **)((char *)cfg + rows[i].offset);
            free(*slot);
            *slot = NULL;
        }
        }
    }
    free(cfg->listen_host);
    cfg->listen_host = NULL;
}

void srv_config_print_help(FILE *out, unsigned scopes)
{
    fprintf(out, "Settings (flag, environment variable, default); flags override the "
                 "environment:\n");
    for (size_t i = 0; i < N_ROWS; i++) {
        const struct cfg_row *r = &rows[i];
        if (!(r->scopes & scopes))
            continue;
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s %s", r->name, type_hint(r->type));
        fprintf(out, "  %-34s %s\n  %-34s   %s (default: %s)\n", flag, r->help, "", r->env,
                *r->def ? r->def : "empty");
    }
}

void srv_config_print(const struct srv_config *cfg, FILE *out, unsigned scopes)
{
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < N_ROWS; i++) {
        const struct cfg_row *r = &rows[i];
        if (!(r->scopes & scopes))
            continue;
        switch (r->type) {
        case CFG_U32:
            fprintf(out, "%s=%u\n", r->env, *(const uint32_t *)(base + r->offset));
            break;
        case CFG_U64:
            fprintf(out, "%s=%llu\n", r->env,
                    (unsigned long long)*(const uint64_t *)(base + r->offset));
            break;
        case CFG_BOOL:
            fprintf(out, "%s=%s\n", r->env, *(const bool *)(base + r->offset) ? "true" : "false");
            break;
        default: {
            const char *v = *(char *const *)(base + r->offset);
            fprintf(out, "%s=%s\n", r->env, r->secret && v && *v ? "(redacted)" : v ? v : "");
        }
        }
    }
}

bool srv_config_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

char **srv_list_split(const char *s)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    char **out = calloc(n + 1, sizeof(*out));
    if (out == NULL)
        return NULL;
    size_t k = 0;
    const char *p = s;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *b = p, *e = p + len;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > b) {
            out[k] = strndup(b, (size_t)(e - b));
            if (out[k] == NULL) {
                srv_list_free(out);
                return NULL;
            }
            k++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return out;
}

void srv_list_free(char **list)
{
    if (list == NULL)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

size_t srv_list_len(char *const *list)
{
    size_t n = 0;
    while (list != NULL && list[n] != NULL)
        n++;
    return n;
}
