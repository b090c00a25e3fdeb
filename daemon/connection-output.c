/* SPDX-License-Identifier: GPL-2.0-or-later */
/* connection-output.c: what a connection sends: its output buffer (charged to the
 * client's UID), replies and errors, replies in parts (producers), and writing it all to
 * the socket as far as the socket takes it. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "message-ids.h"
#include "protocol.h"
#include "server-internal.h"
#include "time-util.h"

/* Output buffers up to this size are kept for the next reply or part. */
#define OUTPUT_KEEP (CONNECTION_CHUNK + 64 * 1024)

int connection_charge(Connection *c, size_t n) {
        if (c->dead)
                return -ENOTCONN;
        return server_charge(c->server, c, n);
}

void connection_spend(Connection *c, size_t n) {
        budget_wrote(&c->server->budget, c->user, n);
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
        connection_producer_done(c);
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

void connection_flush(Connection *c) {
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
                        connection_free_output(c);
        } else if (progress || c->stalled_since_usec == 0) {
                /* The clock starts when the socket stops taking output. */
                c->stalled_since_usec = now_usec(CLOCK_MONOTONIC);
                server_arm_stall_timer(c->server);
        }
}
