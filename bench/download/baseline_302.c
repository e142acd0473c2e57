/* SPDX-License-Identifier: MPL-2.0 */
/* baseline_302.c: the download benchmark's baseline, a minimal libh2o server (same library, same
 * event loop, same number of threads as sigil) that answers every request with the same 302 from
 * memory. Usage: baseline_302 PORT THREADS LOCATION */
#define H2O_USE_LIBUV 0
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

static h2o_globalconf_t config;
static int listen_fd;
static const char *location;

struct worker {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
};

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    req->res.status = 302;
    req->res.reason = "Found";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, location,
                   strlen(location));
    req->res.content_length = 0;
    h2o_send_inline(req, "", 0);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    struct worker *w = listener->data;
    h2o_socket_t *sock;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(&w->accept_ctx, sock);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, loop, &config);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = config.hosts;
    h2o_socket_t *sock = h2o_evloop_socket_create(loop, dup(listen_fd), H2O_SOCKET_FLAG_DONT_READ);
    sock->data = w;
    h2o_socket_read_start(sock, on_accept);
    while (h2o_evloop_run(loop, INT32_MAX) == 0)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: baseline_302 PORT THREADS LOCATION\n");
        return 2;
    }
    int port = (int)strtol(argv[1], NULL, 10);
    int threads = (int)strtol(argv[2], NULL, 10);
    location = argv[3];
    signal(SIGPIPE, SIG_IGN);
    h2o_config_init(&config);
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int on = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(0x7f000001)};
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(listen_fd, 4096)) {
        perror("baseline_302: listen");
        return 1;
    }
    struct worker *workers = calloc((size_t)threads, sizeof(*workers));
    pthread_t *tids = calloc((size_t)threads, sizeof(*tids));
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, run, &workers[i]);
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    return 0;
}
