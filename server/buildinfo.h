/* SPDX-License-Identifier: MPL-2.0 */
/* buildinfo.h: version and git commit baked in at build time. Static strings, never NULL. */
#ifndef SRV_BUILDINFO_H
#define SRV_BUILDINFO_H

const char *srv_version(void);
const char *srv_git_commit(void);
/* Commit time (ISO 8601) of the source this binary was built from, or "unknown". */
const char *srv_build_id(void);

#endif
