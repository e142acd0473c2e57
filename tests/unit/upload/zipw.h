/* SPDX-License-Identifier: MPL-2.0 */
/* zipw.h: a small zip writer for the upload tests. It writes exactly what it is told, including
 * what real tools would refuse to produce (duplicate names, symlinks, lying sizes, raw CP437
 * names, wrong entry counts), so that each rule of the reader can be exercised. */
#ifndef SYM_TEST_ZIPW_H
#define SYM_TEST_ZIPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZIPW_UTF8 0x0800u /* general-purpose flag: the name is UTF-8 */

struct zipw_opts {
    bool deflate;       /* method 8 instead of 0 (stored) */
    uint16_t flags;     /* general-purpose flags, e.g. ZIPW_UTF8 or 1 (encrypted) */
    uint32_t mode;      /* Unix st_mode (type + permissions); 0 means 0100644 */
    bool override_size; /* declare size instead of the data length */
    uint32_t size;
    bool bad_crc;    /* store a wrong CRC-32 */
    uint16_t method; /* when non-zero: this method number written as is (data stored raw) */
};

struct zipw;

struct zipw *zipw_new(void);
/* Adds a member; name is raw bytes (name_len of them), data may be NULL when len is 0. opts may
 * be NULL for a stored regular file with the UTF-8 flag set when the name is not ASCII. */
void zipw_add(struct zipw *z, const char *name, size_t name_len, const void *data, size_t len,
              const struct zipw_opts *opts);
/* Shorthands: a stored file with a NUL-terminated name and text. */
void zipw_file(struct zipw *z, const char *name, const char *text);
void zipw_dir(struct zipw *z, const char *name);
/* Declares this many entries in the end record instead of the real count (< 0: real count). */
void zipw_set_eocd_count(struct zipw *z, long count);
/* Writes the archive to path and frees z. Fails the current test on error. */
void zipw_write(struct zipw *z, const char *path);

#endif
