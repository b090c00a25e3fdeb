/* SPDX-License-Identifier: GPL-2.0-or-later */
/* connection-input.c: what a connection receives: reading the socket into the input
 * buffer (charged to the client's UID), the framing of calls, their dispatch to the
 * server's handler, and the protocol errors that end a connection. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "message-ids.h"
#include "protocol.h"
#include "server-internal.h"
#include "time-util.h"

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

void connection_protocol_error(Connection *c, const char *reason) {
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
ssize_t connection_complete_message(const Connection *c) {
        const char *end = c->in_size > 0 ? memchr(c->in, '\0', c->in_size) : NULL;

        return end ? end - c->in : -1;
}

/* Handles the first complete call of the input. */
void connection_process_one(Connection *c) {
        ssize_t len = connection_complete_message(c);

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
                connection_free_input(c);
}

void connection_read(Connection *c) {
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
