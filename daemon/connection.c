/* SPDX-License-Identifier: GPL-2.0-or-later */
/* connection.c: one Varlink client: its buffers, the framing of its calls, its replies.
 *
 * Nothing here blocks: the socket is non-blocking, output is queued and written when the
 * socket takes it. A client that sends garbage or too much is answered with an error and
 * dropped; one that does not read what it asked for is dropped too. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "server-internal.h"
#include "time-util.h"

#define READ_CHUNK (16 * 1024)

size_t connection_output_pending(const Connection *c) {
        return c->out_end - c->out_start;
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

int connection_new(Server *s, int fd, const struct ucred *peer, gid_t *groups, size_t n_groups, Connection **ret) {
        Connection *c = calloc(1, sizeof(*c));
        int r;

        if (!c) {
                free(groups);
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->fd = fd;
        c->peer = *peer;
        c->groups = groups;
        c->n_groups = n_groups;

        c->next = s->connections;
        if (c->next)
                c->next->prev = c;
        s->connections = c;
        s->n_connections++;

        r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_connection_io, c);
        if (r < 0) {
                connection_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

void connection_kill(Connection *c) {
        if (c->dead)
                return;
        c->dead = true;
        c->server->n_connections--;
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        server_schedule_sweep(c->server);
}

Connection *connection_free(Connection *c) {
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
        if (c->producer_free)
                c->producer_free(c->producer_state);
        free(c->groups);
        free(c->in);
        free(c->out);
        free(c);
        return NULL;
}

/* Output buffers up to this size are kept for the next reply. */
#define OUTPUT_KEEP (64 * 1024)

static int connection_queue(Connection *c, const char *data, size_t len) {
        size_t pending = connection_output_pending(c);

        if (c->dead)
                return -ENOTCONN;
        /* One reply may be as large as it is; what piles up behind it may not. */
        if (pending > 0 && pending + len > c->server->limits.max_output) {
                log_warning("Dropping client (pid %d, uid %u): it does not read its replies, %zu bytes queued.",
                            (int) c->peer.pid, c->peer.uid, pending);
                connection_kill(c);
                return -ENOBUFS;
        }

        if (c->out_end + len > c->out_alloc) {
                size_t want = MAX(pending + len, c->out_alloc * 2);
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

int connection_reply_message(Connection *c, char *message, size_t len, size_t alloc) {
        int r;

        c->replied = true;
        if (c->oneway || c->dead) {
                free(message);
                return c->dead ? -ENOTCONN : 0;
        }
        if (connection_output_pending(c) == 0 && alloc >= c->out_alloc) {
                /* Nothing queued: the message becomes the output buffer, uncopied. */
                free(c->out);
                c->out = message;
                c->out_start = 0;
                c->out_end = len;
                c->out_alloc = alloc;
                server_schedule_sweep(c->server);
                return 0;
        }
        r = connection_queue(c, message, len);
        free(message);
        return r;
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

void connection_produce(Connection *c, ConnectionProduceFn fn, void *state, void (*free_fn)(void *)) {
        c->producer = fn;
        c->producer_state = state;
        c->producer_free = free_fn;
}

static void producer_done(Connection *c) {
        if (c->producer_free)
                c->producer_free(c->producer_state);
        c->producer = NULL;
        c->producer_state = NULL;
        c->producer_free = NULL;
}

bool connection_wants_more(const Connection *c) {
        return c->more;
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

bool connection_peer_in_group(const Connection *c, gid_t gid) {
        if (c->peer.gid == gid)
                return true;
        for (size_t i = 0; i < c->n_groups; i++)
                if (c->groups[i] == gid)
                        return true;
        return false;
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

/* Answers with an error carrying one string parameter, or drops the connection. */
static void reply_error_with(Connection *c, const char *error, const char *name, const char *value) {
        json_object *p = json_object_new_object();

        if (p && json_object_object_add(p, name, json_object_new_string(value)) == 0)
                (void) connection_error(c, error, p);
        else
                connection_kill(c);
        json_object_put(p);
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
        if (call.upgrade)
                /* No protocol to upgrade to here. */
                reply_error_with(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "upgrade");
        else {
                c->server->handler(c->server, c, &call, c->server->userdata);
                if (!c->replied && !c->subscription && !c->dead) {
                        /* Every handler answers; this is a bug, but the client must not hang. */
                        log_error("No reply to %s, answering with an error.", call.method);
                        reply_error_with(c, VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, "method", call.method);
                }
        }
        varlink_call_done(&call);
}

void connection_process(Connection *c) {
        size_t consumed = 0;

        if (c->in_size == 0)
                return;

        /* Stops while much output waits: a client that sends calls without reading the
         * replies must not make us buffer without bound. */
        while (!c->dead && !c->close_after_flush && !c->producer &&
               connection_output_pending(c) < c->server->limits.max_message_size) {
                char *end = memchr(c->in + consumed, '\0', c->in_size - consumed);
                size_t len;

                if (!end) {
                        if (c->in_size - consumed > c->server->limits.max_message_size)
                                connection_protocol_error(c, "message too large");
                        break;
                }
                len = (size_t) (end - (c->in + consumed));
                if (len > c->server->limits.max_message_size) {
                        connection_protocol_error(c, "message too large");
                        break;
                }
                connection_dispatch(c, c->in + consumed, len);
                consumed += len + 1;
        }

        if (c->dead || consumed == 0)
                return;
        memmove(c->in, c->in + consumed, c->in_size - consumed);
        c->in_size -= consumed;
}

static void connection_read(Connection *c) {
        size_t max = c->server->limits.max_message_size + READ_CHUNK;
        ssize_t n;

        /* Never more than one message's worth beyond what is buffered; the buffer grows
         * only as far as a client fills it, so that idle clients cost little. */
        if (c->in_size >= max)
                return;
        if (c->in_alloc - c->in_size < READ_CHUNK && c->in_alloc < max) {
                size_t want = MIN(MAX(c->in_alloc * 2, (size_t) READ_CHUNK), max);
                char *p = realloc(c->in, want);

                if (!p) {
                        log_oom();
                        connection_kill(c);
                        return;
                }
                c->in = p;
                c->in_alloc = want;
        }
        n = read(c->fd, c->in + c->in_size, c->in_alloc - c->in_size);
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

void connection_flush(Connection *c) {
        bool progress = false;

        for (;;) {
                ssize_t n;

                /* A reply in parts: the next part once the last one is out. */
                if (!c->dead && connection_output_pending(c) == 0 && c->producer) {
                        int r = c->producer(c, c->producer_state);

                        if (r <= 0)
                                producer_done(c);
                        if (r < 0) {
                                log_warning_errno(r, "Failed to answer client (pid %d) in parts, closing it: %m",
                                                  (int) c->peer.pid);
                                connection_kill(c);
                        }
                }
                if (c->dead || connection_output_pending(c) == 0)
                        break;
                n = send(c->fd, c->out + c->out_start, connection_output_pending(c),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        log_debug_errno(errno, "Client (pid %d) went away: %m", (int) c->peer.pid);
                        connection_kill(c);
                        return;
                }
                c->out_start += (size_t) n;
                progress = true;
        }
        if (c->dead)
                return;
        if (connection_output_pending(c) == 0) {
                c->out_start = c->out_end = 0;
                c->stalled_since_usec = 0;
                /* A big reply's buffer goes with it, not with the connection. */
                if (c->out_alloc > OUTPUT_KEEP) {
                        free(c->out);
                        c->out = NULL;
                        c->out_alloc = 0;
                }
        } else if (progress || c->stalled_since_usec == 0) {
                /* The clock starts when the socket stops taking output. */
                c->stalled_since_usec = now_usec(CLOCK_MONOTONIC);
                server_arm_stall_timer(c->server);
        }
}

void connection_update(Connection *c) {
        size_t pending = connection_output_pending(c);
        uint32_t events = 0;

        if (c->dead)
                return;

        /* A streaming client that hangs up is gone; anyone else gets their answers first. */
        if ((c->eof && c->subscription) || ((c->eof || c->close_after_flush) && pending == 0)) {
                connection_kill(c);
                return;
        }

        if (!c->eof && !c->close_after_flush && pending < c->server->limits.max_message_size)
                events |= EPOLLIN;
        if (pending > 0)
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
                if (c->dead || c->in_size == before || connection_output_pending(c) > 0)
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
