/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exporter.c: execcountd-metrics, the counts over HTTP for Prometheus. It takes its
 * listening sockets from systemd (execcountd-metrics.socket), answers GET /metrics with
 * what it asks execcountd over Varlink, and holds no privilege: execcountd keeps no
 * network socket of its own. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "exporter.h"
#include "log.h"
#include "protocol.h"
#include "time-util.h"

/* Connections held at once; when one more comes, the oldest goes (the one most likely to
 * be slow on purpose: Prometheus asks and reads in milliseconds). At most 4 from one
 * address (one IPv6 /64): a fifth from there is closed at once. */
#define CONNECTIONS_MAX 16
#define CONNECTIONS_PER_ADDRESS_MAX 4
/* Time for a client to send its request, and to take the whole answer. */
#define REQUEST_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define ANSWER_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define LISTEN_FDS_MAX 16
/* How long the daemon may be silent in a call: a wedged daemon must not hold scrapes. */
#define DAEMON_TIMEOUT_USEC (5 * USEC_PER_SEC)

typedef struct Server Server;

typedef struct Conn {
        Server *server;
        struct Conn *prev, *next; /* newest first */
        int fd;
        struct sockaddr_storage peer;
        sd_event_source *io, *timer;
        char in[HTTP_REQUEST_MAX];
        size_t in_len;
        bool answering;
        Answer answer;
        size_t sent; /* of the head, then of the body */
} Conn;

struct Server {
        sd_event *event;
        Args args; /* the daemon's socket, and the series limits */
        sd_event_source *listeners[LISTEN_FDS_MAX];
        size_t n_listeners;
        Conn *conns;
        size_t n_conns;
        Snapshot snapshot;
        bool daemon_down; /* the last call to the daemon failed, and that was said */
};

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Serve execcountd's counts to Prometheus: GET /metrics over HTTP, on the sockets\n"
               "systemd passes (execcountd-metrics.socket).\n\n"
               "Options:\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --socket=PATH      Ask the daemon at PATH (default: %s)\n"
               "     --max-uids=N       UIDs with series of their own, the most active; the\n"
               "                        others sum up in uid=\"other\" (default %d; 0: no limit)\n"
               "     --max-units=N      The same for units (default %d)\n\n"
               "See execcountd-metrics(8).\n",
               program_invocation_short_name, EXECCOUNT_SOCKET_DEFAULT, METRICS_MAX_UIDS_DEFAULT,
               METRICS_MAX_UNITS_DEFAULT);
}

/* 1 to go on, 0 to exit with success, -EINVAL for a bad command line. */
static int parse_argv(int argc, char *argv[], Args *a) {
        enum { ARG_VERSION = 0x100, ARG_SOCKET, ARG_MAX_UIDS, ARG_MAX_UNITS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "max-uids", required_argument, NULL, ARG_MAX_UIDS },
                { "max-units", required_argument, NULL, ARG_MAX_UNITS },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("execcountd-metrics %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_SOCKET:
                        a->socket = optarg;
                        break;
                case ARG_MAX_UIDS:
                case ARG_MAX_UNITS:
                        if (metrics_parse_max(c == ARG_MAX_UIDS ? "max-uids" : "max-units", optarg,
                                              c == ARG_MAX_UIDS ? &a->max_uids : &a->max_units) < 0)
                                return -EINVAL;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'; see --help.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* ---- Connections */

static void conn_free(Conn *c) {
        Server *s = c->server;
        char drain[4096];

        sd_event_source_unref(c->io);
        sd_event_source_unref(c->timer);
        if (c->fd >= 0) {
                /* What the client sent beyond the request (a body) is read, so that closing
                 * does not reset the connection and lose the answer on its way. */
                for (int i = 0; i < 16 && recv(c->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
                        ;
                close(c->fd);
        }
        answer_done(&c->answer);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        free(c);
}

/* Sends what it can of the answer; closes the connection once all of it went. */
static void conn_send(Conn *c) {
        for (;;) {
                const Answer *a = &c->answer;
                size_t body_len = a->body ? a->body->len : 0;
                struct iovec iov[2];
                struct msghdr msg = { .msg_iov = iov };
                ssize_t n;

                if (c->sent >= a->head_len + body_len)
                        break;
                if (c->sent < a->head_len) {
                        iov[msg.msg_iovlen++] = (struct iovec) { a->head + c->sent, a->head_len - c->sent };
                        if (body_len > 0)
                                iov[msg.msg_iovlen++] = (struct iovec) { a->body->data, body_len };
                } else
                        iov[msg.msg_iovlen++] = (struct iovec) { a->body->data + (c->sent - a->head_len),
                                                                 body_len - (c->sent - a->head_len) };
                n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        conn_free(c);
                        return;
                }
                c->sent += (size_t) n;
        }
        (void) shutdown(c->fd, SHUT_WR);
        conn_free(c);
}

static void conn_answer(Conn *c, const HttpRequest *req) {
        Server *s = c->server;

        if (answer_make(req, &s->args, &s->snapshot, &s->daemon_down, &c->answer) < 0) {
                log_oom();
                conn_free(c);
                return;
        }
        c->answering = true;
        if (sd_event_source_set_time_relative(c->timer, ANSWER_TIMEOUT_USEC) < 0 ||
            sd_event_source_set_io_events(c->io, EPOLLOUT) < 0) {
                conn_free(c);
                return;
        }
        conn_send(c);
}

static int on_conn_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        HttpRequest req;
        ssize_t n;

        (void) source, (void) revents;
        if (c->answering) {
                conn_send(c);
                return 0;
        }
        n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                conn_free(c); /* gone before asking */
                return 0;
        }
        c->in_len += (size_t) n;
        if (http_parse_request(c->in, c->in_len, &req) == -EAGAIN)
                return 0;
        conn_answer(c, &req);
        return 0;
}

static int on_conn_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Conn *c = userdata;

        (void) source, (void) usec;
        if (!c->answering && c->in_len > 0) {
                /* Too slow to ask: say so, once, if the socket takes it. */
                HttpRequest req = { .status = 408 };

                if (answer_make(&req, &c->server->args, &c->server->snapshot, &c->server->daemon_down,
                                &c->answer) == 0) {
                        struct iovec iov[] = { { c->answer.head, c->answer.head_len },
                                               { c->answer.body->data, c->answer.body->len } };

                        (void) sendmsg(c->fd, &(struct msghdr) { .msg_iov = iov, .msg_iovlen = 2 },
                                       MSG_NOSIGNAL | MSG_DONTWAIT);
                }
        }
        conn_free(c);
        return 0;
}

/* Whether two peers count as one address: IPv4 addresses (mapped into IPv6 too) whole,
 * IPv6 ones by their /64, which one host may fill with addresses of its own. */
static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
        if (a->ss_family != b->ss_family)
                return false;
        if (a->ss_family == AF_INET)
                return ((const struct sockaddr_in *) a)->sin_addr.s_addr ==
                       ((const struct sockaddr_in *) b)->sin_addr.s_addr;
        if (a->ss_family == AF_INET6) {
                const struct in6_addr *x = &((const struct sockaddr_in6 *) a)->sin6_addr,
                                      *y = &((const struct sockaddr_in6 *) b)->sin6_addr;

                if (IN6_IS_ADDR_V4MAPPED(x) || IN6_IS_ADDR_V4MAPPED(y))
                        return memcmp(x, y, sizeof(*x)) == 0;
                return memcmp(x, y, 8) == 0;
        }
        return true; /* Unix sockets: one peer address for all */
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        size_t same = 0;
        Conn *c, *oldest = NULL;
        int cfd, r;

        (void) source, (void) revents;
        cfd = accept4(fd, (struct sockaddr *) &peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(errno, "Failed to accept a connection: %m");
                return 0;
        }
        for (Conn *o = s->conns; o; o = o->next) {
                same += same_address(&o->peer, &peer);
                oldest = o;
        }
        if (same >= CONNECTIONS_PER_ADDRESS_MAX) {
                close(cfd); /* one address does not take every place */
                return 0;
        }
        if (s->n_conns >= CONNECTIONS_MAX)
                conn_free(oldest); /* the oldest gives way: slow ones cannot keep others out */
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(cfd);
                return log_oom(), 0;
        }
        *c = (Conn) { .server = s, .fd = cfd, .peer = peer, .next = s->conns };
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        r = sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_conn_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, REQUEST_TIMEOUT_USEC, 0,
                                               on_conn_timer, c);
        if (r < 0) {
                log_warning_errno(r, "Failed to watch a connection: %m");
                conn_free(c);
                return 0;
        }
        (void) sd_event_source_set_description(c->io, "connection");
        (void) sd_event_source_set_description(c->timer, "connection-timeout");
        return 0;
}

static int on_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        (void) si, (void) userdata;
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(sd_event_source_get_event(source), 0);
}

static int fd_nonblock(int fd) {
        int flags = fcntl(fd, F_GETFL);

        return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int serve(Server *s) {
        sigset_t mask;
        int n, r;

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to take the sockets from systemd: %m");
        if (n == 0) {
                log_error("No socket to listen on: start execcountd-metrics.socket (systemctl enable --now "
                          "execcountd-metrics.socket), or pass one as systemd does.");
                return -EINVAL;
        }
        if (n > LISTEN_FDS_MAX) {
                log_error("%d sockets passed; execcountd-metrics takes at most %d.", n, LISTEN_FDS_MAX);
                return -EINVAL;
        }
        r = sd_event_default(&s->event);
        if (r < 0)
                return log_error_errno(r, "Failed to make the event loop: %m");
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = sd_event_add_signal(s->event, NULL, SIGTERM, on_signal, NULL)) < 0 ||
            (r = sd_event_add_signal(s->event, NULL, SIGINT, on_signal, NULL)) < 0)
                return log_error_errno(r, "Failed to watch for signals: %m");
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;

                if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                        log_error("Socket %d from systemd is not a listening stream socket: ListenStream= only.",
                                  i + 1);
                        return -EINVAL;
                }
                /* systemd passes them blocking (no NonBlocking=): accept() must not wait. */
                if (fd_nonblock(fd) < 0)
                        return log_error_errno(errno, "Failed to make the listening socket non-blocking: %m");
                r = sd_event_add_io(s->event, &s->listeners[s->n_listeners], fd, EPOLLIN, on_accept, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch the listening socket: %m");
                (void) sd_event_source_set_description(s->listeners[s->n_listeners], "listener");
                s->n_listeners++;
        }
        (void) sd_notify(false, "READY=1");
        r = sd_event_loop(s->event);
        return r < 0 ? log_error_errno(r, "The event loop failed: %m") : 0;
}

int main(int argc, char *argv[]) {
        Server s = {
                .args = {
                        .socket = EXECCOUNT_SOCKET_DEFAULT,
                        .timeout_usec = DAEMON_TIMEOUT_USEC,
                        .max_uids = METRICS_MAX_UIDS_DEFAULT,
                        .max_units = METRICS_MAX_UNITS_DEFAULT,
                },
        };
        int r;

        log_set_prefix(""); /* the journal names the unit */
        r = parse_argv(argc, argv, &s.args);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        r = serve(&s);
        while (s.conns)
                conn_free(s.conns);
        snapshot_done(&s.snapshot);
        for (size_t i = 0; i < s.n_listeners; i++)
                sd_event_source_unref(s.listeners[i]);
        sd_event_unref(s.event);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
