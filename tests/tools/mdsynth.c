/* SPDX-License-Identifier: MPL-2.0 */
/* mdsynth.c: synthetic minidump writer for test fixtures (see mdsynth.h). Writes little-endian
 * structures field by field; the layout follows the minidump format, not any C struct. */
#include "mdsynth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vec {
    uint8_t *p;
    size_t n, cap;
};

struct dirent_ {
    uint32_t type, size, rva;
};

struct mds {
    struct vec body; /* the whole file; the header is written at offset 0 by mds_finish */
    struct vec threads, modules, memory, unloaded, names;
    uint32_t n_threads, n_modules, n_memory, n_unloaded, n_names;
    struct dirent_ dir[64];
    uint32_t n_dir;
};

static void die(const char *what)
{
    fprintf(stderr, "mdsynth: %s\n", what);
    abort();
}

static void vec_put(struct vec *v, const void *data, size_t len)
{
    if (v->n + len > v->cap) {
        size_t cap = v->cap ? v->cap : 256;
        while (cap < v->n + len)
            cap *= 2;
        uint8_t *p = realloc(v->p, cap);
        if (p == NULL)
            die("out of memory");
        v->p = p;
        v->cap = cap;
    }
    if (len)
        memcpy(v->p + v->n, data, len);
    v->n += len;
}

static void put16(struct vec *v, uint16_t x)
{
    uint8_t b[2] = {(uint8_t)x, (uint8_t)(x >> 8)};
    vec_put(v, b, 2);
}

static void put32(struct vec *v, uint32_t x)
{
    uint8_t b[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
    vec_put(v, b, 4);
}

static void put64(struct vec *v, uint64_t x)
{
    put32(v, (uint32_t)x);
    put32(v, (uint32_t)(x >> 32));
}

static void wr32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)x;
    p[1] = (uint8_t)(x >> 8);
    p[2] = (uint8_t)(x >> 16);
    p[3] = (uint8_t)(x >> 24);
}

static void wr64(uint8_t *p, uint64_t x)
{
    wr32(p, (uint32_t)x);
    wr32(p + 4, (uint32_t)(x >> 32));
}

struct mds *mds_new(void)
{
    struct mds *m = calloc(1, sizeof(*m));
    if (m == NULL)
        die("out of memory");
    uint8_t hdr[32] = {0};
    vec_put(&m->body, hdr, sizeof(hdr));
    return m;
}

void mds_free(struct mds *m)
{
    if (m == NULL)
        return;
    free(m->body.p);
    free(m->threads.p);
    free(m->modules.p);
    free(m->memory.p);
    free(m->unloaded.p);
    free(m->names.p);
    free(m);
}

uint32_t mds_append(struct mds *m, const void *data, size_t len)
{
    static const uint8_t zero[8] = {0};
    if (m->body.n % 4)
        vec_put(&m->body, zero, 4 - m->body.n % 4);
    uint32_t rva = (uint32_t)m->body.n;
    vec_put(&m->body, data, len);
    return rva;
}

uint32_t mds_string(struct mds *m, const char *s)
{
    struct vec v = {0};
    size_t n = strlen(s);
    put32(&v, (uint32_t)(2 * n));
    for (size_t i = 0; i < n; i++)
        put16(&v, (uint8_t)s[i]);
    put16(&v, 0);
    uint32_t rva = mds_append(m, v.p, v.n);
    free(v.p);
    return rva;
}

void mds_add_stream(struct mds *m, uint32_t type, uint32_t size, uint32_t rva)
{
    if (m->n_dir >= sizeof(m->dir) / sizeof(m->dir[0]))
        die("too many streams");
    m->dir[m->n_dir++] = (struct dirent_){type, size, rva};
}

void mds_raw_stream(struct mds *m, uint32_t type, const void *data, size_t len)
{
    uint32_t rva = mds_append(m, data, len);
    mds_add_stream(m, type, (uint32_t)len, rva);
}

void mds_system_info(struct mds *m, uint16_t arch, uint32_t platform, uint32_t major,
                     uint32_t minor, uint32_t build, const char *csd, const char *vendor)
{
    uint32_t csd_rva = csd ? mds_string(m, csd) : 0;
    struct vec v = {0};
    put16(&v, arch);
    put16(&v, 6);      /* level */
    put16(&v, 0x0d08); /* revision: model 13 stepping 8 */
    uint8_t ncpu[2] = {1, 1};
    vec_put(&v, ncpu, 2);
    put32(&v, major);
    put32(&v, minor);
    put32(&v, build);
    put32(&v, platform);
    put32(&v, csd_rva);
    put16(&v, 0);
    put16(&v, 0);
    char ven[12] = {0};
    if (vendor)
        memcpy(ven, vendor, strlen(vendor) < 12 ? strlen(vendor) : 12);
    vec_put(&v, ven, 12);
    put32(&v, 0x6d8);
    put32(&v, 0);
    put32(&v, 0);
    mds_raw_stream(m, 7, v.p, v.n);
    free(v.p);
}

uint32_t mds_memory(struct mds *m, uint64_t base, const void *data, size_t len)
{
    uint32_t rva = mds_append(m, data, len);
    put64(&m->memory, base);
    put32(&m->memory, (uint32_t)len);
    put32(&m->memory, rva);
    m->n_memory++;
    return rva;
}

size_t mds_context_x86(uint8_t *out, const uint64_t *regs)
{
    /* regs in stackwalk order: eip esp ebp ebx esi edi eax ecx edx eflags */
    static const uint32_t off[10] = {184, 196, 180, 164, 160, 156, 176, 172, 168, 192};
    memset(out, 0, 716);
    wr32(out, 0x0001003f);
    for (unsigned i = 0; i < 10; i++)
        wr32(out + off[i], (uint32_t)regs[i]);
    return 716;
}

size_t mds_context_amd64(uint8_t *out, const uint64_t *regs)
{
    /* regs in stackwalk order: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip eflags */
    static const uint32_t off[17] = {120, 136, 128, 144, 168, 176, 160, 152, 184,
                                     192, 200, 208, 216, 224, 232, 240, 248};
    memset(out, 0, 1232);
    wr32(out + 48, 0x0010003f);
    for (unsigned i = 0; i < 17; i++)
        wr64(out + off[i], regs[i]);
    wr32(out + 68, (uint32_t)regs[17]);
    return 1232;
}

size_t mds_context_arm(uint8_t *out, const uint64_t *regs)
{
    memset(out, 0, 368);
    wr32(out, 0x40000002);
    for (unsigned i = 0; i < 17; i++)
        wr32(out + 4 + 4 * i, (uint32_t)regs[i]);
    return 368;
}

size_t mds_context_arm64(uint8_t *out, const uint64_t *regs)
{
    memset(out, 0, 912);
    wr32(out, 0x00400003);
    wr32(out + 4, (uint32_t)regs[33]);
    for (unsigned i = 0; i < 33; i++)
        wr64(out + 8 + 8 * i, regs[i]);
    return 912;
}

void mds_thread(struct mds *m, uint32_t tid, uint64_t stack_base, const void *stack,
                size_t stack_len, const void *ctx, size_t ctx_len)
{
    uint32_t stack_rva = stack_len ? mds_memory(m, stack_base, stack, stack_len) : 0;
    uint32_t ctx_rva = ctx_len ? mds_append(m, ctx, ctx_len) : 0;
    put32(&m->threads, tid);
    put32(&m->threads, 0);
    put32(&m->threads, 0);
    put32(&m->threads, 0);
    put64(&m->threads, 0x7ffde000);
    put64(&m->threads, stack_base);
    put32(&m->threads, (uint32_t)stack_len);
    put32(&m->threads, stack_rva);
    put32(&m->threads, (uint32_t)ctx_len);
    put32(&m->threads, ctx_rva);
    m->n_threads++;
}

void mds_module(struct mds *m, const struct mds_module *mod)
{
    uint32_t name_rva = mds_string(m, mod->name);
    uint32_t cv_rva = 0, cv_len = 0;
    struct vec cv = {0};
    if (mod->cv_kind == 1) {
        put32(&cv, 0x53445352);
        vec_put(&cv, mod->guid, 16);
        put32(&cv, mod->age);
        vec_put(&cv, mod->pdb, strlen(mod->pdb) + 1);
    } else if (mod->cv_kind == 2) {
        put32(&cv, 0x4270454C);
        vec_put(&cv, mod->build_id, mod->build_id_len);
    }
    if (cv.n) {
        cv_rva = mds_append(m, cv.p, cv.n);
        cv_len = (uint32_t)cv.n;
    }
    free(cv.p);
    struct vec *v = &m->modules;
    put64(v, mod->base);
    put32(v, mod->size);
    put32(v, mod->checksum);
    put32(v, mod->time_date_stamp);
    put32(v, name_rva);
    uint32_t vi[13] = {0};
    if (mod->version) {
        vi[0] = 0xFEEF04BD;
        vi[1] = 0x00010000;
        vi[2] = 0x00010002;
        vi[3] = 0x00030004;
    }
    for (unsigned i = 0; i < 13; i++)
        put32(v, vi[i]);
    put32(v, cv_len);
    put32(v, cv_rva);
    put32(v, 0);
    put32(v, 0);
    put64(v, 0);
    put64(v, 0);
    m->n_modules++;
}

void mds_unloaded_module(struct mds *m, uint64_t base, uint32_t size, uint32_t stamp,
                         const char *name)
{
    uint32_t name_rva = mds_string(m, name);
    put64(&m->unloaded, base);
    put32(&m->unloaded, size);
    put32(&m->unloaded, 0);
    put32(&m->unloaded, stamp);
    put32(&m->unloaded, name_rva);
    m->n_unloaded++;
}

void mds_exception(struct mds *m, uint32_t tid, uint32_t code, uint32_t flags, uint64_t address,
                   const uint64_t *params, uint32_t n_params, const void *ctx, size_t ctx_len)
{
    uint32_t ctx_rva = ctx_len ? mds_append(m, ctx, ctx_len) : 0;
    struct vec v = {0};
    put32(&v, tid);
    put32(&v, 0);
    put32(&v, code);
    put32(&v, flags);
    put64(&v, 0);
    put64(&v, address);
    put32(&v, n_params);
    put32(&v, 0);
    for (unsigned i = 0; i < 15; i++)
        put64(&v, i < n_params ? params[i] : 0);
    put32(&v, (uint32_t)ctx_len);
    put32(&v, ctx_rva);
    mds_raw_stream(m, 6, v.p, v.n);
    free(v.p);
}

void mds_breakpad_info(struct mds *m, bool has_dump, uint32_t dump_tid, bool has_req,
                       uint32_t req_tid)
{
    struct vec v = {0};
    put32(&v, (has_dump ? 1u : 0u) | (has_req ? 2u : 0u));
    put32(&v, dump_tid);
    put32(&v, req_tid);
    mds_raw_stream(m, 0x47670001, v.p, v.n);
    free(v.p);
}

void mds_misc_info(struct mds *m, uint32_t pid, uint32_t create_time)
{
    struct vec v = {0};
    put32(&v, 24);
    put32(&v, 3);
    put32(&v, pid);
    put32(&v, create_time);
    put32(&v, 0);
    put32(&v, 0);
    mds_raw_stream(m, 15, v.p, v.n);
    free(v.p);
}

void mds_thread_name(struct mds *m, uint32_t tid, const char *name)
{
    uint32_t rva = mds_string(m, name);
    put32(&m->names, tid);
    put64(&m->names, rva);
    m->n_names++;
}

static void list_stream(struct mds *m, uint32_t type, uint32_t count, const struct vec *v)
{
    struct vec s = {0};
    put32(&s, count);
    vec_put(&s, v->p, v->n);
    mds_raw_stream(m, type, s.p, s.n);
    free(s.p);
}

uint8_t *mds_finish(struct mds *m, uint32_t time_date_stamp, size_t *len_out)
{
    list_stream(m, 3, m->n_threads, &m->threads);
    if (m->n_modules)
        list_stream(m, 4, m->n_modules, &m->modules);
    if (m->n_memory)
        list_stream(m, 5, m->n_memory, &m->memory);
    if (m->n_names)
        list_stream(m, 24, m->n_names, &m->names);
    if (m->n_unloaded) {
        struct vec s = {0};
        put32(&s, 12);
        put32(&s, 24);
        put32(&s, m->n_unloaded);
        vec_put(&s, m->unloaded.p, m->unloaded.n);
        mds_raw_stream(m, 14, s.p, s.n);
        free(s.p);
    }
    struct vec d = {0};
    for (uint32_t i = 0; i < m->n_dir; i++) {
        put32(&d, m->dir[i].type);
        put32(&d, m->dir[i].size);
        put32(&d, m->dir[i].rva);
    }
    uint32_t dir_rva = mds_append(m, d.p, d.n);
    free(d.p);
    uint8_t *h = m->body.p;
    wr32(h, 0x504D444D);
    wr32(h + 4, 0xA793);
    wr32(h + 8, m->n_dir);
    wr32(h + 12, dir_rva);
    wr32(h + 16, 0);
    wr32(h + 20, time_date_stamp);
    wr64(h + 24, 0);
    uint8_t *out = malloc(m->body.n);
    if (out == NULL)
        die("out of memory");
    memcpy(out, m->body.p, m->body.n);
    *len_out = m->body.n;
    return out;
}
