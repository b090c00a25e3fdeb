/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status.c: "execcountctl status". */

#include <inttypes.h>
#include <stdlib.h>

#include "call.h"
#include "format.h"
#include "json-util.h"
#include "log.h"
#include "utf8.h"
#include "verbs.h"

#define GET_STATUS "io.execcount.GetStatus"

static const char *const keys[] = {
        "started_usec",    "uptime_usec",   "since_usec",      "total_execs",      "total_failed",
        "events_received", "events_lost",   "map_entries",     "map_capacity",     "map_full_execs",
        "map_full_failed", "probe_misses",  "returns_missed",  "history_events",   "history_capacity",
        "ring_buffer_size", "clients",
};
enum {
        STARTED, UPTIME, SINCE, EXECS, FAILED, RECEIVED, LOST, ENTRIES, CAPACITY, FULL_EXECS, FULL_FAILED, MISSES,
        RETURNS_MISSED, HISTORY, HISTORY_CAPACITY, RING, CLIENTS, _KEYS_MAX,
};

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

int verb_status(const Args *a) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        char t[FORMAT_TIMESTAMP_MAX], span[FORMAT_TIMESPAN_MAX], size[32];
        int64_t v[_KEYS_MAX];
        const char *mode, *version;
        json_object *o;
        bool compat = true;
        int r;

        _Static_assert(ELEMENTSOF(keys) == _KEYS_MAX, "one key per index");

        params = json_object_new_object();
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call_method(a, GET_STATUS, params, &reply);
        if (r != 0)
                return r;
        if (a->json != JSON_OFF) {
                call_print_json(a, reply);
                return 0;
        }

        mode = json_get_string(reply, "probe_mode");
        version = json_get_string(reply, "version");
        if (!mode || !version)
                return call_bad_reply(GET_STATUS, "probe_mode or version");
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!json_get_int64(reply, keys[i], 0, INT64_MAX, &v[i]))
                        return call_bad_reply(GET_STATUS, keys[i]);
        if (json_object_object_get_ex(reply, "compat_execs", &o))
                compat = json_object_get_boolean(o);

        printf("execcountd %s: counting execs with the %s probes%s\n", version, mode,
               compat ? "" : " (this kernel has no 32-bit compat execs)");
        printf("      Started: %s (up %s)\n", format_timestamp(t, (uint64_t) v[STARTED]),
               format_timespan(span, (uint64_t) v[UPTIME]));
        printf("       Counts: %" PRIi64 " execs, %" PRIi64 " failed, since %s\n", v[EXECS], v[FAILED],
               format_timestamp(t, (uint64_t) v[SINCE]));
        printf("      UID map: %" PRIi64 " of %" PRIi64 " entries", v[ENTRIES], v[CAPACITY]);
        if (v[FULL_EXECS] || v[FULL_FAILED])
                printf("; full: %" PRIi64 " execs and %" PRIi64 " failed counted without a UID", v[FULL_EXECS],
                       v[FULL_FAILED]);
        printf("\n       Events: %" PRIi64 " received, %" PRIi64 " lost; %" PRIi64 " of %" PRIi64
               " kept; ring buffer %s\n",
               v[RECEIVED], v[LOST], v[HISTORY], v[HISTORY_CAPACITY], format_size(size, (uint64_t) v[RING]));
        if (v[MISSES])
                printf("       Missed: %" PRIi64 " program runs skipped by the kernel; counts may be short by as "
                       "many\n",
                       v[MISSES]);
        if (v[RETURNS_MISSED])
                printf("      Returns: %" PRIi64 " failed execs' returns missed by the kretprobes, counted late "
                       "without events\n",
                       v[RETURNS_MISSED]);
        printf("      Clients: %" PRIi64 "\n", v[CLIENTS]);
        print_rejected(reply);
        return 0;
}
