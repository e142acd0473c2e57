/* SPDX-License-Identifier: MPL-2.0 */
/* token.c: token keys, their hashes, permission names. */
#include "upload/token.h"

#include <string.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "db/queries.h"

static const struct {
    const char *codename;
    const char *display;
} perms[DB_N_PERMISSIONS] = {
    {"upload.upload_symbols", "Upload Symbols Files"},
    {"upload.upload_try_symbols", "Upload Try Symbols Files"},
    {"upload.view_all_uploads", "View All Symbols Uploads"},
    {"tokens.manage_tokens", "Manage Your API Tokens"},
};

sym_err srv_token_generate(char key[SRV_TOKEN_KEY_LEN + 1])
{
    unsigned char raw[SRV_TOKEN_KEY_LEN / 2];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n <= 0)
            return SYM_EIO;
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        key[2 * i] = hex[raw[i] >> 4];
        key[2 * i + 1] = hex[raw[i] & 15];
    }
    key[SRV_TOKEN_KEY_LEN] = '\0';
    return SYM_OK;
}

bool srv_token_hash(const char *value, size_t len, unsigned char hash[32])
{
    const char *end = memchr(value, '-', len);
    size_t n = end ? (size_t)(end - value) : len;
    while (n > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        n--;
    }
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n != SRV_TOKEN_KEY_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = value[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    SHA256((const unsigned char *)value, n, hash);
    return true;
}

int srv_permission_by_name(const char *name)
{
    for (int i = 0; i < DB_N_PERMISSIONS; i++) {
        const char *full = perms[i].codename;
        const char *dot = strchr(full, '.');
        if (strcmp(name, full) == 0 || strcmp(name, dot + 1) == 0)
            return i + 1;
    }
    return 0;
}

const char *srv_permission_codename(int id)
{
    return id >= 1 && id <= DB_N_PERMISSIONS ? perms[id - 1].codename : NULL;
}

const char *srv_permission_display(int id)
{
    return id >= 1 && id <= DB_N_PERMISSIONS ? perms[id - 1].display : NULL;
}

bool srv_permissions_valid(unsigned p)
{
    unsigned both = DB_PERM_BIT(DB_PERM_UPLOAD) | DB_PERM_BIT(DB_PERM_UPLOAD_TRY);
    return (p & both) != both;
}
