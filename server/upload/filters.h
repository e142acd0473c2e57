/* SPDX-License-Identifier: MPL-2.0 */
/* filters.h: the query-string filters of the upload listing API, as Tecken spells them:
 *   size:          comma-separated conditions "<op><number>[unit]", op one of <= >= = < >
 *                  (none means =), unit b, k, kb, m, mb, g, gb (1024-based), e.g. ">=1mb,<2g";
 *   created_at,    comma-separated conditions "<op><date>", the date YYYY-MM-DD (a whole day),
 *   completed_at:  YYYY-MM-DDTHH:MM[:SS] (UTC), "today" or "yesterday"; or "null" /
 *                  "incomplete" alone (the value is absent).
 * Conditions are combined with AND into one range. Pure functions over strings, bounded by the
 * input length; no allocation. */
#ifndef SRV_UPLOAD_FILTERS_H
#define SRV_UPLOAD_FILTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRV_FILTER_MAX_LEN 256

/* Inclusive byte bounds, -1 for none. False for a malformed filter (outputs untouched). */
bool srv_filter_size(const char *s, size_t len, int64_t *min_out, int64_t *max_out);

/* Time range [from, to) in Unix microseconds, 0 for an open end; *null_out for "null" /
 * "incomplete". now_us gives "today" and "yesterday" (UTC days). False for a malformed filter
 * (outputs untouched). */
bool srv_filter_date(const char *s, size_t len, int64_t now_us, int64_t *from_out, int64_t *to_out,
                     bool *null_out);

#endif
