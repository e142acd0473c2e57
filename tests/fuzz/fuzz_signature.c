/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_signature.c: crash_data JSON -> signature, through the same path as the server and CLI
 * (jansson, crash-data conversion, the full rule pipeline with the shipped lists). The input is
 * also offered raw to the Python-compatible JSON parser the shutdown-timeout rule uses. */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "crashdata.h"
#include "signature/generator.h"
#include "signature/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sig_lists *lists;
static struct sig_generator *gen;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (lists == NULL) {
        struct sym_diag d;
        if (sig_lists_load(sig_lists_default_dir(), true, &lists, &d) != SYM_OK ||
            sig_generator_new(&gen) != SYM_OK)
            abort();
    }
    struct sig_arena arena;
    sig_arena_init(&arena, 0);
    struct sig_value v;
    struct sig_json_error jerr;
    if (sig_json_parse((const char *)data, size, &arena, &v, &jerr) == SYM_OK)
        (void)sig_value_truthy(&v);
    sig_arena_cleanup(&arena);

    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (doc == NULL)
        return 0;
    struct srv_crashdata cd;
    if (srv_crashdata_from_json(doc, &cd, NULL) == SYM_OK) {
        struct sig_result r;
        sig_result_init(&r);
        if (sig_generate(gen, lists, lists, &cd.root, SIG_GEN_DEBUG, &r) == SYM_OK &&
            r.signature.len > SIG_MAX_LENGTH)
            abort(); /* the truncation rule guarantees the bound */
        sig_result_cleanup(&r);
    }
    srv_crashdata_cleanup(&cd);
    json_decref(doc);
    return 0;
}
