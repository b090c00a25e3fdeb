/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics-fetch.c: what the metrics show, asked from the daemon: its status, its counts
 * per UID and per unit. */

#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "json-util.h"
#include "log.h"
#include "metrics.h"
#include "protocol.h"

void metrics_source_done(MetricsSource *s) {
        free(s->metrics.users);
        free(s->metrics.units);
        free(s->stats.rows);
        units_done(&s->units);
        user_cache_free(s->users);
        free(s->version);
        free(s->probe_mode);
        *s = (MetricsSource) {};
}

/* The totals, which only a caller who sees every UID gets. */
static void fetch_totals(json_object *status, Metrics *m) {
        static const char *const keys[] = { "total_execs",    "total_failed",   "events_lost",  "events_throttled",
                                            "map_full_execs", "map_full_failed", "map_entries", "probe_misses" };
        int64_t *const fields[] = { &m->host_execs,     &m->host_failed,     &m->events_lost, &m->events_held_back,
                                    &m->map_full_execs, &m->map_full_failed, &m->uids,        &m->probe_misses };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!json_get_int64(status, keys[i], 0, INT64_MAX, fields[i]))
                        *fields[i] = METRICS_UNKNOWN;
        if (m->uids == METRICS_UNKNOWN || !json_get_int64(status, "map_capacity", 0, INT64_MAX, &m->uids_capacity))
                m->uids_capacity = METRICS_UNKNOWN;
}

static int fetch_status(const Args *a, MetricsSource *s) {
        _cleanup_(json_object_putp) json_object *params = json_object_new_object(), *reply = NULL;
        const char *version, *mode;
        int r;

        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call_method(a, EXECCOUNT_METHOD_GET_STATUS, params, &reply);
        if (r != 0)
                return r;
        version = json_get_string(reply, "version");
        mode = json_get_string(reply, "probe_mode");
        if (!version || !mode)
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATUS, "version or probe_mode");
        s->version = strdup(version);
        s->probe_mode = strdup(mode);
        if (!s->version || !s->probe_mode)
                return log_oom(), EXIT_FAILURE;
        fetch_totals(reply, &s->metrics);
        return 0;
}

static int fetch_users(const Args *a, MetricsSource *s) {
        Metrics *m = &s->metrics;
        int r;

        r = stats_fetch(a, &s->stats);
        if (r != 0)
                return r;
        m->since_usec = s->stats.since;
        m->users = calloc(s->stats.n ?: 1, sizeof(*m->users));
        if (!m->users)
                return log_oom(), EXIT_FAILURE;
        m->has_privileged = true;
        for (size_t i = 0; i < s->stats.n; i++) {
                const StatsRow *row = &s->stats.rows[i];

                m->users[i] = (MetricsUser) {
                        .uid = (uint32_t) row->uid,
                        .execs = row->execs,
                        .failed = row->failed,
                        .privileged = row->privileged,
                };
                if (row->privileged < 0) /* a daemon before privileged counts */
                        m->has_privileged = false;
        }
        m->n_users = s->stats.n;
        return 0;
}

static int fetch_units(const Args *a, MetricsSource *s) {
        Metrics *m = &s->metrics;
        int r;

        r = units_fetch(a, &s->units);
        if (r != 0)
                return r;
        units_sum_per_unit(&s->units);
        m->units = calloc(s->units.n ?: 1, sizeof(*m->units));
        if (!m->units)
                return log_oom(), EXIT_FAILURE;
        for (size_t i = 0; i < s->units.n; i++)
                m->units[i] = (MetricsUnit) {
                        .unit = s->units.rows[i].unit,
                        .execs = s->units.rows[i].execs,
                        .failed = s->units.rows[i].failed,
                };
        m->n_units = s->units.n;
        m->units_full_execs = s->units.has_full ? s->units.full_execs : METRICS_UNKNOWN;
        m->units_full_failed = s->units.has_full ? s->units.full_failed : METRICS_UNKNOWN;
        return 0;
}

int metrics_collect(const Args *a, MetricsSource *s) {
        Metrics *m = &s->metrics;
        int r;

        *s = (MetricsSource) {};
        if (user_cache_new(&s->users) < 0)
                return log_oom(), EXIT_FAILURE;
        r = fetch_status(a, s);
        if (r == 0)
                r = fetch_users(a, s);
        if (r == 0)
                r = fetch_units(a, s);
        if (r != 0) {
                metrics_source_done(s);
                return r;
        }
        m->version = s->version;
        m->probe_mode = s->probe_mode;
        metrics_limit(m, a->max_uids, a->max_units);
        /* Names for the users with series of their own only: with many UIDs, a lookup of
         * each would cost more than the rest. */
        (void) user_cache_expect(s->users, m->n_users);
        for (size_t i = 0; i < m->n_users; i++)
                m->users[i].user = user_cache_name(s->users, m->users[i].uid);
        return 0;
}
