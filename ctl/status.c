/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status.c: "execcountctl status". */

#include <inttypes.h>
#include <stdlib.h>

#include "call.h"
#include "format.h"
#include "json-util.h"
#include "log.h"
#include "protocol.h"
#include "utf8.h"
#include "verbs.h"

/* Present for every caller. */
static const char *const keys[] = {
        "started_usec", "uptime_usec",      "since_usec",       "state_saved_usec",
        "map_capacity", "history_capacity", "ring_buffer_size", "clients",
};
enum { STARTED, UPTIME, SINCE, SAVED, CAPACITY, HISTORY_CAPACITY, RING, CLIENTS, _KEYS_MAX };

/* Present when the caller sees every UID. */
static const char *const total_keys[] = {
        "total_execs",    "total_failed",    "events_received", "events_lost",    "map_entries",
        "map_full_execs", "map_full_failed", "probe_misses",    "returns_missed", "history_events",
        "events_throttled",
};
enum {
        EXECS, FAILED, RECEIVED, LOST, ENTRIES, FULL_EXECS, FULL_FAILED, MISSES, RETURNS_MISSED, HISTORY, THROTTLED,
        _TOTALS_MAX,
};

static const char *origin_text(const char *origin) {
        static const struct {
                const char *origin, *text;
        } table[] = {
                { "running", "this daemon took them over from the previous one, which went on counting" },
                { "pinned-maps", "kept in the kernel while the daemon was stopped" },
                { "migrated", "copied into a map of the new size when the daemon started" },
                { "state-file", "restored from the state file when the daemon started" },
                { "fresh", "from zero when the daemon started" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq_ptr(origin, table[i].origin))
                        return table[i].text;
        return origin ?: "?";
}

static void print_rejected(json_object *reply) {
        json_object *rejected;

        if (!json_object_object_get_ex(reply, "rejected_probes", &rejected) ||
            !json_object_is_type(rejected, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(rejected); i++) {
                json_object *x = json_object_array_get_idx(rejected, i);
                _cleanup_(freep) char *reason = utf8_escape_for_terminal(json_get_string(x, "reason") ?: "?");

                printf("%s %s: %s\n", i == 0 ? "     Rejected:" : "              ", json_get_string(x, "mode") ?: "?",
                       reason ?: "?");
        }
}

static void print_totals(const int64_t *v, int64_t capacity, int64_t history_capacity, int64_t ring) {
        char size[32];

        printf("       Totals: %" PRIi64 " execs, %" PRIi64 " failed\n", v[EXECS], v[FAILED]);
        printf("      UID map: %" PRIi64 " of %" PRIi64 " entries", v[ENTRIES], capacity);
        if (v[FULL_EXECS] || v[FULL_FAILED])
                printf("; full: %" PRIi64 " execs and %" PRIi64 " failed counted without a UID", v[FULL_EXECS],
                       v[FULL_FAILED]);
        printf("\n       Events: %" PRIi64 " received, %" PRIi64 " lost, %" PRIi64 " held back (a UID's limit or "
               "share of the ring); %" PRIi64 " of %" PRIi64 " kept; ring buffer %s\n",
               v[RECEIVED], v[LOST], v[THROTTLED], v[HISTORY], history_capacity, format_size(size, (uint64_t) ring));
        if (v[MISSES])
                printf("       Missed: %" PRIi64 " program runs skipped by the kernel; counts may be short by as "
                       "many\n",
                       v[MISSES]);
        if (v[RETURNS_MISSED])
                printf("      Returns: %" PRIi64 " failed execs' returns missed by the kretprobes, counted late "
                       "without events\n",
                       v[RETURNS_MISSED]);
}

/* Connected clients, and (daemons that count them) those turned away or dropped. */
static void print_clients(json_object *reply, int64_t clients) {
        int64_t refused, dropped, buffered;
        char size[32];

        printf("      Clients: %" PRIi64 " connected", clients);
        if (json_get_int64(reply, "clients_refused", 0, INT64_MAX, &refused) &&
            json_get_int64(reply, "clients_dropped", 0, INT64_MAX, &dropped) &&
            json_get_int64(reply, "clients_buffered", 0, INT64_MAX, &buffered))
                printf(", %s held for them; %" PRIi64 " refused and %" PRIi64 " dropped since the start",
                       format_size(size, (uint64_t) buffered), refused, dropped);
        putchar('\n');
}

/* What outlives the daemon, and what went wrong with the state file. Daemons before
 * state_file was in GetStatus always kept one. */
static void print_kept(json_object *reply, bool pinned, int64_t saved) {
        char t[FORMAT_TIMESTAMP_MAX], t2[FORMAT_TIMESTAMP_MAX];
        const char *file = json_get_string(reply, "state_file"), *error = json_get_string(reply, "state_error");
        bool has_file = file || !json_object_object_get_ex(reply, "state_file", NULL);
        int64_t error_usec = 0, failures = 0;
        _cleanup_(freep) char *shown = utf8_escape_for_terminal(error ?: "");

        (void) json_get_int64(reply, "state_error_usec", 0, INT64_MAX, &error_usec);
        (void) json_get_int64(reply, "state_failures", 0, INT64_MAX, &failures);
        printf("         Kept: %s; ",
               pinned     ? "pinned in the kernel across restarts and crashes"
               : has_file ? "not pinned: in the state file from one start to the next"
                          : "not pinned, and no state file: lost when the daemon stops");
        if (!has_file)
                printf("no state file%s%s\n", error ? ": " : "", error ? shown : "");
        else if (failures > 0)
                printf("state file NOT WRITTEN: %s (%" PRIi64 " failed in a row, the last at %s)%s%s\n", shown ?: "?",
                       failures, format_timestamp(t, (uint64_t) error_usec), saved > 0 ? "; last written " : "",
                       saved > 0 ? format_timestamp(t2, (uint64_t) saved) : "");
        else
                printf("state file %s%s\n", saved > 0 ? "last written " : "not written yet",
                       saved > 0 ? format_timestamp(t, (uint64_t) saved) : "");
}

int verb_status(const Args *a) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        char t[FORMAT_TIMESTAMP_MAX], span[FORMAT_TIMESPAN_MAX];
        int64_t v[_KEYS_MAX], totals[_TOTALS_MAX];
        const char *mode, *version, *boot_id, *origin, *group;
        json_object *o;
        bool compat = true, pinned = false, all;
        int r;

        _Static_assert(ELEMENTSOF(keys) == _KEYS_MAX, "one key per index");
        _Static_assert(ELEMENTSOF(total_keys) == _TOTALS_MAX, "one key per index");

        params = json_object_new_object();
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call_method(a, EXECCOUNT_METHOD_GET_STATUS, params, &reply);
        if (r != 0)
                return r;
        if (a->json != JSON_OFF) {
                call_print_json(a, reply);
                return 0;
        }

        mode = json_get_string(reply, "probe_mode");
        version = json_get_string(reply, "version");
        boot_id = json_get_string(reply, "boot_id");
        origin = json_get_string(reply, "counts_origin");
        group = json_get_string(reply, "access_group");
        if (!mode || !version || !boot_id || !origin)
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATUS, "probe_mode, version, boot_id or counts_origin");
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!json_get_int64(reply, keys[i], 0, INT64_MAX, &v[i]))
                        return call_bad_reply(EXECCOUNT_METHOD_GET_STATUS, keys[i]);
        all = streq_ptr(json_get_string(reply, "access"), "all");
        for (size_t i = 0; all && i < ELEMENTSOF(total_keys); i++)
                if (!json_get_int64(reply, total_keys[i], 0, INT64_MAX, &totals[i]))
                        return call_bad_reply(EXECCOUNT_METHOD_GET_STATUS, total_keys[i]);
        if (json_object_object_get_ex(reply, "compat_execs", &o))
                compat = json_object_get_boolean(o);
        if (json_object_object_get_ex(reply, "pinned", &o))
                pinned = json_object_get_boolean(o);

        printf("execcountd %s: counting execs with the %s probes%s\n", version, mode,
               compat ? "" : " (this kernel has no 32-bit compat execs)");
        printf("      Started: %s (up %s)\n", format_timestamp(t, (uint64_t) v[STARTED]),
               format_timespan(span, (uint64_t) v[UPTIME]));
        printf("       Counts: since %s; %s\n", format_timestamp(t, (uint64_t) v[SINCE]), origin_text(origin));
        printf("      Boot ID: %s\n", boot_id);
        print_kept(reply, pinned, v[SAVED]);
        if (all)
                print_totals(totals, v[CAPACITY], v[HISTORY_CAPACITY], v[RING]);
        else
                printf("       Totals: only for root%s%s%s\n", group ? " and the members of group " : "", group ?: "",
                       "; you see your own UID's counts and events");
        print_clients(reply, v[CLIENTS]);
        print_rejected(reply);
        return 0;
}
