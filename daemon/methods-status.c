/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods-status.c: the GetStatus reply: the daemon, its probes, its state file and its clients;
 * for those who see every UID, sums over everyone's counts too. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json-util.h"
#include "methods-status.h"
#include "state.h"
#include "time-util.h"

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
        _cleanup_(freep) TallyEntry *list = NULL;
        struct exec_stats stats;
        uint64_t execs, failed, throttled, misses;
        size_t n;
        int r;

        r = tally_read_all(m->tally, &list, &n);
        if (r >= 0)
                r = tally_read_stats(m->tally, &stats);
        if (r >= 0)
                r = probe_read_misses(m->probe, &misses);
        if (r < 0)
                return r;
        tally_sum(list, n, &execs, &failed, &throttled);

        if (!json_add(reply, "total_execs", json_object_new_int64((int64_t) (execs + stats.map_full_execs))) ||
            !json_add(reply, "total_failed", json_object_new_int64((int64_t) (failed + stats.map_full_failed))) ||
            !json_add(reply, "events_received", json_object_new_int64((int64_t) m->events_received)) ||
            !json_add(reply, "events_lost",
                      json_object_new_int64((int64_t) (stats.events_lost + stats.scratch_busy + stats.returns_missed))) ||
            !json_add(reply, "events_throttled", json_object_new_int64((int64_t) throttled)) ||
            !json_add(reply, "map_entries", json_object_new_int64((int64_t) n)) ||
            !json_add(reply, "map_full_execs", json_object_new_int64((int64_t) stats.map_full_execs)) ||
            !json_add(reply, "map_full_failed", json_object_new_int64((int64_t) stats.map_full_failed)) ||
            !json_add(reply, "probe_misses", json_object_new_int64((int64_t) misses)) ||
            !json_add(reply, "returns_missed", json_object_new_int64((int64_t) stats.returns_missed)) ||
            !json_add(reply, "history_events", json_object_new_int64((int64_t) history_size(m->history))))
                return -ENOMEM;
        return 0;
}

/* What the daemon did to keep clients from hurting each other. */
static bool add_clients(Manager *m, json_object *reply) {
        ServerStats st;

        server_get_stats(m->server, &st);
        return json_add(reply, "clients_refused", json_object_new_int64((int64_t) st.refused)) &&
               json_add(reply, "clients_dropped", json_object_new_int64((int64_t) st.dropped)) &&
               json_add(reply, "clients_buffered", json_object_new_int64((int64_t) st.buffered));
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

int methods_status_reply(Manager *m, Connection *c, AccessScope scope) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        char boot_id[33];
        int r;

        reply = json_object_new_object();
        if (!reply || !json_add(reply, "version", json_object_new_string(PROJECT_VERSION)) ||
            !json_add(reply, "probe_mode", json_object_new_string(probe_mode_to_string(probe_get_mode(m->probe)))) ||
            !json_add(reply, "rejected_probes", rejected_probes_to_json(&m->probe_report)) ||
            !json_add(reply, "compat_execs", json_object_new_boolean(!m->probe_report.no_compat)) ||
            !json_add(reply, "started_usec", json_object_new_int64((int64_t) m->started_usec)) ||
            !json_add(reply, "uptime_usec", json_object_new_int64((int64_t) (now - m->started_monotonic_usec))) ||
            !json_add(reply, "since_usec", json_object_new_int64((int64_t) tally_since_usec(m->tally))) ||
            !json_add(reply, "boot_id", json_object_new_string(state_format_boot_id(m->boot_id, boot_id))) ||
            !json_add(reply, "counts_origin", json_object_new_string(counts_origin(m))) ||
            !json_add(reply, "pinned", json_object_new_boolean(probe_is_pinned(m->probe))) ||
            !json_add(reply, "state_saved_usec", json_object_new_int64((int64_t) m->persist.last_saved_usec)) ||
            !add_state(m, reply) ||
            !json_add(reply, "map_capacity", json_object_new_int64(tally_capacity(m->tally))) ||
            !json_add(reply, "history_capacity", json_object_new_int64((int64_t) history_capacity(m->history))) ||
            !json_add(reply, "ring_buffer_size", json_object_new_int64(probe_get_ring_buffer_size(m->probe))) ||
            !json_add(reply, "clients", json_object_new_int64((int64_t) server_n_connections(m->server))) ||
            !add_clients(m, reply) ||
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
