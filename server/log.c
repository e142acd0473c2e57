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
    if (fmt != NULL && *fmt != '\0') {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_set_new(obj, "msg", json_string(msg));
    }
    char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(obj);
    if (line == NULL)
        return;
    size_t len = strlen(line);
    line[len] = '\n';
    fwrite(line, 1, len + 1, stderr);
    line[len] = '\0';
    free(line);
}
