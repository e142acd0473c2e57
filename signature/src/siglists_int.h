/* SPDX-License-Identifier: MPL-2.0 */
/* siglists_int.h: matching against loaded lists, shared by the generator. Internal. */
#ifndef SIG_SIGLISTS_INT_H
#define SIG_SIGLISTS_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdatomic.h>

#include <pcre2.h>

#include "signature/siglists.h"

struct sig_matcher {
    pcre2_code *by_byte[256]; /* alternatives that can match a subject starting with that byte;
                                 NULL: none can */
    pcre2_code *full;         /* every alternative, for the empty subject; NULL when empty */
    pcre2_code **codes;       /* owned, n_codes of them; by_byte/full point into these */
    size_t n_codes;
    size_t n_entries;
};

struct sig_lists {
    atomic_long refs;
    char *origin;
    bool is_default;
    bool jit;
    struct sig_matcher m[SIG_LIST_SENTINELS]; /* the three regex lists */
    char **sentinels;                         /* NUL-terminated strings */
    size_t *sentinel_lens;
    size_t n_sentinels;
};

/* re.match(joined_list, s) for a regex list. md must come from pcre2_match_data_create. */
bool sig_matcher_match(const struct sig_matcher *m, const char *s, size_t len,
                       pcre2_match_data *md);

#endif
