/* SPDX-License-Identifier: MPL-2.0 */
/* mdsynth.h: a synthetic minidump writer for test fixtures. Tests describe threads, stacks,
 * modules, memory and an exception; mds_finish() lays out the streams, the directory and the
 * header. Low-level calls (mds_append, mds_add_stream) let tests build deliberately broken dumps.
 * Test-only code: allocation failures abort the test process. */
#ifndef SIGIL_MDSYNTH_H
#define SIGIL_MDSYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mds;

struct mds *mds_new(void);
void mds_free(struct mds *m);

/* Appends raw bytes to the file body (4-byte aligned) and returns their RVA. */
uint32_t mds_append(struct mds *m, const void *data, size_t len);
/* Appends a MINIDUMP_STRING (UTF-16LE of an ASCII/UTF-8 string) and returns its RVA. */
uint32_t mds_string(struct mds *m, const char *s);
/* Adds a directory entry as is (for custom or corrupt streams). */
void mds_add_stream(struct mds *m, uint32_t type, uint32_t size, uint32_t rva);
/* Appends data and adds a stream of that type for it. */
void mds_raw_stream(struct mds *m, uint32_t type, const void *data, size_t len);

/* SystemInfo: arch (0 x86, 9 amd64, 5 arm, 12 arm64), platform (2 Windows, 0x8201 Linux,
 * 0x8101 macOS, 0x8102 iOS), version numbers and an optional CSD string. */
void mds_system_info(struct mds *m, uint16_t arch, uint32_t platform, uint32_t major,
                     uint32_t minor, uint32_t build, const char *csd, const char *vendor);

/* Adds a memory region to the MemoryList stream; returns the RVA of its bytes. */
uint32_t mds_memory(struct mds *m, uint64_t base, const void *data, size_t len);

/* Context records built from register values in stackwalk/context.h order. */
size_t mds_context_x86(uint8_t *out /* 716 bytes */, const uint64_t *regs);
size_t mds_context_amd64(uint8_t *out /* 1232 bytes */, const uint64_t *regs);
size_t mds_context_arm(uint8_t *out /* 368 bytes */, const uint64_t *regs);
size_t mds_context_arm64(uint8_t *out /* 912 bytes */, const uint64_t *regs);

/* Adds a thread whose stack bytes (also added to the memory list) start at stack_base. */
void mds_thread(struct mds *m, uint32_t tid, uint64_t stack_base, const void *stack,
                size_t stack_len, const void *ctx, size_t ctx_len);

/* Adds a module. cv_kind: 0 none, 1 PDB70 (guid[16] little-endian fields + age + pdb), 2 ELF
 * build id (guid bytes used as the build id, build_id_len bytes). */
struct mds_module {
    uint64_t base;
    uint32_t size, time_date_stamp, checksum;
    const char *name;
    int cv_kind;
    uint8_t guid[16];
    uint32_t age;
    const char *pdb;
    const uint8_t *build_id;
    size_t build_id_len;
    bool version; /* write a VS_FIXEDFILEINFO with file version 1.2.3.4 */
};
void mds_module(struct mds *m, const struct mds_module *mod);

void mds_unloaded_module(struct mds *m, uint64_t base, uint32_t size, uint32_t stamp,
                         const char *name);

/* Exception stream for thread tid with an exception context (copied). */
void mds_exception(struct mds *m, uint32_t tid, uint32_t code, uint32_t flags, uint64_t address,
                   const uint64_t *params, uint32_t n_params, const void *ctx, size_t ctx_len);

/* BreakpadInfo stream. */
void mds_breakpad_info(struct mds *m, bool has_dump, uint32_t dump_tid, bool has_req,
                       uint32_t req_tid);
/* MiscInfo (v1) with pid and process create time. */
void mds_misc_info(struct mds *m, uint32_t pid, uint32_t create_time);
/* ThreadNames stream entry. */
void mds_thread_name(struct mds *m, uint32_t tid, const char *name);

/* Lays out the thread/module/memory/unloaded/thread-name streams and the directory. Returns a
 * malloc'd file (caller frees) and its length. The builder stays usable for mds_free only. */
uint8_t *mds_finish(struct mds *m, uint32_t time_date_stamp, size_t *len_out);

#endif
