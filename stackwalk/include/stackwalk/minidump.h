/* SPDX-License-Identifier: MPL-2.0 */
/* minidump.h: a bounds-checked minidump reader. sw_minidump_open() validates the header and
 * directory, decodes every stream a stack walker or crash report needs into the plain model
 * below, and formats module identifiers the way Breakpad symbol stores expect them.
 *
 * Robustness contract: every RVA, size and count read from the dump is checked against the
 * buffer (overflow-safe) before use; counts are also bounded by sw_md_limits, and allocation is
 * proportional to the dump size. A damaged optional stream is dropped and reported in
 * sw_minidump.warnings; only an unusable header or directory, or a missing or unreadable thread
 * list, make the dump unreadable. The reader never writes to the input. */
#ifndef SW_MINIDUMP_H
#define SW_MINIDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackwalk/context.h"
#include "sym/err.h"

/* Stream types (MINIDUMP_STREAM_TYPE and the Breakpad/Crashpad/Mozilla extensions). */
enum {
    SW_STREAM_THREAD_LIST = 3,
    SW_STREAM_MODULE_LIST = 4,
    SW_STREAM_MEMORY_LIST = 5,
    SW_STREAM_EXCEPTION = 6,
    SW_STREAM_SYSTEM_INFO = 7,
    SW_STREAM_MEMORY64_LIST = 9,
    SW_STREAM_HANDLE_DATA = 12,
    SW_STREAM_UNLOADED_MODULE_LIST = 14,
    SW_STREAM_MISC_INFO = 15,
    SW_STREAM_MEMORY_INFO_LIST = 16,
    SW_STREAM_THREAD_NAMES = 24,
    SW_STREAM_BREAKPAD_INFO = 0x47670001,
    SW_STREAM_ASSERTION_INFO = 0x47670002,
    SW_STREAM_LINUX_CPU_INFO = 0x47670003,
    SW_STREAM_LINUX_PROC_STATUS = 0x47670004,
    SW_STREAM_LINUX_LSB_RELEASE = 0x47670005,
    SW_STREAM_LINUX_CMD_LINE = 0x47670006,
    SW_STREAM_LINUX_ENVIRON = 0x47670007,
    SW_STREAM_LINUX_AUXV = 0x47670008,
    SW_STREAM_LINUX_MAPS = 0x47670009,
    SW_STREAM_LINUX_DSO_DEBUG = 0x4767000A,
    SW_STREAM_CRASHPAD_INFO = 0x43500001,
    SW_STREAM_MOZ_MACOS_CRASH_INFO = 0x4D7A0001,
    SW_STREAM_MOZ_MACOS_BOOTARGS = 0x4D7A0002,
    SW_STREAM_MOZ_LINUX_LIMITS = 0x4D7A0003,
    SW_STREAM_MOZ_SOFT_ERRORS = 0x4D7A0004,
};

enum sw_os {
    SW_OS_UNKNOWN = 0,
    SW_OS_WINDOWS,
    SW_OS_MACOS,
    SW_OS_IOS,
    SW_OS_LINUX,
    SW_OS_SOLARIS,
    SW_OS_ANDROID,
    SW_OS_PS3,
    SW_OS_NACL,
    SW_OS_FUCHSIA,
};

struct sw_md_limits {
    uint32_t max_streams;        /* directory entries (default 4096) */
    uint32_t max_threads;        /* default 65536 */
    uint32_t max_modules;        /* loaded and unloaded, each (default 65536) */
    uint32_t max_memory_regions; /* memory list + memory64 list + memory info (default 1 << 20) */
    uint32_t max_string_bytes;   /* one MINIDUMP_STRING, in UTF-16 bytes (default 65536) */
    uint32_t max_handles;        /* default 65536 */
    uint32_t max_annotations;    /* Crashpad annotations, all modules together (default 65536) */
    size_t max_decoded_bytes;    /* memory for decoded strings and tables; 0: 16 MiB plus 4
                                    times the dump size. Bounds what many records pointing at
                                    one long string could otherwise multiply. */
};
void sw_md_limits_default(struct sw_md_limits *lim);

struct sw_bytes {
    const uint8_t *p; /* borrowed from the dump; NULL when absent */
    size_t n;
};

struct sw_md_system_info {
    bool present;
    uint16_t processor_architecture, processor_level, processor_revision;
    uint8_t number_of_processors, product_type;
    uint32_t major_version, minor_version, build_number, platform_id;
    const char *csd_version; /* "" when absent */
    bool has_csd_version;    /* the stream referenced a CSD string (possibly empty) */
    uint16_t suite_mask;
    char vendor_id[13]; /* x86/amd64 CPUID vendor, NUL-terminated ("" when not x86) */
    uint32_t cpu_version_information, cpu_feature_information, amd_extended_cpu_features;
    uint64_t processor_features[2]; /* non-x86 cpu info */
    enum sw_cpu cpu;                /* decoded processor_architecture */
    enum sw_os os;                  /* decoded platform_id */
};

struct sw_md_thread {
    uint32_t thread_id, suspend_count, priority_class, priority;
    uint64_t teb;
    uint64_t stack_start;    /* from the descriptor */
    struct sw_bytes stack;   /* stack bytes at stack_start; p NULL when unreadable */
    struct sw_bytes context; /* raw CONTEXT record; p NULL when unreadable */
    const char *name;        /* ThreadNamesStream name, NULL when none */
};

enum sw_cv_kind {
    SW_CV_NONE = 0,
    SW_CV_PDB70, /* RSDS: GUID + age + pdb name (Windows, and Mach-O UUIDs) */
    SW_CV_PDB20, /* NB10: signature + age + pdb name */
    SW_CV_ELF,   /* BpEL: GNU build id */
    SW_CV_OTHER, /* unknown signature */
};

struct sw_md_version_info { /* VS_FIXEDFILEINFO */
    uint32_t signature, struct_version, file_version_hi, file_version_lo, product_version_hi,
        product_version_lo, file_flags_mask, file_flags, file_os, file_type, file_subtype,
        file_date_hi, file_date_lo;
};

struct sw_md_module {
    uint64_t base;
    uint64_t size;
    uint32_t checksum, time_date_stamp;
    const char *name; /* full path as written (UTF-8); "" when unreadable */
    struct sw_md_version_info version_info;
    enum sw_cv_kind cv_kind;
    uint32_t guid_data1;
    uint16_t guid_data2, guid_data3;
    uint8_t guid_data4[8];
    uint32_t age; /* PDB70/PDB20 */
    uint32_t pdb20_signature;
    struct sw_bytes build_id; /* SW_CV_ELF */
    const char *pdb_file;     /* name in the PDB70/PDB20 record, NULL otherwise */
    const char *misc_file;    /* IMAGE_DEBUG_MISC name, NULL when absent */
    /* Identifiers (never NULL). debug_id/code_id are Breakpad's forms: debug_id "" when the
     * module has no usable CodeView record; code_id keeps its case (%08X%x on Windows). */
    const char *code_file;  /* = name */
    const char *code_id;    /* Windows: %08X%x; ELF: build id hex; Mach-O: UUID hex; else "" */
    const char *debug_file; /* pdb name, or the code file for ELF; "" when unknown */
    const char *debug_id;
    const char *version; /* "a.b.c.d" from VS_FIXEDFILEINFO, NULL when absent */
};

struct sw_md_unloaded_module {
    uint64_t base, size;
    uint32_t checksum, time_date_stamp;
    const char *name;    /* "" when unreadable */
    const char *code_id; /* %08X%x of time_date_stamp and size */
};

struct sw_md_memory {
    uint64_t base, size;
    const uint8_t *data; /* borrowed from the dump, size bytes */
};

struct sw_md_memory_info {
    uint64_t base, allocation_base;
    uint32_t allocation_protection;
    uint64_t region_size;
    uint32_t state, protection, type;
};

struct sw_md_exception {
    bool present;
    uint32_t thread_id;
    uint32_t code, flags;
    uint64_t record, address;
    uint32_t n_params; /* clamped to 15 */
    uint64_t params[15];
    struct sw_bytes context; /* raw CONTEXT record; p NULL when unreadable */
};

struct sw_md_misc_info {
    bool present;
    uint32_t size_of_info, flags1;
    bool has_process_id, has_process_times, has_power_info, has_build_string;
    uint32_t process_id;
    uint32_t process_create_time, process_user_time, process_kernel_time;
    uint32_t processor_max_mhz, processor_current_mhz, processor_mhz_limit;
    const char *build_string, *dbg_bld_str; /* NULL when absent */
};

struct sw_md_breakpad_info {
    bool present;
    bool has_dump_thread, has_requesting_thread;
    uint32_t dump_thread_id, requesting_thread_id;
};

struct sw_md_assertion {
    bool present;
    const char *expression, *function, *file;
    uint32_t line, type;
};

struct sw_md_kv {
    const char *key, *value;
};

struct sw_md_annotation_object { /* Crashpad MinidumpAnnotation */
    const char *name;
    uint16_t type;
    struct sw_bytes value;
};

struct sw_md_crashpad_module {
    uint32_t module_index;
    size_t n_list_annotations;
    const char **list_annotations;
    size_t n_simple_annotations;
    struct sw_md_kv *simple_annotations;
    size_t n_annotation_objects;
    struct sw_md_annotation_object *annotation_objects;
};

struct sw_md_crashpad_info {
    bool present;
    uint32_t version;
    uint8_t report_id[16], client_id[16];
    size_t n_simple_annotations;
    struct sw_md_kv *simple_annotations;
    size_t n_modules;
    struct sw_md_crashpad_module *modules;
};

struct sw_md_handle {
    uint64_t handle;
    const char *type_name, *object_name; /* NULL when absent */
    uint32_t attributes, granted_access, handle_count, pointer_count;
};

struct sw_md_mac_crash_record {
    uint64_t version, thread, dialog_mode, abort_cause;
    bool has_thread_fields; /* version >= 4 */
    bool has_abort_cause;   /* version >= 5 */
    const char *module_path, *message, *signature_string, *backtrace, *message2;
};

struct sw_md_linux {
    struct sw_bytes cpu_info, proc_status, lsb_release, cmd_line, environ, auxv, maps, dso_debug;
    /* Derived from the text streams. */
    bool has_lsb;
    struct {
        const char *id, *release, *codename, *description; /* "" when missing */
    } lsb;
    bool has_pid;
    uint32_t pid; /* "Pid:" of proc status */
    bool has_maps;
    uint32_t maps_count;               /* lines of /proc/self/maps */
    const char *cpu_microcode_version; /* "0x..." from cpuinfo, NULL when absent */
};

struct sw_md_warning {
    uint32_t stream_type;
    sym_err code;
    char msg[120];
};
#define SW_MD_MAX_WARNINGS 16

struct sw_minidump {
    /* Header. */
    uint32_t version;
    uint32_t stream_count;
    uint32_t checksum;
    uint32_t time_date_stamp;
    uint64_t flags;
    bool big_endian;

    struct sw_md_system_info system_info;

    size_t n_threads;
    struct sw_md_thread *threads;

    size_t n_modules;
    struct sw_md_module *modules; /* in stream order; index 0 is the main module */

    size_t n_unloaded_modules;
    struct sw_md_unloaded_module *unloaded_modules;

    size_t n_memory; /* MemoryList regions, else Memory64List; sorted by base, no overlaps */
    struct sw_md_memory *memory;

    size_t n_memory_info;
    struct sw_md_memory_info *memory_info;

    struct sw_md_exception exception;
    struct sw_md_misc_info misc_info;
    struct sw_md_breakpad_info breakpad_info;
    struct sw_md_assertion assertion;
    struct sw_md_crashpad_info crashpad;
    struct sw_md_linux linux_info;

    size_t n_handles;
    struct sw_md_handle *handles;
    bool has_handle_stream;

    size_t n_mac_crash_records;
    struct sw_md_mac_crash_record *mac_crash_records;
    bool has_mac_crash_info;
    const char *mac_boot_args;   /* NULL when absent */
    struct sw_bytes proc_limits; /* Mozilla /proc/self/limits text */
    struct sw_bytes soft_errors; /* Mozilla soft-errors JSON text */

    size_t n_warnings; /* damaged optional streams that were dropped (at most SW_MD_MAX_WARNINGS
                          kept; n_warnings counts them all) */
    struct sw_md_warning warnings[SW_MD_MAX_WARNINGS];

    void *priv; /* internal: the arena that owns every string and array above */
};

/* Parses a minidump held in memory. data is borrowed: it must outlive *out, which points into
 * it (stack bytes, build ids, raw streams). lim NULL selects the defaults.
 * Errors: SYM_EINVAL (data NULL); SYM_EPARSE (not a minidump, bad header or directory, no usable
 * thread list; d says which); SYM_ELIMIT (a count exceeds lim, or decoding it would take more
 * than max_decoded_bytes); SYM_ENOMEM.
 * On success *out is owned by the caller: free with sw_minidump_free(). Thread-safe for distinct
 * dumps; a parsed dump is read-only and may be shared between threads. */
SYM_MUST_CHECK sym_err sw_minidump_open(const void *data, size_t len,
                                        const struct sw_md_limits *lim, struct sw_minidump **out,
                                        struct sym_diag *d);
void sw_minidump_free(struct sw_minidump *md); /* NULL ok */

/* The raw bytes of the first stream of a type; false when absent or out of bounds. */
bool sw_minidump_stream(const struct sw_minidump *md, uint32_t type, struct sw_bytes *out);

/* The memory region containing addr (MemoryList, else Memory64List); NULL when none. */
const struct sw_md_memory *sw_minidump_memory_at(const struct sw_minidump *md, uint64_t addr);

/* The module whose [base, base + size) contains addr; NULL when none. O(log n). */
const struct sw_md_module *sw_minidump_module_at(const struct sw_minidump *md, uint64_t addr);

/* Decodes a thread's CONTEXT (thread context, not the exception context). SYM_ENOTFOUND when the
 * thread has none; SYM_EPARSE when it cannot be decoded. */
SYM_MUST_CHECK sym_err sw_minidump_thread_context(const struct sw_minidump *md, size_t idx,
                                                  struct sw_context *out);
/* Decodes the exception stream's CONTEXT; SYM_ENOTFOUND / SYM_EPARSE as above. */
SYM_MUST_CHECK sym_err sw_minidump_exception_context(const struct sw_minidump *md,
                                                     struct sw_context *out);

/* "Windows NT", "Mac OS X", "iOS", "Linux", "Solaris", "Android", "PS3", "NaCl", "Fuchsia", or
 * NULL for unknown platform ids (callers print the hex code). */
const char *sw_os_name(enum sw_os os);
/* Breakpad's short names: "windows", "mac", "ios", "linux", "solaris", "android", "ps3", "nacl",
 * "fuchsia", "unknown". */
const char *sw_os_short_name(enum sw_os os);

/* The basename of a path, splitting on both '/' and '\\'. */
const char *sw_basename(const char *path);

#endif
