/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_minidump.c: libFuzzer target for the minidump reader: open any bytes, then touch every
 * part of the model a stack walker would (contexts, module and memory lookups, strings). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stackwalk/minidump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sw_minidump *md = NULL;
    if (sw_minidump_open(data, size, NULL, &md, NULL) != SYM_OK)
        return 0;
    size_t sum = 0;
    struct sw_context c;
    for (size_t i = 0; i < md->n_threads; i++) {
        if (sw_minidump_thread_context(md, i, &c) == SYM_OK)
            sum += c.valid != 0;
        if (md->threads[i].name != NULL)
            sum += strlen(md->threads[i].name);
        if (md->threads[i].stack.p != NULL)
            sum += md->threads[i].stack.p[md->threads[i].stack.n - 1];
    }
    if (sw_minidump_exception_context(md, &c) == SYM_OK)
        sum++;
    for (size_t i = 0; i < md->n_modules; i++) {
        const struct sw_md_module *m = &md->modules[i];
        sum += strlen(m->code_file) + strlen(m->debug_id) + strlen(m->code_id) +
               strlen(sw_basename(m->debug_file));
        if (sw_minidump_module_at(md, m->base) != NULL)
            sum++;
        const struct sw_md_memory *mem = sw_minidump_memory_at(md, m->base);
        if (mem != NULL)
            sum += mem->data[mem->size - 1];
    }
    for (size_t i = 0; i < md->n_memory; i++)
        sum += md->memory[i].data[0];
    if (md->linux_info.has_lsb)
        sum += strlen(md->linux_info.lsb.description);
    md->flags = sum; /* keep the reads observable */
    sw_minidump_free(md);
    return 0;
}
