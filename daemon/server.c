/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.c: serving Varlink on a Unix stream socket: admitting clients within limits,
 * flushing their output, dropping the ones that stop reading. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "log.h"
#include "server-internal.h"
#include "time-util.h"

void server_schedule_sweep(Server *s) {
        (void) sd_event_source_set_enabled(s->sweep, SD_EVENT_ONESHOT);
}

void server_arm_stall_timer(Server *s) {
        int enabled = SD_EVENT_OFF;

        if (sd_event_source_get_enabled(s->stall_timer, &enabled) >= 0 && enabled)
                return;
        (void) sd_event_source_set_time_relative(s->stall_timer, USEC_PER_SEC);
        (void) sd_event_source_set_enabled(s->stall_timer, SD_EVENT_ONESHOT);
}

static int on_sweep(sd_event_source *source, void *userdata) {
        Server *s = userdata;
        Connection *next;

        for (Connection *c = s->connections; c; c = next) {
                next = c->next;
                if (!c->dead && connection_output_pending(c) > 0) {
                        connection_flush(c);
                        /* Output drained: input held back for it may now be processed. */
                        if (!c->dead && connection_output_pending(c) == 0 && c->in_size > 0)
                                connection_process(c);
                        connection_update(c);
                }
                if (c->dead)
                        connection_free(c);
        }
        return 0;
}

/* A client whose socket has taken none of its output for stall_timeout is not reading:
 * it would hold its buffer for ever. */
static int on_stall_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool waiting = false;

        for (Connection *c = s->connections; c; c = c->next) {
                if (c->dead || c->stalled_since_usec == 0)
                        continue;
                if (now - c->stalled_since_usec >= s->limits.stall_timeout_usec) {
                        log_warning("Dropping client (pid %d, uid %u): it has not read its replies for %" PRIu64
                                    " s, %zu bytes queued.",
                                    (int) c->peer.pid, c->peer.uid, (now - c->stalled_since_usec) / USEC_PER_SEC,
                                    connection_output_pending(c));
                        connection_kill(c);
                } else
                        waiting = true;
        }
        if (waiting)
                server_arm_stall_timer(s);
        return 0;
}

/* The peer's supplementary groups, from when it connected. */
static int peer_groups(int fd, gid_t **ret, size_t *ret_n) {
        socklen_t len = 64 * sizeof(gid_t);
        gid_t *groups = NULL;

        for (;;) {
                gid_t *g = realloc(groups, len ? len : sizeof(gid_t));

                if (!g) {
                        free(groups);
                        return -ENOMEM;
                }
                groups = g;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) >= 0)
                        break;
                if (errno != ERANGE) {
                        free(groups);
                        return negative_errno();
                }
        }
        *ret = groups;
        *ret_n = len / sizeof(gid_t);
        return 0;
}

static size_t connections_of(Server *s, uid_t uid) {
        size_t n = 0;

        for (Connection *c = s->connections; c; c = c->next)
                n += !c->dead && c->peer.uid == uid;
        return n;
}

/* Why a new client is turned away, or NULL. */
static const char *refusal(Server *s, const struct ucred *peer) {
        if (s->n_connections >= s->limits.max_connections)
                return "the server has as many clients as MaxClients= allows";
        /* One user cannot take every place; root is not limited here. */
        if (peer->uid != 0 && connections_of(s, peer->uid) >= s->limits.max_connections_per_uid)
                return "its UID has as many connections as MaxClientsPerUID= allows";
        return NULL;
}

static void log_refusal(Server *s, const struct ucred *peer, const char *why) {
        uint64_t suppressed;

        s->n_refused++;
        if (ratelimit_pass(&s->refusals, now_usec(CLOCK_MONOTONIC), &suppressed))
                log_warning("Refused a client (pid %d, uid %u): %s (%" PRIu64 " refused so far).", (int) peer->pid,
                            peer->uid, why, s->n_refused);
}

static int on_accept_resume(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;

        s->accept_pause = sd_event_source_disable_unref(s->accept_pause);
        return sd_event_source_set_enabled(s->listen_io, SD_EVENT_ON);
}

/* Out of file descriptors, the pending connection stays pending and the socket readable:
 * accepting is paused for a second rather than spinning on it. */
static void pause_accepting(Server *s) {
        if (s->accept_pause)
                return;
        if (sd_event_add_time_relative(sd_event_source_get_event(s->listen_io), &s->accept_pause, CLOCK_MONOTONIC,
                                       1000000, 100000, on_accept_resume, s) < 0)
                return; /* keeps trying at every wakeup, which still works */
        (void) sd_event_source_set_enabled(s->listen_io, SD_EVENT_OFF);
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;

        /* A few per wakeup, so that a flood of connections cannot starve everything else. */
        for (int i = 0; i < 16; i++) {
                struct ucred peer = { .uid = (uid_t) -1, .gid = (gid_t) -1 };
                socklen_t l = sizeof(peer);
                gid_t *groups = NULL;
                size_t n_groups = 0;
                const char *why;
                Connection *c;
                int cfd, r;

                cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EMFILE || errno == ENFILE) {
                                log_refusal(s, &peer, "out of file descriptors");
                                pause_accepting(s);
                        } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Failed to accept a connection: %m");
                        return 0;
                }
                /* Credentials decide what a client may see: without them, it may see nothing. */
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &peer, &l) < 0 ||
                    peer_groups(cfd, &groups, &n_groups) < 0) {
                        log_warning_errno(errno, "Failed to read a client's credentials, refusing it: %m");
                        safe_close(cfd);
                        continue;
                }
                why = refusal(s, &peer);
                if (why) {
                        log_refusal(s, &peer, why);
                        free(groups);
                        safe_close(cfd);
                        continue;
                }
                r = connection_new(s, cfd, &peer, groups, n_groups, &c);
                if (r < 0)
                        log_warning_errno(r, "Failed to take a new connection: %m");
        }
        return 0;
}

/* Every client is a file descriptor: as many as the hard limit allows. */
static void raise_fd_limit(size_t want) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want + 64)
                return;
        rl.rlim_cur = MIN(rl.rlim_max, (rlim_t) want + 64);
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want + 64)
                log_warning("Only %llu file descriptors: fewer than MaxClients=%zu clients can connect.",
                            (unsigned long long) rl.rlim_cur, want);
}

void server_set_limits(Server *s, const ServerLimits *limits) {
        s->limits = *limits;
        raise_fd_limit(limits->max_connections);
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
        s->refusals = (RateLimit) { .interval_usec = 10 * USEC_PER_SEC, .burst = 5 };
        s->handler = handler;
        s->userdata = userdata;
        server_set_limits(s, limits ? limits : &SERVER_LIMITS_DEFAULT);

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
                /* Anyone may connect: the credentials decide what each client sees. */
                r = socket_listen_unix(path, 0666, &s->listen_fd, &s->socket_id);
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
        r = sd_event_add_time_relative(e, &s->stall_timer, CLOCK_MONOTONIC, USEC_PER_SEC, USEC_PER_SEC / 10,
                                       on_stall_timer, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->stall_timer, SD_EVENT_OFF);
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
        sd_event_source_disable_unref(s->accept_pause);
        sd_event_source_disable_unref(s->sweep);
        sd_event_source_disable_unref(s->stall_timer);
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
