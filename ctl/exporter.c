/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exporter.c: execcountd-metrics, the counts over HTTP for Prometheus. It takes its
 * listening sockets from systemd (execcountd-metrics.socket), answers GET /metrics with
 * what it asks execcountd over Varlink, and holds no privilege: execcountd keeps no
 * network socket of its own. */

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>
#include <zlib.h>

#include "http.h"
#include "log.h"
#include "metrics.h"
#include "protocol.h"
#include "time-util.h"

/* Connections served at once, and from one address; the others wait in the listen
 * queue, or are closed. */
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
        struct Conn *prev, *next;
        int fd;
        struct sockaddr_storage peer;
        socklen_t peer_len;
        sd_event_source *io, *timer;
        char in[HTTP_REQUEST_MAX];
        size_t in_len;
        char *out; /* the answer, headers and body */
        size_t out_len, out_done;
} Conn;

struct Server {
        sd_event *event;
        Args args; /* the daemon's socket, and the series limits */
        sd_event_source *listeners[LISTEN_FDS_MAX];
        size_t n_listeners;
        Conn *conns;
        size_t n_conns;
        bool paused;      /* not accepting: CONNECTIONS_MAX reached */
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

/* ---- The answer */

/* body[0..len) compressed with gzip into a new buffer; -ENOMEM or -EIO. */
static int gzip_compress(const char *body, size_t len, char **ret, size_t *ret_len) {
        z_stream z = {};
        char *out;
        uLong bound;
        int r;

        /* Level 1: a scrape's text compresses about as well at a fraction of the time. */
        if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return -ENOMEM;
        bound = deflateBound(&z, len);
        out = malloc(bound);
        if (!out) {
                deflateEnd(&z);
                return -ENOMEM;
        }
        z.next_in = (Bytef *) body;
        z.avail_in = (uInt) len;
        z.next_out = (Bytef *) out;
        z.avail_out = (uInt) bound;
        r = deflate(&z, Z_FINISH);
        *ret_len = z.total_out;
        deflateEnd(&z);
        if (r != Z_STREAM_END) {
                free(out);
                return -EIO;
        }
        *ret = out;
        return 0;
}

/* The metrics as the request asks, in *ret; the exit code of a failed call to the daemon
 * (said in the log) otherwise. */
static int render_metrics(Server *s, const HttpRequest *req, char **ret, size_t *ret_len) {
        int level = log_get_max_level();
        MetricsSource src;
        FILE *f;
        int r;

        /* Why the daemon does not answer is said once, not at every scrape until it does. */
        if (s->daemon_down)
                log_set_max_level(LOG_CRIT);
        r = metrics_fetch(&s->args, &src);
        log_set_max_level(level);
        if (r != 0) {
                if (!s->daemon_down)
                        log_notice("Answering 503 to scrapes until execcountd answers.");
                s->daemon_down = true;
                return r;
        }
        if (s->daemon_down)
                log_notice("execcountd answers again.");
        s->daemon_down = false;
        metrics_limit(&src.metrics, s->args.max_uids, s->args.max_units);
        f = open_memstream(ret, ret_len);
        if (!f) {
                metrics_source_done(&src);
                return log_oom(), EXIT_FAILURE;
        }
        r = metrics_write(&src.metrics, req->openmetrics ? METRICS_OPENMETRICS : METRICS_PROMETHEUS, f);
        metrics_source_done(&src);
        if (fclose(f) != 0 || r < 0) {
                free(*ret);
                *ret = NULL;
                return log_oom(), EXIT_FAILURE;
        }
        return 0;
}

/* Sets c->out to the whole answer to req. */
static int make_answer(Conn *c, const HttpRequest *req) {
        _cleanup_(freep) char *body = NULL, *packed = NULL;
        const char *type = "text/plain; charset=utf-8", *encoding = "";
        size_t body_len = 0;
        int status = req->status;
        FILE *f;

        if (status == 200 && render_metrics(c->server, req, &body, &body_len) != 0)
                status = 503;
        if (status == 200) {
                type = req->openmetrics ? METRICS_CONTENT_TYPE_OPENMETRICS : METRICS_CONTENT_TYPE_PROMETHEUS;
                if (req->gzip && gzip_compress(body, body_len, &packed, &body_len) == 0) {
                        free(body);
                        body = TAKE_PTR(packed);
                        encoding = "Content-Encoding: gzip\r\n";
                }
        } else {
                free(body);
                body = NULL;
                if (asprintf(&body, "%d %s%s\n", status, http_reason(status),
                             status == 503   ? ": execcountd did not answer; see journalctl -u execcountd-metrics"
                             : status == 404 ? ": the metrics are at /metrics"
                                             : "") < 0)
                        return -ENOMEM;
                body_len = strlen(body);
        }

        f = open_memstream(&c->out, &c->out_len);
        if (!f)
                return -ENOMEM;
        fprintf(f,
                "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\nVary: Accept, Accept-Encoding\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                status, http_reason(status), type, encoding, body_len,
                status == 405 ? "Allow: GET, HEAD\r\n" : "");
        if (!req->head)
                fwrite(body, 1, body_len, f);
        if (fclose(f) != 0) {
                free(c->out);
                c->out = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* ---- Connections */

static void listeners_enable(Server *s, int enabled) {
        for (size_t i = 0; i < s->n_listeners; i++)
                (void) sd_event_source_set_enabled(s->listeners[i], enabled);
        s->paused = enabled == SD_EVENT_OFF;
}

static void conn_free(Conn *c) {
        Server *s = c->server;

        sd_event_source_unref(c->io);
        sd_event_source_unref(c->timer);
        if (c->fd >= 0)
                close(c->fd);
        free(c->out);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        free(c);
        if (s->paused)
                listeners_enable(s, SD_EVENT_ON);
}

/* Sends what it can of the answer; closes the connection once all of it went. */
static void conn_send(Conn *c) {
        while (c->out_done < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_done, c->out_len - c->out_done, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        conn_free(c);
                        return;
                }
                c->out_done += (size_t) n;
        }
        (void) shutdown(c->fd, SHUT_WR);
        conn_free(c);
}

static void conn_answer(Conn *c, const HttpRequest *req) {
        if (make_answer(c, req) < 0) {
                log_oom();
                conn_free(c);
                return;
        }
        (void) sd_event_source_set_time_relative(c->timer, ANSWER_TIMEOUT_USEC);
        if (sd_event_source_set_io_events(c->io, EPOLLOUT) < 0) {
                conn_free(c);
                return;
        }
        conn_send(c);
}

static int on_conn_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        HttpRequest req;
        ssize_t n;

        (void) source;
        if (c->out) {
                conn_send(c);
                return 0;
        }
        n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0 || (revents & (EPOLLERR | EPOLLHUP) && n == 0)) {
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
        if (!c->out && c->in_len > 0) {
                /* Too slow to ask: say so, once, if the socket takes it. */
                HttpRequest req = { .status = 408 };

                if (make_answer(c, &req) == 0)
                        (void) send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        conn_free(c);
        return 0;
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
        if (a->ss_family != b->ss_family)
                return false;
        if (a->ss_family == AF_INET)
                return ((const struct sockaddr_in *) a)->sin_addr.s_addr ==
                       ((const struct sockaddr_in *) b)->sin_addr.s_addr;
        if (a->ss_family == AF_INET6)
                return memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
                              &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof(struct in6_addr)) == 0;
        return true; /* Unix sockets: one peer address for all */
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;
        Conn *c;
        size_t same = 0;
        int cfd, r;

        (void) source, (void) revents;
        c = calloc(1, sizeof(*c));
        if (!c)
                return log_oom(), 0;
        c->peer_len = sizeof(c->peer);
        cfd = accept4(fd, (struct sockaddr *) &c->peer, &c->peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                free(c);
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(errno, "Failed to accept a connection: %m");
                return 0;
        }
        for (Conn *o = s->conns; o; o = o->next)
                same += same_address(&o->peer, &c->peer);
        if (same >= CONNECTIONS_PER_ADDRESS_MAX) {
                close(cfd); /* one address does not take every place */
                free(c);
                return 0;
        }
        c->server = s;
        c->fd = cfd;
        c->next = s->conns;
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
        if (s->n_conns >= CONNECTIONS_MAX)
                listeners_enable(s, SD_EVENT_OFF);
        return 0;
}

static int on_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        (void) si, (void) userdata;
        return sd_event_exit(sd_event_source_get_event(source), 0);
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
                r = sd_event_add_io(s->event, &s->listeners[s->n_listeners], fd, EPOLLIN, on_accept, s);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch the listening socket: %m");
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
        for (size_t i = 0; i < s.n_listeners; i++)
                sd_event_source_unref(s.listeners[i]);
        sd_event_unref(s.event);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
