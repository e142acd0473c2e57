/* SPDX-License-Identifier: MPL-2.0 */
/* filters.c: size and date filters of the listing API. Every loop is bounded by the input
 * length, which is capped at SRV_FILTER_MAX_LEN. */
#include "upload/filters.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#define DAY_US ((int64_t)86400 * 1000000)

enum op { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE };

/* Reads an operator at s[*i]. */
static enum op read_op(const char *s, size_t n, size_t *i)
{
    if (*i < n && (s[*i] == '<' || s[*i] == '>')) {
        bool lt = s[*i] == '<';
        (*i)++;
        if (*i < n && s[*i] == '=') {
            (*i)++;
            return lt ? OP_LE : OP_GE;
        }
        return lt ? OP_LT : OP_GT;
    }
    if (*i < n && s[*i] == '=')
        (*i)++;
    return OP_EQ;
}

/* Narrows [lo, hi] (inclusive, INT64_MIN/INT64_MAX for open) by "op v". */
static void narrow(enum op op, int64_t v, int64_t *lo, int64_t *hi)
{
    int64_t l = *lo, h = *hi;
    switch (op) {
    case OP_EQ:
        l = v > l ? v : l;
        h = v < h ? v : h;
        break;
    case OP_LT:
        h = v - 1 < h ? v - 1 : h;
        break;
    case OP_LE:
        h = v < h ? v : h;
        break;
    case OP_GT:
        l = v + 1 > l ? v + 1 : l;
        break;
    case OP_GE:
        l = v > l ? v : l;
        break;
    }
    *lo = l;
    *hi = h;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

bool srv_filter_size(const char *s, size_t n, int64_t *min_out, int64_t *max_out)
{
    if (n == 0 || n > SRV_FILTER_MAX_LEN)
        return false;
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        enum op op = read_op(s, n, &i);
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return false;
        /* digits, an optional fraction ("1.5gb"), then a unit */
        uint64_t whole = 0, frac = 0, frac_div = 1;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (whole > (UINT64_MAX - 9) / 10)
                return false;
            whole = whole * 10 + (uint64_t)(s[i++] - '0');
        }
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (frac_div < 1000000) {
                    frac = frac * 10 + (uint64_t)(s[i] - '0');
                    frac_div *= 10;
                }
                i++;
            }
        }
        size_t u = i;
        while (i < n && s[i] != ',' && !is_space(s[i]))
            i++;
        size_t ulen = i - u;
        uint64_t mult;
        if (ulen == 0 || (ulen == 1 && (s[u] == 'b' || s[u] == 'B')))
            mult = 1;
        else if (strncasecmp(s + u, "k", ulen) == 0 || strncasecmp(s + u, "kb", ulen) == 0)
            mult = 1024;
        else if (strncasecmp(s + u, "m", ulen) == 0 || strncasecmp(s + u, "mb", ulen) == 0)
            mult = 1024 * 1024;
        else if (strncasecmp(s + u, "g", ulen) == 0 || strncasecmp(s + u, "gb", ulen) == 0)
            mult = 1024 * 1024 * 1024;
        else
            return false;
        if (ulen > 2)
            return false;
        if (whole > (uint64_t)INT64_MAX / mult / 2)
            return false;
        int64_t v = (int64_t)(whole * mult + frac * mult / frac_div);
        narrow(op, v, &lo, &hi);
        while (i < n && is_space(s[i]))
            i++;
        if (i < n && s[i] != ',')
            return false;
        if (i < n)
            i++;
    }
    *min_out = lo == INT64_MIN ? -1 : lo;
    *max_out = hi == INT64_MAX ? -1 : hi;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, size_t at, size_t count, unsigned *out)
{
    if (at + count > n)
        return false;
    unsigned v = 0;
    for (size_t k = 0; k < count; k++) {
        char c = s[at + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *out = v;
    return true;
}

/* A point in time and the length of the unit it names (a day, a minute, a second). */
static bool read_when(const char *s, size_t n, int64_t now_us, int64_t *at, int64_t *unit)
{
    if (n == 5 && strncasecmp(s, "today", 5) == 0) {
        *at = now_us - ((now_us % DAY_US) + DAY_US) % DAY_US;
        *unit = DAY_US;
        return true;
    }
    if (n == 9 && strncasecmp(s, "yesterday", 9) == 0) {
        *at = now_us - ((now_us % DAY_US) + DAY_US) % DAY_US - DAY_US;
        *unit = DAY_US;
        return true;
    }
    unsigned y, mo, d, hh = 0, mi = 0, ss = 0;
    if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || !digits(s, n, 8, 2, &d))
        return false;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return false;
    int64_t u = DAY_US;
    if (n > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || !digits(s, n, 11, 2, &hh) || n < 16 || s[13] != ':' ||
            !digits(s, n, 14, 2, &mi))
            return false;
        u = (int64_t)60 * 1000000;
        size_t end = 16;
        if (n > 16) {
            if (s[16] != ':' || !digits(s, n, 17, 2, &ss))
                return false;
            u = 1000000;
            end = 19;
        }
        if (end < n && !(end + 1 == n && (s[end] == 'Z' || s[end] == 'z')))
            return false;
        if (hh > 23 || mi > 59 || ss > 59)
            return false;
    }
    int64_t days = days_from_civil(y, mo, d);
    *at = ((days * 86400) + hh * 3600 + mi * 60 + ss) * 1000000;
    *unit = u;
    return true;
}

bool srv_filter_date(const char *s, size_t n, int64_t now_us, int64_t *from_out, int64_t *to_out,
                     bool *null_out)
{
    if (n == 0 || n > SRV_FILTER_MAX_LEN)
        return false;
    if ((n == 4 && strncasecmp(s, "null", 4) == 0) ||
        (n == 10 && strncasecmp(s, "incomplete", 10) == 0)) {
        *from_out = 0;
        *to_out = 0;
        *null_out = true;
        return true;
    }
    /* [lo, hi) */
    int64_t lo = INT64_MIN, hi = INT64_MAX;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        enum op op = read_op(s, n, &i);
        while (i < n && is_space(s[i]))
            i++;
        size_t start = i;
        while (i < n && s[i] != ',')
            i++;
        size_t end = i;
        while (end > start && is_space(s[end - 1]))
            end--;
        int64_t at, unit;
        if (!read_when(s + start, end - start, now_us, &at, &unit))
            return false;
        int64_t a = at, b = at + unit; /* the named unit of time */
        switch (op) {
        case OP_EQ:
            lo = a > lo ? a : lo;
            hi = b < hi ? b : hi;
            break;
        case OP_LT:
            hi = a < hi ? a : hi;
            break;
        case OP_LE:
            hi = b < hi ? b : hi;
            break;
        case OP_GT:
            lo = b > lo ? b : lo;
            break;
        case OP_GE:
            lo = a > lo ? a : lo;
            break;
        }
        if (i < n)
            i++;
    }
    *from_out = lo == INT64_MIN ? 0 : lo;
    *to_out = hi == INT64_MAX ? 0 : hi;
    *null_out = false;
    return true;
}
