/* SPDX-License-Identifier: MPL-2.0 */
/* serve.c: `sigil serve`, the HTTP server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "http/router.h"

static const char usage[] =
    "usage: sigil serve [settings] [--check-config] [--print-config] [--list-routes]\n\n"
    "Runs the symbols server: download, upload and symbolication APIs, health endpoints and\n"
    "metrics. --check-config validates the settings and exits; --print-config prints the\n"
    "effective settings (secrets redacted); --list-routes prints every route.\n";

int cli_serve_main(int argc, char **argv)
{
    const unsigned scopes = SRV_CFG_SERVE | SRV_CFG_DB | SRV_CFG_STORAGE;
    struct srv_config cfg;
    const char **pos = NULL;
    int n_pos = 0, code = 0;
    if (!cli_load_config(&cfg, scopes, argc, argv, usage, &pos, &n_pos, &code))
        return code;
    bool check = false, print = false, list = false;
    for (int i = 0; i < n_pos; i++) {
        if (strcmp(pos[i], "--check-config") == 0)
            check = true;
        else if (strcmp(pos[i], "--print-config") == 0)
            print = true;
        else if (strcmp(pos[i], "--list-routes") == 0)
            list = true;
        else {
            fprintf(stderr, "sigil serve: unknown argument '%s' (see sigil serve --help)\n",
                    pos[i]);
            code = 2;
        }
    }
    free(pos);
    if (code == 0 && (check || print || list)) {
        if (print)
            srv_config_print(&cfg, stdout, scopes);
        if (list)
            srv_router_list(stdout);
        srv_config_free(&cfg);
        return 0;
    }
    if (code != 0) {
        srv_config_free(&cfg);
        return code;
    }
    struct srv_app app;
    code = srv_app_open(&app, &cfg);
    if (code == 0) {
        code = srv_app_serve(&app);
        srv_app_close(&app);
    }
    srv_config_free(&cfg);
    return code;
}
