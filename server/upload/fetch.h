/* SPDX-License-Identifier: MPL-2.0 */
/* fetch.h: upload by download (POST /upload/ with url=<https URL>): the server fetches the zip
 * itself, with Tecken's checks and messages and without its holes:
 *   - the URL must be https, on an allowed host; every redirect hop is checked the same way
 *     (Tecken checks only the first), and every address a host resolves to must be public
 *     (no loopback, private, link-local...) unless allow_local is set for tests; connections are
 *     pinned to the checked addresses, so a DNS answer cannot change between check and use;
 *   - the redirect chain is walked with HEAD requests (at most 5 hops, retries with backoff on
 *     429 and 5xx); the final answer must give a Content-Length, which becomes the upload size
 *     (a missing one is a 400, not Tecken's crash);
 *   - the body is then downloaded through the same checked chain into a spool file, bounded in
 *     bytes and time.
 * Errors carry the HTTP status to answer (400, 413 or 500) and the message for {"error": ...}.
 * Blocking (network): run it on a blocking thread. */
#ifndef SRV_UPLOAD_FETCH_H
#define SRV_UPLOAD_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sym/err.h"

struct srv_fetch_config {
    char *const *domains;  /* NULL-terminated allowed hosts (lower case) */
    bool any_domain;       /* any host (still https and public addresses) */
    bool allow_local;      /* http:// and non-public addresses too (tests) */
    uint32_t timeout_s;    /* the whole download */
    uint64_t max_bytes;    /* largest zip; more: 413 */
    const char *spool_dir; /* the download goes to <spool_dir>/upload-dl-XXXXXX */
    const char *user_agent;
};

/* What srv_fetch_check() learnt about the URL; free with srv_fetch_cleanup(). */
struct srv_fetch {
    char *url;             /* the URL as given (with https:// added when it had no scheme) */
    char *archive_name;    /* basename of the URL's path (not decoded), "" when none */
    uint64_t size;         /* Content-Length of the final answer */
    json_t *redirect_urls; /* Location of every hop, as sent (array of strings) */
    char *path;            /* after srv_fetch_download(): the downloaded file */
};

/* The failure of a check or download: the status and message to answer. */
struct srv_fetch_error {
    int status;
    char msg[1024];
};

/* Validates url and walks its redirect chain. *out is always initialised (free it with
 * srv_fetch_cleanup()). SYM_EINVAL with the answer in err for a refused URL or an unreachable
 * file; SYM_ENOMEM. */
SYM_MUST_CHECK sym_err srv_fetch_check(const struct srv_fetch_config *cfg, const char *url,
                                       struct srv_fetch *out, struct srv_fetch_error *err);

/* Downloads the checked URL into a new spool file (out->path; srv_fetch_cleanup() removes it).
 * SYM_EINVAL with the answer in err; SYM_EIO when the spool file cannot be written. */
SYM_MUST_CHECK sym_err srv_fetch_download(const struct srv_fetch_config *cfg, struct srv_fetch *f,
                                          struct srv_fetch_error *err);

/* Removes the downloaded file and frees everything; safe on a zeroed struct. */
void srv_fetch_cleanup(struct srv_fetch *f);

/* True when addr (an IPv4 or IPv6 socket address) is a public unicast address. */
struct sockaddr;
bool srv_fetch_public_address(const struct sockaddr *addr);

#endif
