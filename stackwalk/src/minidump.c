/* SPDX-License-Identifier: MPL-2.0 */
/* minidump.c: the minidump reader. Parses the header and directory, then each known stream into
 * the model of stackwalk/minidump.h. Every structure is read field by field at explicit offsets
 * through the bounds-checked md_rd readers; counts are checked against both the stream size and
 * the configured limits before anything is allocated. */
#include "stackwalk/minidump.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_int.h"
#include "sym/alloc.h"

#define MD_SIGNATURE      0x504D444Du /* "MDMP" */
#define MD_SIGNATURE_SWAP 0x4D444D50u
#define MD_VERSION        0xA793u

#define CV_PDB70 0x53445352u /* "RSDS" */
#define CV_PDB20 0x3031424Eu /* "NB10" */
#define CV_ELF   0x4270454Cu /* "BpEL" */

#define VS_FFI_SIGNATURE 0xFEEF04BDu
#define VS_FFI_VERSION   0x00010000u

#define THREAD_SIZE    48u
#define MODULE_SIZE    108u
#define MEMDESC_SIZE   16u
#define EXCEPTION_SIZE 168u

void sw_md_limits_default(struct sw_md_limits *lim)
{
    lim->max_streams = 4096;
    lim->max_threads = 65536;
    lim->max_modules = 65536;
    lim->max_memory_regions = 1u << 20;
    lim->max_string_bytes = 65536;
    lim->max_handles = 65536;
    lim->max_annotations = 65536;
    lim->max_decoded_bytes = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

void md_warn(struct sw_minidump *md, uint32_t stream, sym_err code, const char *fmt, ...)
{
    if (md->n_warnings < SW_MD_MAX_WARNINGS) {
        struct sw_md_warning *w = &md->warnings[md->n_warnings];
        w->stream_type = stream;
        w->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
        va_end(ap);
    }
    md->n_warnings++;
}

struct md_priv *md_priv_of(const struct sw_minidump *md)
{
    return (struct md_priv *)md->priv;
}

/* Appends the UTF-8 encoding of code point cp to out (which has room for 4 bytes). */
static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Converts n_units UTF-16 code units at r[off] to a NUL-terminated UTF-8 arena string. Unpaired
 * surrogates become U+FFFD; conversion stops at an embedded NUL. */
char *md_utf16_to_utf8(struct md_arena *a, const struct md_rd *r, uint64_t off, size_t n_units)
{
    if (!md_has(r, off, (uint64_t)n_units * 2))
        return NULL;
    char *out = md_arena_alloc(a, n_units * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n_units; i++) {
        uint16_t u;
        (void)md_u16(r, off + 2 * i, &u);
        if (u == 0)
            break;
        uint32_t cp = u;
        if (u >= 0xD800 && u <= 0xDBFF) {
            uint16_t lo = 0;
            if (i + 1 < n_units && md_u16(r, off + 2 * (i + 1), &lo) && lo >= 0xDC00 &&
                lo <= 0xDFFF) {
                cp = 0x10000 + ((uint32_t)(u - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            } else {
                cp = 0xFFFD;
            }
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            cp = 0xFFFD;
        }
        o += put_utf8(cp, out + o);
    }
    out[o] = '\0';
    return out;
}

/* MINIDUMP_STRING at rva: u32 byte length + UTF-16 units. NULL when unreadable or too long. */
char *md_read_string(struct sw_minidump *md, uint64_t rva)
{
    struct md_priv *pv = md_priv_of(md);
    uint32_t bytes;
    if (rva == 0 || !md_u32(&pv->whole, rva, &bytes))
        return NULL;
    if (bytes > pv->lim.max_string_bytes || !md_has(&pv->whole, rva + 4, bytes))
        return NULL;
    return md_utf16_to_utf8(&pv->arena, &pv->whole, rva + 4, bytes / 2);
}

/* A NUL-terminated 8-bit string inside r starting at off (bounded by r); NULL when unterminated
 * or when max bytes pass without a NUL. */
char *md_read_cstring(struct md_arena *a, const struct md_rd *r, uint64_t off, size_t max)
{
    if (off > r->len)
        return NULL;
    size_t avail = r->len - (size_t)off;
    if (avail > max)
        avail = max;
    const uint8_t *p = r->p + off;
    const uint8_t *nul = memchr(p, 0, avail);
    if (nul == NULL)
        return NULL;
    return md_arena_strndup(a, (const char *)p, (size_t)(nul - p));
}

/* A location descriptor {u32 size, u32 rva} at off in r, resolved against the whole file. */
bool md_read_location(const struct sw_minidump *md, const struct md_rd *r, uint64_t off,
                      struct sw_bytes *out)
{
    uint32_t size, rva;
    if (!md_u32(r, off, &size) || !md_u32(r, off + 4, &rva))
        return false;
    const struct md_rd *w = &md_priv_of(md)->whole;
    if (size == 0 || !md_has(w, rva, size))
        return false;
    out->p = w->p + rva;
    out->n = size;
    return true;
}

bool md_stream_rd(const struct sw_minidump *md, uint32_t type, struct md_rd *out)
{
    const struct md_priv *pv = md_priv_of(md);
    for (size_t i = 0; i < pv->n_dir; i++) {
        if (pv->dir[i].type != type)
            continue;
        /* The first entry of a type wins, even when it turns out to be unreadable. */
        return md_sub(&pv->whole, pv->dir[i].rva, pv->dir[i].size, out);
    }
    return false;
}

bool sw_minidump_stream(const struct sw_minidump *md, uint32_t type, struct sw_bytes *out)
{
    struct md_rd r;
    if (md == NULL || !md_stream_rd(md, type, &r))
        return false;
    out->p = r.p;
    out->n = r.len;
    return true;
}

static bool stream_present(const struct sw_minidump *md, uint32_t type)
{
    const struct md_priv *pv = md_priv_of(md);
    for (size_t i = 0; i < pv->n_dir; i++)
        if (pv->dir[i].type == type)
            return true;
    return false;
}

/* Count-prefixed lists: u32 count, optionally 4 bytes of padding, then count entries. Returns
 * the offset of the first entry, or 0 when the size matches neither layout. */
static uint64_t list_start(const struct md_rd *r, uint32_t count, uint32_t entry_size)
{
    uint64_t body = (uint64_t)count * entry_size;
    if (r->len == 4 + body)
        return 4;
    if (r->len == 8 + body)
        return 8;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * SystemInfo
 * ------------------------------------------------------------------------------------------- */

static enum sw_cpu cpu_of_arch(uint16_t arch)
{
    switch (arch) {
    case 0:
    case 10: /* ia32 on win64 */
        return SW_CPU_X86;
    case 9:
        return SW_CPU_AMD64;
    case 5:
        return SW_CPU_ARM;
    case 12:
    case 0x8003: /* Breakpad's pre-Windows arm64 */
        return SW_CPU_ARM64;
    case 3:
        return SW_CPU_PPC;
    case 0x8002:
        return SW_CPU_PPC64;
    case 0x8001:
        return SW_CPU_SPARC;
    case 1:
        return SW_CPU_MIPS;
    case 0x8004:
        return SW_CPU_MIPS64;
    default:
        return SW_CPU_UNKNOWN;
    }
}

static enum sw_os os_of_platform(uint32_t id)
{
    switch (id) {
    case 0:
    case 1:
    case 2:
    case 3:
        return SW_OS_WINDOWS;
    case 0x8101:
        return SW_OS_MACOS;
    case 0x8102:
        return SW_OS_IOS;
    case 0x8201:
        return SW_OS_LINUX;
    case 0x8202:
        return SW_OS_SOLARIS;
    case 0x8203:
        return SW_OS_ANDROID;
    case 0x8204:
        return SW_OS_PS3;
    case 0x8205:
        return SW_OS_NACL;
    case 0x8206:
        return SW_OS_FUCHSIA;
    default:
        return SW_OS_UNKNOWN;
    }
}

const char *sw_os_name(enum sw_os os)
{
    switch (os) {
    case SW_OS_WINDOWS:
        return "Windows NT";
    case SW_OS_MACOS:
        return "Mac OS X";
    case SW_OS_IOS:
        return "iOS";
    case SW_OS_LINUX:
        return "Linux";
    case SW_OS_SOLARIS:
        return "Solaris";
    case SW_OS_ANDROID:
        return "Android";
    case SW_OS_PS3:
        return "PS3";
    case SW_OS_NACL:
        return "NaCl";
    case SW_OS_FUCHSIA:
        return "Fuchsia";
    default:
        return NULL;
    }
}

const char *sw_os_short_name(enum sw_os os)
{
    switch (os) {
    case SW_OS_WINDOWS:
        return "windows";
    case SW_OS_MACOS:
        return "mac";
    case SW_OS_IOS:
        return "ios";
    case SW_OS_LINUX:
        return "linux";
    case SW_OS_SOLARIS:
        return "solaris";
    case SW_OS_ANDROID:
        return "android";
    case SW_OS_PS3:
        return "ps3";
    case SW_OS_NACL:
        return "nacl";
    case SW_OS_FUCHSIA:
        return "fuchsia";
    default:
        return "unknown";
    }
}

static void parse_system_info(struct sw_minidump *md)
{
    struct md_rd r;
    struct sw_md_system_info *si = &md->system_info;
    si->csd_version = "";
    if (!md_stream_rd(md, SW_STREAM_SYSTEM_INFO, &r)) {
        if (stream_present(md, SW_STREAM_SYSTEM_INFO))
            md_warn(md, SW_STREAM_SYSTEM_INFO, SYM_EPARSE, "system info stream out of bounds");
        return;
    }
    if (r.len < 56) {
        md_warn(md, SW_STREAM_SYSTEM_INFO, SYM_EPARSE, "system info stream too short (%zu bytes)",
                r.len);
        return;
    }
    uint32_t csd_rva = 0;
    (void)md_u16(&r, 0, &si->processor_architecture);
    (void)md_u16(&r, 2, &si->processor_level);
    (void)md_u16(&r, 4, &si->processor_revision);
    (void)md_u8(&r, 6, &si->number_of_processors);
    (void)md_u8(&r, 7, &si->product_type);
    (void)md_u32(&r, 8, &si->major_version);
    (void)md_u32(&r, 12, &si->minor_version);
    (void)md_u32(&r, 16, &si->build_number);
    (void)md_u32(&r, 20, &si->platform_id);
    (void)md_u32(&r, 24, &csd_rva);
    (void)md_u16(&r, 28, &si->suite_mask);
    si->cpu = cpu_of_arch(si->processor_architecture);
    si->os = os_of_platform(si->platform_id);
    if (si->cpu == SW_CPU_X86 || si->cpu == SW_CPU_AMD64) {
        /* The vendor id is three little-endian u32s of ASCII ("GenuineIntel"). Only x86
         * writers fill it; amd64 dumps carry zeros or garbage there. */
        for (unsigned i = 0; i < 3; i++) {
            uint32_t w;
            (void)md_u32(&r, 32 + 4 * i, &w);
            for (unsigned b = 0; b < 4; b++) {
                char c = (char)(w >> (8 * b) & 0xFF);
                si->vendor_id[4 * i + b] = c;
            }
        }
        si->vendor_id[12] = '\0';
        if (si->cpu != SW_CPU_X86)
            si->vendor_id[0] = '\0';
        /* Keep only printable ASCII up to the first NUL. */
        for (unsigned i = 0; i < 12; i++) {
            if (si->vendor_id[i] == '\0')
                break;
            if (si->vendor_id[i] < 0x20 || si->vendor_id[i] > 0x7E)
                si->vendor_id[i] = '?';
        }
        (void)md_u32(&r, 44, &si->cpu_version_information);
        (void)md_u32(&r, 48, &si->cpu_feature_information);
        (void)md_u32(&r, 52, &si->amd_extended_cpu_features);
    } else {
        (void)md_u64(&r, 32, &si->processor_features[0]);
        (void)md_u64(&r, 40, &si->processor_features[1]);
    }
    if (csd_rva != 0) {
        char *csd = md_read_string(md, csd_rva);
        if (csd != NULL) {
            si->csd_version = csd;
            si->has_csd_version = true;
        } else
            md_warn(md, SW_STREAM_SYSTEM_INFO, SYM_EPARSE, "unreadable CSD version string");
    }
    si->present = true;
}

/* ---------------------------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------------------------- */

static sym_err parse_thread_list(struct sw_minidump *md, struct sym_diag *d)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r;
    if (!md_stream_rd(md, SW_STREAM_THREAD_LIST, &r)) {
        if (stream_present(md, SW_STREAM_THREAD_LIST))
            return sym_diag_set(d, SYM_EPARSE, "minidump thread list stream is out of bounds");
        return sym_diag_set(d, SYM_EPARSE, "minidump has no thread list stream");
    }
    uint32_t count;
    if (!md_u32(&r, 0, &count))
        return sym_diag_set(d, SYM_EPARSE, "minidump thread list is truncated");
    uint64_t off = list_start(&r, count, THREAD_SIZE);
    if (off == 0)
        return sym_diag_set(d, SYM_EPARSE,
                            "minidump thread list size %zu does not match its count %u", r.len,
                            count);
    if (count > pv->lim.max_threads)
        return sym_diag_set(d, SYM_ELIMIT, "minidump has %u threads (limit %u)", count,
                            pv->lim.max_threads);
    if (count == 0)
        return SYM_OK;
    md->threads = md_arena_alloc(&pv->arena, (size_t)count * sizeof(*md->threads));
    if (md->threads == NULL)
        return SYM_ENOMEM;
    for (uint32_t i = 0; i < count; i++, off += THREAD_SIZE) {
        struct sw_md_thread *t = &md->threads[i];
        uint32_t stack_size = 0, stack_rva = 0;
        (void)md_u32(&r, off, &t->thread_id);
        (void)md_u32(&r, off + 4, &t->suspend_count);
        (void)md_u32(&r, off + 8, &t->priority_class);
        (void)md_u32(&r, off + 12, &t->priority);
        (void)md_u64(&r, off + 16, &t->teb);
        (void)md_u64(&r, off + 24, &t->stack_start);
        (void)md_u32(&r, off + 32, &stack_size);
        (void)md_u32(&r, off + 36, &stack_rva);
        if (stack_size != 0 && stack_rva != 0 && md_has(&pv->whole, stack_rva, stack_size) &&
            stack_size - 1 <= UINT64_MAX - t->stack_start) {
            t->stack.p = pv->whole.p + stack_rva;
            t->stack.n = stack_size;
        }
        (void)md_read_location(md, &r, off + 40, &t->context);
    }
    md->n_threads = count;
    return SYM_OK;
}

static void parse_thread_names(struct sw_minidump *md)
{
    struct md_rd r;
    if (!md_stream_rd(md, SW_STREAM_THREAD_NAMES, &r))
        return;
    uint32_t count;
    if (!md_u32(&r, 0, &count) || r.len - 4 < (uint64_t)count * 12) {
        md_warn(md, SW_STREAM_THREAD_NAMES, SYM_EPARSE, "thread names list is truncated");
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t tid;
        uint64_t rva;
        (void)md_u32(&r, 4 + 12 * (uint64_t)i, &tid);
        (void)md_u64(&r, 8 + 12 * (uint64_t)i, &rva);
        if (rva > UINT32_MAX)
            continue;
        for (size_t t = 0; t < md->n_threads; t++) {
            if (md->threads[t].thread_id != tid || md->threads[t].name != NULL)
                continue;
            char *name = md_read_string(md, rva);
            if (name == NULL) {
                md_warn(md, SW_STREAM_THREAD_NAMES, SYM_EPARSE, "unreadable name for thread %u",
                        tid);
                break;
            }
            md->threads[t].name = name;
            break;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Modules and identifiers
 * ------------------------------------------------------------------------------------------- */

static const char hexu[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

const char *sw_basename(const char *path)
{
    if (path == NULL)
        return "";
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            b = p + 1;
    return b;
}

static char *fmt_guid_id(struct md_arena *a, const struct sw_md_module *m, bool with_age,
                         bool lower)
{
    char buf[64];
    int n = snprintf(buf, sizeof(buf), lower ? "%08x%04x%04x" : "%08X%04X%04X", m->guid_data1,
                     m->guid_data2, m->guid_data3);
    const char *hx = lower ? hexl : hexu;
    for (unsigned i = 0; i < 8; i++) {
        buf[n++] = hx[m->guid_data4[i] >> 4];
        buf[n++] = hx[m->guid_data4[i] & 15];
    }
    buf[n] = '\0';
    if (with_age)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%x", m->age);
    return md_arena_strndup(a, buf, (size_t)n);
}

static void parse_cv_record(struct sw_minidump *md, struct sw_md_module *m, struct sw_bytes cv)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r = {cv.p, cv.n, md->big_endian};
    uint32_t sig;
    if (!md_u32(&r, 0, &sig))
        return;
    if (sig == CV_PDB70) {
        /* signature, GUID (16), age, NUL-terminated name: at least 25 bytes. */
        if (r.len < 25)
            goto bad;
        (void)md_u32(&r, 4, &m->guid_data1);
        (void)md_u16(&r, 8, &m->guid_data2);
        (void)md_u16(&r, 10, &m->guid_data3);
        memcpy(m->guid_data4, r.p + 12, 8);
        (void)md_u32(&r, 20, &m->age);
        m->pdb_file = md_read_cstring(&pv->arena, &r, 24, r.len);
        if (m->pdb_file == NULL)
            goto bad;
        m->cv_kind = SW_CV_PDB70;
    } else if (sig == CV_PDB20) {
        /* signature, offset, timestamp, age, NUL-terminated name: at least 17 bytes. */
        if (r.len < 17)
            goto bad;
        (void)md_u32(&r, 8, &m->pdb20_signature);
        (void)md_u32(&r, 12, &m->age);
        m->pdb_file = md_read_cstring(&pv->arena, &r, 16, r.len);
        if (m->pdb_file == NULL)
            goto bad;
        m->cv_kind = SW_CV_PDB20;
    } else if (sig == CV_ELF) {
        m->build_id.p = r.p + 4;
        m->build_id.n = r.len - 4;
        m->cv_kind = SW_CV_ELF;
    } else {
        m->cv_kind = SW_CV_OTHER;
    }
    return;
bad:
    md_warn(md, SW_STREAM_MODULE_LIST, SYM_EPARSE, "malformed CodeView record for module %s",
            m->name);
}

/* IMAGE_DEBUG_MISC: data_type u32, length u32, unicode u8, reserved[3], data. */
static void parse_misc_record(struct sw_minidump *md, struct sw_md_module *m, struct sw_bytes mr)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r = {mr.p, mr.n, md->big_endian};
    uint32_t len;
    uint8_t unicode;
    if (r.len < 12 || !md_u32(&r, 4, &len) || len != r.len || !md_u8(&r, 8, &unicode))
        return;
    if (unicode) {
        m->misc_file = md_utf16_to_utf8(&pv->arena, &r, 12, (r.len - 12) / 2);
    } else {
        const uint8_t *p = r.p + 12;
        size_t n = r.len - 12;
        const uint8_t *nul = memchr(p, 0, n);
        m->misc_file = md_arena_strndup(&pv->arena, (const char *)p, nul ? (size_t)(nul - p) : n);
    }
}

/* Formats debug_file/debug_id/code_id/version of m per the symbol-store conventions. */
static sym_err format_module_ids(struct sw_minidump *md, struct sw_md_module *m)
{
    struct md_arena *a = &md_priv_of(md)->arena;
    char buf[64];
    m->code_file = m->name;
    m->debug_file = "";
    m->debug_id = "";
    m->code_id = "";
    switch (m->cv_kind) {
    case SW_CV_PDB70:
        m->debug_file = m->pdb_file;
        m->debug_id = fmt_guid_id(a, m, true, false);
        break;
    case SW_CV_PDB20: {
        int n = snprintf(buf, sizeof(buf), "%08X%x", m->pdb20_signature, m->age);
        m->debug_file = m->pdb_file;
        m->debug_id = md_arena_strndup(a, buf, (size_t)n);
        break;
    }
    case SW_CV_ELF: {
        /* The first 16 bytes of the build id (zero-padded) read as a GUID, age 0. */
        uint8_t b[16] = {0};
        memcpy(b, m->build_id.p, m->build_id.n < 16 ? m->build_id.n : 16);
        int n = snprintf(buf, sizeof(buf), "%02X%02X%02X%02X%02X%02X%02X%02X", b[3], b[2], b[1],
                         b[0], b[5], b[4], b[7], b[6]);
        for (unsigned i = 8; i < 16; i++) {
            buf[n++] = hexu[b[i] >> 4];
            buf[n++] = hexu[b[i] & 15];
        }
        buf[n++] = '0';
        buf[n] = '\0';
        m->debug_file = m->name;
        m->debug_id = md_arena_strndup(a, buf, (size_t)n);
        break;
    }
    default:
        if (m->misc_file != NULL)
            m->debug_file = m->misc_file;
        break;
    }
    if (m->debug_file == NULL || m->debug_id == NULL)
        return SYM_ENOMEM;

    enum sw_os os = md->system_info.os;
    if ((os == SW_OS_LINUX || os == SW_OS_ANDROID || os == SW_OS_FUCHSIA) &&
        m->cv_kind == SW_CV_ELF) {
        char *id = md_arena_alloc(a, m->build_id.n * 2 + 1);
        if (id == NULL)
            return SYM_ENOMEM;
        for (size_t i = 0; i < m->build_id.n; i++) {
            id[2 * i] = hexl[m->build_id.p[i] >> 4];
            id[2 * i + 1] = hexl[m->build_id.p[i] & 15];
        }
        m->code_id = id;
    } else if ((os == SW_OS_MACOS || os == SW_OS_IOS) && m->cv_kind == SW_CV_PDB70) {
        m->code_id = fmt_guid_id(a, m, false, true);
    } else if (os == SW_OS_WINDOWS || os == SW_OS_LINUX || os == SW_OS_ANDROID ||
               os == SW_OS_FUCHSIA) {
        int n = snprintf(buf, sizeof(buf), "%08X%" PRIx64, m->time_date_stamp, m->size);
        m->code_id = md_arena_strndup(a, buf, (size_t)n);
    }
    if (m->code_id == NULL)
        return SYM_ENOMEM;

    const struct sw_md_version_info *v = &m->version_info;
    if (v->signature == VS_FFI_SIGNATURE && (v->struct_version & VS_FFI_VERSION)) {
        int n = snprintf(buf, sizeof(buf), "%u.%u.%u.%u", v->file_version_hi >> 16,
                         v->file_version_hi & 0xFFFF, v->file_version_lo >> 16,
                         v->file_version_lo & 0xFFFF);
        m->version = md_arena_strndup(a, buf, (size_t)n);
        if (m->version == NULL)
            return SYM_ENOMEM;
    }
    return SYM_OK;
}

static int cmp_range(const void *a, const void *b)
{
    const struct mod_range *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static bool same_module(const struct sw_md_module *a, const struct sw_md_module *b)
{
    return a->base == b->base && a->size == b->size && strcmp(a->name, b->name) == 0 &&
           strcmp(a->code_id, b->code_id) == 0;
}

/* Builds the sorted, non-overlapping address index used by sw_minidump_module_at. Exact
 * duplicates are skipped. On Linux and Android, where a library often appears as several
 * overlapping mappings, the lower of two overlapping ranges is truncated where the higher one
 * starts; elsewhere an overlapping range loses to the one listed first. */
static sym_err build_module_index(struct sw_minidump *md)
{
    struct md_priv *pv = md_priv_of(md);
    if (md->n_modules == 0)
        return SYM_OK;
    struct mod_range *r = md_arena_alloc(&pv->arena, md->n_modules * sizeof(*r));
    if (r == NULL)
        return SYM_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < md->n_modules; i++) {
        const struct sw_md_module *m = &md->modules[i];
        if (m->size == 0 || m->base > UINT64_MAX - m->size)
            continue;
        r[n].start = m->base;
        r[n].end = m->base + m->size;
        r[n].index = (uint32_t)i;
        n++;
    }
    qsort(r, n, sizeof(*r), cmp_range);
    bool truncate = md->system_info.os == SW_OS_LINUX || md->system_info.os == SW_OS_ANDROID;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && r[i].start < r[k - 1].end) {
            struct mod_range *prev = &r[k - 1];
            if (same_module(&md->modules[prev->index], &md->modules[r[i].index]))
                continue;
            if (truncate && r[i].start > prev->start) {
                prev->end = r[i].start;
            } else {
                /* Keep whichever was listed first. Replacing prev cannot create an overlap
                 * with the range before it, which ends at or below prev->start. */
                if (r[i].index < prev->index)
                    *prev = r[i];
                continue;
            }
        }
        r[k++] = r[i];
    }
    pv->ranges = r;
    pv->n_ranges = k;
    return SYM_OK;
}

const struct sw_md_module *sw_minidump_module_at(const struct sw_minidump *md, uint64_t addr)
{
    if (md == NULL)
        return NULL;
    const struct md_priv *pv = md_priv_of(md);
    size_t lo = 0, hi = pv->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pv->ranges[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct mod_range *r = &pv->ranges[lo - 1];
    return addr < r->end ? &md->modules[r->index] : NULL;
}

static sym_err parse_module_list(struct sw_minidump *md)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r;
    if (!md_stream_rd(md, SW_STREAM_MODULE_LIST, &r)) {
        if (stream_present(md, SW_STREAM_MODULE_LIST))
            md_warn(md, SW_STREAM_MODULE_LIST, SYM_EPARSE, "module list stream out of bounds");
        return SYM_OK;
    }
    uint32_t count;
    uint64_t off;
    if (!md_u32(&r, 0, &count) || (off = list_start(&r, count, MODULE_SIZE)) == 0) {
        md_warn(md, SW_STREAM_MODULE_LIST, SYM_EPARSE, "module list size does not match its count");
        return SYM_OK;
    }
    if (count > pv->lim.max_modules) {
        md_warn(md, SW_STREAM_MODULE_LIST, SYM_ELIMIT, "%u modules (limit %u)", count,
                pv->lim.max_modules);
        return SYM_OK;
    }
    if (count == 0)
        return SYM_OK;
    md->modules = md_arena_alloc(&pv->arena, (size_t)count * sizeof(*md->modules));
    if (md->modules == NULL)
        return SYM_ENOMEM;
    for (uint32_t i = 0; i < count; i++, off += MODULE_SIZE) {
        struct sw_md_module *m = &md->modules[i];
        uint32_t size32, name_rva;
        (void)md_u64(&r, off, &m->base);
        (void)md_u32(&r, off + 8, &size32);
        m->size = size32;
        (void)md_u32(&r, off + 12, &m->checksum);
        (void)md_u32(&r, off + 16, &m->time_date_stamp);
        (void)md_u32(&r, off + 20, &name_rva);
        uint32_t *vf = &m->version_info.signature;
        for (unsigned k = 0; k < 13; k++)
            (void)md_u32(&r, off + 24 + 4 * k, &vf[k]);
        m->name = md_read_string(md, name_rva);
        if (m->name == NULL) {
            md_warn(md, SW_STREAM_MODULE_LIST, SYM_EPARSE, "unreadable name of module %u", i);
            m->name = "";
        }
        struct sw_bytes cv = {0}, misc = {0};
        if (md_read_location(md, &r, off + 76, &cv))
            parse_cv_record(md, m, cv);
        if (md_read_location(md, &r, off + 84, &misc))
            parse_misc_record(md, m, misc);
    }
    md->n_modules = count;
    return SYM_OK;
}

static sym_err parse_unloaded_modules(struct sw_minidump *md)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r;
    if (!md_stream_rd(md, SW_STREAM_UNLOADED_MODULE_LIST, &r))
        return SYM_OK;
    uint32_t hdr, entry, count;
    if (!md_u32(&r, 0, &hdr) || !md_u32(&r, 4, &entry) || !md_u32(&r, 8, &count) || hdr < 12 ||
        entry < 24 || hdr > r.len || (r.len - hdr) / entry < count) {
        md_warn(md, SW_STREAM_UNLOADED_MODULE_LIST, SYM_EPARSE, "malformed unloaded module list");
        return SYM_OK;
    }
    if (count > pv->lim.max_modules) {
        md_warn(md, SW_STREAM_UNLOADED_MODULE_LIST, SYM_ELIMIT, "%u unloaded modules (limit %u)",
                count, pv->lim.max_modules);
        return SYM_OK;
    }
    if (count == 0)
        return SYM_OK;
    md->unloaded_modules =
        md_arena_alloc(&pv->arena, (size_t)count * sizeof(*md->unloaded_modules));
    if (md->unloaded_modules == NULL)
        return SYM_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t off = hdr + (uint64_t)i * entry;
        struct sw_md_unloaded_module *u = &md->unloaded_modules[i];
        uint32_t size32, name_rva;
        (void)md_u64(&r, off, &u->base);
        (void)md_u32(&r, off + 8, &size32);
        u->size = size32;
        (void)md_u32(&r, off + 12, &u->checksum);
        (void)md_u32(&r, off + 16, &u->time_date_stamp);
        (void)md_u32(&r, off + 20, &name_rva);
        u->name = md_read_string(md, name_rva);
        if (u->name == NULL)
            u->name = "";
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%08X%" PRIx64, u->time_date_stamp, u->size);
        u->code_id = md_arena_strndup(&pv->arena, buf, (size_t)n);
        if (u->code_id == NULL)
            return SYM_ENOMEM;
    }
    md->n_unloaded_modules = count;
    return SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Memory
 * ------------------------------------------------------------------------------------------- */

struct mem_tmp {
    struct sw_md_memory m;
    uint32_t order;
};

static int cmp_mem(const void *a, const void *b)
{
    const struct mem_tmp *x = a, *y = b;
    if (x->m.base != y->m.base)
        return x->m.base < y->m.base ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

/* Sorts regions by base and removes overlaps, keeping the region listed first. */
static size_t normalize_memory(struct mem_tmp *t, size_t n)
{
    qsort(t, n, sizeof(*t), cmp_mem);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && t[i].m.base - t[k - 1].m.base < t[k - 1].m.size) {
            if (t[i].order < t[k - 1].order)
                t[k - 1] = t[i];
            continue;
        }
        t[k++] = t[i];
    }
    return k;
}

static sym_err parse_memory(struct sw_minidump *md)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r;
    struct mem_tmp *tmp = NULL;
    size_t n = 0;
    if (md_stream_rd(md, SW_STREAM_MEMORY_LIST, &r)) {
        uint32_t count;
        uint64_t off;
        if (!md_u32(&r, 0, &count) || (off = list_start(&r, count, MEMDESC_SIZE)) == 0) {
            md_warn(md, SW_STREAM_MEMORY_LIST, SYM_EPARSE, "memory list size does not match count");
        } else if (count > pv->lim.max_memory_regions) {
            md_warn(md, SW_STREAM_MEMORY_LIST, SYM_ELIMIT, "%u memory regions (limit %u)", count,
                    pv->lim.max_memory_regions);
        } else if (count > 0) {
            tmp = sym_calloc(count, sizeof(*tmp));
            if (tmp == NULL)
                return SYM_ENOMEM;
            for (uint32_t i = 0; i < count; i++, off += MEMDESC_SIZE) {
                uint64_t base;
                struct sw_bytes data;
                (void)md_u64(&r, off, &base);
                if (!md_read_location(md, &r, off + 8, &data) || data.n - 1 > UINT64_MAX - base)
                    continue;
                tmp[n].m.base = base;
                tmp[n].m.size = data.n;
                tmp[n].m.data = data.p;
                tmp[n].order = i;
                n++;
            }
        }
    } else if (md_stream_rd(md, SW_STREAM_MEMORY64_LIST, &r)) {
        uint64_t count, base_rva;
        if (!md_u64(&r, 0, &count) || !md_u64(&r, 8, &base_rva) || (r.len - 16) / 16 < count) {
            md_warn(md, SW_STREAM_MEMORY64_LIST, SYM_EPARSE, "memory64 list is truncated");
        } else if (count > pv->lim.max_memory_regions) {
            md_warn(md, SW_STREAM_MEMORY64_LIST, SYM_ELIMIT,
                    "%" PRIu64 " memory regions (limit %u)", count, pv->lim.max_memory_regions);
        } else if (count > 0) {
            tmp = sym_calloc((size_t)count, sizeof(*tmp));
            if (tmp == NULL)
                return SYM_ENOMEM;
            uint64_t rva = base_rva;
            for (uint64_t i = 0; i < count; i++) {
                uint64_t base, size;
                (void)md_u64(&r, 16 + 16 * i, &base);
                (void)md_u64(&r, 24 + 16 * i, &size);
                /* Regions follow each other from base_rva: a truncated one ends the list. */
                if (!md_has(&pv->whole, rva, size)) {
                    md_warn(md, SW_STREAM_MEMORY64_LIST, SYM_EPARSE,
                            "memory64 region %" PRIu64 " runs past the end of the dump", i);
                    break;
                }
                if (size != 0 && size - 1 <= UINT64_MAX - base) {
                    tmp[n].m.base = base;
                    tmp[n].m.size = size;
                    tmp[n].m.data = pv->whole.p + rva;
                    tmp[n].order = (uint32_t)i;
                    n++;
                }
                rva += size;
            }
        }
    }
    if (n > 0) {
        n = normalize_memory(tmp, n);
        md->memory = md_arena_alloc(&pv->arena, n * sizeof(*md->memory));
        if (md->memory == NULL) {
            sym_free(tmp);
            return SYM_ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
            md->memory[i] = tmp[i].m;
        md->n_memory = n;
    }
    sym_free(tmp);
    return SYM_OK;
}

const struct sw_md_memory *sw_minidump_memory_at(const struct sw_minidump *md, uint64_t addr)
{
    if (md == NULL)
        return NULL;
    size_t lo = 0, hi = md->n_memory;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (md->memory[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct sw_md_memory *m = &md->memory[lo - 1];
    return addr - m->base < m->size ? m : NULL;
}

static sym_err parse_memory_info(struct sw_minidump *md)
{
    struct md_priv *pv = md_priv_of(md);
    struct md_rd r;
    if (!md_stream_rd(md, SW_STREAM_MEMORY_INFO_LIST, &r))
        return SYM_OK;
    uint32_t hdr, entry;
    uint64_t count;
    if (!md_u32(&r, 0, &hdr) || !md_u32(&r, 4, &entry) || !md_u64(&r, 8, &count) || hdr < 16 ||
        entry < 48 || hdr > r.len || (r.len - hdr) / entry < count) {
        md_warn(md, SW_STREAM_MEMORY_INFO_LIST, SYM_EPARSE, "malformed memory info list");
        return SYM_OK;
    }
    if (count > pv->lim.max_memory_regions) {
        md_warn(md, SW_STREAM_MEMORY_INFO_LIST, SYM_ELIMIT, "%" PRIu64 " memory infos (limit %u)",
                count, pv->lim.max_memory_regions);
        return SYM_OK;
    }
    if (count == 0)
        return SYM_OK;
    md->memory_info = md_arena_alloc(&pv->arena, (size_t)count * sizeof(*md->memory_info));
    if (md->memory_info == NULL)
        return SYM_ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t off = hdr + i * entry;
        struct sw_md_memory_info *mi = &md->memory_info[i];
        (void)md_u64(&r, off, &mi->base);
        (void)md_u64(&r, off + 8, &mi->allocation_base);
        (void)md_u32(&r, off + 16, &mi->allocation_protection);
        (void)md_u64(&r, off + 24, &mi->region_size);
        (void)md_u32(&r, off + 32, &mi->state);
        (void)md_u32(&r, off + 36, &mi->protection);
        (void)md_u32(&r, off + 40, &mi->type);
    }
    md->n_memory_info = (size_t)count;
    return SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Exception, MiscInfo, BreakpadInfo, assertion
 * ------------------------------------------------------------------------------------------- */

static void parse_exception(struct sw_minidump *md)
{
    struct md_rd r;
    struct sw_md_exception *e = &md->exception;
    if (!md_stream_rd(md, SW_STREAM_EXCEPTION, &r)) {
        if (stream_present(md, SW_STREAM_EXCEPTION))
            md_warn(md, SW_STREAM_EXCEPTION, SYM_EPARSE, "exception stream out of bounds");
        return;
    }
    if (r.len < EXCEPTION_SIZE) {
        md_warn(md, SW_STREAM_EXCEPTION, SYM_EPARSE, "exception stream too short (%zu bytes)",
                r.len);
        return;
    }
    (void)md_u32(&r, 0, &e->thread_id);
    (void)md_u32(&r, 8, &e->code);
    (void)md_u32(&r, 12, &e->flags);
    (void)md_u64(&r, 16, &e->record);
    (void)md_u64(&r, 24, &e->address);
    (void)md_u32(&r, 32, &e->n_params);
    if (e->n_params > 15)
        e->n_params = 15;
    for (unsigned i = 0; i < 15; i++)
        (void)md_u64(&r, 40 + 8 * i, &e->params[i]);
    (void)md_read_location(md, &r, 160, &e->context);
    e->present = true;
}

static void parse_misc_info(struct sw_minidump *md)
{
    struct md_rd r;
    struct sw_md_misc_info *mi = &md->misc_info;
    if (!md_stream_rd(md, SW_STREAM_MISC_INFO, &r))
        return;
    if (r.len < 24 || !md_u32(&r, 0, &mi->size_of_info) || mi->size_of_info < 24) {
        md_warn(md, SW_STREAM_MISC_INFO, SYM_EPARSE, "misc info stream too short");
        return;
    }
    /* Only fields inside both the stream and the declared size are read. */
    size_t lim = mi->size_of_info < r.len ? mi->size_of_info : r.len;
    r.len = lim;
    (void)md_u32(&r, 4, &mi->flags1);
    if (mi->flags1 & 0x1) {
        mi->has_process_id = md_u32(&r, 8, &mi->process_id);
    }
    if (mi->flags1 & 0x2) {
        mi->has_process_times = md_u32(&r, 12, &mi->process_create_time) &&
                                md_u32(&r, 16, &mi->process_user_time) &&
                                md_u32(&r, 20, &mi->process_kernel_time);
    }
    if ((mi->flags1 & 0x4) && r.len >= 44) {
        (void)md_u32(&r, 24, &mi->processor_max_mhz);
        (void)md_u32(&r, 28, &mi->processor_current_mhz);
        (void)md_u32(&r, 32, &mi->processor_mhz_limit);
        mi->has_power_info = true;
    }
    if ((mi->flags1 & 0x100) && r.len >= 832) {
        struct md_arena *a = &md_priv_of(md)->arena;
        mi->build_string = md_utf16_to_utf8(a, &r, 232, 260);
        mi->dbg_bld_str = md_utf16_to_utf8(a, &r, 752, 40);
        mi->has_build_string = mi->build_string != NULL && mi->dbg_bld_str != NULL;
    }
    mi->present = true;
}

static void parse_breakpad_info(struct sw_minidump *md)
{
    struct md_rd r;
    struct sw_md_breakpad_info *bi = &md->breakpad_info;
    if (!md_stream_rd(md, SW_STREAM_BREAKPAD_INFO, &r))
        return;
    uint32_t validity;
    if (r.len < 12 || !md_u32(&r, 0, &validity)) {
        md_warn(md, SW_STREAM_BREAKPAD_INFO, SYM_EPARSE, "Breakpad info stream too short");
        return;
    }
    (void)md_u32(&r, 4, &bi->dump_thread_id);
    (void)md_u32(&r, 8, &bi->requesting_thread_id);
    bi->has_dump_thread = validity & 1;
    bi->has_requesting_thread = validity & 2;
    bi->present = true;
}

static sym_err parse_assertion(struct sw_minidump *md)
{
    struct md_rd r;
    struct sw_md_assertion *as = &md->assertion;
    if (!md_stream_rd(md, SW_STREAM_ASSERTION_INFO, &r))
        return SYM_OK;
    if (r.len < 776) {
        md_warn(md, SW_STREAM_ASSERTION_INFO, SYM_EPARSE, "assertion stream too short");
        return SYM_OK;
    }
    struct md_arena *a = &md_priv_of(md)->arena;
    as->expression = md_utf16_to_utf8(a, &r, 0, 128);
    as->function = md_utf16_to_utf8(a, &r, 256, 128);
    as->file = md_utf16_to_utf8(a, &r, 512, 128);
    if (as->expression == NULL || as->function == NULL || as->file == NULL)
        return SYM_ENOMEM;
    (void)md_u32(&r, 768, &as->line);
    (void)md_u32(&r, 772, &as->type);
    as->present = true;
    return SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------------------------------- */

sym_err sw_minidump_thread_context(const struct sw_minidump *md, size_t idx, struct sw_context *out)
{
    if (md == NULL || idx >= md->n_threads)
        return SYM_EINVAL;
    const struct sw_bytes *c = &md->threads[idx].context;
    if (c->p == NULL)
        return SYM_ENOTFOUND;
    return sw_context_parse(md->system_info.cpu, c->p, c->n, md->big_endian, out);
}

sym_err sw_minidump_exception_context(const struct sw_minidump *md, struct sw_context *out)
{
    if (md == NULL)
        return SYM_EINVAL;
    if (!md->exception.present || md->exception.context.p == NULL)
        return SYM_ENOTFOUND;
    return sw_context_parse(md->system_info.cpu, md->exception.context.p, md->exception.context.n,
                            md->big_endian, out);
}

/* ---------------------------------------------------------------------------------------------
 * Open / free
 * ------------------------------------------------------------------------------------------- */

static sym_err parse_directory(struct sw_minidump *md, struct sym_diag *d)
{
    struct md_priv *pv = md_priv_of(md);
    const struct md_rd *w = &pv->whole;
    uint32_t sig, version, count, dir_rva;
    if (!md_u32(w, 0, &sig))
        return sym_diag_set(d, SYM_EPARSE, "not a minidump: %zu bytes is too short", w->len);
    if (sig == MD_SIGNATURE_SWAP) {
        md->big_endian = true;
        pv->whole.swap = true;
    } else if (sig != MD_SIGNATURE) {
        return sym_diag_set(d, SYM_EPARSE, "not a minidump (no MDMP signature)");
    }
    if (w->len < 32)
        return sym_diag_set(d, SYM_EPARSE, "minidump header is truncated");
    (void)md_u32(w, 4, &version);
    (void)md_u32(w, 8, &count);
    (void)md_u32(w, 12, &dir_rva);
    (void)md_u32(w, 16, &md->checksum);
    (void)md_u32(w, 20, &md->time_date_stamp);
    (void)md_u64(w, 24, &md->flags);
    if ((version & 0xFFFF) != MD_VERSION)
        return sym_diag_set(d, SYM_EPARSE, "unsupported minidump version 0x%x", version & 0xFFFF);
    md->version = version;
    md->stream_count = count;
    if (count > pv->lim.max_streams)
        return sym_diag_set(d, SYM_ELIMIT, "minidump has %u streams (limit %u)", count,
                            pv->lim.max_streams);
    if (!md_has(w, dir_rva, (uint64_t)count * 12))
        return sym_diag_set(d, SYM_EPARSE,
                            "minidump stream directory (%u entries at 0x%x) is out of bounds",
                            count, dir_rva);
    if (count == 0)
        return SYM_OK;
    pv->dir = md_arena_alloc(&pv->arena, (size_t)count * sizeof(*pv->dir));
    if (pv->dir == NULL)
        return SYM_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t off = dir_rva + 12 * (uint64_t)i;
        (void)md_u32(w, off, &pv->dir[i].type);
        (void)md_u32(w, off + 4, &pv->dir[i].size);
        (void)md_u32(w, off + 8, &pv->dir[i].rva);
    }
    pv->n_dir = count;
    return SYM_OK;
}

sym_err sw_minidump_open(const void *data, size_t len, const struct sw_md_limits *lim,
                         struct sw_minidump **out, struct sym_diag *d)
{
    if (data == NULL || out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no minidump data");
    sym_err rc = SYM_ENOMEM;
    struct sw_minidump *md = sym_calloc(1, sizeof(*md));
    struct md_priv *pv = sym_calloc(1, sizeof(*pv));
    if (md == NULL || pv == NULL) {
        sym_free(md);
        sym_free(pv);
        return SYM_ENOMEM;
    }
    md->priv = pv;
    md_arena_init(&pv->arena);
    pv->whole.p = data;
    pv->whole.len = len;
    pv->whole.swap = false;
    if (lim != NULL)
        pv->lim = *lim;
    else
        sw_md_limits_default(&pv->lim);
    pv->arena.limit = pv->lim.max_decoded_bytes;
    if (pv->arena.limit == 0)
        pv->arena.limit =
            len > (SIZE_MAX - ((size_t)16 << 20)) / 4 ? SIZE_MAX : ((size_t)16 << 20) + 4 * len;

    rc = parse_directory(md, d);
    if (rc != SYM_OK)
        goto out;
    /* SystemInfo first: contexts and identifiers depend on the CPU and OS. */
    parse_system_info(md);
    rc = parse_thread_list(md, d);
    if (rc != SYM_OK)
        goto out;
    parse_thread_names(md);
    if ((rc = parse_module_list(md)) != SYM_OK || (rc = parse_unloaded_modules(md)) != SYM_OK ||
        (rc = parse_memory(md)) != SYM_OK || (rc = parse_memory_info(md)) != SYM_OK)
        goto out;
    parse_exception(md);
    parse_misc_info(md);
    parse_breakpad_info(md);
    if ((rc = parse_assertion(md)) != SYM_OK || (rc = md_parse_linux(md)) != SYM_OK)
        goto out;
    md_parse_crashpad(md);
    if ((rc = md_parse_handles(md)) != SYM_OK || (rc = md_parse_mac_crash_info(md)) != SYM_OK)
        goto out;
    md_parse_mozilla(md);
    for (size_t i = 0; i < md->n_modules; i++) {
        rc = format_module_ids(md, &md->modules[i]);
        if (rc != SYM_OK)
            goto out;
    }
    rc = build_module_index(md);
    if (rc == SYM_OK && pv->arena.over_limit)
        rc = SYM_ENOMEM; /* some strings were dropped: report the limit, not a partial dump */
out:
    if (rc == SYM_ENOMEM && pv->arena.over_limit)
        rc = sym_diag_set(d, SYM_ELIMIT, "decoding the minidump needs more than %zu bytes",
                          pv->arena.limit);
    else if (rc == SYM_ENOMEM)
        sym_diag_set(d, SYM_ENOMEM, "out of memory reading the minidump");
    if (rc != SYM_OK) {
        sw_minidump_free(md);
        return rc;
    }
    *out = md;
    return SYM_OK;
}

void sw_minidump_free(struct sw_minidump *md)
{
    if (md == NULL)
        return;
    struct md_priv *pv = md_priv_of(md);
    if (pv != NULL) {
        md_arena_free(&pv->arena);
        sym_free(pv);
    }
    sym_free(md);
}
