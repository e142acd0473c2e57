/* SPDX-License-Identifier: MPL-2.0 */
/* fuzz_stackwalk.c: libFuzzer target for the whole walk: any bytes as a minidump, processed
 * without symbols and again with a symbol image for every module (FUNC, STACK CFI and STACK WIN
 * records for the dump's CPU, covering low addresses), so CFI, STACK WIN, frame-pointer and
 * scanning paths all run on hostile stacks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stackwalk/process.h"
#include "sym/image.h"
#include "sym/symfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const sym_texts[] = {
    /* x86 */
    "MODULE windows x86 11111111111111111111111111111111 app.pdb\n"
    "FILE 1 a.c\nFUNC 0 8000 8 f\n0 8000 1 1\n"
    "STACK WIN 4 0 1000 0 0 8 4 8 0 1 $T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =\n"
    "STACK WIN 0 1000 1000 0 0 4 4 4 0 0 1\n"
    "STACK WIN 0 2000 1000 0 0 4 4 4 0 0 0\n"
    "STACK WIN 4 3000 1000 0 0 0 0 0 0 1 $T1 .raSearch = $T0 $T1 4 - 8 @ = $eip $T1 ^ = "
    "$esp $T1 4 + = $ebp $T0 ^ =\n"
    "STACK CFI INIT 4000 1000 .cfa: $esp 4 + .ra: .cfa 4 - ^\n",
    /* amd64 */
    "MODULE Linux x86_64 11111111111111111111111111111111 app\n"
    "FUNC 0 8000 0 f\nINLINE_ORIGIN 0 g\nINLINE 0 1 0 0 100 100\n"
    "STACK CFI INIT 0 4000 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
    "STACK CFI 10 $rbx: .cfa -16 + ^ .cfa: $rsp 16 + $rbp: .cfa -24 + ^\n",
    /* arm */
    "MODULE Linux arm 11111111111111111111111111111111 app\n"
    "FUNC 0 8000 0 f\n"
    "STACK CFI INIT 0 4000 .cfa: sp 0 + .ra: lr\n"
    "STACK CFI 10 .cfa: sp 8 + .ra: .cfa -4 + ^ r7: .cfa -8 + ^\n",
    /* arm64 */
    "MODULE Linux arm64 11111111111111111111111111111111 app\n"
    "FUNC 0 8000 0 f\n"
    "STACK CFI INIT 0 4000 .cfa: sp 0 + .ra: x30\n"
    "STACK CFI 10 .cfa: x29 16 + .ra: .cfa -8 + ^ x29: .cfa -16 + ^\n",
};

static struct sym_image *images[4];
static struct sym_buf bufs[4];

static void init_images(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (int i = 0; i < 4; i++) {
        sym_buf_init(&bufs[i], 0);
        if (sym_parse_buffer(sym_texts[i], strlen(sym_texts[i]), NULL, &bufs[i], NULL, NULL) !=
                SYM_OK ||
            sym_image_open(bufs[i].data, bufs[i].len, &images[i], NULL) != SYM_OK)
            abort();
    }
}

static sym_err get(void *impl, const struct sw_module_key *key, struct sw_symbols *out)
{
    (void)key;
    out->image = impl;
    out->corrupt = false;
    out->url = NULL;
    out->debug_file = NULL;
    out->debug_id = NULL;
    out->handle = NULL;
    return impl ? SYM_OK : SYM_ENOTFOUND;
}

static const struct sw_supplier_ops ops = {get, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_images();
    struct sw_minidump *md = NULL;
    if (sw_minidump_open(data, size, NULL, &md, NULL) != SYM_OK)
        return 0;
    struct sw_process_options o;
    sw_process_options_default(&o);
    o.max_frames = 256;
    o.max_threads = 16;
    struct sw_process_state *st = NULL;
    if (sw_process(md, NULL, 0, &o, &st, NULL) == SYM_OK)
        sw_process_state_free(st);
    int idx = md->system_info.cpu == SW_CPU_X86     ? 0
              : md->system_info.cpu == SW_CPU_AMD64 ? 1
              : md->system_info.cpu == SW_CPU_ARM   ? 2
              : md->system_info.cpu == SW_CPU_ARM64 ? 3
                                                    : -1;
    struct sw_supplier sup = {&ops, idx >= 0 ? images[idx] : NULL};
    if (sw_process(md, &sup, 1, &o, &st, NULL) == SYM_OK)
        sw_process_state_free(st);
    sw_minidump_free(md);
    return 0;
}
