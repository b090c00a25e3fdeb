/* SPDX-License-Identifier: GPL-2.0-or-later */
/* connection.c: one Varlink client: its buffers, the framing of its calls, its replies.
 *
 * Nothing here blocks: the socket is non-blocking, output is queued and written when the
 * socket takes it. Every byte held for the client is charged to its UID (server_charge());
 * one that goes over its share loses what it was sent with an error. A client that sends
 * garbage or too much is answered with an error and dropped; one that does not read is
 * dropped too. Work is done in steps (connection_step()), one call or one part of a reply
 * at a time, so that the server can take turns between connections. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "message-ids.h"
#include "protocol.h"
#include "server-internal.h"
#include "time-util.h"

#define READ_CHUNK (16 * 1024)
/* Output buffers up to this size are kept for the next reply or part. */
#define OUTPUT_KEEP (CONNECTION_CHUNK + 64 * 1024)

size_t connection_output_pending(const Connection *c) {
        return c->out_end - c->out_start;
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void connection_uncount(Connection *c) {
        Server *s = c->server;

        s->n_connections--;
        s->n_dead++;
        if (c->user) {
                c->user->n_live--;
                if (c->user_prev)
                        c->user_prev->user_next = c->user_next;
                else
                        c->user->connections = c->user_next;
                if (c->user_next)
                        c->user_next->user_prev = c->user_prev;
                c->user_prev = c->user_next = NULL;
        }
        if (c->peer.uid != 0) {
                s->n_unrooted--;
                if (!c->privileged)
                        s->n_unprivileged--;
        }
}

int connection_new(Server *s, int fd, const struct ucred *peer, bool privileged, Connection **ret) {
        Connection *c = calloc(1, sizeof(*c));
        int r;

        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->fd = fd;
        c->peer = *peer;
        c->privileged = privileged;
        c->idle_since_usec = now_usec(CLOCK_MONOTONIC);
        c->user = budget_user_get(&s->budget, peer->uid);
        if (c->user) {
                c->user->n_live++;
                c->user_next = c->user->connections;
                if (c->user_next)
                        c->user_next->user_prev = c;
                c->user->connections = c;
        }

        c->next = s->connections;
        if (c->next)
                c->next->prev = c;
        s->connections = c;
        s->n_connections++;
        if (peer->uid != 0) {
                s->n_unrooted++;
                if (!privileged)
                        s->n_unprivileged++;
        }

        r = c->user ? server_charge(s, c, CONNECTION_OVERHEAD) : -ENOMEM;
        if (r >= 0)
                r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_connection_io, c);
        /* Root's calls are read first, whatever else is waiting. */
        if (r >= 0 && peer->uid == 0)
                r = sd_event_source_set_priority(c->io, SD_EVENT_PRIORITY_IMPORTANT);
        if (r >= 0)
                (void) sd_event_source_set_description(c->io, "client");
        if (r < 0) {
                connection_kill(c);
                connection_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

static void producer_done(Connection *c) {
        void (*free_fn)(void *) = c->producer_free;
        void *state = c->producer_state;

        c->producer = NULL;
        c->producer_state = NULL;
        c->producer_free = NULL;
        c->streaming = false;
        c->producer_waiting = false;
        /* Ended from within the producer itself (its output went over the budget): its
         * state is freed once it has returned. */
        if (c->in_producer)
                c->producer_ended = true;
        else if (free_fn)
                free_fn(state);
}

static void free_input(Connection *c) {
        if (c->in_alloc > 0)
                connection_uncharge(c, c->in_alloc);
        free(c->in);
        c->in = NULL;
        c->in_size = c->in_alloc = 0;
}

static void free_output(Connection *c) {
        if (c->out_alloc > 0)
                connection_uncharge(c, c->out_alloc);
        free(c->out);
        c->out = NULL;
        c->out_start = c->out_end = c->out_alloc = 0;
}

void connection_kill(Connection *c) {
        if (c->dead)
                return;
        /* The producer's state is freed with the connection, at the next sweep: it may be
         * in a list being walked right now (another stream's charge can kill this one).
         * What it holds is given back now, with the rest. */
        free_input(c);
        free_output(c);
        if (c->user) {
                budget_uncharge(&c->server->budget, c->user, c->charged);
                c->charged = 0;
        }
        c->dead = true;
        connection_uncount(c);
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        server_schedule_sweep(c->server);
}

Connection *connection_free(Connection *c) {
        if (!c)
                return NULL;
        connection_kill(c);
        producer_done(c);
        if (c->throttled_until_usec > 0)
                server_unthrottle(c->server, c);
        if (c->prev)
                c->prev->next = c->next;
        else
                c->server->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (c->user)
                budget_user_put(&c->server->budget, c->user);
        c->server->n_dead--;
        free(c);
        return NULL;
}

int connection_charge(Connection *c, size_t n) {
        if (c->dead)
                return -ENOTCONN;
        return server_charge(c->server, c, n);
}

void connection_uncharge(Connection *c, size_t n) {
        /* A dead connection gave everything back at once. */
        if (c->dead || n == 0)
                return;
        n = MIN(n, c->charged);
        budget_uncharge(&c->server->budget, c->user, n);
        c->charged -= n;
}

/* Room for len more bytes of output, charged; force: whatever the budget says (for the
 * small error that ends a connection). */
static int output_reserve(Connection *c, size_t len, bool force) {
        size_t pending = connection_output_pending(c), want;
        char *p;
        int r;

        if (c->out_end + len <= c->out_alloc)
                return 0;
        /* Move pending output to the front before growing. */
        if (c->out_start > 0) {
                memmove(c->out, c->out + c->out_start, pending);
                c->out_start = 0;
                c->out_end = pending;
        }
        if (pending + len <= c->out_alloc)
                return 0;
        /* Grows by at most a chunk beyond what is needed: what is held is charged. */
        want = MAX(pending + len, MIN(c->out_alloc * 2, pending + len + CONNECTION_CHUNK));
        r = connection_charge(c, want - c->out_alloc);
        if (r < 0 && !force)
                return r;
        if (r < 0) {
                budget_charge_force(&c->server->budget, c->user, want - c->out_alloc);
                c->charged += want - c->out_alloc;
        }
        p = realloc(c->out, want);
        if (!p) {
                connection_uncharge(c, want - c->out_alloc);
                return -ENOMEM;
        }
        c->out = p;
        c->out_alloc = want;
        return 0;
}


static int output_append(Connection *c, const char *data, size_t len, bool force) {
        int r;

        if (c->dead)
                return -ENOTCONN;
        if (len == 0)
                return 0;
        r = output_reserve(c, len, force);
        if (r == -ENOBUFS) {
                connection_over_budget(c, NULL);
                return r;
        }
        if (r < 0) {
                log_oom();
                connection_kill(c);
                return r;
        }
        memcpy(c->out + c->out_end, data, len);
        c->out_end += len;
        c->in_message = data[len - 1] != '\0';
        c->idle_since_usec = 0;
        server_ready(c->server, c);
        return 0;
}

int connection_write(Connection *c, const char *data, size_t len) {
        return output_append(c, data, len, false);
}

int connection_write_text(Connection *c, Text *t) {
        size_t len, alloc;
        char *p;
        int r;

        if (t->oom) {
                text_done(t);
                log_oom();
                connection_kill(c);
                return -ENOMEM;
        }
        if (c->dead || connection_output_pending(c) > 0 || t->alloc < c->out_alloc) {
                r = output_append(c, t->p, t->len, false);
                text_done(t);
                return r;
        }
        /* Nothing queued: the text becomes the output buffer, uncopied. */
        r = connection_charge(c, t->alloc - c->out_alloc);
        if (r < 0) {
                text_done(t);
                connection_over_budget(c, NULL);
                return r;
        }
        p = text_steal(t, &len, &alloc);
        free(c->out);
        c->out = p;
        c->out_start = 0;
        c->out_end = len;
        c->out_alloc = alloc;
        if (len > 0) {
                c->in_message = p[len - 1] != '\0';
                c->idle_since_usec = 0;
        }
        server_ready(c->server, c);
        return 0;
}

/* Formats and queues a reply (error set: an error reply), unless the call was oneway. */
static int connection_send(Connection *c, const char *error, json_object *parameters, bool force) {
        char *m = NULL;
        size_t len = 0;
        int r;

        c->replied = true;
        if (c->oneway)
                return 0;
        r = error ? varlink_error_format(error, parameters, &m, &len) : varlink_reply_format(parameters, false, &m, &len);
        if (r < 0)
                return r;
        r = output_append(c, m, len, force);
        free(m);
        return r;
}

int connection_reply(Connection *c, json_object *parameters) {
        return connection_send(c, NULL, parameters, false);
}

int connection_error(Connection *c, const char *error, json_object *parameters) {
        return connection_send(c, error, parameters, false);
}

bool connection_wants_more(const Connection *c) {
        return c->more;
}

bool connection_oneway(const Connection *c) {
        return c->oneway;
}

void connection_end(Connection *c, const char *error, json_object *parameters) {
        char *nul;

        if (c->dead)
                return;
        producer_done(c);
        if (c->in_message) {
                /* A message is half written: nothing can follow it. */
                connection_kill(c);
                return;
        }
        /* What was queued but not begun is dropped (all but the message in flight), and
         * the error takes its place. */
        nul = connection_output_pending(c) > 0 ? memchr(c->out + c->out_start, '\0', connection_output_pending(c))
                                                : NULL;
        if (nul)
                c->out_end = (size_t) (nul - c->out) + 1;
        c->oneway = false;
        (void) connection_send(c, error, parameters, true);
        c->close_after_flush = true;
        server_ready(c->server, c);
}

void connection_close(Connection *c) {
        connection_kill(c);
}

void connection_over_budget(Connection *c, const char *why) {
        _cleanup_(json_object_putp) json_object *p = NULL;
        char reason[512];

        if (c->dead)
                return;
        snprintf(reason, sizeof(reason),
                 "%s%sUID %u holds more of the daemon's buffers than it may (MaxBufferPerUID=%zu bytes for each UID, "
                 "MaxBuffer=%zu for all)",
                 why ?: "", why ? ": " : "", c->peer.uid, c->server->limits.max_buffer_per_uid,
                 c->server->limits.max_buffer);
        if (!c->user->warned) {
                char uid[16], pid[16];
                LogField f[] = { { "CLIENT_UID", uid }, { "CLIENT_PID", pid } };

                snprintf(uid, sizeof(uid), "%u", c->peer.uid);
                snprintf(pid, sizeof(pid), "%d", (int) c->peer.pid);
                log_struct(LOG_WARNING, MESSAGE_ID_CLIENT_OVER_BUDGET, f, ELEMENTSOF(f),
                           "Client (pid %s, uid %s) loses what it was being sent: %s. Further ones of this UID are "
                           "not logged while it stays connected.",
                           pid, uid, reason);
                c->user->warned = true;
        }
        c->server->n_dropped++;
        p = json_object_new_object();
        if (!p || !json_add(p, "reason", json_object_new_string(reason))) {
                connection_kill(c);
                return;
        }
        connection_end(c, EXECCOUNT_ERROR_LIMIT, p);
}

void connection_produce(Connection *c, ConnectionProduceFn fn, void *state, void (*free_fn)(void *), bool streaming) {
        c->replied = true;
        c->producer = fn;
        c->producer_state = state;
        c->producer_free = free_fn;
        c->streaming = streaming;
        c->producer_waiting = false;
        c->idle_since_usec = 0;
        server_ready(c->server, c);
}

void connection_wake(Connection *c) {
        if (c->dead || !c->producer_waiting)
                return;
        c->producer_waiting = false;
        server_ready(c->server, c);
}

void *connection_producer_state(const Connection *c) {
        return c->producer ? c->producer_state : NULL;
}

uid_t connection_peer_uid(const Connection *c) {
        return c->peer.uid;
}

pid_t connection_peer_pid(const Connection *c) {
        return c->peer.pid;
}

bool connection_privileged(const Connection *c) {
        return c->privileged;
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
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        log_protocol_error(c, reason);
        if (!p || json_object_object_add(p, "reason", json_object_new_string(reason)) != 0) {
                connection_kill(c);
                return;
        }
        connection_end(c, EXECCOUNT_ERROR_PROTOCOL, p);
}

/* Answers with an error carrying one string parameter, or drops the connection. */
static void reply_error_with(Connection *c, const char *error, const char *name, const char *value) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        if (p && json_object_object_add(p, name, json_object_new_string(value)) == 0)
                (void) connection_error(c, error, p);
        else
                connection_kill(c);
}

static void connection_dispatch(Connection *c, const char *text, size_t len) {
        VarlinkCall call = {};
        const char *reason = NULL;
        int r;

        if (c->streaming) {
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
        c->idle_since_usec = 0;
        if (call.upgrade)
                /* No protocol to upgrade to here. */
                reply_error_with(c, VARLINK_ERROR_INVALID_PARAMETER, "parameter", "upgrade");
        else {
                c->server->callbacks.handler(c->server, c, &call, c->server->callbacks.userdata);
                if (!c->replied && !c->dead) {
                        /* Every handler answers; this is a bug, but the client must not hang. */
                        log_error("No reply to %s, answering with an error.", call.method);
                        reply_error_with(c, VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, "method", call.method);
                }
        }
        varlink_call_done(&call);
}

/* The length of the first complete message in the input, or -1. */
static ssize_t complete_message(const Connection *c) {
        const char *end = c->in_size > 0 ? memchr(c->in, '\0', c->in_size) : NULL;

        return end ? end - c->in : -1;
}

bool connection_has_work(const Connection *c) {
        if (c->dead || connection_output_pending(c) > 0)
                return false;
        /* A call while streaming: the protocol error is the work. */
        if (c->streaming && !c->close_after_flush && complete_message(c) >= 0)
                return true;
        if (c->throttled_until_usec > 0)
                return false;
        if (c->producer)
                return !c->producer_waiting;
        return !c->close_after_flush && complete_message(c) >= 0;
}

static void connection_flush(Connection *c) {
        bool progress = false;

        while (!c->dead && connection_output_pending(c) > 0) {
                ssize_t n = send(c->fd, c->out + c->out_start, connection_output_pending(c),
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
                if (c->out_alloc > OUTPUT_KEEP)
                        free_output(c);
        } else if (progress || c->stalled_since_usec == 0) {
                /* The clock starts when the socket stops taking output. */
                c->stalled_since_usec = now_usec(CLOCK_MONOTONIC);
                server_arm_stall_timer(c->server);
        }
}

/* Handles the first complete call of the input. */
static void connection_process_one(Connection *c) {
        ssize_t len = complete_message(c);

        if (len < 0)
                return;
        if ((size_t) len > c->server->limits.max_message_size) {
                connection_protocol_error(c, "message too large");
                return;
        }
        connection_dispatch(c, c->in, (size_t) len);
        if (c->dead)
                return;
        memmove(c->in, c->in + len + 1, c->in_size - (size_t) len - 1);
        c->in_size -= (size_t) len + 1;
        /* An idle client costs no input buffer. */
        if (c->in_size == 0)
                free_input(c);
}

void connection_step(Connection *c) {
        int r;

        if (c->dead)
                return;
        connection_flush(c);
        if (c->dead || connection_output_pending(c) > 0)
                return;
        if (c->streaming && !c->close_after_flush && complete_message(c) >= 0)
                connection_process_one(c); /* refused: a call while streaming */
        else if (!c->producer && !c->close_after_flush && c->throttled_until_usec == 0 && complete_message(c) >= 0) {
                uint64_t wait;
                size_t before = c->out_end;

                /* A call costs its UID's output allowance too, replies or not: pipelined
                 * calls take the daemon's time as much as long replies do. */
                if (!budget_may_write(&c->server->budget, c->user, now_usec(CLOCK_MONOTONIC), &wait)) {
                        c->throttled_until_usec = now_usec(CLOCK_MONOTONIC) + wait;
                        server_throttle(c->server, c);
                        return;
                }
                connection_process_one(c);
                if (!c->dead)
                        budget_wrote(&c->server->budget, c->user,
                                     CONNECTION_CALL_COST + (c->out_end > before ? c->out_end - before : 0));
        } else if (c->producer) {
                void (*free_fn)(void *) = c->producer_free;
                void *state = c->producer_state;
                uint64_t wait;
                size_t before;

                if (c->producer_waiting || c->throttled_until_usec > 0)
                        return;
                /* What one UID's replies cost the daemon is bounded in time too. */
                if (!budget_may_write(&c->server->budget, c->user, now_usec(CLOCK_MONOTONIC), &wait)) {
                        c->throttled_until_usec = now_usec(CLOCK_MONOTONIC) + wait;
                        server_throttle(c->server, c);
                        return;
                }
                before = c->out_end;
                c->in_producer = true;
                r = c->producer(c, state);
                c->in_producer = false;
                if (!c->dead && c->out_end > before)
                        budget_wrote(&c->server->budget, c->user, c->out_end - before);
                if (c->producer_ended) {
                        /* It went over the budget, and the connection ends. */
                        c->producer_ended = false;
                        if (free_fn)
                                free_fn(state);
                        connection_flush(c);
                        return;
                }
                if (c->dead)
                        return;
                if (r < 0) {
                        log_warning_errno(r, "Failed to answer client (pid %d), closing it: %m", (int) c->peer.pid);
                        connection_kill(c);
                        return;
                } else if (r == PRODUCE_DONE)
                        producer_done(c);
                else if (r == PRODUCE_WAIT)
                        c->producer_waiting = true;
        }
        connection_flush(c);
}

static void connection_read(Connection *c) {
        /* Never more than one message's worth beyond what is buffered; the buffer grows
         * only as far as a client fills it, and goes when it is empty, so that idle
         * clients cost little. */
        size_t max = c->server->limits.max_message_size + READ_CHUNK;
        ssize_t n;

        if (c->in_size >= max)
                return;
        if (c->in_alloc - c->in_size < READ_CHUNK && c->in_alloc < max) {
                size_t want = MIN(MAX(c->in_alloc * 2, (size_t) READ_CHUNK), max);
                char *p;
                int r;

                r = connection_charge(c, want - c->in_alloc);
                if (r < 0) {
                        connection_over_budget(c, NULL);
                        return;
                }
                p = realloc(c->in, want);
                if (!p) {
                        connection_uncharge(c, want - c->in_alloc);
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

bool connection_idle_for(const Connection *c, uint64_t now, uint64_t usec) {
        return !c->dead && c->idle_since_usec != 0 && now >= c->idle_since_usec + usec;
}

void connection_update(Connection *c) {
        size_t pending = connection_output_pending(c);
        uint32_t events = 0;
        bool busy;

        if (c->dead)
                return;

        /* Input that can never become a call, once the ones before it are answered. */
        if (!c->close_after_flush && complete_message(c) < 0) {
                if (c->in_size > c->server->limits.max_message_size)
                        connection_protocol_error(c, "message too large");
                else if (c->eof && c->in_size > 0)
                        connection_protocol_error(c, "connection closed in the middle of a message");
                if (c->dead)
                        return;
                pending = connection_output_pending(c);
        }

        /* A streaming client that hangs up is gone; anyone else gets their answers first,
         * the reply being written (maybe waiting for its turn) and the calls sent before. */
        if (c->eof && c->streaming)
                log_debug("Client (pid %d) that streams shut down its side: gone.", (int) c->peer.pid);
        if ((c->eof && c->streaming) || (c->close_after_flush && pending == 0) ||
            (c->eof && pending == 0 && !c->producer && complete_message(c) < 0)) {
                connection_kill(c);
                return;
        }

        busy = c->producer || pending > 0 || complete_message(c) >= 0;
        if (busy)
                c->idle_since_usec = 0;
        else if (c->idle_since_usec == 0)
                c->idle_since_usec = now_usec(CLOCK_MONOTONIC);

        if (!c->eof && !c->close_after_flush && pending < c->server->limits.max_message_size &&
            c->in_size < c->server->limits.max_message_size + READ_CHUNK)
                events |= EPOLLIN;
        if (pending > 0)
                events |= EPOLLOUT;
        if (sd_event_source_set_io_events(c->io, events) < 0)
                connection_kill(c);
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Connection *c = userdata;

        /* The peer closed its end entirely: it reads nothing more. Calls it sent are
         * not answered (a half close, SHUT_WR, is no hangup: those are). */
        if (revents & (EPOLLHUP | EPOLLERR)) {
                log_debug("Client (pid %d) hung up (%s), calls it sent are not answered.", (int) c->peer.pid,
                          revents & EPOLLERR ? "error" : "hangup");
                connection_kill(c);
                return 0;
        }
        if (revents & EPOLLIN)
                connection_read(c);
        if (!c->dead && (revents & EPOLLOUT))
                connection_flush(c);
        if (c->dead)
                return 0;

        /* Root's call is answered now, at this source's priority, ahead of everyone's
         * work: a loaded daemon keeps root waiting no longer than what it does right now. */
        if (c->peer.uid == 0 && !c->producer && connection_has_work(c))
                connection_step(c);
        if (!c->dead && connection_has_work(c))
                server_ready(c->server, c);
        connection_update(c);
        return 0;
}
