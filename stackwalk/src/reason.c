/* SPDX-License-Identifier: MPL-2.0 */
/* reason.c: crash reasons and addresses from the exception stream, in two wordings: the one
 * rust-minidump's JSON uses ("SIGSEGV / SEGV_MAPERR", "STATUS_INVALID_PARAMETER") and
 * Breakpad's text output ("SIGSEGV /0x00000000", numeric codes it does not know). Codes are
 * the operating systems' public constants. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "walk_int.h"

struct code_name {
    uint32_t code;
    const char *name;
    bool breakpad; /* Breakpad prints the name too (else its numeric fallback) */
};

static const char *find(const struct code_name *t, size_t n, uint32_t code, bool *bp)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].code == code) {
            if (bp)
                *bp = t[i].breakpad;
            return t[i].name;
        }
    }
    return NULL;
}
#define FIND(t, code, bp) find(t, sizeof(t) / sizeof(t[0]), code, bp)

/* ---- Windows ---- */

static const struct code_name win_codes[] = {
    {0x80000002, "EXCEPTION_DATATYPE_MISALIGNMENT", true},
    {0x80000003, "EXCEPTION_BREAKPOINT", true},
    {0x80000004, "EXCEPTION_SINGLE_STEP", true},
    {0xC0000005, "EXCEPTION_ACCESS_VIOLATION", true},
    {0xC0000006, "EXCEPTION_IN_PAGE_ERROR", true},
    {0xC0000008, "EXCEPTION_INVALID_HANDLE", true},
    {0xC000000D, "STATUS_INVALID_PARAMETER", false},
    {0xC0000017, "STATUS_NO_MEMORY", false},
    {0xC000001D, "EXCEPTION_ILLEGAL_INSTRUCTION", true},
    {0xC0000025, "EXCEPTION_NONCONTINUABLE_EXCEPTION", true},
    {0xC0000026, "EXCEPTION_INVALID_DISPOSITION", true},
    {0xC000008C, "EXCEPTION_ARRAY_BOUNDS_EXCEEDED", true},
    {0xC000008D, "EXCEPTION_FLT_DENORMAL_OPERAND", true},
    {0xC000008E, "EXCEPTION_FLT_DIVIDE_BY_ZERO", true},
    {0xC000008F, "EXCEPTION_FLT_INEXACT_RESULT", true},
    {0xC0000090, "EXCEPTION_FLT_INVALID_OPERATION", true},
    {0xC0000091, "EXCEPTION_FLT_OVERFLOW", true},
    {0xC0000092, "EXCEPTION_FLT_STACK_CHECK", true},
    {0xC0000093, "EXCEPTION_FLT_UNDERFLOW", true},
    {0xC0000094, "EXCEPTION_INT_DIVIDE_BY_ZERO", true},
    {0xC0000095, "EXCEPTION_INT_OVERFLOW", true},
    {0xC0000096, "EXCEPTION_PRIV_INSTRUCTION", true},
    {0xC00000FD, "EXCEPTION_STACK_OVERFLOW", true},
    {0xC0000194, "EXCEPTION_POSSIBLE_DEADLOCK", true},
    {0xC0000374, "STATUS_HEAP_CORRUPTION", true},
    {0xC0000409, "STATUS_STACK_BUFFER_OVERRUN", true},
    {0xC0000420, "STATUS_ASSERTION_FAILURE", false},
    {0xE06D7363, "Unhandled C++ Exception", true},
    {0x40010005, "DBG_CONTROL_C", true},
    {0x40000015, "STATUS_FATAL_APP_EXIT", false},
    {0x4000001F, "STATUS_WX86_BREAKPOINT", false},
    {0x80000029, "STATUS_UNWIND_CONSOLIDATE", false},
    {0xC0000135, "STATUS_DLL_NOT_FOUND", false},
    {0xC0000142, "STATUS_DLL_INIT_FAILED", false},
    {0xC00002B4, "STATUS_FLOAT_MULTIPLE_FAULTS", false},
    {0xC00002B5, "STATUS_FLOAT_MULTIPLE_TRAPS", false},
    {0xC00002C9, "STATUS_REG_NAT_CONSUMPTION", false},
    {0xC0000602, "STATUS_FAIL_FAST_EXCEPTION", false},
    {0xC06D007E, "Module not found (delay load)", false},
    {0xC06D007F, "Procedure not found (delay load)", false},
};

static const char *const fast_fail_names[] = {
    "LEGACY_GS_VIOLATION",
    "VTGUARD_CHECK_FAILURE",
    "STACK_COOKIE_CHECK_FAILURE",
    "CORRUPT_LIST_ENTRY",
    "INCORRECT_STACK",
    "INVALID_ARG",
    "GS_COOKIE_INIT",
    "FATAL_APP_EXIT",
    "RANGE_CHECK_FAILURE",
    "UNSAFE_REGISTRY_ACCESS",
    "GUARD_ICALL_CHECK_FAILURE",
    "GUARD_WRITE_CHECK_FAILURE",
    "INVALID_FIBER_SWITCH",
    "INVALID_SET_OF_CONTEXT",
    "INVALID_REFERENCE_COUNT",
    NULL,
    NULL,
    NULL,
    "INVALID_JUMP_BUFFER",
    "MRDATA_MODIFIED",
    "CERTIFICATION_FAILURE",
    "INVALID_EXCEPTION_CHAIN",
    "CRYPTO_LIBRARY",
    "INVALID_CALL_IN_DLL_CALLOUT",
    "INVALID_IMAGE_BASE",
    "DLOAD_PROTECTION_FAILURE",
    "UNSAFE_EXTENSION_CALL",
    "DEPRECATED_SERVICE_INVOKED",
    "INVALID_BUFFER_ACCESS",
    "INVALID_BALANCED_TREE",
    "INVALID_NEXT_THREAD",
    "GUARD_ICALL_CHECK_SUPPRESSED",
    "APCS_DISABLED",
    "INVALID_IDLE_STATE",
    "MRDATA_PROTECTION_FAILURE",
    "UNEXPECTED_HEAP_EXCEPTION",
    "INVALID_LOCK_STATE",
    "GUARD_JUMPTABLE",
    "INVALID_LONGJUMP_TARGET",
    "INVALID_DISPATCH_CONTEXT",
    "INVALID_THREAD",
    "INVALID_SYSCALL_NUMBER",
    "INVALID_FILE_OPERATION",
    "LPAC_ACCESS_DENIED",
    "GUARD_SS_FAILURE",
    "LOADER_CONTINUITY_FAILURE",
    "GUARD_EXPORT_SUPPRESSION_FAILURE",
    "INVALID_CONTROL_STACK",
    "SET_CONTEXT_DENIED",
    "INVALID_IAT",
    "HEAP_METADATA_CORRUPTION",
    "PAYLOAD_RESTRICTION_VIOLATION",
    "LOW_LABEL_ACCESS_DENIED",
    "ENCLAVE_CALL_FAILURE",
    "UNHANDLED_LSS_EXCEPTON",
    "ADMINLESS_ACCESS_DENIED",
    "UNEXPECTED_CALL",
    "CONTROL_INVALID_RETURN_ADDRESS",
    "UNEXPECTED_HOST_BEHAVIOR",
    "FLAGS_CORRUPTION",
    "VEH_CORRUPTION",
    "ETW_CORRUPTION",
    "RIO_ABORT",
    "INVALID_PFN",
    "GUARD_ICALL_CHECK_FAILURE_XFG",
    "CAST_GUARD",
    "HOST_VISIBILITY_CHANGE",
    "KERNEL_CET_SHADOW_STACK_ASSIST",
    "PATCH_CALLBACK_FAILED",
    "NTDLL_PATCH_FAILED",
    "INVALID_FLS_DATA",
};

static void windows_reason(const struct sw_md_exception *e, char *rust, char *bp, size_t cap)
{
    const char *access = NULL;
    if ((e->code == 0xC0000005 || e->code == 0xC0000006) && e->n_params >= 1) {
        switch (e->params[0]) {
        case 0:
            access = "_READ";
            break;
        case 1:
            access = "_WRITE";
            break;
        case 8:
            access = "_EXEC";
            break;
        default:
            break;
        }
    }
    bool known_bp = false;
    const char *name = FIND(win_codes, e->code, &known_bp);
    if (e->code == 0xC0000409 && e->n_params >= 1 &&
        e->params[0] < sizeof(fast_fail_names) / sizeof(fast_fail_names[0]) &&
        fast_fail_names[e->params[0]] != NULL) {
        snprintf(bp, cap, "FAST_FAIL_%s", fast_fail_names[e->params[0]]);
        snprintf(rust, cap, "%s / FAST_FAIL_%s", name, fast_fail_names[e->params[0]]);
        return;
    }
    if (name == NULL) {
        snprintf(rust, cap, "0x%08" PRIx32, e->code);
        snprintf(bp, cap, "0x%08" PRIx32 " / 0x%08" PRIx32, e->code, e->flags);
        return;
    }
    snprintf(rust, cap, "%s%s", name, access ? access : "");
    if (known_bp)
        snprintf(bp, cap, "%s%s", name, access ? access : "");
    else
        snprintf(bp, cap, "0x%08" PRIx32 " / 0x%08" PRIx32, e->code, e->flags);
}

/* ---- Linux / Android ---- */

static const char *const signal_names[32] = {
    NULL,        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};

static const struct code_name segv_codes[] = {{1, "SEGV_MAPERR", true},
                                              {2, "SEGV_ACCERR", true},
                                              {3, "SEGV_BNDERR", true},
                                              {4, "SEGV_PKUERR", true}};
static const struct code_name bus_codes[] = {{1, "BUS_ADRALN", true},
                                             {2, "BUS_ADRERR", true},
                                             {3, "BUS_OBJERR", true},
                                             {4, "BUS_MCEERR_AR", true},
                                             {5, "BUS_MCEERR_AO", true}};
static const struct code_name fpe_codes[] = {{1, "FPE_INTDIV", true}, {2, "FPE_INTOVF", true},
                                             {3, "FPE_FLTDIV", true}, {4, "FPE_FLTOVF", true},
                                             {5, "FPE_FLTUND", true}, {6, "FPE_FLTRES", true},
                                             {7, "FPE_FLTINV", true}, {8, "FPE_FLTSUB", true}};
static const struct code_name ill_codes[] = {{1, "ILL_ILLOPC", true}, {2, "ILL_ILLOPN", true},
                                             {3, "ILL_ILLADR", true}, {4, "ILL_ILLTRP", true},
                                             {5, "ILL_PRVOPC", true}, {6, "ILL_PRVREG", true},
                                             {7, "ILL_COPROC", true}, {8, "ILL_BADSTK", true}};
static const struct code_name si_codes[] = {
    {0, "SI_USER", true},           {0x80, "SI_KERNEL", true},
    {0xFFFFFFFF, "SI_QUEUE", true}, {0xFFFFFFFE, "SI_TIMER", true},
    {0xFFFFFFFD, "SI_MESGQ", true}, {0xFFFFFFFC, "SI_ASYNCIO", true},
    {0xFFFFFFFB, "SI_SIGIO", true}, {0xFFFFFFFA, "SI_TKILL", true}};

static void linux_reason(const struct sw_md_exception *e, char *rust, char *bp, size_t cap)
{
    if (e->code == 0xFFFFFFFF) {
        snprintf(rust, cap, "DUMP_REQUESTED");
        snprintf(bp, cap, "DUMP_REQUESTED");
        return;
    }
    const char *sig = e->code < 32 ? signal_names[e->code] : NULL;
    if (sig == NULL) {
        snprintf(rust, cap, "0x%08" PRIx32, e->code);
        snprintf(bp, cap, "0x%08" PRIx32 " / 0x%08" PRIx32, e->code, e->flags);
        return;
    }
    const char *sub = NULL;
    const char *sep = " / "; /* Breakpad's separator; SIGSEGV's has no space after '/' */
    switch (e->code) {
    case 4:
        sub = FIND(ill_codes, e->flags, NULL);
        break;
    case 7:
        sub = FIND(bus_codes, e->flags, NULL);
        break;
    case 8:
        sub = FIND(fpe_codes, e->flags, NULL);
        break;
    case 11:
        sub = FIND(segv_codes, e->flags, NULL);
        sep = " /";
        break;
    default:
        snprintf(rust, cap, "%s", sig);
        snprintf(bp, cap, "%s", sig);
        return;
    }
    if (sub != NULL) {
        snprintf(rust, cap, "%s / %s", sig, sub);
        snprintf(bp, cap, "%s%s%s", sig, sep, sub);
        return;
    }
    const char *si = e->flags ? FIND(si_codes, e->flags, NULL) : NULL;
    if (si != NULL)
        snprintf(rust, cap, "%s / %s", sig, si);
    else
        snprintf(rust, cap, "%s", sig);
    snprintf(bp, cap, "%s%s0x%08" PRIx32, sig, sep, e->flags);
}

/* ---- macOS / iOS ---- */

static const struct code_name mac_types[] = {
    {1, "EXC_BAD_ACCESS", true},    {2, "EXC_BAD_INSTRUCTION", true}, {3, "EXC_ARITHMETIC", true},
    {4, "EXC_EMULATION", true},     {5, "EXC_SOFTWARE", true},        {6, "EXC_BREAKPOINT", true},
    {7, "EXC_SYSCALL", true},       {8, "EXC_MACH_SYSCALL", true},    {9, "EXC_RPC_ALERT", true},
    {10, "EXC_CRASH", true},        {11, "EXC_RESOURCE", true},       {12, "EXC_GUARD", true},
    {13, "EXC_CORPSE_NOTIFY", true}};
static const struct code_name kern_codes[] = {
    {1, "KERN_INVALID_ADDRESS", true}, {2, "KERN_PROTECTION_FAILURE", true},
    {8, "KERN_NO_ACCESS", true},       {9, "KERN_MEMORY_FAILURE", true},
    {10, "KERN_MEMORY_ERROR", true},   {50, "KERN_CODESIGN_ERROR", true}};
static const struct code_name x86_bad_instruction[] = {
    {1, "EXC_I386_INVOP", true},     {10, "EXC_I386_INVTSSFLT", true},
    {11, "EXC_I386_SEGNPFLT", true}, {12, "EXC_I386_STKFLT", true},
    {13, "EXC_I386_GPFLT", true},    {17, "EXC_I386_ALIGNFLT", true}};
static const struct code_name x86_arith[] = {
    {1, "EXC_I386_DIV", true},    {2, "EXC_I386_INTO", true},     {3, "EXC_I386_NOEXT", true},
    {4, "EXC_I386_EXTOVR", true}, {5, "EXC_I386_EXTERR", true},   {6, "EXC_I386_EMERR", true},
    {7, "EXC_I386_BOUND", true},  {8, "EXC_I386_SSEEXTERR", true}};
static const struct code_name x86_breakpoint[] = {{1, "EXC_I386_SGL", true},
                                                  {2, "EXC_I386_BPT", true}};
static const struct code_name arm_codes[] = {{0x101, "EXC_ARM_DA_ALIGN", true},
                                             {0x102, "EXC_ARM_DA_DEBUG", true},
                                             {1, "EXC_ARM_UNDEFINED", true},
                                             {0xe, "EXC_ARM_FP_UNDEFINED", false}};
static const struct code_name software_codes[] = {{0x00010003, "SIGABRT", true},
                                                  {0xDEADC0DE, "UNCAUGHT_NS_EXCEPTION", true}};

static void mac_reason(const struct sw_minidump *md, const struct sw_md_exception *e, char *rust,
                       char *bp, size_t cap)
{
    /* Breakpad's and Crashpad's pseudo exception codes for an uncaught NSException. */
    if (e->code == 0xDEADC0DE || e->code == 0x43506E78) {
        snprintf(rust, cap, "Uncaught NSException");
        snprintf(bp, cap, "Uncaught NSException");
        return;
    }
    const char *type = FIND(mac_types, e->code, NULL);
    if (type == NULL) {
        snprintf(rust, cap, "0x%08" PRIx32 " / 0x%08" PRIx32, e->code, e->flags);
        snprintf(bp, cap, "0x%08" PRIx32 " / 0x%08" PRIx32, e->code, e->flags);
        return;
    }
    bool x86 = md->system_info.cpu == SW_CPU_X86 || md->system_info.cpu == SW_CPU_AMD64;
    const char *sub = NULL;
    switch (e->code) {
    case 1:
        sub = FIND(kern_codes, e->flags, NULL);
        if (sub == NULL)
            sub =
                x86 ? (e->flags == 13 ? "EXC_I386_GPFLT" : NULL) : FIND(arm_codes, e->flags, NULL);
        break;
    case 2:
        sub = x86 ? FIND(x86_bad_instruction, e->flags, NULL) : FIND(arm_codes, e->flags, NULL);
        break;
    case 3:
        sub = x86 ? FIND(x86_arith, e->flags, NULL) : NULL;
        break;
    case 5:
        sub = FIND(software_codes, e->flags, NULL);
        break;
    case 6:
        sub = x86 ? FIND(x86_breakpoint, e->flags, NULL) : NULL;
        break;
    default:
        break;
    }
    if (sub != NULL) {
        snprintf(rust, cap, "%s / %s", type, sub);
        snprintf(bp, cap, "%s / %s", type, sub);
    } else {
        snprintf(rust, cap, "%s / 0x%08" PRIx32, type, e->flags);
        snprintf(bp, cap, "%s / 0x%08" PRIx32, type, e->flags);
    }
}

sym_err reason_fill(struct sw_process_state *st, struct md_arena *a)
{
    const struct sw_minidump *md = st->md;
    const struct sw_md_exception *e = &md->exception;
    if (!e->present)
        return SYM_OK;
    char rust[160], bp[160];
    switch (md->system_info.os) {
    case SW_OS_WINDOWS:
        windows_reason(e, rust, bp, sizeof(rust));
        break;
    case SW_OS_LINUX:
    case SW_OS_ANDROID:
        linux_reason(e, rust, bp, sizeof(rust));
        break;
    case SW_OS_MACOS:
    case SW_OS_IOS:
        mac_reason(md, e, rust, bp, sizeof(rust));
        break;
    default:
        snprintf(rust, sizeof(rust), "0x%08" PRIx32 " / 0x%08" PRIx32, e->code, e->flags);
        snprintf(bp, sizeof(bp), "0x%08" PRIx32 " / 0x%08" PRIx32, e->code, e->flags);
        break;
    }
    st->crash_reason = md_arena_strndup(a, rust, strlen(rust));
    st->crash_reason_breakpad = md_arena_strndup(a, bp, strlen(bp));
    if (st->crash_reason == NULL || st->crash_reason_breakpad == NULL)
        return SYM_ENOMEM;

    /* Access violations report the data address (information[1]), not the faulting pc. */
    uint64_t addr = e->address;
    if (md->system_info.os == SW_OS_WINDOWS && (e->code == 0xC0000005 || e->code == 0xC0000006) &&
        e->n_params >= 2)
        addr = e->params[1];
    if (sw_cpu_pointer_size(st->cpu) == 4)
        addr &= 0xFFFFFFFFu;
    st->crash_address = addr;
    st->has_crash_address = true;
    return SYM_OK;
}

/* ---- Win32 GetLastError() names ---- */

static const struct code_name win32_errors[] = {
    {0, "ERROR_SUCCESS", true},
    {1, "ERROR_INVALID_FUNCTION", true},
    {2, "ERROR_FILE_NOT_FOUND", true},
    {3, "ERROR_PATH_NOT_FOUND", true},
    {4, "ERROR_TOO_MANY_OPEN_FILES", true},
    {5, "ERROR_ACCESS_DENIED", true},
    {6, "ERROR_INVALID_HANDLE", true},
    {8, "ERROR_NOT_ENOUGH_MEMORY", true},
    {13, "ERROR_INVALID_DATA", true},
    {14, "ERROR_OUTOFMEMORY", true},
    {18, "ERROR_NO_MORE_FILES", true},
    {31, "ERROR_GEN_FAILURE", true},
    {32, "ERROR_SHARING_VIOLATION", true},
    {38, "ERROR_HANDLE_EOF", true},
    {50, "ERROR_NOT_SUPPORTED", true},
    {80, "ERROR_FILE_EXISTS", true},
    {87, "ERROR_INVALID_PARAMETER", true},
    {109, "ERROR_BROKEN_PIPE", true},
    {111, "ERROR_BUFFER_OVERFLOW", true},
    {120, "ERROR_CALL_NOT_IMPLEMENTED", true},
    {122, "ERROR_INSUFFICIENT_BUFFER", true},
    {123, "ERROR_INVALID_NAME", true},
    {126, "ERROR_MOD_NOT_FOUND", true},
    {127, "ERROR_PROC_NOT_FOUND", true},
    {183, "ERROR_ALREADY_EXISTS", true},
    {203, "ERROR_ENVVAR_NOT_FOUND", true},
    {232, "ERROR_NO_DATA", true},
    {234, "ERROR_MORE_DATA", true},
    {258, "WAIT_TIMEOUT", true},
    {259, "ERROR_NO_MORE_ITEMS", true},
    {487, "ERROR_INVALID_ADDRESS", true},
    {535, "ERROR_PIPE_CONNECTED", true},
    {536, "ERROR_PIPE_LISTENING", true},
    {997, "ERROR_IO_PENDING", true},
    {998, "ERROR_NOACCESS", true},
    {1008, "ERROR_NO_TOKEN", true},
    {1168, "ERROR_NOT_FOUND", true},
    {1400, "ERROR_INVALID_WINDOW_HANDLE", true},
    {1460, "ERROR_TIMEOUT", true},
    {2148734209u, "NTE_BAD_UID", true},
};

const char *sw_win32_error_name(uint32_t code)
{
    return FIND(win32_errors, code, NULL);
}
