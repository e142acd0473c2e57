/* SPDX-License-Identifier: MPL-2.0 */
/* buildinfo.c: the version strings baked into the server library at build time. */
#include "buildinfo.h"

#include "version.h"

const char *srv_version(void)
{
    return SIGIL_VERSION;
}

const char *srv_git_commit(void)
{
    return SIGIL_GIT_COMMIT;
}

const char *srv_build_id(void)
{
    return SIGIL_BUILD_TIME;
}
