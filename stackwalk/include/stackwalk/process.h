/* SPDX-License-Identifier: MPL-2.0 */
/* process.h: processing a minidump: every thread unwound (context, STACK CFI, STACK WIN, frame
 * pointer, stack scanning, per architecture) and symbolicated through symbol suppliers, plus
 * the crash analysis (crashing thread, reason, address). The result model carries everything a
 * rust-minidump-compatible JSON report or a Breakpad-style text report needs; it refers to the
 * parsed dump for module, system and stream data and owns everything else (symbol names are
 * copied, so suppliers may drop their images afterwards).
 *
 * The unwinding strategies, their order per CPU and their heuristics are Breakpad's (its
 * minidump_stackwalk output is matched frame for frame on the public corpus), with two
 * deliberate differences: a STACK WIN frame's callee parameter size comes from its immediate
 * callee (Breakpad takes the innermost frame's), and the dump-writing thread is kept with no
 * frames, as rust-minidump reports it. Memory is bounded by the options below. */
#ifndef SW_PROCESS_H
#define SW_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackwalk/context.h"
#include "stackwalk/minidump.h"
#include "stackwalk/supplier.h"
#include "sym/err.h"

/* How a frame was found (rust-minidump's FrameTrust; Breakpad's "Found by"). */
enum sw_trust {
    SW_TRUST_NONE = 0,
    SW_TRUST_SCAN,      /* stack scanning */
    SW_TRUST_CFI_SCAN,  /* STACK WIN result corrected by scanning (x86) */
    SW_TRUST_FP,        /* frame pointer */
    SW_TRUST_CFI,       /* STACK CFI or STACK WIN */
    SW_TRUST_PREWALKED, /* recovered by an external walker */
    SW_TRUST_CONTEXT,   /* the thread's context (frame 0) */
    SW_TRUST_LEAF,      /* Windows amd64 leaf: simulated return from the context frame */
};
/* "none", "scan", "cfi_scan", "frame_pointer", "cfi", "prewalked", "context"; the leaf
 * simulation (which rust-minidump does not have) reports "scan", what it is. */
const char *sw_trust_json_name(enum sw_trust t);
/* Breakpad's "Found by:" text ("given as instruction pointer in context", ...). */
const char *sw_trust_breakpad_name(enum sw_trust t);

struct sw_inline_frame {
    const char *function;   /* "" when the origin is unknown */
    const char *file;       /* NULL when unknown */
    uint32_t line;          /* 0 when unknown */
    uint64_t function_base; /* absolute start of the inline range */
};

struct sw_unloaded_hit {
    const char *name; /* the unloaded module's code file (borrowed from the dump) */
    uint64_t offset;  /* instruction - its base */
};

struct sw_frame {
    uint64_t instruction;  /* address used for lookups: pc for frame 0, else return address
                              minus 1 (x86/amd64), 4 (arm64) or 2 (arm) */
    struct sw_context ctx; /* recovered registers (ctx.valid says which) */
    enum sw_trust trust;
    long module;            /* index in sw_minidump.modules, -1 outside every module */
    const char *function;   /* NULL when unknown */
    uint64_t function_base; /* absolute; valid when function != NULL */
    bool function_is_public;
    const char *file; /* NULL when unknown */
    uint32_t line;
    uint64_t source_line_base; /* absolute start of the line record; valid when file != NULL */
    size_t n_inlines;
    struct sw_inline_frame *inlines; /* innermost first */
    size_t n_unloaded;
    struct sw_unloaded_hit *unloaded; /* unloaded modules covering instruction (module == -1) */
};

enum sw_thread_status {
    SW_THREAD_OK = 0,
    SW_THREAD_DUMP_THREAD,    /* the thread that wrote the dump: not walked */
    SW_THREAD_NO_CONTEXT,     /* missing or undecodable CONTEXT: no frames */
    SW_THREAD_MISSING_MEMORY, /* no stack memory: only the context frame */
};

struct sw_thread {
    uint32_t thread_id;
    const char *name; /* borrowed from the dump, NULL when none */
    enum sw_thread_status status;
    bool truncated; /* stopped at max_frames */
    size_t n_frames;
    struct sw_frame *frames;
    bool has_last_error; /* Windows: GetLastError() from the TEB */
    uint32_t last_error;
};

struct sw_module_state {
    bool asked;             /* a frame or a scan candidate fell into the module */
    bool loaded_symbols;    /* a supplier returned symbols */
    bool missing_symbols;   /* asked and no supplier had them (or fetching failed) */
    bool corrupt_symbols;   /* loaded, with malformed lines */
    const char *symbol_url; /* NULL for local files */
    /* Set when the symbols were found by code id and named the module's debug file and id
     * (modules whose CodeView record is missing); NULL otherwise. */
    const char *debug_file;
    const char *debug_id;
};

struct sw_process_options {
    uint32_t max_frames;         /* per thread (default 8192) */
    uint32_t max_scanned_frames; /* per thread: scanning stops after this many (default 16384) */
    uint32_t max_threads;        /* threads walked; others get status NO_CONTEXT (default 4096) */
    uint32_t max_total_frames;   /* all threads together (default 262144); once spent, threads
                                    get their context frame only, marked truncated */
};
void sw_process_options_default(struct sw_process_options *o);

struct sw_process_state {
    const struct sw_minidump *md; /* borrowed */
    enum sw_cpu cpu;
    enum sw_os os;

    size_t n_threads; /* = md->n_threads, in dump order */
    struct sw_thread *threads;
    long requesting_thread; /* index in threads of the crashing/requesting thread, -1 none */

    bool crashed;                      /* an exception stream was present */
    const char *crash_reason;          /* rust-minidump wording, NULL without exception */
    const char *crash_reason_breakpad; /* Breakpad wording ("SIGSEGV /0x00000000") */
    bool has_crash_address;
    uint64_t crash_address; /* truncated to 32 bits on 32-bit CPUs */
    const char *assertion;  /* formatted assertion, NULL when none */

    struct sw_module_state *modules; /* parallel to md->modules */
    uint64_t n_frames_total;         /* frames of all threads (inlines not counted) */
    void *priv;                      /* internal */
};

/* Processes a parsed dump. suppliers are tried in order for each module that needs symbols
 * (n_suppliers may be 0: no symbols, frame pointers and scanning only). opts NULL selects the
 * defaults. md must outlive *out.
 * Returns SYM_OK and *out (free with sw_process_state_free); SYM_EINVAL (NULL md/out);
 * SYM_ENOMEM. A damaged thread (no context, unreadable stack) is reported in its status, never
 * as an error; supplier failures only mark modules missing. Thread-safe: concurrent calls may
 * share a dump and (thread-safe) suppliers. */
SYM_MUST_CHECK sym_err sw_process(const struct sw_minidump *md, const struct sw_supplier *suppliers,
                                  size_t n_suppliers, const struct sw_process_options *opts,
                                  struct sw_process_state **out, struct sym_diag *d);
void sw_process_state_free(struct sw_process_state *st); /* NULL ok */

/* The name of a Win32 GetLastError() value ("ERROR_ACCESS_DENIED"), NULL when unknown. */
const char *sw_win32_error_name(uint32_t code);

/* The thread index Breakpad prints (dump thread left out), -1 when no requesting thread. */
long sw_process_breakpad_thread_index(const struct sw_process_state *st, long thread);

#endif
