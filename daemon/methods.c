/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods.c: the io.execcount and org.varlink.service methods. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "errors.h"
#include "json-util.h"
#include "log.h"
#include "methods-internal.h"
#include "methods-status.h"
#include "methods.h"
#include "persist.h"
#include "protocol.h"
#include "reply.h"
#include "stats-reply.h"
#include "tally.h"
#include "varlink.h"
#include "watch.h"

extern const char interface_io_execcount[];
extern const char interface_org_varlink_service[];

/* uid_t's -1 is "no UID", never a real one. */
#define UID_MAX_VALID ((int64_t) UINT32_MAX - 1)

/* Checks the call's parameters against its declaration; replies with the error if bad. */
bool parameters_ok(Connection *c, const VarlinkCall *call, const VarlinkField *fields, size_t n) {
        const char *bad = NULL;

        if (varlink_parameters_check(call->parameters, fields, n, &bad) < 0) {
                reply_invalid_parameter(c, bad);
                return false;
        }
        return true;
}

AccessScope caller_scope(Manager *m, Connection *c) {
        return access_scope(connection_peer_uid(c), connection_privileged(c));
}

bool methods_privileged(const struct ucred *peer, const gid_t *groups, size_t n_groups, void *userdata) {
        Manager *m = userdata;
        bool in_group = false;

        if (m->has_access_gid) {
                in_group = peer->gid == m->access_gid;
                for (size_t i = 0; i < n_groups && !in_group; i++)
                        in_group = groups[i] == m->access_gid;
        }
        return access_scope(peer->uid, in_group) == ACCESS_ALL;
}

void methods_revoked(Connection *c, void *userdata) {
        ReplyHeader *h = connection_producer_state(c);

        /* Other UIDs' counts or events, still being sent: not any more. */
        if (h && h->others) {
                log_notice("Client (pid %d, uid %u) is no longer in the access group: ending what it was being sent.",
                           (int) connection_peer_pid(c), connection_peer_uid(c));
                connection_end(c, VARLINK_ERROR_PERMISSION_DENIED, NULL);
        }
}

/* Reads an optional UID parameter. */
bool get_uid_parameter(Connection *c, const VarlinkCall *call, const char *name, bool *ret_has,
                              uint32_t *ret_uid) {
        int64_t v;

        if (varlink_parameter_int(call->parameters, name, 0, UID_MAX_VALID, &v, ret_has) < 0) {
                reply_invalid_parameter(c, name);
                return false;
        }
        *ret_uid = *ret_has ? (uint32_t) v : 0;
        return true;
}

bool get_uid(Connection *c, const VarlinkCall *call, bool *ret_has, uint32_t *ret_uid) {
        return get_uid_parameter(c, call, "uid", ret_has, ret_uid);
}

/* Reads the optional "uid" parameter of a query, narrowed to what the caller may see;
 * replies with the error if it asks for more. */
bool get_visible_uid(Manager *m, Connection *c, const VarlinkCall *call, AccessScope scope, bool *ret_has,
                            uint32_t *ret_uid) {
        if (!get_uid(c, call, ret_has, ret_uid))
                return false;
        if (access_filter_uid(scope, connection_peer_uid(c), ret_has, ret_uid) < 0) {
                reply_permission_denied(&m->denials, c, "another UID's counts or events");
                return false;
        }
        return true;
}

static int method_get_status(Manager *m, Connection *c, const VarlinkCall *call) {
        if (!parameters_ok(c, call, NULL, 0))
                return 0;
        return methods_status_reply(m, c, caller_scope(m, c));
}

static int method_reset(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = { { "uid", json_type_int, false } };
        uint32_t uid;
        bool has_uid, not_saved;
        int r;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) || !get_uid(c, call, &has_uid, &uid))
                return 0;
        if (!access_may_change(connection_peer_uid(c)))
                return reply_permission_denied(&m->denials, c, "a reset");

        r = manager_reset(m, has_uid, uid, &not_saved);
        if (r < 0 && not_saved)
                return reply_state_error(c, m->persist.dir, r);
        if (r < 0)
                return reply_kernel_error(c, r, has_uid ? "Resetting the UID's counts" : "Resetting the counts");
        if (has_uid)
                log_info("Counts of UID %u reset by client (pid %d, uid %u).", uid, (int) connection_peer_pid(c),
                         connection_peer_uid(c));
        else
                log_info("All counts (%d UIDs) reset by client (pid %d, uid %u).", r, (int) connection_peer_pid(c),
                         connection_peer_uid(c));
        return connection_reply(c, NULL);
}

static int method_reload(Manager *m, Connection *c, const VarlinkCall *call) {
        _cleanup_(json_object_putp) json_object *p = NULL;
        _cleanup_(freep) char *error = NULL;
        int r;

        if (!parameters_ok(c, call, NULL, 0))
                return 0;
        if (!access_may_change(connection_peer_uid(c)))
                return reply_permission_denied(&m->denials, c, "a reload");
        log_info("Reload requested by client (pid %d, uid %u).", (int) connection_peer_pid(c), connection_peer_uid(c));
        r = manager_reload(m, &error);
        if (r >= 0)
                return connection_reply(c, NULL);
        p = json_object_new_object();
        if (!p || !json_add(p, "message", json_object_new_string(error ?: strerror(-r))))
                return reply_oom(c);
        return connection_error(c, EXECCOUNT_ERROR_CONFIG, p);
}

/* The newest limit kept events of uid (if set), oldest first, into *ret. */
/* The events a GetEvents or Watch call asks for, and may see; false when refused (the
 * error is sent). */
static bool events_filter(Manager *m, Connection *c, const VarlinkCall *call, EventsFilter *ret) {
        AccessScope scope = caller_scope(m, c);

        *ret = (EventsFilter) { .see_restricted = scope == ACCESS_ALL };
        return get_visible_uid(m, c, call, scope, &ret->has_uid, &ret->uid);
}

static int history_events(Manager *m, bool has_uid, uint32_t uid, size_t limit, const ExecEvent ***ret,
                          size_t *ret_n) {
        const ExecEvent **list;

        limit = MIN(limit, history_size(m->history));
        list = calloc(limit ? limit : 1, sizeof(*list));
        if (!list)
                return -ENOMEM;
        *ret_n = history_query(m->history, has_uid, uid, limit, list);
        *ret = list;
        return 0;
}

static int events_query(void *userdata, const EventsFilter *filter, size_t limit, const ExecEvent ***ret,
                        size_t *ret_n) {
        return history_events(userdata, filter->has_uid, filter->uid, limit, ret, ret_n);
}

static bool events_reached(void *userdata, uint64_t mark) {
        Manager *m = userdata;

        if (drain_reached(m->drain, mark))
                return true;
        drain_soon(m->drain);
        return false;
}

static int method_get_events(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = {
                { "limit", json_type_int, false },
                { "uid", json_type_int, false },
        };
        _cleanup_(freep) const ExecEvent **list = NULL;
        EventsFilter filter;
        int64_t limit = INT64_MAX;
        uint64_t mark;
        bool has_limit;
        size_t n;
        int r;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) || !events_filter(m, c, call, &filter))
                return 0;
        if (varlink_parameter_int(call->parameters, "limit", 0, INT64_MAX, &limit, &has_limit) < 0)
                return reply_invalid_parameter(c, "limit");
        if (!has_limit)
                limit = INT64_MAX;
        if (connection_oneway(c))
                return connection_reply(c, NULL);

        /* Whatever happened up to this call is in the answer. Unwatched, events may wait
         * in the ring for up to a second: then the reply waits until they are read, in the
         * loop's own batches, not all at once here. */
        mark = drain_mark(m->drain);
        if (!drain_reached(m->drain, mark)) {
                EventsSource source = { .query = events_query, .reached = events_reached, .userdata = m };

                r = events_reply_wait(m->watchers, c, &filter, (size_t) limit, mark, &source);
                return r < 0 ? (r == -ENOBUFS ? reply_limit_exceeded(c) : reply_oom(c)) : 0;
        }
        if (history_events(m, filter.has_uid, filter.uid, (size_t) limit, &list, &n) < 0)
                return reply_oom(c);
        /* Held by reference, written as the client takes them. */
        r = events_reply_start(c, list, n, &filter);
        if (r == -ENOBUFS)
                return reply_limit_exceeded(c);
        return r < 0 ? reply_oom(c) : 0;
}

static int method_watch(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = {
                { "uid", json_type_int, false },
                { "backlog", json_type_int, false },
        };
        _cleanup_(freep) const ExecEvent **list = NULL;
        EventsFilter filter;
        int64_t backlog = 0;
        bool has_backlog;
        size_t n;
        int r;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) || !events_filter(m, c, call, &filter))
                return 0;
        if (varlink_parameter_int(call->parameters, "backlog", 0, INT64_MAX, &backlog, &has_backlog) < 0)
                return reply_invalid_parameter(c, "backlog");
        if (!call->more)
                return connection_error(c, VARLINK_ERROR_EXPECTED_MORE, NULL);

        /* Kept events go out as backlog; those still in the ring buffer come live, as they
         * are read: none twice, none missed. */
        if (history_events(m, filter.has_uid, filter.uid, has_backlog ? (size_t) backlog : 0, &list, &n) < 0)
                return reply_oom(c);
        r = watch_start(m->watchers, c, list, n, &filter);
        if (r == -ENOBUFS)
                return reply_limit_exceeded(c);
        return r < 0 ? reply_oom(c) : 0;
}

static int method_get_info(Manager *m, Connection *c, const VarlinkCall *call) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        json_object *interfaces;

        if (!parameters_ok(c, call, NULL, 0))
                return 0;
        reply = json_object_new_object();
        interfaces = json_object_new_array();
        if (!reply || !json_add(reply, "vendor", json_object_new_string("execcount")) ||
            !json_add(reply, "product", json_object_new_string("execcountd")) ||
            !json_add(reply, "version", json_object_new_string(PROJECT_VERSION)) ||
            !json_add(reply, "url", json_object_new_string("man:execcountd(8)")) ||
            !json_add(reply, "interfaces", interfaces) ||
            !json_append(interfaces, json_object_new_string(VARLINK_SERVICE_INTERFACE)) ||
            !json_append(interfaces, json_object_new_string(EXECCOUNT_INTERFACE)))
                return reply_oom(c);
        return connection_reply(c, reply);
}

static int method_get_interface_description(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = { { "interface", json_type_string, true } };
        _cleanup_(json_object_putp) json_object *reply = NULL, *p = NULL;
        const char *name, *description;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)))
                return 0;
        name = json_get_string(call->parameters, "interface");
        if (streq(name, EXECCOUNT_INTERFACE))
                description = interface_io_execcount;
        else if (streq(name, VARLINK_SERVICE_INTERFACE))
                description = interface_org_varlink_service;
        else {
                p = json_object_new_object();
                if (!p || !json_add(p, "interface", json_object_new_string(name)))
                        return reply_oom(c);
                return connection_error(c, VARLINK_ERROR_INTERFACE_NOT_FOUND, p);
        }

        reply = json_object_new_object();
        if (!reply || !json_add(reply, "description", json_object_new_string(description)))
                return reply_oom(c);
        return connection_reply(c, reply);
}

typedef int (*MethodFn)(Manager *m, Connection *c, const VarlinkCall *call);

static const struct {
        const char *name;
        MethodFn fn;
} methods[] = {
        { EXECCOUNT_METHOD_GET_STATS, method_get_stats },
        { EXECCOUNT_METHOD_GET_LOGINS, method_get_logins },
        { EXECCOUNT_METHOD_GET_UNITS, method_get_units },
        { EXECCOUNT_METHOD_GET_STATUS, method_get_status },
        { EXECCOUNT_METHOD_RESET, method_reset },
        { EXECCOUNT_METHOD_RELOAD, method_reload },
        { EXECCOUNT_METHOD_GET_EVENTS, method_get_events },
        { EXECCOUNT_METHOD_WATCH, method_watch },
        { VARLINK_SERVICE_METHOD_GET_INFO, method_get_info },
        { VARLINK_SERVICE_METHOD_GET_INTERFACE_DESCRIPTION, method_get_interface_description },
};

void methods_dispatch(Server *s, Connection *c, const VarlinkCall *call, void *userdata) {
        _cleanup_(json_object_putp) json_object *p = NULL;
        size_t ilen = varlink_method_interface_len(call->method);
        bool interface_known;

        for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                if (streq(methods[i].name, call->method)) {
                        (void) methods[i].fn(userdata, c, call);
                        return;
                }

        interface_known =
                (ilen == strlen(EXECCOUNT_INTERFACE) && strncmp(call->method, EXECCOUNT_INTERFACE, ilen) == 0) ||
                (ilen == strlen(VARLINK_SERVICE_INTERFACE) && strncmp(call->method, VARLINK_SERVICE_INTERFACE, ilen) == 0);
        p = json_object_new_object();
        if (interface_known) {
                if (!p || !json_add(p, "method", json_object_new_string(call->method)))
                        (void) reply_oom(c);
                else
                        (void) connection_error(c, VARLINK_ERROR_METHOD_NOT_FOUND, p);
        } else {
                if (!p || !json_add(p, "interface", json_object_new_string_len(call->method, (int) ilen)))
                        (void) reply_oom(c);
                else
                        (void) connection_error(c, VARLINK_ERROR_INTERFACE_NOT_FOUND, p);
        }
}
