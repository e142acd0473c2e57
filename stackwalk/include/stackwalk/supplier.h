/* SPDX-License-Identifier: MPL-2.0 */
/* supplier.h: the symbol-supplier interface of the stack walker. The walker never opens files
 * or sockets: it asks a supplier for the symcache image of a module, and the supplier (a local
 * symbol directory, an HTTP symbol server, the server's own storage, a test fixture) finds,
 * parses and caches it. Implemented outside this library. */
#ifndef SW_SUPPLIER_H
#define SW_SUPPLIER_H

#include <stdbool.h>

#include "sym/err.h"

struct sym_image;

/* What identifies a module's symbols. Strings are borrowed for the duration of the call. */
struct sw_module_key {
    const char *code_file;  /* full path as the dump names it ("" when unknown) */
    const char *code_id;    /* as formatted by the minidump reader ("" when unknown) */
    const char *debug_file; /* full path of the PDB / ELF file ("" when unknown) */
    const char *debug_id;   /* Breakpad form, e.g. 5A9832E5287241C1838ED98914E9B7FF1 */
};

struct sw_symbols {
    const struct sym_image *image; /* borrowed: valid until released (or, without a release
                                      operation, until the supplier is destroyed) */
    bool corrupt;                  /* the .sym had malformed lines (still usable) */
    const char *url;               /* where it came from (NULL for local files); borrowed */
    /* When the symbols were found by code file and code id, the debug file and id they carry
     * (e.g. from a symbol server's redirect); NULL otherwise. Borrowed like url. */
    const char *debug_file;
    const char *debug_id;
    void *handle; /* the supplier's own, passed back to release() */
};

struct sw_supplier_ops {
    /* Finds the symbols of a module. Returns SYM_OK and *out; SYM_ENOTFOUND when this supplier
     * has none; any other error when they exist but could not be obtained (SYM_EIO,
     * SYM_EUNAVAIL, SYM_ECORRUPT, SYM_ENOMEM...), which the walker treats as missing symbols
     * and reports. Must be thread-safe when one supplier serves concurrent walks. The walker
     * asks at most once per module per walk. */
    sym_err (*get)(void *impl, const struct sw_module_key *key, struct sw_symbols *out);
    /* Optional (NULL: images live as long as the supplier). Called once for every successful
     * get() when the walk no longer needs the image, so a shared cache may evict it. */
    void (*release)(void *impl, const struct sw_symbols *syms);
};

struct sw_supplier {
    const struct sw_supplier_ops *ops;
    void *impl;
};

#endif
