/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errors.c: the errors the methods answer with. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json-util.h"
#include "log.h"
#include "protocol.h"
#include "reply.h"
#include "time-util.h"

int reply_oom(Connection *c) {
        json_object *p = json_object_new_object();
        int r;

        log_oom();
        if (p && json_add(p, "errno", json_object_new_int(ENOMEM)) &&
            json_add(p, "message", json_object_new_string("out of memory")))
                r = connection_error(c, EXECCOUNT_ERROR_KERNEL, p);
        else {
                /* Not even the error fits: the client sees the connection end. */
                connection_close(c);
                r = -ENOMEM;
        }
        json_object_put(p);
        return r;
}

int reply_invalid_parameter(Connection *c, const char *name) {
        json_object *p = json_object_new_object();
        int r;

        if (p && json_add(p, "parameter", json_object_new_string(name)))
                r = connection_error(c, VARLINK_ERROR_INVALID_PARAMETER, p);
        else
                r = reply_oom(c);
        json_object_put(p);
        return r;
}

int reply_kernel_error(Connection *c, int error, const char *what) {
        json_object *p = json_object_new_object();
        char *message = NULL;
        int r;

        log_warning_errno(error, "%s failed: %m", what);
        if (p && asprintf(&message, "%s: %s", what, strerror(-error)) >= 0 &&
            json_add(p, "errno", json_object_new_int(-error)) && json_add(p, "message", json_object_new_string(message)))
                r = connection_error(c, EXECCOUNT_ERROR_KERNEL, p);
        else
                r = reply_oom(c);
        free(message);
        json_object_put(p);
        return r;
}

/* Over the client's buffer share before the reply even starts. */
int reply_limit_exceeded(Connection *c) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        if (!p || !json_add(p, "reason", json_object_new_string(REPLY_LIMIT_REASON)))
                return reply_oom(c);
        return connection_error(c, EXECCOUNT_ERROR_LIMIT, p);
}

int reply_permission_denied(RateLimit *denials, Connection *c, const char *what) {
        uint64_t suppressed;

        if (ratelimit_pass(denials, now_usec(CLOCK_MONOTONIC), &suppressed))
                log_notice("Refused %s to client (pid %d, uid %u)%s.", what, (int) connection_peer_pid(c),
                           connection_peer_uid(c), suppressed > 0 ? " (and more refusals held back)" : "");
        return connection_error(c, VARLINK_ERROR_PERMISSION_DENIED, NULL);
}

/* A reset whose snapshot could not be written: nothing was reset. */
int reply_state_error(Connection *c, const char *dir, int error) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();
        _cleanup_(freep) char *message = NULL;

        if (!p || asprintf(&message,
                           "writing the state file in %s failed (%s), so nothing was reset: a reboot would bring "
                           "the counts back; fix that, then reset again",
                           dir, strerror(-error)) < 0 ||
            !json_add(p, "errno", json_object_new_int(-error)) || !json_add(p, "message", json_object_new_string(message)))
                return reply_oom(c);
        return connection_error(c, EXECCOUNT_ERROR_STATE, p);
}
