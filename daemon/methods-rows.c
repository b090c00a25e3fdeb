/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods-rows.c: the methods that read counts row by row: GetStats, GetLogins, GetUnits. */

#include <errno.h>
#include <stdlib.h>

#include "access.h"
#include "errors.h"
#include "methods-internal.h"
#include "reply.h"
#include "stats-reply.h"
#include "tally.h"

int method_get_stats(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = {
                { "uid", json_type_int, false },
                { "columns", json_type_boolean, false },
        };
        _cleanup_(freep) TallyEntry *users = NULL;
        json_object *columns;
        struct exec_stats stats;
        AccessScope scope = caller_scope(m, c);
        StatsReplyInfo info;
        uint32_t uid;
        bool has_uid;
        size_t n = 0;
        int r;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) ||
            !get_visible_uid(m, c, call, scope, &has_uid, &uid))
                return 0;
        if (connection_oneway(c))
                return connection_reply(c, NULL);

        r = tally_read_stats(m->tally, &stats);
        if (r < 0)
                return reply_kernel_error(c, r, "Reading the kernel statistics");
        if (has_uid) {
                if (!(users = calloc(1, sizeof(*users))))
                        return reply_oom(c);
                r = tally_read_one(m->tally, uid, &users[0]);
                if (r >= 0)
                        n = 1;
                else if (r != -ENOENT)
                        return reply_kernel_error(c, r, "Reading the counts of the UID");
        } else {
                r = tally_read_all(m->tally, &users, &n);
                if (r < 0)
                        return reply_kernel_error(c, r, "Reading the counts");
        }

        info = (StatsReplyInfo) {
                .scope = scope,
                .since_usec = tally_since_usec(m->tally),
                .map_full_execs = stats.map_full_execs,
                .map_full_failed = stats.map_full_failed,
                .parts = connection_wants_more(c),
                /* A third of the bytes, and no keys to match for each user: execcountctl
                 * asks for this, and clients before it get the objects they know. */
                .columns = json_object_object_get_ex(call->parameters, "columns", &columns) &&
                           json_object_get_boolean(columns),
        };
        /* The counts are those read now; they are written as the client takes them. */
        r = stats_reply_start(c, TAKE_PTR(users), n, &info);
        if (r == -ENOBUFS)
                return reply_limit_exceeded(c);
        return r < 0 ? reply_oom(c) : 0;
}

/* What reading one login pair costs a caller's output allowance: the kernel hands out
 * pairs about as fast as the daemon writes 256 bytes of a reply (bench/RESULTS.md). */
#define LOGINS_READ_COST 256

/* What a GetLogins call asks for, and may see. */
typedef struct LoginsQuery {
        AccessScope scope;
        uint32_t peer_uid;
        bool has_uid, has_login;
        uint32_t uid, login_uid;
} LoginsQuery;

/* The filters narrow what the caller may see; asking for more is no error, since pairs of
 * another UID may be the caller's (its login sessions). */
static bool logins_wanted(const LoginCount *l, void *userdata) {
        const LoginsQuery *q = userdata;

        return (!q->has_uid || l->uid == q->uid) && (!q->has_login || l->login_uid == q->login_uid) &&
               access_sees_login(q->scope, q->peer_uid, l->login_uid, l->uid);
}

int method_get_logins(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = { { "uid", json_type_int, false }, { "login_uid", json_type_int, false } };
        _cleanup_(freep) LoginCount *logins = NULL;
        struct exec_attribution_stats a;
        LoginsQuery q = { .scope = caller_scope(m, c), .peer_uid = connection_peer_uid(c) };
        size_t n, n_read;
        int r;

        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) || !get_uid(c, call, &q.has_uid, &q.uid) ||
            !get_uid_parameter(c, call, "login_uid", &q.has_login, &q.login_uid))
                return 0;
        if (connection_oneway(c))
                return connection_reply(c, NULL);

        r = tally_read_attribution(m->tally, &a);
        if (r >= 0)
                r = tally_read_logins(m->tally, logins_wanted, &q, &logins, &n, &n_read);
        if (r < 0)
                return reply_kernel_error(c, r, "Reading the counts per login");
        /* Every pair is read, whoever asks and however few it may see: the caller's UID
         * pays for them as for output, so that calls in a loop take a bounded share of the
         * daemon's time (OutputRatePerUID=). */
        connection_spend(c, n_read * LOGINS_READ_COST);

        r = logins_reply_start(c, TAKE_PTR(logins), n,
                               &(StatsReplyInfo) { .scope = q.scope,
                                                   .since_usec = tally_since_usec(m->tally),
                                                   .logins_full = a.logins_full,
                                                   .parts = connection_wants_more(c) });
        if (r == -ENOBUFS)
                return reply_limit_exceeded(c);
        return r < 0 ? reply_oom(c) : 0;
}

/* What reading one cgroup's entry costs a caller's output allowance: the entry, and its
 * unit's name looked up for the rows the caller sees. */
#define UNITS_READ_COST 256

typedef struct UnitsQuery {
        bool has_uid;
        uint32_t uid;
} UnitsQuery;

static bool units_wanted(uint32_t uid, void *userdata) {
        const UnitsQuery *q = userdata;

        return !q->has_uid || uid == q->uid;
}

int method_get_units(Manager *m, Connection *c, const VarlinkCall *call) {
        static const VarlinkField fields[] = { { "uid", json_type_int, false } };
        UnitRow *units = NULL;
        struct exec_attribution_stats a;
        AccessScope scope = caller_scope(m, c);
        UnitsQuery q = {};
        size_t n, n_read = 0;
        int r;

        /* Users who may not see all see their own UID's rows only. */
        if (!parameters_ok(c, call, fields, ELEMENTSOF(fields)) ||
            !get_visible_uid(m, c, call, scope, &q.has_uid, &q.uid))
                return 0;
        if (connection_oneway(c))
                return connection_reply(c, NULL);

        r = tally_read_attribution(m->tally, &a);
        if (r >= 0)
                r = tally_read_units(m->tally, units_wanted, &q, &units, &n, &n_read);
        if (r < 0)
                return reply_kernel_error(c, r, "Reading the counts per unit");
        connection_spend(c, n_read * UNITS_READ_COST);
        /* The machine systemd-machined says ran in a unit (not only machine-NAME.scope). */
        for (size_t i = 0; i < n; i++) {
                const char *machine = machines_lookup(m->machines, units[i].unit);

                if (machine && !(units[i].machine = strdup(machine))) {
                        unit_rows_free(units, n);
                        return reply_oom(c);
                }
        }

        r = units_reply_start(c, units, n,
                              &(StatsReplyInfo) { .scope = scope,
                                                  .since_usec = tally_since_usec(m->tally),
                                                  .units_full_execs = a.units_full_execs,
                                                  .units_full_failed = a.units_full_failed,
                                                  .names_full = a.names_full,
                                                  .parts = connection_wants_more(c) });
        if (r == -ENOBUFS)
                return reply_limit_exceeded(c);
        return r < 0 ? reply_oom(c) : 0;
}
