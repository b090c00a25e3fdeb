/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units.c: "execcountctl stats --by=unit" (execs per systemd unit) and
 * "execcountctl stats --unit=NAME" (per user, in one unit). */

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "fetch.h"
#include "format.h"
#include "json-scan.h"
#include "json-util.h"
#include "log.h"
#include "protocol.h"
#include "rows.h"
#include "text.h"
#include "time-util.h"
#include "users.h"
#include "verbs.h"

void units_done(Units *u) {
        for (size_t i = 0; i < u->n; i++) {
                free(u->rows[i].unit);
                free(u->rows[i].machine);
        }
        free(u->rows);
        *u = (Units) {};
}

/* One UnitStats. */
static int parse_row(JsonSpan item, UnitRow *row) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *unit, *machine, *v;
        const char *const keys[] = { "uid", "execs", "failed", "last_exec_usec" };
        int64_t *const fields[] = { &row->uid, &row->execs, &row->failed, &row->last };
        enum json_tokener_error e;
        json_tokener *tok = json_tokener_new();

        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, item.p, (int) item.len);
        e = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (!o || e != json_tokener_success || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "unit", &unit) || !json_object_is_type(unit, json_type_string))
                return -EBADMSG;
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                if (!json_object_object_get_ex(o, keys[k], &v) || !json_object_is_type(v, json_type_int) ||
                    json_object_get_int64(v) < 0 || (k == 0 && json_object_get_int64(v) > UINT32_MAX))
                        return -EBADMSG;
                *fields[k] = json_object_get_int64(v);
        }
        row->unit = strdup(json_object_get_string(unit));
        row->machine = NULL;
        if (json_object_object_get_ex(o, "machine", &machine) && json_object_is_type(machine, json_type_string))
                row->machine = strdup(json_object_get_string(machine));
        return row->unit ? 0 : -ENOMEM;
}

/* reply: from the parameters on; see CallPartFn. */
static int parse_part(JsonSpan reply, const char **ret_end, void *userdata) {
        static const char *const keys[] = { "units", "since_usec", "access", "units_map_full_execs",
                                            "units_map_full_failed", "unnamed_cgroups" };
        enum { UNITS, SINCE, ACCESS, FULL_EXECS, FULL_FAILED, UNNAMED };
        Units *u = userdata;
        JsonSpan v[ELEMENTSOF(keys)], item;
        JsonIter iter;
        int r;

        /* One walk over the reply for its members: each walk reads every row. */
        if (json_scan_members_end(reply, keys, v, ELEMENTSOF(keys), ret_end) < 0 || !v[UNITS].p ||
            json_scan_array_begin(v[UNITS], &iter) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_UNITS, "units");
        if (!v[SINCE].p || json_scan_int64(v[SINCE], 0, INT64_MAX, &u->since) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_UNITS, "since_usec");
        u->own_only = v[ACCESS].len == 5 && memcmp(v[ACCESS].p, "\"own\"", 5) == 0;
        u->has_full = v[FULL_EXECS].p;
        if (u->has_full &&
            (json_scan_int64(v[FULL_EXECS], 0, INT64_MAX, &u->full_execs) < 0 || !v[FULL_FAILED].p ||
             json_scan_int64(v[FULL_FAILED], 0, INT64_MAX, &u->full_failed) < 0 || !v[UNNAMED].p ||
             json_scan_int64(v[UNNAMED], 0, INT64_MAX, &u->unnamed) < 0))
                return call_bad_reply(EXECCOUNT_METHOD_GET_UNITS, "well-formed map-full counts");

        while ((r = json_scan_array_next(&iter, &item)) > 0) {
                UnitRow row;

                if (rows_grow((void **) &u->rows, &u->alloc, u->n, sizeof(*u->rows)) < 0)
                        return log_oom(), EXIT_FAILURE;
                r = parse_row(item, &row);
                if (r == -ENOMEM)
                        return log_oom(), EXIT_FAILURE;
                if (r < 0)
                        return call_bad_reply(EXECCOUNT_METHOD_GET_UNITS, "well-formed UnitStats");
                if (u->args->unit && !rows_unit_matches(row.unit, u->args->unit)) {
                        free(row.unit);
                        free(row.machine);
                        continue;
                }
                u->total_execs += row.execs;
                u->total_failed += row.failed;
                u->rows[u->n++] = row;
        }
        if (r < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_UNITS, "a well-formed list of units");
        return 0;
}

static int compare_names(const void *a, const void *b) {
        const UnitRow *x = a, *y = b;
        int c = strcmp(x->unit, y->unit);

        return c ? c : x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Most active first. */
static int compare_activity(const void *a, const void *b) {
        const UnitRow *x = a, *y = b;

        if (x->execs != y->execs)
                return x->execs > y->execs ? -1 : 1;
        if (x->failed != y->failed)
                return x->failed > y->failed ? -1 : 1;
        return compare_names(a, b);
}

void units_sum_per_unit(Units *u) {
        size_t k = 0;

        if (u->n == 0)
                return;
        qsort(u->rows, u->n, sizeof(*u->rows), compare_names);
        for (size_t i = 1; i < u->n; i++) {
                if (streq(u->rows[k].unit, u->rows[i].unit)) {
                        u->rows[k].execs += u->rows[i].execs;
                        u->rows[k].failed += u->rows[i].failed;
                        u->rows[k].last = MAX(u->rows[k].last, u->rows[i].last);
                        free(u->rows[i].unit);
                        free(u->rows[i].machine);
                } else
                        u->rows[++k] = u->rows[i];
        }
        u->n = k + 1;
}

static void json_string(const char *s) {
        Text t = {};

        text_add_json_string(&t, s, strlen(s));
        text_add_char(&t, '\0');
        fputs(t.p ?: "\"\"", stdout);
        free(t.p);
}

static int print_json(const Args *a, const Units *u, UserCache *cache, bool by_unit) {
        JsonLayout j = rows_json_layout(a->json);
        const char *nl = j.nl, *in1 = j.in1, *in2 = j.in2, *in3 = j.in3, *sp = j.sp;

        if (by_unit)
                printf("{%s%s\"units\":%s[", nl, in1, sp);
        else {
                printf("{%s%s\"unit\":%s", nl, in1, sp);
                json_string(a->unit);
                printf(",%s%s\"users\":%s[", nl, in1, sp);
        }
        for (size_t i = 0; i < u->n; i++) {
                const UnitRow *row = &u->rows[i];

                printf("%s%s%s{%s%s", i ? "," : "", nl, in2, nl, in3);
                if (by_unit) {
                        printf("\"unit\":%s", sp);
                        json_string(row->unit);
                        if (row->machine) {
                                printf(",%s%s\"machine\":%s", nl, in3, sp);
                                json_string(row->machine);
                        }
                } else {
                        printf("\"uid\":%s%" PRIi64 ",%s%s\"user\":%s", sp, row->uid, nl, in3, sp);
                        rows_json_name(user_cache_name(cache, (uint32_t) row->uid));
                }
                printf(",%s%s\"execs\":%s%" PRIi64 ",%s%s\"failed\":%s%" PRIi64 ",%s%s\"last_exec_usec\":%s%" PRIi64
                       "%s%s}",
                       nl, in3, sp, row->execs, nl, in3, sp, row->failed, nl, in3, sp, row->last, nl, in2);
        }
        rows_json_tail(&j, u->n, u->since, u->own_only);
        if (u->has_full)
                printf(",%s%s\"units_map_full_execs\":%s%" PRIi64 ",%s%s\"units_map_full_failed\":%s%" PRIi64
                       ",%s%s\"unnamed_cgroups\":%s%" PRIi64,
                       nl, in1, sp, u->full_execs, nl, in1, sp, u->full_failed, nl, in1, sp, u->unnamed);
        return rows_json_end(&j);
}

static void print_footer(const Args *a, const void *userdata) {
        const Units *u = userdata;
        char since[FORMAT_TIMESTAMP_MAX];

        format_timestamp(since, (uint64_t) u->since);
        if (u->n == 0 && a->unit)
                printf("No execs in %s since %s.\n", a->unit, since);
        else if (u->n == 0)
                printf("No execs since %s.\n", since);
        else if (a->by == BY_UNIT)
                printf("\n%zu %s, %" PRIi64 " %s, %" PRIi64 " failed, since %s.\n", u->n,
                       u->n == 1 ? "unit" : "units", u->total_execs, u->total_execs == 1 ? "exec" : "execs",
                       u->total_failed, since);
        else
                printf("\n%zu %s in %s, %" PRIi64 " %s, %" PRIi64 " failed, since %s.\n", u->n,
                       u->n == 1 ? "user" : "users", a->unit, u->total_execs,
                       u->total_execs == 1 ? "exec" : "execs", u->total_failed, since);
        if (u->full_execs > 0 || u->full_failed > 0)
                printf("The map of units is full: %" PRIi64 " execs and %" PRIi64
                       " failed are not counted per unit (execcountd(8), \"Per-unit counts\").\n",
                       u->full_execs, u->full_failed);
        if (u->own_only)
                printf("Only your own UID's execs are shown: root and the members of execcountd's access group "
                       "see every user's (execcountd.conf(5), [Access]).\n");
}

int units_fetch(const Args *a, Units *u) {
        _cleanup_(json_object_putp) json_object *params = call_uid_parameters(a);
        int r;

        *u = (Units) { .args = a };
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call_method_parts(a, EXECCOUNT_METHOD_GET_UNITS, params, NULL, parse_part, u);
        if (r != 0)
                units_done(u);
        return r;
}

int stats_by_unit(const Args *a) {
        static const char *const unit_headers[] = { "UNIT", "EXECS", "FAILED", "LAST EXEC" };
        static const Align unit_align[] = { ALIGN_LEFT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_LEFT };
        static const char *const user_headers[] = { "UID", "USER", "EXECS", "FAILED", "LAST EXEC" };
        static const Align user_align[] = { ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_LEFT };
        _cleanup_(user_cache_freep) UserCache *cache = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        bool by_unit = a->by == BY_UNIT;
        Units u;
        int r;

        if (user_cache_new(&cache) < 0 ||
            (by_unit ? table_new(ELEMENTSOF(unit_headers), unit_headers, unit_align, &t)
                     : table_new(ELEMENTSOF(user_headers), user_headers, user_align, &t)) < 0)
                return log_oom(), EXIT_FAILURE;
        r = units_fetch(a, &u);
        if (r != 0)
                return r;
        if (by_unit)
                units_sum_per_unit(&u);
        if (u.n > 0)
                qsort(u.rows, u.n, sizeof(*u.rows), compare_activity);

        if (a->json != JSON_OFF) {
                r = print_json(a, &u, cache, by_unit);
                units_done(&u);
                return r;
        }

        for (size_t i = 0; i < u.n && r == 0; i++) {
                const UnitRow *row = &u.rows[i];
                char uid[16], execs[24], failed[24], last[FORMAT_TIMESTAMP_MAX];
                const char *name = by_unit ? NULL : user_cache_name(cache, (uint32_t) row->uid);
                const char *unit_cells[] = { row->unit, execs, failed, last };
                const char *user_cells[] = { uid, name ? name : "-", execs, failed, last };

                snprintf(uid, sizeof(uid), "%" PRIi64, row->uid);
                snprintf(execs, sizeof(execs), "%" PRIi64, row->execs);
                snprintf(failed, sizeof(failed), "%" PRIi64, row->failed);
                format_timestamp(last, (uint64_t) row->last);
                if (table_add_row(t, by_unit ? unit_cells : user_cells) < 0) {
                        log_oom();
                        r = EXIT_FAILURE;
                }
        }
        if (r == 0)
                rows_show(a, t, u.n, print_footer, &u);
        units_done(&u);
        return r;
}
