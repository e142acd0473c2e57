/* SPDX-License-Identifier: MPL-2.0 */
/* config.h: every setting of the sigil binary, from one table. Precedence: built-in default <
 * environment (SIGIL_*) < command-line flag (--name or --name=value). After loading, the config is
 * read-only and passed down as `const struct srv_config *`; there is no global. */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sym/err.h"

/* Which subcommands a setting applies to (a bit set). */
enum srv_cfg_scope {
    SRV_CFG_SERVE = 1 << 0,
    SRV_CFG_DB = 1 << 1,      /* every command that opens the database */
    SRV_CFG_STORAGE = 1 << 2, /* every command that opens object storage */
};

struct srv_config {
    /* HTTP */
    char *listen_host; /* parsed from listen */
    uint16_t listen_port;
    char *listen;
    uint32_t workers;          /* event-loop threads; 0 means the number of cores */
    uint32_t blocking_threads; /* threads for storage, database and disk work */
    uint32_t body_threads;     /* threads serving large-body requests (uploads, minidumps) */
    char *spool_dir;           /* request bodies on disk; "" means <cache_dir>/spool */
    uint64_t max_body_bytes;   /* largest request body of any route (the upload limit) */
    uint32_t shutdown_timeout_s;
    uint32_t request_timeout_s;
    bool access_log;
    char *log_level;  /* debug, info, warn, error */
    char *public_url; /* external base URL of this server, used in absolute links; may be "" */

    /* Database */
    char *database_url;
    uint32_t db_pool_size;
    uint32_t db_statement_timeout_ms;
    uint32_t db_connect_timeout_s;
    bool migrate_on_start;

    /* Storage */
    char *storage_url;
    char *s3_access_key;
    char *s3_secret_key;
    char *storage_public_url;
    uint32_t storage_presign_expiry_s;
    uint32_t storage_timeout_ms;
    uint32_t storage_retries;

    /* Caches */
    char *cache_dir;
    uint64_t cache_max_mb;
    uint32_t exists_cache_entries;
    uint32_t exists_cache_ttl_s;
    uint32_t exists_cache_negative_ttl_s;
    uint32_t codeid_cache_ttl_s;
    uint32_t missing_flush_interval_ms;
    uint32_t missing_max_pending;

    /* Download */
    char *download_extensions; /* comma-separated allow-list */
    uint32_t max_path_component;

    /* Minidumps */
    uint64_t minidump_max_bytes;   /* POST /stackwalk and /process */
    uint32_t stackwalk_max_frames; /* per thread */

    /* Crash signatures */
    char *signature_rules;        /* siglists directory; "" means the built-in lists */
    uint64_t signature_max_bytes; /* largest crash_data body */

    /* Upstream symbol servers (comma-separated base URLs) */
    char *symbol_urls;
    uint32_t symbol_timeout_ms;         /* one request to an upstream, whole transfer */
    uint32_t symbol_connect_timeout_ms; /* connecting to an upstream */
    uint32_t symbol_retries;            /* extra attempts after 429/5xx or a failed connection */

    /* Symbolication (POST /symbolicate/v5, /v4) */
    uint64_t symbolicate_max_bytes;   /* largest request body */
    uint64_t symbolicate_max_frames;  /* frames of one request */
    uint32_t symbolicate_max_modules; /* memoryMap entries of one job */
    uint32_t symbolicate_max_stacks;  /* stacks of one job */
    uint32_t symbolicate_threads;     /* threads fetching and parsing symbol files */
    uint32_t symbolicate_negative_ttl_s;
    uint32_t symbolicate_error_ttl_s;
    uint64_t symbolicate_max_sym_bytes; /* largest symbol file parsed */
    uint32_t symbolicate_loop_frames;   /* larger requests are written on a blocking thread */

    /* Uploads (POST /upload/ and `sigil import`) */
    uint32_t upload_workers; /* threads compressing and storing files; 0 means one per core */
    uint32_t upload_max_members;
    uint64_t upload_max_file_bytes;
    uint64_t upload_max_total_bytes;
    uint32_t upload_max_ratio;
    uint32_t upload_max_name_bytes;
    char *upload_disallowed_snippets; /* comma-separated */
    char *upload_compress_extensions; /* comma-separated */
    uint32_t upload_gzip_level;
    bool upload_strict_headers;
    char *upload_by_download_domains; /* comma-separated host names */
    bool upload_by_download_any_domain;
    bool upload_by_download_allow_local;
    uint32_t upload_by_download_timeout_s;
};

/* Loads defaults, then SIGIL_* environment variables, then flags from argv[1..argc-1] whose
 * names belong to `scopes`. Unknown flags are errors; positional arguments are returned through
 * positional/n_positional (pointers into argv; the array itself is owned by cfg and freed by
 * srv_config_free). On a bad value, writes one line naming the setting to err_out and returns
 * SYM_EINVAL; the caller exits with code 2. `--help` is not handled here. */
sym_err srv_config_load(struct srv_config *cfg, unsigned scopes, int argc, char **argv,
                        const char ***positional, int *n_positional, FILE *err_out);
void srv_config_free(struct srv_config *cfg);

/* Prints every setting of the given scopes: flag, environment variable, default and help. */
void srv_config_print_help(FILE *out, unsigned scopes);
/* Prints the effective values with secrets redacted. */
void srv_config_print(const struct srv_config *cfg, FILE *out, unsigned scopes);

/* Splits a comma-separated setting into a NULL-terminated array of trimmed, non-empty strings
 * (malloc'd; free with srv_list_free()). NULL when out of memory. */
char **srv_list_split(const char *s);
void srv_list_free(char **list);
size_t srv_list_len(char *const *list);

/* True when argv contains --help or -h. */
bool srv_config_wants_help(int argc, char **argv);

#endif
