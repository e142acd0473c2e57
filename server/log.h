/* SPDX-License-Identifier: MPL-2.0 */
/* log.h: structured logging, one JSON object per line on stderr. The level is checked before
 * anything is formatted. Thread-safe: each line is written with a single fwrite. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

#include <stdbool.h>

#include <jansson.h>

#include "sym/buf.h"

enum srv_log_level { SRV_LOG_DEBUG, SRV_LOG_INFO, SRV_LOG_WARN, SRV_LOG_ERROR };

struct srv_log {
    enum srv_log_level level;
};

/* "debug", "info", "warn", "error"; anything else means info. */
void srv_log_init(struct srv_log *log, const char *level);
bool srv_log_enabled(const struct srv_log *log, enum srv_log_level level);

/* Writes {"ts", "level", "event", "msg", ...fields}. fields (may be NULL) is stolen. */
void srv_log_json(const struct srv_log *log, enum srv_log_level level, const char *event,
                  json_t *fields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The same line, appended to out instead of written (fields stolen): event loops batch their
 * access-log lines and write them with srv_log_flush_buf(), one write for many requests. */
void srv_log_append(const struct srv_log *log, enum srv_log_level level, const char *event,
                    json_t *fields, struct sym_buf *out);
/* Writes buf to stderr in one call and empties it (its error, if any, is cleared too). */
void srv_log_flush_buf(struct sym_buf *buf);

#define srv_log_info(log, event, ...)  srv_log_json(log, SRV_LOG_INFO, event, NULL, __VA_ARGS__)
#define srv_log_warn(log, event, ...)  srv_log_json(log, SRV_LOG_WARN, event, NULL, __VA_ARGS__)
#define srv_log_error(log, event, ...) srv_log_json(log, SRV_LOG_ERROR, event, NULL, __VA_ARGS__)

#endif
