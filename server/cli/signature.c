/* SPDX-License-Identifier: MPL-2.0 */
/* signature.c: `sigil signature`: Socorro crash signatures from crash_data JSON, offline.
 * Prints {"signature", "notes", "proto_signature"} per input (one line each with --jsonl). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "signature_json.h"
#include "sym/buf.h"

#define MAX_DOC_BYTES ((size_t)64 << 20)

static const char usage_text[] =
    "usage: sigil signature [options] CRASH.json | -\n"
    "       sigil signature [options] --jsonl [FILE | -]\n\n"
    "Generates the Socorro signature of crash_data JSON (the input of Socorro's signature\n"
    "generator) and prints {\"signature\", \"notes\", \"proto_signature\"}.\n\n"
    "Options:\n"
    "  --jsonl        one crash_data object per input line, one result per output line\n"
    "  -v, --verbose  add the generator's debug log (\"debug_log\")\n"
    "  --pretty       indent the output\n"
    "  --rules DIR    signature lists directory (default: $SIGIL_SIGNATURE_RULES, else the\n"
    "                 installed or built-in lists)\n"
    "  -h, --help     this text\n";

/* Reads one line (without the newline) into b, up to MAX_DOC_BYTES. Returns 1 when a line was
 * read, 0 at end of input, -1 on a read error or an over-long line. */
static int read_line(FILE *f, struct sym_buf *b)
{
    sym_buf_reset(b);
    int c;
    bool any = false;
    while ((c = getc(f)) != EOF) {
        any = true;
        if (c == '\n')
            return 1;
        sym_buf_append_char(b, (char)c);
        if (sym_buf_err(b) != SYM_OK)
            return -1;
    }
    if (ferror(f))
        return -1;
    return any ? 1 : 0;
}

static int read_all(FILE *f, struct sym_buf *b)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        sym_buf_append(b, chunk, n);
        if (sym_buf_err(b) != SYM_OK)
            return -1;
    }
    return ferror(f) ? -1 : 0;
}

static int print_json(json_t *o, bool pretty)
{
    size_t flags = JSON_ENSURE_ASCII | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    if (json_dumpf(o, stdout, flags) != 0)
        return -1;
    putchar('\n');
    return 0;
}

/* One document -> one printed result. Returns 0, or 1 after printing the reason. */
static int one(struct srv_signature *svc, struct sig_generator *g, const char *text, size_t len,
               const char *where, bool debug, bool pretty, bool jsonl)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "sigil signature: %s: invalid JSON: %s (line %d, column %d)\n", where,
                jerr.text, jerr.line, jerr.column);
        if (jsonl) {
            json_t *e = json_pack("{s:s}", "error", "invalid JSON");
            if (e)
                print_json(e, false);
            json_decref(e);
        }
        return 1;
    }
    json_t *out = NULL;
    struct sym_diag d;
    sym_diag_clear(&d);
    sym_err rc = srv_signature_json(svc, g, doc, debug, &out, &d);
    json_decref(doc);
    if (rc != SYM_OK) {
        fprintf(stderr, "sigil signature: %s: %s\n", where, d.msg[0] ? d.msg : sym_strerror(rc));
        return 1;
    }
    int prc = print_json(out, pretty);
    json_decref(out);
    if (prc != 0) {
        fprintf(stderr, "sigil signature: cannot write the result\n");
        return 1;
    }
    return 0;
}

int cli_signature_main(int argc, char **argv)
{
    bool debug = false, pretty = false, jsonl = false;
    const char *rules = NULL, *input = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            debug = true;
        } else if (strcmp(a, "--pretty") == 0) {
            pretty = true;
        } else if (strcmp(a, "--jsonl") == 0) {
            jsonl = true;
        } else if (strcmp(a, "--rules") == 0 && i + 1 < argc) {
            rules = argv[++i];
        } else if (strncmp(a, "--rules=", 8) == 0) {
            rules = a + 8;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "sigil signature: unknown option '%s'\n\n%s", a, usage_text);
            return 2;
        } else if (input == NULL) {
            input = a;
        } else {
            fprintf(stderr, "sigil signature: more than one input given\n\n%s", usage_text);
            return 2;
        }
    }
    if (input == NULL && !jsonl) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (input == NULL)
        input = "-";

    struct srv_signature svc;
    struct sym_diag d;
    sym_diag_clear(&d);
    if (srv_signature_init(&svc, rules, &d) != SYM_OK) {
        fprintf(stderr, "sigil signature: cannot load the signature lists: %s\n", d.msg);
        srv_signature_cleanup(&svc);
        return 2;
    }
    struct sig_generator *g = NULL;
    if (sig_generator_new(&g) != SYM_OK) {
        fprintf(stderr, "sigil signature: out of memory\n");
        srv_signature_cleanup(&svc);
        return 1;
    }
    FILE *f = strcmp(input, "-") == 0 ? stdin : fopen(input, "rb");
    int status = 0;
    if (f == NULL) {
        fprintf(stderr, "sigil signature: %s: %s\n", input, strerror(errno));
        status = 1;
        goto out;
    }
    struct sym_buf b;
    sym_buf_init(&b, MAX_DOC_BYTES);
    if (jsonl) {
        unsigned long line_no = 0;
        int r;
        while ((r = read_line(f, &b)) == 1) {
            line_no++;
            size_t i = 0;
            while (i < b.len && (b.data[i] == ' ' || b.data[i] == '\t' || b.data[i] == '\r'))
                i++;
            if (i == b.len)
                continue;
            char where[64];
            snprintf(where, sizeof(where), "line %lu", line_no);
            status |= one(&svc, g, b.data, b.len, where, debug, pretty, true);
        }
        if (r < 0) {
            fprintf(stderr, "sigil signature: %s: read error or line over %zu bytes\n", input,
                    MAX_DOC_BYTES);
            status = 1;
        }
    } else if (read_all(f, &b) != 0) {
        fprintf(stderr, "sigil signature: %s: read error or input over %zu bytes\n", input,
                MAX_DOC_BYTES);
        status = 1;
    } else {
        status = one(&svc, g, b.data ? b.data : "", b.len, input, debug, pretty, false);
    }
    sym_buf_cleanup(&b);
    if (f != stdin)
        fclose(f);
out:
    sig_generator_free(g);
    srv_signature_cleanup(&svc);
    return status;
}
