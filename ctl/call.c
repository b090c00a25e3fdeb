/* SPDX-License-Identifier: GPL-2.0-or-later */
/* call.c: calling execcountd, and saying in one line what went wrong. */

#include <errno.h>
#include <stdlib.h>

#include "call.h"
#include "json-scan.h"
#include "json-util.h"
#include "log.h"
#include "protocol.h"

int call_connect(const Args *a, Client **ret) {
        int r = client_connect(a->socket, a->timeout_usec, ret);

        if (r >= 0)
                return 0;
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_error("execcountd is not running (nothing listens on %s); start it with: systemctl start "
                          "execcountd",
                          a->socket);
                return EXIT_NOT_RUNNING;
        }
        if (r == -EAGAIN) {
                log_error("execcountd did not accept the connection in time (%s); see its log (journalctl -u "
                          "execcountd).",
                          a->socket);
                return EXIT_FAILURE;
        }
        if (r == -EACCES || r == -EPERM) {
                log_error("Permission denied connecting to %s; run execcountctl as root.", a->socket);
                return EXIT_FAILURE;
        }
        log_error_errno(r, "Failed to connect to %s: %m", a->socket);
        return EXIT_FAILURE;
}

static void log_permission_denied(const char *method) {
        if (streq(method, EXECCOUNT_METHOD_RESET))
                log_error("Only root may reset counts; run: sudo execcountctl reset");
        else if (streq(method, EXECCOUNT_METHOD_RELOAD))
                log_error("Only root may reload execcountd; run: sudo systemctl reload execcountd");
        else
                log_error("Only root and the members of execcountd's access group (execcountctl status names it) "
                          "may see other users' counts and events; leave out --user to see your own.");
}

int call_failed(const char *method, int r, const VarlinkReply *reply) {
        if (r == 0 && streq_ptr(reply->error, VARLINK_ERROR_PERMISSION_DENIED))
                log_permission_denied(method);
        else if (r == 0 && streq_ptr(reply->error, VARLINK_ERROR_METHOD_NOT_FOUND))
                log_error("execcountd does not know %s: it is of an earlier version than execcountctl "
                          "(execcountd --version); restart it after an upgrade.",
                          method);
        else if (r == -ECONNRESET)
                log_error("execcountd closed the connection while answering %s; see its log "
                          "(journalctl -u execcountd).",
                          method);
        else if (r == -EAGAIN)
                log_error("execcountd did not answer %s in time; see its log (journalctl -u execcountd).", method);
        else if (r == -EBADMSG)
                log_error("execcountd answered %s with a malformed message; is it the same version as "
                          "execcountctl (execcountd --version)?",
                          method);
        else if (r < 0)
                log_error_errno(r, "Calling %s failed: %m", method);
        else {
                const char *detail = json_get_string(reply->parameters, "message");

                if (!detail)
                        detail = json_get_string(reply->parameters, "parameter");
                if (!detail)
                        detail = json_get_string(reply->parameters, "reason");
                log_error("execcountd refused %s: %s%s%s", method, reply->error, detail ? ": " : "",
                          detail ? detail : "");
        }
        return EXIT_FAILURE;
}

int call_bad_reply(const char *method, const char *what) {
        log_error("execcountd answered %s without %s; is it the same version as execcountctl "
                  "(execcountd --version)?",
                  method, what);
        return EXIT_FAILURE;
}

int call_method(const Args *a, const char *method, json_object *parameters, json_object **ret) {
        _cleanup_(client_freep) Client *c = NULL;
        VarlinkReply reply = {};
        int r;

        r = call_connect(a, &c);
        if (r != 0)
                return r;
        r = client_call(c, method, parameters, &reply);
        if (r < 0 || reply.error) {
                r = call_failed(method, r, &reply);
                varlink_reply_done(&reply);
                return r;
        }
        *ret = TAKE_PTR(reply.parameters);
        varlink_reply_done(&reply);
        return 0;
}

typedef struct PartsCall {
        const char *method;
        const char *optional;
        bool refused; /* optional was refused */
        CallPartFn fn;
        void *userdata;
} PartsCall;

/* Whether reply is InvalidParameter for name. */
static bool refused_parameter(const VarlinkReply *reply, const char *name) {
        return name && streq_ptr(reply->error, VARLINK_ERROR_INVALID_PARAMETER) &&
               streq_ptr(json_get_string(reply->parameters, "parameter"), name);
}

/* One reply's parameters of a call made with "more": to the caller's fn. */
static int on_part(JsonSpan rest, const char **ret_end, void *userdata) {
        PartsCall *call = userdata;

        return call->fn(rest, ret_end, call->userdata);
}

/* A reply of a call made with "more" without parameters, an error or something amiss:
 * said the way every other call says it. */
static int on_other(const char *text, size_t len, void *userdata) {
        PartsCall *call = userdata;
        VarlinkReply reply = {};
        int r;

        r = varlink_reply_parse(text, len, &reply, NULL);
        if (r >= 0 && refused_parameter(&reply, call->optional)) {
                varlink_reply_done(&reply);
                call->refused = true;
                return EXIT_FAILURE;
        }
        if (r >= 0 && !reply.error)
                r = -EBADMSG; /* no parameters, or not an object */
        r = call_failed(call->method, r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0, &reply);
        varlink_reply_done(&reply);
        return r;
}

int call_method_parts(const Args *a, const char *method, json_object *parameters, const char *optional,
                      CallPartFn fn, void *userdata) {
        _cleanup_(client_freep) Client *c = NULL;
        PartsCall call = { .method = method, .optional = optional, .fn = fn, .userdata = userdata };
        int r;

        r = call_connect(a, &c);
        if (r != 0)
                return r;
        r = client_call_more_parts(c, method, parameters, on_part, on_other, &call);
        if (call.refused) {
                /* A daemon before the parameter: once more, on the same connection. */
                json_object_object_del(parameters, optional);
                call.refused = false;
                call.optional = NULL;
                r = client_call_more_parts(c, method, parameters, on_part, on_other, &call);
        }
        return r < 0 ? call_failed(method, r, &(VarlinkReply) {}) : r;
}

json_object *call_uid_parameters(const Args *a) {
        json_object *p = json_object_new_object();

        if (p && a->has_uid && !json_add(p, "uid", json_object_new_int64(a->uid))) {
                json_object_put(p);
                return NULL;
        }
        return p;
}

void call_print_json(const Args *a, json_object *o) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                    (a->json == JSON_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : 0);

        puts(json_object_to_json_string_ext(o, flags));
}
