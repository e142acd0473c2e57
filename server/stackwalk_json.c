/* SPDX-License-Identifier: MPL-2.0 */
/* stackwalk_json.c: rust-minidump JSON (through jansson) and Breakpad text reports of a
 * processed minidump (see stackwalk_json.h). */
#include "stackwalk_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackwalk/minidump.h"
#include "sym/alloc.h"

/* ---------------------------------------------------------------------------------------------
 * Shared formatting
 * ------------------------------------------------------------------------------------------- */

/* "0x" + lower-case hex, 8 digits on 32-bit CPUs and 16 otherwise. */
static void fmt_hex(char *buf, size_t cap, unsigned width, uint64_t v)
{
    if (width == 4)
        snprintf(buf, cap, "0x%08" PRIx64, v & 0xFFFFFFFFu);
    else
        snprintf(buf, cap, "0x%016" PRIx64, v);
}

/* Breakpad's CPU description: vendor and family/model/stepping on x86, ARM architecture,
 * implementer, part and ELF hwcaps on ARM, nothing elsewhere. */
static void cpu_info(const struct sw_md_system_info *si, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (si->cpu == SW_CPU_X86 || si->cpu == SW_CPU_AMD64) {
        snprintf(buf, cap, "%s%sfamily %u model %u stepping %u", si->vendor_id,
                 si->vendor_id[0] ? " " : "", si->processor_level, si->processor_revision >> 8,
                 si->processor_revision & 0xFF);
        return;
    }
    if (si->cpu != SW_CPU_ARM)
        return;
    static const struct {
        uint32_t id;
        const char *name;
    } vendors[] = {{0x41, "ARM"}, {0x51, "Qualcomm"}, {0x56, "Marvell"}, {0x69, "Intel/Marvell"}},
      parts[] = {{0x4100c050, "Cortex-A5"},    {0x4100c080, "Cortex-A8"}, {0x4100c090, "Cortex-A9"},
                 {0x4100c0f0, "Cortex-A15"},   {0x4100c140, "Cortex-R4"}, {0x4100c150, "Cortex-R5"},
                 {0x4100b360, "ARM1136"},      {0x4100b560, "ARM1156"},   {0x4100b760, "ARM1176"},
                 {0x4100b020, "ARM11-MPCore"}, {0x41009260, "ARM926"},    {0x41009460, "ARM946"},
                 {0x41009660, "ARM966"},       {0x510006f0, "Krait"},     {0x510000f0, "Scorpion"}};
    static const char *const hwcaps[] = {"swp",    "half",    "thumb", "26bit", "fastmult",
                                         "fpa",    "vfpv2",   "edsp",  "java",  "iwmmxt",
                                         "crunch", "thumbee", "neon",  "vfpv3", "vfpv3d16",
                                         "tls",    "vfpv4",   "idiva", "idivt"};
    uint32_t cpuid = (uint32_t)si->processor_features[0];
    uint32_t elf_hwcaps = (uint32_t)(si->processor_features[0] >> 32);
    int n = snprintf(buf, cap, "ARMv%u", si->processor_level);
    if (cpuid != 0) {
        uint32_t vid = cpuid >> 24 & 0xFF, pid = cpuid & 0xff00fff0;
        const char *v = NULL, *p = NULL;
        for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
            if (vendors[i].id == vid)
                v = vendors[i].name;
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
            if (parts[i].id == pid)
                p = parts[i].name;
        char vb[32], pb[32];
        snprintf(vb, sizeof(vb), "vendor(0x%x)", vid);
        snprintf(pb, sizeof(pb), "part(0x%x)", pid);
        n += snprintf(buf + n, cap - (size_t)n, " %s %s", v ? v : vb, p ? p : pb);
    }
    if (elf_hwcaps != 0 && (size_t)n < cap) {
        n += snprintf(buf + n, cap - (size_t)n, " features: ");
        const char *comma = "";
        for (unsigned i = 0; i < sizeof(hwcaps) / sizeof(hwcaps[0]) && (size_t)n < cap; i++) {
            if (elf_hwcaps & (1u << i)) {
                n += snprintf(buf + n, cap - (size_t)n, "%s%s", comma, hwcaps[i]);
                comma = ",";
            }
        }
    }
}

static void os_name(const struct sw_md_system_info *si, char *buf, size_t cap)
{
    const char *name = sw_os_name(si->os);
    if (si->os == SW_OS_WINDOWS && si->platform_id == 1)
        name = "Windows";
    if (name)
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "0x%08" PRIx32, si->platform_id);
}

/* Breakpad: "major.minor.build" and " <csd>" when the dump referenced one. */
static void os_ver_breakpad(const struct sw_md_system_info *si, char *buf, size_t cap)
{
    snprintf(buf, cap, "%u.%u.%u%s%s", si->major_version, si->minor_version, si->build_number,
             si->has_csd_version ? " " : "", si->csd_version);
}

/* rust-minidump: Linux writers put `uname` output in the CSD string ("Linux <release> <version>
 * <machine>"); the release and version are shown instead of the zero version numbers. */
static void os_ver_rust(const struct sw_md_system_info *si, char *buf, size_t cap)
{
    const char *csd = si->csd_version;
    if ((si->os == SW_OS_LINUX || si->os == SW_OS_ANDROID) && strncmp(csd, "Linux ", 6) == 0) {
        const char *rel = csd + 6;
        const char *sp = strchr(rel, ' ');
        if (sp == NULL) {
            snprintf(buf, cap, "%s", rel);
            return;
        }
        const char *last = strrchr(sp, ' ');
        if (last > sp + 1)
            snprintf(buf, cap, "%.*s", (int)(last - rel), rel);
        else
            snprintf(buf, cap, "%.*s", (int)(sp - rel), rel);
        return;
    }
    snprintf(buf, cap, "%u.%u.%u%s%s", si->major_version, si->minor_version, si->build_number,
             csd[0] ? " " : "", csd);
}

static bool process_uptime(const struct sw_minidump *md, uint32_t *out)
{
    const struct sw_md_misc_info *mi = &md->misc_info;
    if (!mi->has_process_times || md->time_date_stamp == 0 || mi->process_create_time == 0 ||
        md->time_date_stamp < mi->process_create_time)
        return false;
    *out = md->time_date_stamp - mi->process_create_time;
    return true;
}

static const char *module_debug_file(const struct sw_process_state *st, size_t i)
{
    if (st->modules[i].debug_file != NULL)
        return st->modules[i].debug_file;
    return st->md->modules[i].debug_file;
}

static const char *module_debug_id(const struct sw_process_state *st, size_t i)
{
    if (st->modules[i].debug_id != NULL)
        return st->modules[i].debug_id;
    return st->md->modules[i].debug_id;
}

/* ---------------------------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------------------------- */

struct jb {
    bool oom;
    unsigned width;
};

/* A JSON string of s[0..n), with invalid UTF-8 sequences replaced by U+FFFD (symbol files and
 * dumps are not guaranteed to be valid UTF-8; jansson refuses such strings). */
static json_t *jstrn(struct jb *b, const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    if (v != NULL)
        return v;
    char *fixed = sym_malloc(n * 3 + 1);
    if (fixed == NULL) {
        b->oom = true;
        return NULL;
    }
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], len = c < 0x80         ? 1
                                 : (c >> 5) == 6  ? 2
                                 : (c >> 4) == 14 ? 3
                                 : (c >> 3) == 30 ? 4
                                                  : 0;
        bool ok = len > 0 && c != 0 && i + len <= n;
        for (unsigned k = 1; ok && k < len; k++)
            ok = (p[i + k] & 0xC0) == 0x80;
        if (ok && len > 1) {
            /* Reject overlong forms and surrogates by round-tripping through jansson. */
            json_t *t = json_stringn((const char *)p + i, len);
            ok = t != NULL;
            json_decref(t);
        }
        if (ok) {
            memcpy(fixed + o, p + i, len);
            o += len;
            i += len;
        } else {
            memcpy(fixed + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    v = json_stringn(fixed, o);
    sym_free(fixed);
    if (v == NULL)
        b->oom = true;
    return v;
}

static json_t *jstr(struct jb *b, const char *s)
{
    if (s == NULL)
        return json_null();
    return jstrn(b, s, strlen(s));
}

static json_t *jhex(struct jb *b, uint64_t v)
{
    char buf[32];
    fmt_hex(buf, sizeof(buf), b->width, v);
    return jstr(b, buf);
}

static json_t *jint(struct jb *b, uint64_t v)
{
    json_t *j = json_integer((json_int_t)v);
    if (j == NULL)
        b->oom = true;
    return j;
}

static void put(struct jb *b, json_t *obj, const char *key, json_t *v)
{
    if (v == NULL || obj == NULL) {
        b->oom = true;
        json_decref(v);
        return;
    }
    if (json_object_set_new(obj, key, v) != 0)
        b->oom = true;
}

static void append(struct jb *b, json_t *arr, json_t *v)
{
    if (v == NULL || arr == NULL) {
        b->oom = true;
        json_decref(v);
        return;
    }
    if (json_array_append_new(arr, v) != 0)
        b->oom = true;
}

static json_t *jobj(struct jb *b)
{
    json_t *o = json_object();
    if (o == NULL)
        b->oom = true;
    return o;
}

static json_t *jarr(struct jb *b)
{
    json_t *a = json_array();
    if (a == NULL)
        b->oom = true;
    return a;
}

static int cmp_hits(const void *a, const void *b)
{
    const struct sw_unloaded_hit *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* [{"module": name, "offsets": [...]}], grouped by name, sorted, offsets de-duplicated. */
static json_t *unloaded_json(struct jb *b, const struct sw_frame *f)
{
    if (f->n_unloaded == 0)
        return json_null();
    struct sw_unloaded_hit *h = sym_calloc(f->n_unloaded, sizeof(*h));
    if (h == NULL) {
        b->oom = true;
        return NULL;
    }
    memcpy(h, f->unloaded, f->n_unloaded * sizeof(*h));
    qsort(h, f->n_unloaded, sizeof(*h), cmp_hits);
    json_t *arr = jarr(b), *cur = NULL, *offs = NULL;
    for (size_t i = 0; i < f->n_unloaded; i++) {
        if (i == 0 || strcmp(h[i].name, h[i - 1].name) != 0) {
            cur = jobj(b);
            offs = jarr(b);
            put(b, cur, "module", jstr(b, h[i].name));
            put(b, cur, "offsets", offs);
            append(b, arr, cur);
        } else if (h[i].offset == h[i - 1].offset) {
            continue;
        }
        append(b, offs, jhex(b, h[i].offset));
    }
    sym_free(h);
    return arr;
}

static bool json_register(enum sw_cpu cpu, unsigned idx)
{
    switch (cpu) {
    case SW_CPU_AMD64:
        return idx != SW_AMD64_EFLAGS;
    case SW_CPU_ARM:
        return idx != SW_ARM_CPSR;
    case SW_CPU_ARM64:
        return idx != SW_ARM64_CPSR;
    default:
        return true;
    }
}

static json_t *frame_json(struct jb *b, const struct sw_process_state *st, const struct sw_frame *f,
                          size_t idx, bool registers)
{
    const struct sw_minidump *md = st->md;
    json_t *o = jobj(b);
    const struct sw_md_module *m = f->module >= 0 ? &md->modules[f->module] : NULL;
    put(b, o, "file", jstr(b, f->function ? f->file : NULL));
    put(b, o, "frame", jint(b, idx));
    put(b, o, "function", jstr(b, f->function));
    put(b, o, "function_offset",
        f->function ? jhex(b, f->instruction - f->function_base) : json_null());
    if (f->n_inlines == 0) {
        put(b, o, "inlines", json_null());
    } else {
        json_t *arr = jarr(b);
        for (size_t i = 0; i < f->n_inlines; i++) {
            const struct sw_inline_frame *in = &f->inlines[i];
            json_t *io = jobj(b);
            put(b, io, "file", jstr(b, in->file));
            put(b, io, "function", jstr(b, in->function));
            put(b, io, "line", in->file ? jint(b, in->line) : json_null());
            append(b, arr, io);
        }
        put(b, o, "inlines", arr);
    }
    put(b, o, "line", f->function && f->file ? jint(b, f->line) : json_null());
    put(b, o, "missing_symbols", json_boolean(f->function == NULL));
    put(b, o, "module", m ? jstr(b, sw_basename(m->code_file)) : json_null());
    put(b, o, "module_offset", m ? jhex(b, f->instruction - m->base) : json_null());
    put(b, o, "offset", jhex(b, f->instruction));
    if (registers) {
        json_t *regs = jobj(b);
        unsigned n = sw_cpu_nregs(f->ctx.cpu);
        for (unsigned i = 0; i < n; i++)
            if (sw_ctx_has(&f->ctx, (int)i) && json_register(f->ctx.cpu, i))
                put(b, regs, sw_reg_name(f->ctx.cpu, i), jhex(b, f->ctx.regs[i]));
        put(b, o, "registers", regs);
    }
    put(b, o, "trust", jstr(b, sw_trust_json_name(f->trust)));
    put(b, o, "unloaded_modules", unloaded_json(b, f));
    return o;
}

static json_t *thread_json(struct jb *b, const struct sw_process_state *st, size_t t, bool crashing)
{
    const struct sw_thread *th = &st->threads[t];
    json_t *o = jobj(b);
    put(b, o, "frame_count", jint(b, th->n_frames));
    json_t *frames = jarr(b);
    for (size_t i = 0; i < th->n_frames; i++)
        append(b, frames, frame_json(b, st, &th->frames[i], i, crashing && i == 0));
    put(b, o, "frames", frames);
    if (th->has_last_error) {
        char hex[16];
        const char *name = sw_win32_error_name(th->last_error);
        if (name == NULL) {
            snprintf(hex, sizeof(hex), "0x%08" PRIx32, th->last_error);
            name = hex;
        }
        put(b, o, "last_error_value", jstr(b, name));
    } else {
        put(b, o, "last_error_value", json_null());
    }
    put(b, o, "thread_id", jint(b, th->thread_id));
    put(b, o, "thread_name", jstr(b, th->name));
    if (crashing)
        put(b, o, "threads_index", jint(b, t));
    return o;
}

static json_t *crash_info_json(struct jb *b, const struct sw_process_state *st)
{
    json_t *o = jobj(b);
    put(b, o, "address", st->has_crash_address ? jhex(b, st->crash_address) : json_null());
    put(b, o, "adjusted_address", json_null());
    put(b, o, "assertion", jstr(b, st->assertion));
    put(b, o, "crash_inconsistencies", jarr(b));
    put(b, o, "crashing_thread",
        st->requesting_thread >= 0 ? jint(b, (uint64_t)st->requesting_thread) : json_null());
    /* Instruction-level analysis needs a disassembler; the schema allows null. */
    put(b, o, "instruction", json_null());
    put(b, o, "instruction_pointer_update", json_null());
    put(b, o, "memory_accesses", json_null());
    put(b, o, "possible_bit_flips", json_null());
    put(b, o, "type", jstr(b, st->crash_reason));
    return o;
}

static json_t *system_info_json(struct jb *b, const struct sw_process_state *st)
{
    const struct sw_md_system_info *si = &st->md->system_info;
    char buf[512];
    json_t *o = jobj(b);
    put(b, o, "cpu_arch", jstr(b, sw_cpu_name(st->cpu)));
    put(b, o, "cpu_count", jint(b, si->number_of_processors));
    cpu_info(si, buf, sizeof(buf));
    put(b, o, "cpu_info", buf[0] ? jstr(b, buf) : json_null());
    const char *mc = st->md->linux_info.cpu_microcode_version;
    if (mc != NULL && strncmp(mc, "0x", 2) != 0) {
        char *end;
        unsigned long long v = strtoull(mc, &end, 0);
        if (*end == '\0') {
            snprintf(buf, sizeof(buf), "0x%llx", v);
            mc = buf;
        }
    }
    put(b, o, "cpu_microcode_version", jstr(b, mc));
    char name[64];
    os_name(si, name, sizeof(name));
    put(b, o, "os", jstr(b, name));
    os_ver_rust(si, buf, sizeof(buf));
    put(b, o, "os_ver", jstr(b, buf));
    return o;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static json_t *modules_json(struct jb *b, const struct sw_process_state *st)
{
    const struct sw_minidump *md = st->md;
    json_t *arr = jarr(b);
    for (size_t i = 0; i < md->n_modules; i++) {
        const struct sw_md_module *m = &md->modules[i];
        const struct sw_module_state *ms = &st->modules[i];
        json_t *o = jobj(b);
        char id[512];
        put(b, o, "base_addr", jhex(b, m->base));
        put(b, o, "cert_subject", json_null());
        snprintf(id, sizeof(id), "%s", m->code_id);
        lower(id);
        put(b, o, "code_id", jstr(b, id));
        put(b, o, "corrupt_symbols", json_boolean(ms->corrupt_symbols));
        put(b, o, "debug_file", jstr(b, sw_basename(module_debug_file(st, i))));
        const char *did = module_debug_id(st, i);
        put(b, o, "debug_id", jstr(b, did[0] ? did : "000000000000000000000000000000000"));
        put(b, o, "end_addr", jhex(b, m->base + m->size));
        put(b, o, "filename", jstr(b, sw_basename(m->code_file)));
        put(b, o, "loaded_symbols", json_boolean(ms->loaded_symbols));
        put(b, o, "missing_symbols", json_boolean(ms->missing_symbols));
        put(b, o, "symbol_url", jstr(b, ms->symbol_url));
        put(b, o, "version", jstr(b, m->version));
        append(b, arr, o);
    }
    return arr;
}

static json_t *unloaded_modules_json(struct jb *b, const struct sw_minidump *md)
{
    json_t *arr = jarr(b);
    for (size_t i = 0; i < md->n_unloaded_modules; i++) {
        const struct sw_md_unloaded_module *u = &md->unloaded_modules[i];
        json_t *o = jobj(b);
        char id[64];
        snprintf(id, sizeof(id), "%s", u->code_id);
        lower(id);
        put(b, o, "base_addr", jhex(b, u->base));
        put(b, o, "cert_subject", json_null());
        put(b, o, "code_id", jstr(b, id));
        put(b, o, "end_addr", jhex(b, u->base + u->size));
        put(b, o, "filename", jstr(b, sw_basename(u->name)));
        append(b, arr, o);
    }
    return arr;
}

/* /proc/self/limits: a header line, then fixed columns name(26) soft(21) hard(21) unit. */
static json_t *proc_limits_json(struct jb *b, const struct sw_bytes *text)
{
    if (text->p == NULL)
        return json_null();
    json_t *limits = jarr(b);
    const char *s = (const char *)text->p, *end = s + text->n;
    bool header = true;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        if (header) {
            header = false;
        } else if (le - s > 26) {
            json_t *o = jobj(b);
            const char *col[4] = {s, s + 26, s + 47, s + 68};
            const char *keys[4] = {"name", "soft", "hard", "unit"};
            for (int k = 0; k < 4; k++) {
                const char *a = col[k] < le ? col[k] : le;
                const char *z = k < 3 && col[k + 1] < le ? col[k + 1] : le;
                while (a < z && *a == ' ')
                    a++;
                while (z > a && (z[-1] == ' ' || z[-1] == '\r'))
                    z--;
                put(b, o, keys[k], jstrn(b, a, (size_t)(z - a)));
            }
            append(b, limits, o);
        }
        s = nl ? nl + 1 : end;
    }
    json_t *o = jobj(b);
    put(b, o, "limits", limits);
    return o;
}

static json_t *mac_crash_info_json(struct jb *b, const struct sw_minidump *md)
{
    if (!md->has_mac_crash_info)
        return json_null();
    json_t *o = jobj(b), *recs = jarr(b);
    put(b, o, "num_records", jint(b, md->n_mac_crash_records));
    for (size_t i = 0; i < md->n_mac_crash_records; i++) {
        const struct sw_md_mac_crash_record *r = &md->mac_crash_records[i];
        json_t *ro = jobj(b);
        put(b, ro, "thread", r->has_thread_fields ? jint(b, r->thread) : json_null());
        put(b, ro, "dialog_mode", r->has_thread_fields ? jint(b, r->dialog_mode) : json_null());
        put(b, ro, "abort_cause", r->has_abort_cause ? jint(b, r->abort_cause) : json_null());
        put(b, ro, "module", jstr(b, r->module_path));
        put(b, ro, "message", jstr(b, r->message));
        put(b, ro, "signature_string", jstr(b, r->signature_string));
        put(b, ro, "backtrace", jstr(b, r->backtrace));
        put(b, ro, "message2", jstr(b, r->message2));
        append(b, recs, ro);
    }
    put(b, o, "records", recs);
    return o;
}

static json_t *handles_json(struct jb *b, const struct sw_minidump *md)
{
    if (!md->has_handle_stream)
        return json_null();
    json_t *arr = jarr(b);
    for (size_t i = 0; i < md->n_handles; i++) {
        json_t *o = jobj(b);
        put(b, o, "handle", jint(b, md->handles[i].handle));
        put(b, o, "object_name", jstr(b, md->handles[i].object_name));
        put(b, o, "type_name", jstr(b, md->handles[i].type_name));
        append(b, arr, o);
    }
    return arr;
}

sym_err srv_stackwalk_json(const struct sw_process_state *st, json_t **out)
{
    if (st == NULL || out == NULL)
        return SYM_EINVAL;
    const struct sw_minidump *md = st->md;
    struct jb b = {false, sw_cpu_pointer_size(st->cpu)};
    json_t *root = jobj(&b);
    put(&b, root, "crash_info", crash_info_json(&b, st));
    long ct = st->requesting_thread;
    if (ct >= 0 && st->threads[ct].n_frames > 0)
        put(&b, root, "crashing_thread", thread_json(&b, st, (size_t)ct, true));
    else
        put(&b, root, "crashing_thread", json_null());
    put(&b, root, "handles", handles_json(&b, md));
    put(&b, root, "linux_memory_map_count",
        md->linux_info.has_maps ? jint(&b, md->linux_info.maps_count) : json_null());
    if (md->linux_info.has_lsb) {
        json_t *lsb = jobj(&b);
        put(&b, lsb, "codename", jstr(&b, md->linux_info.lsb.codename));
        put(&b, lsb, "description", jstr(&b, md->linux_info.lsb.description));
        put(&b, lsb, "id", jstr(&b, md->linux_info.lsb.id));
        put(&b, lsb, "release", jstr(&b, md->linux_info.lsb.release));
        put(&b, root, "lsb_release", lsb);
    } else {
        put(&b, root, "lsb_release", json_null());
    }
    put(&b, root, "mac_boot_args", jstr(&b, md->mac_boot_args));
    put(&b, root, "mac_crash_info", mac_crash_info_json(&b, md));
    put(&b, root, "main_module", md->n_modules > 0 ? jint(&b, 0) : json_null());
    put(&b, root, "modules", modules_json(&b, st));
    put(&b, root, "modules_contains_cert_info", json_false());
    if (md->misc_info.has_process_id)
        put(&b, root, "pid", jint(&b, md->misc_info.process_id));
    else if (md->linux_info.has_pid)
        put(&b, root, "pid", jint(&b, md->linux_info.pid));
    else
        put(&b, root, "pid", json_null());
    put(&b, root, "proc_limits", proc_limits_json(&b, &md->proc_limits));
    uint32_t uptime;
    put(&b, root, "process_uptime", process_uptime(md, &uptime) ? jint(&b, uptime) : json_null());
    json_t *soft = NULL;
    if (md->soft_errors.p != NULL)
        soft =
            json_loadb((const char *)md->soft_errors.p, md->soft_errors.n, JSON_DECODE_ANY, NULL);
    put(&b, root, "soft_errors", soft ? soft : json_null());
    put(&b, root, "status", jstr(&b, "OK"));
    put(&b, root, "system_info", system_info_json(&b, st));
    put(&b, root, "thread_count", jint(&b, st->n_threads));
    json_t *threads = jarr(&b);
    for (size_t t = 0; t < st->n_threads; t++)
        append(&b, threads, thread_json(&b, st, t, false));
    put(&b, root, "threads", threads);
    put(&b, root, "unloaded_modules", unloaded_modules_json(&b, md));
    if (b.oom) {
        json_decref(root);
        return SYM_ENOMEM;
    }
    *out = root;
    return SYM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Breakpad text reports
 * ------------------------------------------------------------------------------------------- */

/* Breakpad removes the field separator and newlines from names in machine output. */
static void put_field(struct sym_buf *out, const char *s)
{
    for (; s && *s; s++)
        if (*s != '|' && *s != '\n')
            sym_buf_append_char(out, *s);
}

static int cmp_module_base(const void *a, const void *b)
{
    const struct sw_md_module *x = *(const struct sw_md_module *const *)a;
    const struct sw_md_module *y = *(const struct sw_md_module *const *)b;
    return x->base < y->base ? -1 : x->base > y->base;
}

/* Modules in address order, as Breakpad lists them. NULL on allocation failure. */
static const struct sw_md_module **sorted_modules(const struct sw_minidump *md)
{
    const struct sw_md_module **v = sym_calloc(md->n_modules + 1, sizeof(*v));
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < md->n_modules; i++)
        v[i] = &md->modules[i];
    qsort(v, md->n_modules, sizeof(*v), cmp_module_base);
    return v;
}

/* The address Breakpad prints a frame's offsets from: the recovered pc (a return address for
 * callers); inline frames use the adjusted instruction. */
static uint64_t return_address(const struct sw_frame *f)
{
    return f->ctx.regs[sw_reg_pc(f->ctx.cpu)];
}

static void machine_frame(struct sym_buf *out, const struct sw_process_state *st, long thread,
                          long *k, const struct sw_frame *f)
{
    const struct sw_minidump *md = st->md;
    const struct sw_md_module *m = f->module >= 0 ? &md->modules[f->module] : NULL;
    for (size_t i = 0; i < f->n_inlines; i++) {
        const struct sw_inline_frame *in = &f->inlines[i];
        sym_buf_printf(out, "%ld|%ld|", thread, (*k)++);
        put_field(out, sw_basename(m->code_file));
        sym_buf_append_char(out, '|');
        put_field(out, in->function);
        if (in->file)
            sym_buf_printf(out, "|%s|%" PRIu32 "|0x%" PRIx64 "\n", in->file, in->line,
                           f->instruction - f->source_line_base);
        else
            sym_buf_printf(out, "|||0x%" PRIx64 "\n", f->instruction - in->function_base);
    }
    uint64_t ra = return_address(f);
    sym_buf_printf(out, "%ld|%ld|", thread, (*k)++);
    if (m == NULL) {
        sym_buf_printf(out, "||||0x%" PRIx64 "\n", ra);
        return;
    }
    put_field(out, sw_basename(m->code_file));
    if (f->function == NULL) {
        sym_buf_printf(out, "||||0x%" PRIx64 "\n", ra - m->base);
        return;
    }
    sym_buf_append_char(out, '|');
    put_field(out, f->function);
    if (f->file) {
        sym_buf_append_char(out, '|');
        put_field(out, f->file);
        sym_buf_printf(out, "|%" PRIu32 "|0x%" PRIx64 "\n", f->line, ra - f->source_line_base);
    } else {
        sym_buf_printf(out, "|||0x%" PRIx64 "\n", ra - f->function_base);
    }
}

static void machine_thread(struct sym_buf *out, const struct sw_process_state *st, size_t t)
{
    long bt = sw_process_breakpad_thread_index(st, (long)t), k = 0;
    for (size_t i = 0; i < st->threads[t].n_frames; i++)
        machine_frame(out, st, bt, &k, &st->threads[t].frames[i]);
}

sym_err srv_stackwalk_machine(const struct sw_process_state *st, struct sym_buf *out)
{
    const struct sw_minidump *md = st->md;
    const struct sw_md_system_info *si = &md->system_info;
    char a[512], b[512];
    os_name(si, a, sizeof(a));
    os_ver_breakpad(si, b, sizeof(b));
    sym_buf_append_str(out, "OS|");
    put_field(out, a);
    sym_buf_append_char(out, '|');
    put_field(out, b);
    cpu_info(si, b, sizeof(b));
    sym_buf_printf(out, "\nCPU|%s|", sw_cpu_name(st->cpu));
    put_field(out, b);
    sym_buf_printf(out, "|%u\nGPU|||\nCrash|", si->number_of_processors);
    if (st->crashed) {
        put_field(out, st->crash_reason_breakpad);
        sym_buf_printf(out, "|0x%" PRIx64 "|", st->crash_address);
    } else if (st->assertion) {
        put_field(out, st->assertion);
        sym_buf_append_str(out, "||");
    } else {
        sym_buf_append_str(out, "No crash||");
    }
    long rt = st->requesting_thread;
    if (rt >= 0)
        sym_buf_printf(out, "%ld", sw_process_breakpad_thread_index(st, rt));
    sym_buf_append_char(out, '\n');
    const struct sw_md_module **mods = sorted_modules(md);
    if (mods == NULL)
        return SYM_ENOMEM;
    for (size_t i = 0; i < md->n_modules; i++) {
        const struct sw_md_module *m = mods[i];
        size_t idx = (size_t)(m - md->modules);
        sym_buf_append_str(out, "Module|");
        put_field(out, sw_basename(m->code_file));
        sym_buf_append_char(out, '|');
        put_field(out, m->version);
        sym_buf_append_char(out, '|');
        put_field(out, sw_basename(module_debug_file(st, idx)));
        sym_buf_append_char(out, '|');
        put_field(out, module_debug_id(st, idx));
        sym_buf_printf(out, "|0x%08" PRIx64 "|0x%08" PRIx64 "|%d\n", m->base, m->base + m->size - 1,
                       m->base == md->modules[0].base);
    }
    sym_free(mods);
    sym_buf_append_char(out, '\n');
    if (rt >= 0)
        machine_thread(out, st, (size_t)rt);
    for (size_t t = 0; t < st->n_threads; t++)
        if ((long)t != rt && st->threads[t].status != SW_THREAD_DUMP_THREAD)
            machine_thread(out, st, t);
    return sym_buf_err(out);
}

/* Breakpad's register block: names padded to 5, values 8 or 16 hex digits, wrapped at 80
 * columns. */
static void human_registers(struct sym_buf *out, const struct sw_frame *f)
{
    static const int x86_order[] = {SW_X86_EIP, SW_X86_ESP, SW_X86_EBP,
                                    SW_X86_EBX, SW_X86_ESI, SW_X86_EDI};
    static const int amd64_order[] = {
        SW_AMD64_RAX, SW_AMD64_RDX, SW_AMD64_RCX, SW_AMD64_RBX, SW_AMD64_RSI, SW_AMD64_RDI,
        SW_AMD64_RBP, SW_AMD64_RSP, SW_AMD64_R8,  SW_AMD64_R9,  SW_AMD64_R10, SW_AMD64_R11,
        SW_AMD64_R12, SW_AMD64_R13, SW_AMD64_R14, SW_AMD64_R15, SW_AMD64_RIP};
    static const int arm_order[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 11, 13, 14, 15};
    const struct sw_context *c = &f->ctx;
    int order[40], n = 0;
    switch (c->cpu) {
    case SW_CPU_X86:
        for (size_t i = 0; i < 6; i++)
            if (sw_ctx_has(c, x86_order[i]))
                order[n++] = x86_order[i];
        if (c->valid == (1u << SW_X86_NREGS) - 1) {
            order[n++] = SW_X86_EAX;
            order[n++] = SW_X86_ECX;
            order[n++] = SW_X86_EDX;
            order[n++] = SW_X86_EFLAGS;
        }
        break;
    case SW_CPU_AMD64:
        for (size_t i = 0; i < sizeof(amd64_order) / sizeof(amd64_order[0]); i++)
            if (sw_ctx_has(c, amd64_order[i]))
                order[n++] = amd64_order[i];
        break;
    case SW_CPU_ARM:
        for (size_t i = 0; i < sizeof(arm_order) / sizeof(arm_order[0]); i++)
            if (sw_ctx_has(c, arm_order[i]))
                order[n++] = arm_order[i];
        break;
    case SW_CPU_ARM64:
        for (int i = 0; i < 33; i++)
            if (sw_ctx_has(c, i))
                order[n++] = i;
        break;
    default:
        break;
    }
    unsigned width = sw_cpu_pointer_size(c->cpu);
    int col = 0;
    sym_buf_append_char(out, ' ');
    for (int i = 0; i < n; i++) {
        const char *name = sw_reg_name(c->cpu, (unsigned)order[i]);
        if (c->cpu == SW_CPU_X86 && order[i] == SW_X86_EFLAGS)
            name = "efl";
        char cell[64];
        int w = width == 4
                    ? snprintf(cell, sizeof(cell), " %5s = 0x%08" PRIx64, name,
                               c->regs[order[i]] & 0xFFFFFFFFu)
                    : snprintf(cell, sizeof(cell), " %5s = 0x%016" PRIx64, name, c->regs[order[i]]);
        if (col + w > 80) {
            col = 0;
            sym_buf_append_str(out, "\n ");
        }
        sym_buf_append_str(out, cell);
        col += w;
    }
}

static void human_thread(struct sym_buf *out, const struct sw_process_state *st, size_t t)
{
    const struct sw_minidump *md = st->md;
    const struct sw_thread *th = &st->threads[t];
    if (th->n_frames == 0)
        sym_buf_append_str(out, " <no frames>\n");
    int k = 0;
    for (size_t i = 0; i < th->n_frames; i++) {
        const struct sw_frame *f = &th->frames[i];
        const struct sw_md_module *m = f->module >= 0 ? &md->modules[f->module] : NULL;
        for (size_t j = 0; j < f->n_inlines; j++) {
            const struct sw_inline_frame *in = &f->inlines[j];
            sym_buf_printf(out, "%2d  %s!%s", k++, sw_basename(m->code_file), in->function);
            if (in->file)
                sym_buf_printf(out, " [%s : %" PRIu32 " + 0x%" PRIx64 "]", sw_basename(in->file),
                               in->line, f->instruction - f->source_line_base);
            else
                sym_buf_printf(out, " + 0x%" PRIx64, f->instruction - in->function_base);
            sym_buf_append_str(out, "\n \n    Found by: inline record\n");
        }
        uint64_t ra = return_address(f);
        sym_buf_printf(out, "%2d  ", k++);
        if (m == NULL) {
            sym_buf_printf(out, "0x%" PRIx64, ra);
        } else {
            sym_buf_append_str(out, sw_basename(m->code_file));
            if (f->function == NULL)
                sym_buf_printf(out, " + 0x%" PRIx64, ra - m->base);
            else if (f->file)
                sym_buf_printf(out, "!%s [%s : %" PRIu32 " + 0x%" PRIx64 "]", f->function,
                               sw_basename(f->file), f->line, ra - f->source_line_base);
            else
                sym_buf_printf(out, "!%s + 0x%" PRIx64, f->function, ra - f->function_base);
        }
        sym_buf_append_char(out, '\n');
        human_registers(out, f);
        sym_buf_printf(out, "\n    Found by: %s\n", sw_trust_breakpad_name(f->trust));
    }
}

/* Breakpad flags a module when any module with the same debug file and id had missing (1) or
 * corrupt (2) symbols, so modules without identifiers share their fate. */
static int symbol_issue(const struct sw_process_state *st, size_t idx)
{
    const char *file = module_debug_file(st, idx), *id = module_debug_id(st, idx);
    int issue = 0;
    for (size_t i = 0; i < st->md->n_modules && issue != 1; i++) {
        const struct sw_module_state *ms = &st->modules[i];
        if (!ms->missing_symbols && !ms->corrupt_symbols)
            continue;
        if (strcmp(module_debug_file(st, i), file) != 0 || strcmp(module_debug_id(st, i), id) != 0)
            continue;
        issue = ms->missing_symbols ? 1 : 2;
    }
    return issue;
}

sym_err srv_stackwalk_human(const struct sw_process_state *st, struct sym_buf *out)
{
    const struct sw_minidump *md = st->md;
    const struct sw_md_system_info *si = &md->system_info;
    char a[512], b[512];
    os_name(si, a, sizeof(a));
    os_ver_breakpad(si, b, sizeof(b));
    sym_buf_printf(out, "Operating system: %s\n                  %s\n", a, b);
    sym_buf_printf(out, "CPU: %s\n", sw_cpu_name(st->cpu));
    cpu_info(si, b, sizeof(b));
    if (b[0])
        sym_buf_printf(out, "     %s\n", b);
    sym_buf_printf(out, "     %u CPU%s\n\nGPU: UNKNOWN\n\n", si->number_of_processors,
                   si->number_of_processors != 1 ? "s" : "");
    if (st->crashed) {
        sym_buf_printf(out, "Crash reason:  %s\nCrash address: 0x%" PRIx64 "\n",
                       st->crash_reason_breakpad, st->crash_address);
        if (md->exception.n_params > 0) {
            sym_buf_append_str(out, "Crash parameters:\n");
            for (uint32_t i = 0; i < md->exception.n_params; i++)
                sym_buf_printf(out, "    value: 0x%016" PRIx64 "  description: \n",
                               md->exception.params[i]);
        }
    } else {
        sym_buf_append_str(out, "No crash\n");
    }
    if (st->assertion)
        sym_buf_printf(out, "Assertion: %s\n", st->assertion);
    uint32_t uptime;
    if (process_uptime(md, &uptime))
        sym_buf_printf(out, "Process uptime: %" PRIu32 " seconds\n", uptime);
    else
        sym_buf_append_str(out, "Process uptime: not available\n");
    long rt = st->requesting_thread;
    if (rt >= 0) {
        sym_buf_printf(out, "\nThread %ld (%s)\n", sw_process_breakpad_thread_index(st, rt),
                       st->crashed ? "crashed" : "requested dump, did not crash");
        human_thread(out, st, (size_t)rt);
    }
    for (size_t t = 0; t < st->n_threads; t++) {
        if ((long)t == rt || st->threads[t].status == SW_THREAD_DUMP_THREAD)
            continue;
        sym_buf_printf(out, "\nThread %ld\n", sw_process_breakpad_thread_index(st, (long)t));
        human_thread(out, st, t);
    }
    const struct sw_md_module **mods = sorted_modules(md);
    if (mods == NULL)
        return SYM_ENOMEM;
    if (md->n_modules > 0)
        sym_buf_append_str(out, "\nLoaded modules:\n");
    for (size_t i = 0; i < md->n_modules; i++) {
        const struct sw_md_module *m = mods[i];
        size_t idx = (size_t)(m - md->modules);
        sym_buf_printf(out, "0x%08" PRIx64 " - 0x%08" PRIx64 "  %s  %s%s", m->base,
                       m->base + m->size - 1, sw_basename(m->code_file),
                       m->version && m->version[0] ? m->version : "???",
                       m->base == md->modules[0].base ? "  (main)" : "");
        int issue = symbol_issue(st, idx);
        if (issue != 0)
            sym_buf_printf(out, "  (WARNING: %s symbols, %s, %s)", issue == 1 ? "No" : "Corrupt",
                           sw_basename(module_debug_file(st, idx)), module_debug_id(st, idx));
        sym_buf_append_char(out, '\n');
    }
    sym_free(mods);
    return sym_buf_err(out);
}

/* ---------------------------------------------------------------------------------------------
 * One call for the HTTP endpoint
 * ------------------------------------------------------------------------------------------- */

sym_err srv_stackwalk_dump(const void *dump, size_t len, const struct sw_supplier *suppliers,
                           size_t n_suppliers, const struct srv_stackwalk_limits *lim, json_t **out,
                           struct sym_diag *d)
{
    if (dump == NULL || out == NULL)
        return sym_diag_set(d, SYM_EINVAL, "no minidump given");
    size_t max_bytes = lim && lim->max_dump_bytes ? lim->max_dump_bytes : (size_t)512 << 20;
    if (len > max_bytes)
        return sym_diag_set(d, SYM_ELIMIT, "minidump of %zu bytes exceeds the limit of %zu", len,
                            max_bytes);
    struct sw_minidump *md = NULL;
    sym_err rc = sw_minidump_open(dump, len, NULL, &md, d);
    if (rc != SYM_OK)
        return rc;
    struct sw_process_options o;
    sw_process_options_default(&o);
    if (lim && lim->max_threads)
        o.max_threads = lim->max_threads;
    if (lim && lim->max_frames)
        o.max_frames = lim->max_frames;
    struct sw_process_state *st = NULL;
    rc = sw_process(md, suppliers, n_suppliers, &o, &st, d);
    if (rc == SYM_OK) {
        rc = srv_stackwalk_json(st, out);
        if (rc != SYM_OK)
            sym_diag_set(d, rc, "out of memory rendering the stack walk");
    }
    sw_process_state_free(st);
    sw_minidump_free(md);
    return rc;
}
