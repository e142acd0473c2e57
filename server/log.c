/* SPDX-License-Identifier: MPL-2.0 */
/* log.c: JSON-lines logger. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void srv_log_init(struct srv_log *log, const char *level)
{
    log->level = SRV_LOG_INFO;
    for (int i = 0; i < 4; i++)
        if (level != NULL && strcmp(level, level_names[i]) == 0)
            log->level = (enum srv_log_level)i;
}

bool srv_log_enabled(const struct srv_log *log, enum srv_log_level level)
{
    return log == NULL || level >= log->level;
}

/* Adds the common fields to obj (stolen) and serializes it as one line; NULL when out of
 * memory. */
static char *format_line(enum srv_log_level level, const char *event, json_t *obj, const char *msg,
                         size_t *len_out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
    json_object_set_new(obj, "ts", json_string(when));
    json_object_set_new(obj, "level", json_string(level_names[level]));
    json_object_set_new(obj, "event", json_string(event));
    if (msg != NULL)
        json_object_set_new(obj, "msg", json_string(msg));
    char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(obj);
    if (line != NULL)
        *len_out = strlen(line);
    return line;
}

void srv_log_json(const struct srv_log *log, enum srv_log_level level, const char *event,
                  json_t *fields, const char *fmt, ...)
{
    if (!srv_log_enabled(log, level)) {
        json_decref(fields);
        return;
    }
    json_t *obj = fields ? fields : json_object();
    if (obj == NULL)
        return;
    char msg[1024];
    bool has_msg = fmt != NULL && *fmt != '\0';
    if (has_msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
    }
    size_t len;
    char *line = format_line(level, event, obj, has_msg ? msg : NULL, &len);
    if (line == NULL)
        return;
    line[len] = '\n';
    fwrite(line, 1, len + 1, stderr);
    free(line);
}

void srv_log_append(const struct srv_log *log, enum srv_log_level level, const char *event,
                    json_t *fields, struct sym_buf *out)
{
    if (!srv_log_enabled(log, level)) {
        json_decref(fields);
        return;
    }
    size_t len;
    char *line = format_line(level, event, fields, NULL, &len);
    if (line == NULL)
        return;
    sym_buf_append(out, line, len);
    sym_buf_append_char(out, '\n');
    free(line);
}

void srv_log_flush_buf(struct sym_buf *buf)
{
    if (buf->len > 0 && buf->data != NULL)
        fwrite(buf->data, 1, buf->len, stderr);
    sym_buf_reset(buf);
}
