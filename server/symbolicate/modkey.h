/* SPDX-License-Identifier: MPL-2.0 */
/* modkey.h: naming a module the way the symbolication API does: the .sym file name derived from
 * the debug file name, the debug id in its Breakpad form (validity and equality as Eliot's
 * symbolic library decides them), and the key under which a parsed module is cached and
 * fetched only once. Pure functions, no allocation. */
#ifndef SRV_SYMB_MODKEY_H
#define SRV_SYMB_MODKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sym/buf.h"

/* A Breakpad debug id decoded: either a GUID/UUID (32 hex digits) plus an age ("appendix"), the
 * form of PDB 7.0 and ELF/Mach-O ids, or a PDB 2.0 signature (8 hex digit timestamp) plus an
 * age. Two ids are the same module when their decoded forms are equal, so "…1F0" and "…1f00"
 * match while "…1F" (no age) is not an id at all. */
struct srv_symb_debug_id {
    bool pdb20;
    uint8_t uuid[16]; /* pdb20: timestamp in the first 4 bytes, the rest zero */
    uint32_t appendix;
};

/* Decodes id[0..len) in Breakpad form: 33 to 40 hex digits (UUID + age that fits 32 bits) or 9
 * to 16 hex digits (PDB 2.0 timestamp + age). Returns false for anything else (e.g. "ABCDE",
 * 32 digits without an age); *out is then untouched. */
bool srv_symb_debug_id_parse(const char *id, size_t len, struct srv_symb_debug_id *out);
bool srv_symb_debug_id_eq(const struct srv_symb_debug_id *a, const struct srv_symb_debug_id *b);
/* The UUID form with the age as a suffix when non-zero, e.g.
 * "58c99d97-9ada-4cd7-95f8-740ce23c2e1f-2" (for logs). out needs SRV_SYMB_UUID_BUF bytes. */
#define SRV_SYMB_UUID_BUF 48
void srv_symb_debug_id_format(const struct srv_symb_debug_id *id, char *out);

/* The .sym file name of a debug file: "xul.pdb" -> "xul.sym", "libxul.so" -> "libxul.so.sym".
 * Appends to out (its error reports failures). */
void srv_symb_sym_filename(struct sym_buf *out, const char *debug_filename, size_t len);

/* The cache and single-flight key "<debug_filename>/<DEBUG_ID upper-cased>". Appends to out. */
void srv_symb_module_key(struct sym_buf *out, const char *debug_filename, size_t filename_len,
                         const char *debug_id, size_t id_len);

#endif
