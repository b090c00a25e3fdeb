/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods.c: the io.execcount and org.varlink.service methods. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "counts.h"
#include "json-util.h"
#include "log.h"
#include "methods.h"
#include "persist.h"
#include "state.h"
#include "time-util.h"
#include "varlink.h"

#define INTERFACE "io.execcount"
#define INTERFACE_SERVICE "org.varlink.service"
#define ERROR_KERNEL INTERFACE ".KernelError"
#define ERROR_CONFIG INTERFACE ".ConfigError"
#define ERROR_STATE INTERFACE ".StateError"

extern const char interface_io_execcount[];
extern const char interface_org_varlink_service[];

/* uid_t's -1 is "no UID", never a real one. */
#define UID_MAX_VALID ((int64_t) UINT32_MAX - 1)

typedef struct WatchFilter {
        Manager *manager;
        bool has_uid;
        uint32_t uid;
} WatchFilter;

static void watch_filter_free(void *p) {
        WatchFilter *f = p;

        if (!f)
                return;
        manager_watchers_changed(f->manager, -1);
        free(f);
}

static int reply_oom(Connection *c) {
        json_object *p = json_object_new_object();
        int r;

        log_oom();
        if (p && json_add(p, "errno", json_object_new_int(ENOMEM)) &&
            json_add(p, "message", json_object_new_string("out of memory")))
                r = connection_error(c, ERROR_KERNEL, p);
        else {
                /* Not even the error fits: the client sees the connection end. */
                connection_close(c);
                r = -ENOMEM;
        }
        json_object_put(p);
        return r;
}

static int reply_invalid_parameter(Connection *c, const char *name) {
        json_object *p = json_object_new_object();
        int r;

        if (p && json_add(p, "parameter", json_object_new_string(name)))
                r = connection_error(c, VARLINK_ERROR_INVALID_PARAMETER, p);
        else
                r = reply_oom(c);
        json_object_put(p);
        return r;
}

static int reply_kernel_error(Connection *c, int error, const char *what) {
        json_object *p = json_object_new_object();
        char *message = NULL;
        int r;

        log_warning_errno(error, "%s failed: %m", what);
        if (p && asprintf(&message, "%s: %s", what, strerror(-error)) >= 0 &&
            json_add(p, "errno", json_object_new_int(-error)) && json_add(p, "message", json_object_new_string(message)))
                r = connection_error(c, ERROR_KERNEL, p);
        else
                r = reply_oom(c);
        free(message);
        json_object_put(p);
        return r;
}

/* Checks the call's parameters against its declaration; replies with the error if bad. */
static bool parameters_ok(Connection *c, const VarlinkCall *call, const VarlinkField *fields, size_t n) {
        const char *bad = NULL;

        if (varlink_parameters_check(call->parameters, fields, n, &bad) < 0) {
                reply_invalid_parameter(c, bad);
                return false;
        }
        return true;
}

static AccessScope caller_scope(Manager *m, Connection *c) {
        return access_scope(connection_peer_uid(c),
                            m->has_access_gid && connection_peer_in_group(c, m->access_gid));
}

static int reply_permission_denied(Manager *m, Connection *c, const char *what) {
        uint64_t suppressed;

        if (ratelimit_pass(&m->denials, now_usec(CLOCK_MONOTONIC), &suppressed))
                log_notice("Refused %s to client (pid %d, uid %u)%s.", what, (int) connection_peer_pid(c),
                           connection_peer_uid(c), suppressed > 0 ? " (and more refusals held back)" : "");
        return connection_error(c, VARLINK_ERROR_PERMISSION_DENIED, NULL);
}

/* Reads the optional "uid" parameter. */
static bool get_uid(Connection *c, const VarlinkCall *call, bool *ret_has, uint32_t *ret_uid) {
        int64_t v;

        if (varlink_parameter_int(call->parameters, "uid", 0, UID_MAX_VALID, &v, ret_has) < 0) {
                reply_invalid_parameter(c, "uid");
                return false;
        }
        *ret_uid = *ret_has ? (uint32_t) v : 0;
        return true;
}

/* Reads the optional "uid" parameter of a query, narrowed to what the caller may see;
 * replies with the error if it asks for more. */
static bool get_visible_uid(Manager *m, Connection *c, const VarlinkCall *call, AccessScope scope, bool *ret_has,
                            uint32_t *ret_uid) {
        if (!get_uid(c, call, ret_has, ret_uid))
                return false;
        if (access_filter_uid(scope, connection_peer_uid(c), ret_has, ret_uid) < 0) {
                reply_permission_denied(m, c, "another UID's counts or events");
                return false;
        }
        return true;
}

/* A growing text, for replies written rather than built. */
typedef struct Text {
        char *p;
        size_t len, alloc;
        bool oom;
} Text;

static char *text_reserve(Text *t, size_t n) {
        if (t->oom)
                return NULL;
        if (t->len + n > t->alloc) {
                size_t want = MAX(t->alloc * 2, t->len + n + 4096);
                char *p = realloc(t->p, want);

                if (!p) {
                        t->oom = true;
                        return NULL;
                }
                t->p = p;
                t->alloc = want;
        }
        return t->p + t->len;
}

static void text_add(Text *t, const char *s) {
        size_t n = strlen(s);
        char *p = text_reserve(t, n);

        if (p) {
                memcpy(p, s, n);
                t->len += n;
        }
}

/* Decimal digits, without printf's machinery: ten thousand UIDs make fifty thousand. */
static void text_add_u64(Text *t, uint64_t v) {
        char digits[20], *p;
        size_t n = 0;

        do
                digits[n++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        p = text_reserve(t, n);
        if (!p)
                return;
        for (size_t i = 0; i < n; i++)
                p[i] = digits[n - 1 - i];
        t->len += n;
}

static void user_stats_write(Manager *m, Text *t, const UserCount *u, int64_t offset) {
        text_add(t, "{\"uid\":");
        text_add_u64(t, u->uid);
        text_add(t, ",\"execs\":");
        text_add_u64(t, MIN(u->execs, (uint64_t) INT64_MAX));
        text_add(t, ",\"failed\":");
        text_add_u64(t, MIN(u->failed, (uint64_t) INT64_MAX));
        text_add(t, ",\"events_throttled\":");
        text_add_u64(t, MIN(u->events_throttled, (uint64_t) INT64_MAX));
        text_add(t, ",\"last_exec_usec\":");
        text_add_u64(t, MIN(persist_last_exec_usec(&m->persist, u, offset), (uint64_t) INT64_MAX));
        text_add(t, "}");
}

/* GetStats: the counts read at the call, sent in one reply, or, for a call made with
 * "more", in replies of STATS_PART users each, every one a complete GetStats reply. */
#define STATS_PART 2048

typedef struct StatsReply {
        Manager *manager;
        UserCount *users;
        size_t n, next;
        AccessScope scope;
        uint64_t since_usec, map_full_execs, map_full_failed;
        int64_t offset;
} StatsReply;

static void stats_reply_free(void *p) {
        StatsReply *r = p;

        if (!r)
                return;
        free(r->users);
        free(r);
}

static void stats_reply_freep(StatsReply **r) {
        stats_reply_free(*r);
}

/* Queues users [next, next + count) as one reply, continuing if any are left after. */
static int stats_reply_send(Connection *c, StatsReply *r, size_t count) {
        size_t end = MIN(r->n, r->next + count);
        bool continues = end < r->n;
        Text t = {};

        /* Written, not built: a tree of ten thousand objects costs more than the rest of
         * the call. Every value is a number or a fixed word: nothing to escape. */
        (void) text_reserve(&t, (end - r->next) * 112 + 256);
        text_add(&t, "{\"parameters\":{\"users\":[");
        for (size_t i = r->next; i < end; i++) {
                if (i > r->next)
                        text_add(&t, ",");
                user_stats_write(r->manager, &t, &r->users[i], r->offset);
        }
        text_add(&t, "],\"since_usec\":");
        text_add_u64(&t, r->since_usec);
        text_add(&t, ",\"access\":\"");
        text_add(&t, access_scope_to_string(r->scope));
        text_add(&t, "\"");
        /* Other UIDs' execs, unattributed: only for those who may see them. */
        if (r->scope == ACCESS_ALL) {
                text_add(&t, ",\"map_full_execs\":");
                text_add_u64(&t, MIN(r->map_full_execs, (uint64_t) INT64_MAX));
                text_add(&t, ",\"map_full_failed\":");
                text_add_u64(&t, MIN(r->map_full_failed, (uint64_t) INT64_MAX));
        }
        text_add(&t, continues ? "},\"continues\":true}" : "}}");
        if (text_reserve(&t, 1))
                t.p[t.len++] = '\0';
        if (t.oom) {
                free(t.p);
                return -ENOMEM;
        }
        r->next = end;
        return connection_reply_message(c, t.p, t.len, t.alloc);
}

static int stats_reply_produce(Connection *c, void *state) {
        StatsReply *r = state;
        int k = stats_reply_send(c, r, STATS_PART);

        return k < 0 ? k : r->next < r->n;
}

static int method_get_stats(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = { { "uid", json_type_int, false } };
        _cleanup_(stats_reply_freep) StatsReply *reply = NULL;
        struct exec_stats stats;
        AccessScope scope = caller_scope(m, c);
        uint32_t uid;
        bool has_uid;
        int r;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) ||
            !get_visible_uid(m, c, call, scope, &has_uid, &uid))
                return 0;

        r = manager_read_stats(m, &stats);
        if (r < 0)
                return reply_kernel_error(c, r, "Reading the kernel statistics");
        reply = calloc(1, sizeof(*reply));
        if (!reply)
                return reply_oom(c);
        *reply = (StatsReply) {
                .manager = m,
                .scope = scope,
                .since_usec = m->since_usec,
                .map_full_execs = stats.map_full_execs,
                .map_full_failed = stats.map_full_failed,
                .offset = manager_realtime_offset(m),
        };

        if (has_uid) {
                if (!(reply->users = calloc(1, sizeof(*reply->users))))
                        return reply_oom(c);
                r = counts_read_one(probe_get_counts_fd(m->probe), uid, &reply->users[0]);
                if (r >= 0)
                        reply->n = 1;
                else if (r != -ENOENT)
                        return reply_kernel_error(c, r, "Reading the counts of the UID");
        } else {
                r = counts_read_all(probe_get_counts_fd(m->probe), probe_get_max_uids(m->probe), &reply->users,
                                    &reply->n);
                if (r < 0)
                        return reply_kernel_error(c, r, "Reading the counts");
        }

        if (!connection_wants_more(c) || reply->n <= STATS_PART) {
                r = stats_reply_send(c, reply, reply->n);
                return r == -ENOMEM ? reply_oom(c) : r;
        }
        /* The first part now, the others as the client takes them. */
        r = stats_reply_send(c, reply, STATS_PART);
        if (r < 0)
                return r == -ENOMEM ? reply_oom(c) : r;
        connection_produce(c, stats_reply_produce, TAKE_PTR(reply), stats_reply_free);
        return 0;
}

static json_object *rejected_probes_to_json(const ProbeReport *report) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (int i = 0; i < _PROBE_MODE_MAX; i++) {
                json_object *o;

                if (!report->rejected[i])
                        continue;
                o = json_object_new_object();
                if (!json_append(a, o) || !json_add(o, "mode", json_object_new_string(probe_mode_to_string(i))) ||
                    !json_add(o, "reason", json_object_new_string(report->rejected[i]))) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

/* Where the counts the daemon started with came from. */
static const char *counts_origin(Manager *m) {
        ProbeOrigin o = probe_get_origin(m->probe);

        if (o == PROBE_ORIGIN_FRESH)
                return m->persist.did_restore ? "state-file" : "fresh";
        return probe_origin_to_string(o);
}

/* What GetStatus tells only those who see every UID: sums over everyone's execs. */
static int add_totals(Manager *m, json_object *reply) {
        _cleanup_(freep) UserCount *list = NULL;
        struct exec_stats stats;
        uint64_t execs, failed, misses;
        size_t n;
        int r;

        r = counts_read_all(probe_get_counts_fd(m->probe), probe_get_max_uids(m->probe), &list, &n);
        if (r >= 0)
                r = manager_read_stats(m, &stats);
        if (r >= 0)
                r = probe_read_misses(m->probe, &misses);
        if (r < 0)
                return r;
        counts_sum(list, n, &execs, &failed);

        if (!json_add(reply, "total_execs", json_object_new_int64((int64_t) (execs + stats.map_full_execs))) ||
            !json_add(reply, "total_failed", json_object_new_int64((int64_t) (failed + stats.map_full_failed))) ||
            !json_add(reply, "events_received", json_object_new_int64((int64_t) m->events_received)) ||
            !json_add(reply, "events_lost",
                      json_object_new_int64((int64_t) (stats.events_lost + stats.scratch_busy + stats.returns_missed))) ||
            !json_add(reply, "events_throttled", json_object_new_int64((int64_t) counts_sum_throttled(list, n))) ||
            !json_add(reply, "map_entries", json_object_new_int64((int64_t) n)) ||
            !json_add(reply, "map_full_execs", json_object_new_int64((int64_t) stats.map_full_execs)) ||
            !json_add(reply, "map_full_failed", json_object_new_int64((int64_t) stats.map_full_failed)) ||
            !json_add(reply, "probe_misses", json_object_new_int64((int64_t) misses)) ||
            !json_add(reply, "returns_missed", json_object_new_int64((int64_t) stats.returns_missed)) ||
            !json_add(reply, "history_events", json_object_new_int64((int64_t) history_size(m->history))))
                return -ENOMEM;
        return 0;
}

/* Where the state file is kept, and what went wrong with it. */
static bool add_state(Manager *m, json_object *reply) {
        const Persist *p = &m->persist;
        _cleanup_(freep) char *path = NULL, *error = NULL;

        if (persist_enabled(p) && asprintf(&path, "%s/%s", p->dir, STATE_FILE) < 0)
                return false;
        if (p->dir_error)
                error = strdup(p->dir_error);
        else if (p->failures > 0 && asprintf(&error, "writing %s/%s failed: %s", p->dir, STATE_FILE,
                                              strerror(-p->error)) < 0)
                error = NULL;
        if ((p->dir_error || p->failures > 0) && !error)
                return false;
        return (path ? json_add(reply, "state_file", json_object_new_string(path)) : json_add_null(reply, "state_file")) &&
               (error ? json_add(reply, "state_error", json_object_new_string(error))
                      : json_add_null(reply, "state_error")) &&
               json_add(reply, "state_error_usec", json_object_new_int64(error && p->failures ? (int64_t) p->error_usec : 0)) &&
               json_add(reply, "state_failures", json_object_new_int64((int64_t) p->failures));
}

static int method_get_status(Manager *m, Connection *c, const VarlinkCall *call) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        AccessScope scope = caller_scope(m, c);
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        char boot_id[33];
        int r;

        if (!parameters_ok(c, call, NULL, 0))
                return 0;

        reply = json_object_new_object();
        if (!reply || !json_add(reply, "version", json_object_new_string(PROJECT_VERSION)) ||
            !json_add(reply, "probe_mode", json_object_new_string(probe_mode_to_string(probe_get_mode(m->probe)))) ||
            !json_add(reply, "rejected_probes", rejected_probes_to_json(&m->probe_report)) ||
            !json_add(reply, "compat_execs", json_object_new_boolean(!m->probe_report.no_compat)) ||
            !json_add(reply, "started_usec", json_object_new_int64((int64_t) m->started_usec)) ||
            !json_add(reply, "uptime_usec", json_object_new_int64((int64_t) (now - m->started_monotonic_usec))) ||
            !json_add(reply, "since_usec", json_object_new_int64((int64_t) m->since_usec)) ||
            !json_add(reply, "boot_id", json_object_new_string(state_format_boot_id(m->boot_id, boot_id))) ||
            !json_add(reply, "counts_origin", json_object_new_string(counts_origin(m))) ||
            !json_add(reply, "pinned", json_object_new_boolean(probe_is_pinned(m->probe))) ||
            !json_add(reply, "state_saved_usec", json_object_new_int64((int64_t) m->persist.last_saved_usec)) ||
            !add_state(m, reply) ||
            !json_add(reply, "map_capacity", json_object_new_int64(probe_get_max_uids(m->probe))) ||
            !json_add(reply, "history_capacity", json_object_new_int64((int64_t) history_capacity(m->history))) ||
            !json_add(reply, "ring_buffer_size", json_object_new_int64(probe_get_ring_buffer_size(m->probe))) ||
            !json_add(reply, "clients", json_object_new_int64((int64_t) server_n_connections(m->server))) ||
            !json_add(reply, "access", json_object_new_string(access_scope_to_string(scope))) ||
            (m->has_access_gid &&
             !json_add(reply, "access_group", json_object_new_string(m->config.access_group))))
                return reply_oom(c);
        if (scope == ACCESS_ALL) {
                r = add_totals(m, reply);
                if (r == -ENOMEM)
                        return reply_oom(c);
                if (r < 0)
                        return reply_kernel_error(c, r, "Reading the counts");
        }
        return connection_reply(c, reply);
}

/* A reset whose snapshot could not be written: nothing was reset. */
static int reply_state_error(Manager *m, Connection *c, int error) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();
        _cleanup_(freep) char *message = NULL;

        if (!p || asprintf(&message,
                           "writing the state file in %s failed (%s), so nothing was reset: a reboot would bring "
                           "the counts back; fix that, then reset again",
                           m->persist.dir, strerror(-error)) < 0 ||
            !json_add(p, "errno", json_object_new_int(-error)) || !json_add(p, "message", json_object_new_string(message)))
                return reply_oom(c);
        return connection_error(c, ERROR_STATE, p);
}

static int method_reset(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = { { "uid", json_type_int, false } };
        uint32_t uid;
        bool has_uid, not_saved;
        int r;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) || !get_uid(c, call, &has_uid, &uid))
                return 0;
        if (!access_may_change(connection_peer_uid(c)))
                return reply_permission_denied(m, c, "a reset");

        if (has_uid) {
                r = manager_reset_uid(m, uid, &not_saved);
                if (r < 0 && not_saved)
                        return reply_state_error(m, c, r);
                if (r < 0)
                        return reply_kernel_error(c, r, "Resetting the UID's counts");
                log_info("Counts of UID %u reset by client (pid %d, uid %u).", uid, (int) connection_peer_pid(c),
                         connection_peer_uid(c));
        } else {
                r = manager_reset_all(m, &not_saved);
                if (r < 0 && not_saved)
                        return reply_state_error(m, c, r);
                if (r < 0)
                        return reply_kernel_error(c, r, "Resetting the counts");
                log_info("All counts (%d UIDs) reset by client (pid %d, uid %u).", r, (int) connection_peer_pid(c),
                         connection_peer_uid(c));
        }
        return connection_reply(c, NULL);
}

static int method_reload(Manager *m, Connection *c, const VarlinkCall *call) {
        _cleanup_(json_object_putp) json_object *p = NULL;
        _cleanup_(freep) char *error = NULL;
        int r;

        if (!parameters_ok(c, call, NULL, 0))
                return 0;
        if (!access_may_change(connection_peer_uid(c)))
                return reply_permission_denied(m, c, "a reload");
        log_info("Reload requested by client (pid %d, uid %u).", (int) connection_peer_pid(c), connection_peer_uid(c));
        r = manager_reload(m, &error);
        if (r >= 0)
                return connection_reply(c, NULL);
        p = json_object_new_object();
        if (!p || !json_add(p, "message", json_object_new_string(error ?: strerror(-r))))
                return reply_oom(c);
        return connection_error(c, ERROR_CONFIG, p);
}

/* Events of the history, newest limit ones of uid (if set), oldest first. */
static json_object *history_to_json(Manager *m, bool has_uid, uint32_t uid, size_t limit) {
        _cleanup_(freep) const ExecEvent **list = NULL;
        json_object *a;
        size_t n;

        limit = MIN(limit, history_size(m->history));
        list = calloc(limit ? limit : 1, sizeof(*list));
        a = json_object_new_array_ext((int) limit);
        if (!list || !a) {
                json_object_put(a);
                return NULL;
        }
        n = history_query(m->history, has_uid, uid, limit, list);
        for (size_t i = 0; i < n; i++)
                if (!json_append(a, exec_event_to_json(list[i]))) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

static int method_get_events(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = {
                { "limit", json_type_int, false },
                { "uid", json_type_int, false },
        };
        _cleanup_(json_object_putp) json_object *reply = NULL;
        int64_t limit = INT64_MAX;
        uint32_t uid;
        bool has_uid, has_limit;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) ||
            !get_visible_uid(m, c, call, caller_scope(m, c), &has_uid, &uid))
                return 0;
        /* Unwatched, events may wait in the ring for up to a second: up to now, they are
         * all in the history. */
        (void) drain_now(m->drain);
        if (varlink_parameter_int(call->parameters, "limit", 0, INT64_MAX, &limit, &has_limit) < 0)
                return reply_invalid_parameter(c, "limit");
        if (!has_limit)
                limit = INT64_MAX;

        /* Whatever happened up to this call is in the answer. */
        (void) drain_now(m->drain);

        reply = json_object_new_object();
        if (!reply || !json_add(reply, "events", history_to_json(m, has_uid, uid, (size_t) limit)))
                return reply_oom(c);
        return connection_reply(c, reply);
}

static int method_watch(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = {
                { "uid", json_type_int, false },
                { "backlog", json_type_int, false },
        };
        _cleanup_(json_object_putp) json_object *backlog = NULL;
        WatchFilter *filter;
        int64_t n = 0;
        uint32_t uid;
        bool has_uid, has_backlog;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) ||
            !get_visible_uid(m, c, call, caller_scope(m, c), &has_uid, &uid))
                return 0;
        if (varlink_parameter_int(call->parameters, "backlog", 0, INT64_MAX, &n, &has_backlog) < 0)
                return reply_invalid_parameter(c, "backlog");
        if (!call->more)
                return connection_error(c, VARLINK_ERROR_EXPECTED_MORE, NULL);

        /* Events up to now go out as backlog, later ones live: none twice, none missed. */
        (void) drain_now(m->drain);
        backlog = history_to_json(m, has_uid, uid, has_backlog ? (size_t) n : 0);
        if (!backlog)
                return reply_oom(c);
        for (size_t i = 0; i < json_object_array_length(backlog); i++) {
                json_object *p = json_object_new_object();

                if (!p || !json_add(p, "event", json_object_get(json_object_array_get_idx(backlog, i)))) {
                        json_object_put(p);
                        return reply_oom(c);
                }
                (void) connection_notify(c, p);
                json_object_put(p);
        }

        filter = calloc(1, sizeof(*filter));
        if (!filter)
                return reply_oom(c);
        *filter = (WatchFilter) { .manager = m, .has_uid = has_uid, .uid = uid };
        connection_subscribe(c, filter, watch_filter_free);
        /* Someone waits for each event now: they come at FlushIntervalSec=. */
        manager_watchers_changed(m, +1);
        return 0;
}

typedef struct Broadcast {
        const ExecEvent *event;
        json_object *message; /* built once, for the first subscriber that wants it */
        bool failed;
} Broadcast;

static void broadcast_one(Connection *c, void *subscription, void *userdata) {
        WatchFilter *f = subscription;
        Broadcast *b = userdata;

        if (f->has_uid && f->uid != b->event->uid)
                return;
        if (!b->message && !b->failed) {
                b->message = json_object_new_object();
                if (!b->message || !json_add(b->message, "event", exec_event_to_json(b->event))) {
                        log_oom();
                        b->failed = true;
                }
        }
        if (!b->failed)
                (void) connection_notify(c, b->message);
}

void methods_broadcast_event(Manager *m, const ExecEvent *e) {
        Broadcast b = { .event = e };

        server_foreach_subscriber(m->server, broadcast_one, &b);
        json_object_put(b.message);
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
            !json_append(interfaces, json_object_new_string(INTERFACE_SERVICE)) ||
            !json_append(interfaces, json_object_new_string(INTERFACE)))
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
        if (streq(name, INTERFACE))
                description = interface_io_execcount;
        else if (streq(name, INTERFACE_SERVICE))
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
        { INTERFACE ".GetStats", method_get_stats },
        { INTERFACE ".GetStatus", method_get_status },
        { INTERFACE ".Reset", method_reset },
        { INTERFACE ".Reload", method_reload },
        { INTERFACE ".GetEvents", method_get_events },
        { INTERFACE ".Watch", method_watch },
        { INTERFACE_SERVICE ".GetInfo", method_get_info },
        { INTERFACE_SERVICE ".GetInterfaceDescription", method_get_interface_description },
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

        interface_known = (ilen == strlen(INTERFACE) && strncmp(call->method, INTERFACE, ilen) == 0) ||
                          (ilen == strlen(INTERFACE_SERVICE) && strncmp(call->method, INTERFACE_SERVICE, ilen) == 0);
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
