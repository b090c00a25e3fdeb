/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats.c: "execcountctl stats", and "reset" and "reload", which change what it shows. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "call.h"
#include "format.h"
#include "json-util.h"
#include "log.h"
#include "pager.h"
#include "time-util.h"
#include "users.h"
#include "verbs.h"

#define GET_STATS "io.execcount.GetStats"

typedef struct StatsRow {
        int64_t uid, execs, failed, last, throttled;
} StatsRow;

typedef struct Stats {
        StatsRow *rows;
        size_t n;
        int64_t since, map_full_execs, map_full_failed;
        bool has_map_full; /* absent when the caller sees only its own UID */
        bool own_only;
        int64_t total_execs, total_failed, total_throttled; /* over the rows */
} Stats;

static int compare_rows(const void *a, const void *b) {
        const StatsRow *x = a, *y = b;

        if (x->execs != y->execs)
                return x->execs > y->execs ? -1 : 1;
        if (x->failed != y->failed)
                return x->failed > y->failed ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Reads a GetStats reply into rows sorted as the table shows them. */
static int stats_parse(json_object *reply, Stats *ret) {
        json_object *users;
        Stats s = {};

        if (!json_object_object_get_ex(reply, "users", &users) || !json_object_is_type(users, json_type_array))
                return call_bad_reply(GET_STATS, "users");
        if (!json_get_int64(reply, "since_usec", 0, INT64_MAX, &s.since))
                return call_bad_reply(GET_STATS, "since_usec");
        s.own_only = streq_ptr(json_get_string(reply, "access"), "own");
        s.has_map_full = json_object_object_get_ex(reply, "map_full_execs", NULL);
        if (s.has_map_full && (!json_get_int64(reply, "map_full_execs", 0, INT64_MAX, &s.map_full_execs) ||
                               !json_get_int64(reply, "map_full_failed", 0, INT64_MAX, &s.map_full_failed)))
                return call_bad_reply(GET_STATS, "well-formed map_full counters");

        s.n = json_object_array_length(users);
        s.rows = calloc(s.n ? s.n : 1, sizeof(*s.rows));
        if (!s.rows)
                return log_oom(), EXIT_FAILURE;
        for (size_t i = 0; i < s.n; i++) {
                json_object *u = json_object_array_get_idx(users, i);
                StatsRow *row = &s.rows[i];

                if (!json_get_int64(u, "uid", 0, UINT32_MAX, &row->uid) ||
                    !json_get_int64(u, "execs", 0, INT64_MAX, &row->execs) ||
                    !json_get_int64(u, "failed", 0, INT64_MAX, &row->failed) ||
                    !json_get_int64(u, "last_exec_usec", 0, INT64_MAX, &row->last) ||
                    !json_get_int64(u, "events_throttled", 0, INT64_MAX, &row->throttled)) {
                        free(s.rows);
                        return call_bad_reply(GET_STATS, "well-formed UserStats");
                }
                s.total_execs += row->execs;
                s.total_failed += row->failed;
                s.total_throttled += row->throttled;
        }
        qsort(s.rows, s.n, sizeof(*s.rows), compare_rows);
        *ret = s;
        return 0;
}

/* The reply in table order, each entry with its user name. */
static int stats_print_json(const Args *a, const Stats *s, UserCache *cache) {
        _cleanup_(json_object_putp) json_object *out = json_object_new_object(), *list = json_object_new_array();

        if (!out || !list)
                return log_oom(), EXIT_FAILURE;
        for (size_t i = 0; i < s->n; i++) {
                const char *name = user_cache_name(cache, (uint32_t) s->rows[i].uid);
                json_object *o = json_object_new_object();

                if (!json_append(list, o) || !json_add(o, "uid", json_object_new_int64(s->rows[i].uid)) ||
                    !(name ? json_add(o, "user", json_object_new_string(name)) : json_add_null(o, "user")) ||
                    !json_add(o, "execs", json_object_new_int64(s->rows[i].execs)) ||
                    !json_add(o, "failed", json_object_new_int64(s->rows[i].failed)) ||
                    !json_add(o, "events_throttled", json_object_new_int64(s->rows[i].throttled)) ||
                    !json_add(o, "last_exec_usec", json_object_new_int64(s->rows[i].last)))
                        return log_oom(), EXIT_FAILURE;
        }
        if (!json_add(out, "users", TAKE_PTR(list)) || !json_add(out, "since_usec", json_object_new_int64(s->since)) ||
            !json_add(out, "access", json_object_new_string(s->own_only ? "own" : "all")))
                return log_oom(), EXIT_FAILURE;
        if (s->has_map_full && (!json_add(out, "map_full_execs", json_object_new_int64(s->map_full_execs)) ||
                                !json_add(out, "map_full_failed", json_object_new_int64(s->map_full_failed))))
                return log_oom(), EXIT_FAILURE;
        call_print_json(a, out);
        return 0;
}

static void stats_print_footer(const Args *a, const Stats *s) {
        char since[FORMAT_TIMESTAMP_MAX], ago[FORMAT_TIMESPAN_MAX];
        uint64_t now = now_usec(CLOCK_REALTIME);

        format_timestamp(since, (uint64_t) s->since);
        if (s->n == 0 && a->has_uid)
                printf("No execs by UID %" PRIu32 " since %s.\n", a->uid, since);
        else if (s->n == 0)
                printf("No execs since %s.\n", since);
        else
                printf("\n%zu %s, %" PRIi64 " %s, %" PRIi64 " failed, since %s (%s ago).\n", s->n,
                       s->n == 1 ? "user" : "users", s->total_execs, s->total_execs == 1 ? "exec" : "execs",
                       s->total_failed, since, format_timespan(ago, now > (uint64_t) s->since ? now - (uint64_t) s->since : 0));
        if (s->map_full_execs > 0 || s->map_full_failed > 0)
                printf("The UID map is full: %" PRIi64 " execs and %" PRIi64
                       " failed of further UIDs are counted without a UID; raise MaxUIDs= in "
                       "execcountd.conf(5).\n",
                       s->map_full_execs, s->map_full_failed);
        if (s->total_throttled > 0)
                printf("%" PRIi64 " failed execs sent no event: their UIDs went over FailedRateLimitBurst= "
                       "(execcountd.conf(5)); they are counted all the same.\n",
                       s->total_throttled);
        if (s->own_only)
                printf("Only your own UID is shown: root and the members of execcountd's access group see every "
                       "user (execcountd.conf(5), [Access]).\n");
}

int verb_stats(const Args *a) {
        static const char *const headers[] = { "UID", "USER", "EXECS", "FAILED", "LAST EXEC" };
        static const Align align[] = { ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_LEFT };
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        _cleanup_(user_cache_freep) UserCache *cache = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        Stats s = {};
        int r;

        params = call_uid_parameters(a);
        if (!params || user_cache_new(&cache) < 0 || table_new(ELEMENTSOF(headers), headers, align, &t) < 0)
                return log_oom(), EXIT_FAILURE;
        r = call_method(a, GET_STATS, params, &reply);
        if (r != 0)
                return r;
        r = stats_parse(reply, &s);
        if (r != 0)
                return r;

        if (a->json != JSON_OFF) {
                r = stats_print_json(a, &s, cache);
                free(s.rows);
                return r;
        }

        for (size_t i = 0; i < s.n; i++) {
                char uid[16], execs[24], failed[24], last[FORMAT_TIMESTAMP_MAX];
                const char *name = user_cache_name(cache, (uint32_t) s.rows[i].uid);
                const char *cells[] = { uid, name ? name : "-", execs, failed, last };

                snprintf(uid, sizeof(uid), "%" PRIi64, s.rows[i].uid);
                snprintf(execs, sizeof(execs), "%" PRIi64, s.rows[i].execs);
                snprintf(failed, sizeof(failed), "%" PRIi64, s.rows[i].failed);
                format_timestamp(last, (uint64_t) s.rows[i].last);
                if (table_add_row(t, cells) < 0) {
                        free(s.rows);
                        return log_oom(), EXIT_FAILURE;
                }
        }

        if (a->pager)
                pager_open();
        if (s.n > 0 || !a->legend)
                table_print(t, stdout, a->legend);
        if (a->legend)
                stats_print_footer(a, &s);
        pager_close();
        free(s.rows);
        return 0;
}

int verb_reload(const Args *a) {
        _cleanup_(json_object_putp) json_object *params = json_object_new_object(), *reply = NULL;

        if (!params)
                return log_oom(), EXIT_FAILURE;
        /* Quiet on success, as systemctl reload is: it runs as ExecReload=. */
        return call_method(a, "io.execcount.Reload", params, &reply);
}

int verb_reset(const Args *a) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        int r;

        params = call_uid_parameters(a);
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call_method(a, "io.execcount.Reset", params, &reply);
        if (r != 0)
                return r;
        if (a->has_uid)
                printf("Reset the counts of UID %" PRIu32 ".\n", a->uid);
        else
                printf("Reset the counts of all UIDs.\n");
        return 0;
}
