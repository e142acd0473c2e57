/* SPDX-License-Identifier: MPL-2.0 */
/* stackwalk.c: `sigil stackwalk`: walk a minidump's threads with symbols from local symbol
 * directories and/or HTTP symbol servers, and print rust-minidump-compatible JSON, or Breakpad's
 * human or machine-readable report. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/cli.h"
#include "stackwalk/minidump.h"
#include "stackwalk/process.h"
#include "stackwalk_json.h"
#include "sym/alloc.h"
#include "symsource/http_source.h"
#include "symsource/local_source.h"

static const char usage_text[] =
    "usage: sigil stackwalk DUMP [--symbols-path DIR]... [--symbols-url URL]...\n"
    "                            [--json [--pretty] | --human | --machine]\n\n"
    "Unwinds every thread of a minidump and symbolicates the frames.\n\n"
    "Options:\n"
    "  --symbols-path DIR  a Breakpad symbol store (<file>/<id>/<file>.sym); repeatable,\n"
    "                      searched in order before any URL\n"
    "  --symbols-url URL   an HTTP symbol server (e.g. https://symbols.mozilla.org/);\n"
    "                      repeatable, asked in order\n"
    "  --json              rust-minidump `minidump-stackwalk --json` output (the default)\n"
    "  --pretty            indent the JSON\n"
    "  --human             Breakpad minidump_stackwalk's report\n"
    "  --machine           Breakpad's pipe-delimited report (minidump_stackwalk -m)\n"
    "  -h, --help          this text\n\n"
    "Exit status: 0 success, 1 unreadable dump or other failure, 2 usage error.\n";

enum format { FMT_JSON, FMT_HUMAN, FMT_MACHINE };

static bool read_file(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "sigil stackwalk: cannot open %s: %s\n", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "sigil stackwalk: %s is not a regular file\n", path);
        close(fd);
        return false;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = sym_malloc(n ? n : 1);
    if (buf == NULL) {
        fprintf(stderr, "sigil stackwalk: out of memory reading %s\n", path);
        close(fd);
        return false;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "sigil stackwalk: cannot read %s: %s\n", path,
                    r < 0 ? strerror(errno) : "file shrank");
            sym_free(buf);
            close(fd);
            return false;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return true;
}

/* Reads, walks and prints one dump; returns the exit status. */
static int run(const char *dump_path, const char **paths, size_t n_paths, const char **urls,
               size_t n_urls, enum format fmt, bool pretty)
{
    int rc = 1;
    uint8_t *data = NULL;
    size_t len = 0;
    struct sw_minidump *md = NULL;
    struct sw_process_state *st = NULL;
    struct srv_local_source *local = NULL;
    struct srv_http_source *http = NULL;
    struct sw_supplier sups[2];
    size_t n_sups = 0;
    struct sym_diag d;
    sym_diag_clear(&d);
    if (!read_file(dump_path, &data, &len))
        goto done;
    if (sw_minidump_open(data, len, NULL, &md, &d) != SYM_OK) {
        fprintf(stderr, "sigil stackwalk: %s: %s\n", dump_path, d.msg);
        goto done;
    }
    if (n_paths > 0) {
        if (srv_local_source_new(paths, n_paths, 0, &local) != SYM_OK) {
            fprintf(stderr, "sigil stackwalk: out of memory\n");
            goto done;
        }
        sups[n_sups++] = srv_local_source_supplier(local);
    }
    if (n_urls > 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        struct srv_http_source_opts ho;
        srv_http_source_opts_init(&ho);
        ho.urls = urls;
        ho.n_urls = n_urls;
        if (srv_http_source_new(&ho, &http, &d) != SYM_OK) {
            fprintf(stderr, "sigil stackwalk: %s\n", d.msg);
            goto done;
        }
        sups[n_sups++] = srv_http_source_supplier(http);
    }
    if (sw_process(md, sups, n_sups, NULL, &st, &d) != SYM_OK) {
        fprintf(stderr, "sigil stackwalk: %s\n", d.msg);
        goto done;
    }
    if (fmt == FMT_JSON) {
        json_t *j = NULL;
        if (srv_stackwalk_json(st, &j) != SYM_OK) {
            fprintf(stderr, "sigil stackwalk: out of memory\n");
            goto done;
        }
        size_t flags = JSON_SORT_KEYS | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
        int w = json_dumpf(j, stdout, flags);
        json_decref(j);
        if (w != 0 || fputc('\n', stdout) == EOF)
            goto done;
    } else {
        struct sym_buf out;
        sym_buf_init(&out, 0);
        sym_err e =
            fmt == FMT_HUMAN ? srv_stackwalk_human(st, &out) : srv_stackwalk_machine(st, &out);
        if (e != SYM_OK || fwrite(out.data, 1, out.len, stdout) != out.len) {
            fprintf(stderr, "sigil stackwalk: cannot write the report\n");
            sym_buf_cleanup(&out);
            goto done;
        }
        sym_buf_cleanup(&out);
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    sw_process_state_free(st);
    srv_http_source_free(http);
    srv_local_source_free(local);
    sw_minidump_free(md);
    sym_free(data);
    if (n_urls > 0)
        curl_global_cleanup();
    return rc;
}

int cli_stackwalk_main(int argc, char **argv)
{
    const char *dump_path = NULL;
    const char **paths = calloc((size_t)argc + 1, sizeof(char *));
    const char **urls = calloc((size_t)argc + 1, sizeof(char *));
    size_t n_paths = 0, n_urls = 0;
    enum format fmt = FMT_JSON;
    bool pretty = false, fmt_given = false;
    int rc = 2;
    if (paths == NULL || urls == NULL) {
        fprintf(stderr, "sigil stackwalk: out of memory\n");
        free(paths);
        free(urls);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            rc = 0;
            goto out;
        } else if (strcmp(a, "--symbols-path") == 0 || strcmp(a, "--symbols-url") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sigil stackwalk: %s needs a value\n", a);
                goto usage;
            }
            if (a[10] == 'p')
                paths[n_paths++] = argv[++i];
            else
                urls[n_urls++] = argv[++i];
        } else if (strncmp(a, "--symbols-path=", 15) == 0) {
            paths[n_paths++] = a + 15;
        } else if (strncmp(a, "--symbols-url=", 14) == 0) {
            urls[n_urls++] = a + 14;
        } else if (strcmp(a, "--json") == 0 || strcmp(a, "--human") == 0 ||
                   strcmp(a, "--machine") == 0) {
            enum format f = a[2] == 'j' ? FMT_JSON : a[2] == 'h' ? FMT_HUMAN : FMT_MACHINE;
            if (fmt_given && f != fmt) {
                fprintf(stderr, "sigil stackwalk: choose one of --json, --human, --machine\n");
                goto usage;
            }
            fmt = f;
            fmt_given = true;
        } else if (strcmp(a, "--pretty") == 0) {
            pretty = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sigil stackwalk: unknown option %s\n", a);
            goto usage;
        } else if (dump_path == NULL) {
            dump_path = a;
        } else {
            fprintf(stderr, "sigil stackwalk: more than one dump given\n");
            goto usage;
        }
    }
    if (dump_path == NULL) {
        fprintf(stderr, "sigil stackwalk: no minidump given\n");
        goto usage;
    }
    if (pretty && fmt != FMT_JSON) {
        fprintf(stderr, "sigil stackwalk: --pretty goes with --json\n");
        goto usage;
    }

    rc = run(dump_path, paths, n_paths, urls, n_urls, fmt, pretty);
    goto out;
usage:
    fputs(usage_text, stderr);
    rc = 2;
out:
    free(paths);
    free(urls);
    return rc;
}
