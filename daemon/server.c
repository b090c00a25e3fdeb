/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.c: serving Varlink on a Unix stream socket: connections, framing, buffering.
 *
 * Nothing here blocks: sockets are non-blocking, output is queued per connection and
 * written when the socket takes it. A connection that sends garbage, sends too much, or
 * does not read what it asked for is dropped; the others keep being served. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "journal.h"
#include "log.h"
#include "ratelimit.h"
#include "server.h"
#include "socket.h"
#include "time-util.h"

#define READ_CHUNK (64 * 1024)
#define ERROR_PROTOCOL "io.execcount.ProtocolError"

struct Connection {
        Server *server;
        Connection *prev, *next;
        int fd;
        sd_event_source *io;
        struct ucred peer;

        char *in;
        size_t in_size;
        char *out;
        size_t out_start, out_end, out_alloc;

        /* The call being handled. */
        bool oneway, more, replied;

        bool eof; /* the peer sends no more */
        bool close_after_flush;
        bool dead; /* closed, freed by the next sweep */

        void *subscription;
        void (*subscription_free)(void *);
};

struct Server {
        sd_event *event;
        char *path;
        int listen_fd;
        bool own_socket; /* bound here, so removed here */
        SocketFileId socket_id;
        sd_event_source *listen_io;
        sd_event_source *sweep; /* flushes output and frees dead connections */
        Connection *connections;
        size_t n_connections;
        uint64_t n_refused;
        RateLimit protocol_errors; /* how many of them are logged */
        ServerLimits limits;
        ServerCallHandler handler;
        void *userdata;
};

static size_t output_pending(const Connection *c) {
        return c->out_end - c->out_start;
}

static void server_schedule_sweep(Server *s) {
        (void) sd_event_source_set_enabled(s->sweep, SD_EVENT_ONESHOT);
}

static void connection_kill(Connection *c) {
        if (c->dead)
                return;
        c->dead = true;
        c->server->n_connections--;
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        server_schedule_sweep(c->server);
}

static Connection *connection_free(Connection *c) {
        if (!c)
                return NULL;
        if (!c->dead)
                c->server->n_connections--;
        if (c->prev)
                c->prev->next = c->next;
        else
                c->server->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        sd_event_source_disable_unref(c->io);
        safe_close(c->fd);
        if (c->subscription_free)
                c->subscription_free(c->subscription);
        free(c->in);
        free(c->out);
        free(c);
        return NULL;
}

static int connection_queue(Connection *c, const char *data, size_t len) {
        if (c->dead)
                return -ENOTCONN;
        /* One reply may be as large as it is; what piles up behind it may not. */
        if (output_pending(c) > 0 && output_pending(c) + len > c->server->limits.max_output) {
                log_warning("Dropping client (pid %d, uid %u): it does not read its replies, %zu bytes queued.",
                            (int) c->peer.pid, c->peer.uid, output_pending(c));
                connection_kill(c);
                return -ENOBUFS;
        }

        if (c->out_end + len > c->out_alloc) {
                size_t pending = output_pending(c), want = MAX(pending + len, c->out_alloc * 2);
                char *p;

                /* Move pending output to the front before growing. */
                if (c->out_start > 0) {
                        memmove(c->out, c->out + c->out_start, pending);
                        c->out_start = 0;
                        c->out_end = pending;
                }
                if (pending + len > c->out_alloc) {
                        p = realloc(c->out, want);
                        if (!p)
                                return -ENOMEM;
                        c->out = p;
                        c->out_alloc = want;
                }
        }
        memcpy(c->out + c->out_end, data, len);
        c->out_end += len;
        server_schedule_sweep(c->server);
        return 0;
}

/* Formats and queues a reply (error set: an error reply), unless the call was oneway. */
static int connection_send(Connection *c, const char *error, json_object *parameters, bool continues) {
        char *m = NULL;
        size_t len = 0;
        int r;

        c->replied = true;
        if (c->oneway)
                return 0;
        r = error ? varlink_error_format(error, parameters, &m, &len)
                  : varlink_reply_format(parameters, continues, &m, &len);
        if (r < 0)
                return r;
        r = connection_queue(c, m, len);
        free(m);
        return r;
}

int connection_reply(Connection *c, json_object *parameters) {
        return connection_send(c, NULL, parameters, false);
}

int connection_error(Connection *c, const char *error, json_object *parameters) {
        return connection_send(c, error, parameters, false);
}

int connection_notify(Connection *c, json_object *parameters) {
        return connection_send(c, NULL, parameters, true);
}

void connection_close(Connection *c) {
        connection_kill(c);
}

void connection_subscribe(Connection *c, void *data, void (*free_fn)(void *)) {
        if (c->subscription_free)
                c->subscription_free(c->subscription);
        c->subscription = data;
        c->subscription_free = free_fn;
}

uid_t connection_peer_uid(const Connection *c) {
        return c->peer.uid;
}

pid_t connection_peer_pid(const Connection *c) {
        return c->peer.pid;
}

static void log_protocol_error(Connection *c, const char *reason) {
        char pid[16], uid[16], n[24];
        uint64_t suppressed;
        bool pass = ratelimit_pass(&c->server->protocol_errors, now_usec(CLOCK_MONOTONIC), &suppressed);

        if (suppressed > 0) {
                snprintf(n, sizeof(n), "%" PRIu64, suppressed);
                LogField f[] = { { "CLIENT_ERRORS_SUPPRESSED", n } };
                log_struct(LOG_NOTICE, NULL, f, ELEMENTSOF(f), "Left out %" PRIu64 " more client protocol errors.",
                           suppressed);
        }
        if (!pass)
                return;
        snprintf(pid, sizeof(pid), "%d", (int) c->peer.pid);
        snprintf(uid, sizeof(uid), "%u", c->peer.uid);
        LogField f[] = { { "CLIENT_PID", pid }, { "CLIENT_UID", uid }, { "REASON", reason } };
        log_struct(LOG_NOTICE, MESSAGE_ID_CLIENT_PROTOCOL_ERROR, f, ELEMENTSOF(f),
                   "Client (pid %s, uid %s) broke the protocol: %s; closing its connection.", pid, uid, reason);
}

static void connection_protocol_error(Connection *c, const char *reason) {
        json_object *p = json_object_new_object();

        log_protocol_error(c, reason);
        if (p && json_object_object_add(p, "reason", json_object_new_string(reason)) == 0) {
                c->oneway = false;
                (void) connection_error(c, ERROR_PROTOCOL, p);
        }
        json_object_put(p);
        c->close_after_flush = true;
}

static void connection_dispatch(Connection *c, const char *text, size_t len) {
        VarlinkCall call = {};
        const char *reason = NULL;
        int r;

        if (c->subscription) {
                connection_protocol_error(c, "new call while a streaming call is active");
                return;
        }

        r = varlink_call_parse(text, len, &call, &reason);
        if (r == -ENOMEM) {
                log_oom();
                connection_kill(c);
                return;
        }
        if (r < 0) {
                connection_protocol_error(c, reason);
                return;
        }

        c->oneway = call.oneway;
        c->more = call.more;
        c->replied = false;
        if (call.upgrade) {
                /* No protocol to upgrade to here. */
                json_object *p = json_object_new_object();

                if (p && json_object_object_add(p, "parameter", json_object_new_string("upgrade")) == 0)
                        (void) connection_error(c, VARLINK_ERROR_INVALID_PARAMETER, p);
                else
                        connection_kill(c);
                json_object_put(p);
                varlink_call_done(&call);
                return;
        }
        c->server->handler(c->server, c, &call, c->server->userdata);
        if (!c->replied && !c->subscription && !c->dead) {
                /* Every handler answers; this is a bug, but the client must not hang. */
                json_object *p = json_object_new_object();

                log_error("No reply to %s, answering with an error.", call.method);
                if (p && json_object_object_add(p, "method", json_object_new_string(call.method)) == 0)
                        (void) connection_error(c, VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, p);
                else
                        connection_kill(c);
                json_object_put(p);
        }
        varlink_call_done(&call);
}

/* Handles the complete messages in the input buffer, stopping while much output waits:
 * a client that pipelines calls without reading must not make us buffer without bound. */
static void connection_process(Connection *c) {
        size_t consumed = 0;

        while (!c->dead && !c->close_after_flush && output_pending(c) < c->server->limits.max_message_size) {
                char *end = memchr(c->in + consumed, '\0', c->in_size - consumed);
                size_t len;

                if (!end) {
                        if (c->in_size - consumed >= c->server->limits.max_message_size)
                                connection_protocol_error(c, "message too large");
                        break;
                }
                len = (size_t) (end - (c->in + consumed));
                connection_dispatch(c, c->in + consumed, len);
                consumed += len + 1;
        }

        if (c->dead)
                return;
        memmove(c->in, c->in + consumed, c->in_size - consumed);
        c->in_size -= consumed;
}

static void connection_read(Connection *c) {
        ssize_t n;

        if (!c->in) {
                c->in = malloc(c->server->limits.max_message_size + READ_CHUNK);
                if (!c->in) {
                        log_oom();
                        connection_kill(c);
                        return;
                }
        }
        /* Never more than one message's worth beyond what is buffered. */
        if (c->in_size >= c->server->limits.max_message_size + READ_CHUNK)
                return;
        n = read(c->fd, c->in + c->in_size, c->server->limits.max_message_size + READ_CHUNK - c->in_size);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return;
                log_debug_errno(errno, "Client (pid %d) connection failed: %m", (int) c->peer.pid);
                connection_kill(c);
                return;
        }
        if (n == 0) {
                c->eof = true;
                return;
        }
        c->in_size += (size_t) n;
}

static void connection_flush(Connection *c) {
        while (!c->dead && output_pending(c) > 0) {
                ssize_t n = send(c->fd, c->out + c->out_start, output_pending(c), MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        log_debug_errno(errno, "Client (pid %d) went away: %m", (int) c->peer.pid);
                        connection_kill(c);
                        return;
                }
                c->out_start += (size_t) n;
        }
        if (!c->dead)
                c->out_start = c->out_end = 0;
}

/* Decides what to wait for next, or whether the connection is done. */
static void connection_update(Connection *c) {
        uint32_t events = 0;
        bool waiting_input;

        if (c->dead)
                return;

        /* A streaming client that hangs up is gone; anyone else gets their answers first. */
        if ((c->eof && c->subscription) || ((c->eof || c->close_after_flush) && output_pending(c) == 0)) {
                connection_kill(c);
                return;
        }

        waiting_input = !c->eof && !c->close_after_flush;
        if (waiting_input && output_pending(c) < c->server->limits.max_message_size)
                events |= EPOLLIN;
        if (output_pending(c) > 0)
                events |= EPOLLOUT;
        if (sd_event_source_set_io_events(c->io, events) < 0)
                connection_kill(c);
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Connection *c = userdata;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                connection_read(c);
        /* Calls held back while output piled up go on as soon as it drains. */
        for (int i = 0; i < 16 && !c->dead; i++) {
                size_t before = c->in_size;

                connection_process(c);
                if (!c->dead)
                        connection_flush(c);
                if (c->dead || c->in_size == before || output_pending(c) > 0)
                        break;
        }

        /* Complete calls before the hangup have been answered above; a partial one can't be. */
        if (!c->dead && c->eof && !c->close_after_flush && c->in_size > 0 && !memchr(c->in, '\0', c->in_size)) {
                connection_protocol_error(c, "connection closed in the middle of a message");
                connection_flush(c);
        }
        connection_update(c);
        return 0;
}

static int on_sweep(sd_event_source *source, void *userdata) {
        Server *s = userdata;
        Connection *next;

        for (Connection *c = s->connections; c; c = next) {
                next = c->next;
                if (!c->dead && output_pending(c) > 0) {
                        connection_flush(c);
                        /* Output drained: input held back for it may now be processed. */
                        if (!c->dead && output_pending(c) == 0 && c->in_size > 0)
                                connection_process(c);
                        connection_update(c);
                }
                if (c->dead)
                        connection_free(c);
        }
        return 0;
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;

        /* A few per wakeup, so that a flood of connections cannot starve everything else. */
        for (int i = 0; i < 16; i++) {
                Connection *c;
                socklen_t l = sizeof(c->peer);
                int cfd, r;

                cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Failed to accept a connection: %m");
                        return 0;
                }

                if (s->n_connections >= s->limits.max_connections) {
                        if (s->n_refused++ % 1000 == 0)
                                log_warning("Refusing connections: %zu clients are connected already (%" PRIu64
                                            " refused so far).",
                                            s->n_connections, s->n_refused);
                        safe_close(cfd);
                        continue;
                }

                c = calloc(1, sizeof(*c));
                if (!c) {
                        safe_close(cfd);
                        return log_oom(), 0;
                }
                c->server = s;
                c->fd = cfd;
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->peer, &l) < 0)
                        c->peer = (struct ucred) { .pid = 0, .uid = (uid_t) -1, .gid = (gid_t) -1 };

                c->next = s->connections;
                if (c->next)
                        c->next->prev = c;
                s->connections = c;
                s->n_connections++;

                r = sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, on_connection_io, c);
                if (r < 0) {
                        log_warning_errno(r, "Failed to watch a new connection: %m");
                        connection_free(c);
                }
        }
        return 0;
}

int server_new(sd_event *e, const char *path, int listen_fd, const ServerLimits *limits,
               ServerCallHandler handler, void *userdata, Server **ret) {
        _cleanup_(server_freep) Server *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->listen_fd = -EBADF;
        /* A hostile client must not flood the journal. */
        s->protocol_errors = (RateLimit) { .interval_usec = 10 * USEC_PER_SEC, .burst = 10 };
        s->handler = handler;
        s->userdata = userdata;
        s->limits = limits ? *limits
                           : (ServerLimits) {
                                     .max_connections = SERVER_MAX_CONNECTIONS_DEFAULT,
                                     .max_message_size = SERVER_MAX_MESSAGE_SIZE_DEFAULT,
                                     .max_output = SERVER_MAX_OUTPUT_DEFAULT,
                             };
        if (listen_fd >= 0) {
                int flags = fcntl(listen_fd, F_GETFL);

                /* Accepting loops until EAGAIN: the socket must not block. */
                if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
                        return negative_errno();
                s->listen_fd = listen_fd;
                /* Where it really is: systemd's ListenStream=, whatever Path= says. */
                if (socket_get_path(listen_fd, &s->path) < 0)
                        s->path = strdup(path);
                if (!s->path)
                        return -ENOMEM;
        } else {
                s->path = strdup(path);
                if (!s->path)
                        return -ENOMEM;
                /* Only root may connect. */
                r = socket_listen_unix(path, 0600, &s->listen_fd, &s->socket_id);
                if (r < 0)
                        return r;
                s->own_socket = true;
        }

        r = sd_event_add_io(e, &s->listen_io, s->listen_fd, EPOLLIN, on_accept, s);
        if (r < 0)
                return r;
        r = sd_event_add_defer(e, &s->sweep, on_sweep, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->sweep, SD_EVENT_OFF);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

Server *server_free(Server *s) {
        if (!s)
                return NULL;
        while (s->connections)
                connection_free(s->connections);
        sd_event_source_disable_unref(s->listen_io);
        sd_event_source_disable_unref(s->sweep);
        safe_close(s->listen_fd);
        if (s->own_socket)
                socket_unlink_if_same(s->path, &s->socket_id);
        free(s->path);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

void server_flush(Server *s) {
        for (Connection *c = s->connections; c; c = c->next)
                if (!c->dead)
                        connection_flush(c);
}

size_t server_n_connections(const Server *s) {
        return s->n_connections;
}

const char *server_path(const Server *s) {
        return s->path;
}

void server_foreach_subscriber(Server *s, ServerSubscriberFn fn, void *userdata) {
        for (Connection *c = s->connections; c; c = c->next)
                if (!c->dead && c->subscription)
                        fn(c, c->subscription, userdata);
}
