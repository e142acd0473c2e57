/* SPDX-License-Identifier: MPL-2.0 */
/* token.h: API tokens. A key is 32 lowercase hex characters (128 random bits), shown once when
 * created; only its SHA-256 is stored. Clients may append a label after a '-' ("<key>-ci-try"),
 * which is ignored. Also the permission names, shared by the CLI and the token API. */
#ifndef SRV_UPLOAD_TOKEN_H
#define SRV_UPLOAD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "sym/err.h"

#define SRV_TOKEN_KEY_LEN      32
#define SRV_TOKEN_HINT_LEN     4 /* characters of the key kept in clear, to tell tokens apart */
#define SRV_TOKEN_DEFAULT_DAYS 365

/* Writes a new random key and its NUL into key. SYM_EIO when the system has no randomness. */
sym_err srv_token_generate(char key[SRV_TOKEN_KEY_LEN + 1]) SYM_MUST_CHECK;

/* SHA-256 of the key part of an Auth-Token value (everything before the first '-', surrounding
 * spaces removed). False when that part is not 32 lowercase hex characters: no stored token can
 * match it. */
bool srv_token_hash(const char *value, size_t len, unsigned char hash[32]);

/* Permission by name: "upload_symbols" or "upload.upload_symbols", and so on. Returns the
 * permission id (1..4) or 0 for an unknown name. */
int srv_permission_by_name(const char *name);
/* "upload.upload_symbols"... for an id 1..4, NULL otherwise. */
const char *srv_permission_codename(int id);
/* "Upload Symbols Files"... for an id 1..4, NULL otherwise. */
const char *srv_permission_display(int id);
/* A token may not hold both upload permissions (the server decides try-ness from them). */
bool srv_permissions_valid(unsigned perms);

#endif
