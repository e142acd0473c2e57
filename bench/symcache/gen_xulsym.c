/* SPDX-License-Identifier: MPL-2.0 */
/* gen_xulsym.c: writes deterministic synthetic Breakpad .sym files shaped like Firefox's libxul
 * (dump_syms record order, record mix and name lengths of a real libxul), for the symcache
 * benchmark. The same variant and seed always give the same bytes.
 *
 *   gen_xulsym VARIANT OUT.sym     VARIANT: xul | xul-inl | huge | small-2000 | small-200 |
 *                                           corrupt
 * Prints the record counts it wrote on stdout ("funcs=... lines=..."). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rng {
    uint64_t s;
};

/* xorshift64* */
static uint64_t next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

static uint32_t below(struct rng *r, uint32_t n)
{
    return (uint32_t)((next(r) >> 32) % n);
}

struct variant {
    const char *name;
    uint32_t funcs, files, publics, origins;
    int inline_every; /* 0: no INLINE records; 2: half of the FUNCs */
    int corrupt;
};

static const struct variant variants[] = {
    {"xul", 300000, 60000, 30000, 0, 0, 0},     {"xul-inl", 300000, 60000, 30000, 150000, 2, 0},
    {"huge", 1200000, 240000, 120000, 0, 0, 0}, {"small-2000", 2000, 400, 200, 0, 0, 0},
    {"small-200", 200, 40, 20, 0, 0, 0},        {"corrupt", 20000, 4000, 2000, 10000, 2, 1},
};

static const char *const ns[] = {"mozilla", "dom",    "layers", "gfx", "net",   "js",    "jit",
                                 "ipc",     "detail", "widget", "css", "image", "media", "webgpu",
                                 "a11y",    "layout", "style",  "gc",  "wasm",  "xpcom"};
static const char *const cls[] = {"nsDocShell",
                                  "PresShell",
                                  "BrowserChild",
                                  "WebRenderBridgeParent",
                                  "HTMLMediaElement",
                                  "nsRefreshDriver",
                                  "CanvasRenderingContext2D",
                                  "MacroAssembler",
                                  "IonBuilder",
                                  "nsHttpChannel",
                                  "ContentParent",
                                  "WorkerPrivate",
                                  "EventStateManager",
                                  "nsFrameLoader",
                                  "ScriptLoader",
                                  "CompositorBridgeParent",
                                  "Element",
                                  "Document",
                                  "nsGlobalWindowInner",
                                  "HttpBaseChannel"};
static const char *const meth[] = {"Init",    "Destroy",       "HandleEvent",  "OnStartRequest",
                                   "Paint",   "RecvMessage",   "Flush",        "UpdateStyle",
                                   "Reflow",  "DispatchEvent", "GetInterface", "QueryInterface",
                                   "AddRef",  "Release",       "Run",          "ProcessNextEvent",
                                   "Compile", "Trace",         "Finalize",     "Notify"};
static const char *const typ[] = {"nsISupports*",
                                  "const nsACString&",
                                  "uint32_t",
                                  "bool",
                                  "JSContext*",
                                  "const nsID&",
                                  "void**",
                                  "mozilla::ErrorResult&",
                                  "JS::Handle<JS::Value>",
                                  "int32_t",
                                  "double",
                                  "const mozilla::gfx::IntRect&"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A C++-like demangled name of about 100 bytes. */
static void put_name(FILE *f, struct rng *r, int huge)
{
    fprintf(f, "%s::%s::%s%u::%s(", ns[below(r, N(ns))], ns[below(r, N(ns))], cls[below(r, N(cls))],
            below(r, 1000), meth[below(r, N(meth))]);
    unsigned np = 1 + below(r, 3);
    for (unsigned i = 0; i < np; i++)
        fprintf(f, "%s%s", i ? ", " : "", typ[below(r, N(typ))]);
    fputc(')', f);
    if (huge) {
        /* Rare template monsters of 8-80 KB. */
        uint32_t len = 8192 + below(r, 73728);
        fputs("<", f);
        for (uint32_t n = 0; n < len;) {
            const char *t = typ[below(r, N(typ))];
            fprintf(f, "%s, ", t);
            n += (uint32_t)strlen(t) + 2;
        }
        fputs(">", f);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_xulsym VARIANT OUT.sym\n");
        return 2;
    }
    const struct variant *v = NULL;
    for (size_t i = 0; i < N(variants); i++)
        if (strcmp(argv[1], variants[i].name) == 0)
            v = &variants[i];
    if (v == NULL) {
        fprintf(stderr, "gen_xulsym: unknown variant %s\n", argv[1]);
        return 2;
    }
    FILE *f = fopen(argv[2], "wb");
    if (f == NULL) {
        perror(argv[2]);
        return 1;
    }
    static char obuf[1 << 20];
    setvbuf(f, obuf, _IOFBF, sizeof(obuf));
    struct rng r = {0x5eed5eed12345678ull};
    uint64_t n_lines = 0, n_inl = 0, n_cfi = 0, n_pub = 0, n_func = 0;

    fprintf(f, "MODULE windows x86_64 0185139C8F04FFC94C4C44205044422E1 xul.pdb\n");
    fprintf(f, "INFO CODE_ID 60533C886EFD000 xul.dll\n");
    fprintf(f, "INFO GENERATOR mozilla/dump_syms 2.3.3\n");
    for (uint32_t i = 0; i < v->files; i++)
        fprintf(f, "FILE %u hg:hg.mozilla.org/mozilla-central:%s/%s/%s%u.cpp:4f8a7c1e9b2d\n", i,
                ns[below(&r, N(ns))], ns[below(&r, N(ns))], cls[below(&r, N(cls))], i);
    for (uint32_t i = 0; i < v->origins; i++) {
        fprintf(f, "INLINE_ORIGIN %u ", i);
        put_name(f, &r, 0);
        fputc('\n', f);
    }

    /* Functions: contiguous, 1 in 4 followed by a 0-63 byte gap. */
    uint64_t addr = 0x1000;
    uint64_t *func_addr = malloc(sizeof(uint64_t) * v->funcs);
    uint32_t *func_size = malloc(sizeof(uint32_t) * v->funcs);
    if (func_addr == NULL || func_size == NULL)
        return 1;
    uint32_t file = 0, line = 1;
    for (uint32_t i = 0; i < v->funcs; i++) {
        uint32_t nl = 1 + below(&r, 19);
        uint32_t sizes[19], total = 0;
        for (uint32_t k = 0; k < nl; k++) {
            sizes[k] = 1 + below(&r, 24);
            total += sizes[k];
        }
        func_addr[i] = addr;
        func_size[i] = total;
        if (v->corrupt && i == v->funcs / 2)
            fprintf(f, "FUNC %" PRIx64 " %x 0\n", addr, total); /* no name */
        else {
            fprintf(f, below(&r, 50) == 0 ? "FUNC m %" PRIx64 " %x 0 " : "FUNC %" PRIx64 " %x 0 ",
                    addr, total);
            put_name(f, &r, below(&r, 20000) == 0);
            fputc('\n', f);
        }
        n_func++;
        if (v->inline_every && i % (uint32_t)v->inline_every == 0) {
            /* A chain of 1-3 nested inlines over the start of the function. */
            uint32_t depth = 1 + below(&r, 3), span = total;
            for (uint32_t d = 0; d < depth && span > 1; d++) {
                fprintf(f, "INLINE %u %u %u %u %" PRIx64 " %x\n", d, line + d, file,
                        below(&r, v->origins), addr, span);
                span = span / 2 ? span / 2 : 1;
                n_inl++;
            }
        }
        uint64_t a = addr;
        for (uint32_t k = 0; k < nl; k++) {
            if (below(&r, 8) == 0)
                file = below(&r, v->files);
            line += below(&r, 4);
            fprintf(f, "%" PRIx64 " %x %u %u\n", a, sizes[k], line, file);
            a += sizes[k];
            n_lines++;
        }
        addr += total;
        if (below(&r, 4) == 0)
            addr += below(&r, 64);
    }
    for (uint32_t i = 0; i < v->publics; i++) {
        /* dump_syms writes PUBLIC for linker symbols, usually at function starts. */
        uint32_t k = (uint32_t)((uint64_t)i * v->funcs / v->publics);
        fprintf(f, "PUBLIC %" PRIx64 " 0 ", func_addr[k]);
        put_name(f, &r, 0);
        fputc('\n', f);
        n_pub++;
    }
    for (uint32_t i = 0; i < v->funcs; i++) {
        uint64_t a = func_addr[i];
        uint32_t s = func_size[i];
        fprintf(f, "STACK CFI INIT %" PRIx64 " %x .cfa: $rsp 8 + .ra: .cfa -8 + ^\n", a, s);
        if (s >= 4) {
            fprintf(f, "STACK CFI %" PRIx64 " .cfa: $rsp 16 + $rbp: .cfa -16 + ^\n", a + 1);
            fprintf(f, "STACK CFI %" PRIx64 " .cfa: $rbp 16 +\n", a + 2 + below(&r, s - 3));
            fprintf(f, "STACK CFI %" PRIx64 " .cfa: $rsp 8 +\n", a + s - 1);
            n_cfi += 3;
        }
        n_cfi++;
    }
    if (v->corrupt) {
        fputs("INLINE_ORIGIN 5\n", f); /* no name */
        fputs("FUNC ", f);
        for (int i = 0; i < 2 * 1024 * 1024 / 8; i++)
            fputs("deadbeef", f); /* a 2 MB single line */
        fputc('\n', f);
        fputs("FUNC 7fff0000 1", f); /* truncated mid-line */
    }
    free(func_addr);
    free(func_size);
    if (fclose(f) != 0) {
        perror(argv[2]);
        return 1;
    }
    printf("funcs=%" PRIu64 " lines=%" PRIu64 " inlines=%" PRIu64 " cfi=%" PRIu64
           " publics=%" PRIu64 " files=%u origins=%u\n",
           n_func, n_lines, n_inl, n_cfi, n_pub, v->files, v->origins);
    return 0;
}
