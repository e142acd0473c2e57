/* SPDX-License-Identifier: MPL-2.0 */
/* test_support.h: shared helpers of the upload tests: a scratch directory per test, running the
 * whole ingest pipeline, and reading the few values the tests need from the corpus's
 * upload-outcomes.json without a JSON library (its layout is fixed and simple). */
#ifndef SYM_TEST_UPLOAD_SUPPORT_H
#define SYM_TEST_UPLOAD_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "upload/ingest.h"

/* A scratch directory with "a.zip" and an extraction directory "out". */
struct scratch {
    char dir[256];
    char zip[320];
    char out[320];
};

void scratch_init(struct scratch *s);
/* Removes a.zip, then "out" and the directory itself, failing the test when "out" is not empty
 * (the library must have removed every temporary file). */
void scratch_done(struct scratch *s);

/* Reads a whole file (malloc'd, NUL-terminated); NULL when it cannot be read. */
char *read_all(const char *path, size_t *len);
/* Lowercase hex MD5 of data. */
void md5_hex(const void *data, size_t len, char out[33]);
/* Gunzips data (malloc'd result); fails the test on bad gzip. */
char *gunzip(const void *data, size_t len, size_t *out_len);

/* upload-outcomes.json access. A case is the text from its "name" to the next case. */
struct jcase {
    const char *p;
    const char *end;
};
/* Iterates cases: *pos starts at the JSON text; returns false after the last one. */
bool json_next_case(const char **pos, struct jcase *c);
/* The string value of the first "field" in [from, c->end); false when absent or not a string. */
bool json_str(const struct jcase *c, const char *from, const char *field, char *out, size_t cap);
/* The integer value of the first "field"; false when absent. */
bool json_int(const struct jcase *c, const char *from, const char *field, long long *out);
/* The boolean value of the first "field"; false when absent. */
bool json_bool(const struct jcase *c, const char *from, const char *field, bool *out);
/* The strings of the array "field"; returns how many (at most max), -1 when absent. Each item is
 * malloc'd. */
int json_str_array(const struct jcase *c, const char *field, char **items, int max);
/* Position of the n-th occurrence of "field" in the case, or NULL. */
const char *json_find(const struct jcase *c, const char *from, const char *field);

#endif
