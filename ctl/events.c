/* SPDX-License-Identifier: GPL-2.0-or-later */
/* events.c: "execcountctl events", once or following. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "format.h"
#include "json-util.h"
#include "log.h"
#include "pager.h"
#include "protocol.h"
#include "rows.h"
#include "text.h"
#include "users.h"
#include "verbs.h"

static const char *const headers[] = { "TIME", "UID",    "USER",     "PID", "PPID",
                                        "COMM", "UNIT",   "RESULT",   "FILENAME", "ARGS" };
static const Align align[] = { ALIGN_LEFT, ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT, ALIGN_RIGHT,
                               ALIGN_LEFT, ALIGN_LEFT,  ALIGN_LEFT, ALIGN_LEFT,  ALIGN_LEFT };
#define COLUMN_ARGS 9
/* Following, rows are printed one at a time: these widths keep them lined up. */
static const size_t follow_widths[] = { 23, 6, 10, 7, 7, 15, 20, 7, 0, 0 };

typedef struct Printer {
        const Args *args;
        Table *table;
        UserCache *users;
        int64_t shown_seq; /* --follow --unit: the kept events up to this one were shown */
} Printer;

/* Whether the event is one --unit= asks for (all without it). Events of a daemon before
 * per-unit counts have no unit: none of them is. */
static bool wanted(const Args *a, json_object *e) {
        const char *unit;

        if (!a->unit)
                return true;
        unit = json_get_string(e, "unit");
        return unit && rows_unit_matches(unit, a->unit);
}

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* The bytes of a hex string, NUL-terminated; NULL if it is not one (or out of memory). */
static char *unhex(const char *hex) {
        size_t n = strlen(hex);
        char *out;

        if (n % 2 != 0 || !(out = malloc(n / 2 + 1)))
                return NULL;
        for (size_t i = 0; i < n / 2; i++) {
                int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                        free(out);
                        return NULL;
                }
                out[i] = (char) (hi << 4 | lo);
        }
        out[n / 2] = '\0';
        return out;
}

/* The event's arguments for the ARGS column, escaped: "-" when it has none (not captured,
 * not shown to this caller, or an older daemon), "[...]" after them when they were cut.
 * Arguments that are not UTF-8 are escaped from their exact bytes (argv_hex), not from the
 * U+FFFD of the JSON string. NULL when out of memory. */
static char *format_args(json_object *e) {
        json_object *argv, *hex = NULL, *truncated;
        size_t len, alloc, n;
        Text t = {};

        if (!json_object_object_get_ex(e, "argv", &argv) || !json_object_is_type(argv, json_type_array))
                return strdup("-");
        n = json_object_array_length(argv);
        if (json_object_object_get_ex(e, "argv_hex", &hex) &&
            (!json_object_is_type(hex, json_type_array) || json_object_array_length(hex) != n))
                hex = NULL;
        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(argv, i);
                _cleanup_(freep) char *bytes =
                        hex ? unhex(json_object_get_string(json_object_array_get_idx(hex, i)) ?: "") : NULL;

                if (i > 0)
                        text_add_char(&t, ' ');
                text_add_arg(&t, bytes ?: json_object_is_type(a, json_type_string) ? json_object_get_string(a) : "?");
        }
        if (json_object_object_get_ex(e, "argv_truncated", &truncated) && json_object_get_boolean(truncated))
                text_add(&t, t.len > 0 ? " [...]" : "[...]");
        text_add_char(&t, '\0');
        return text_steal(&t, &len, &alloc);
}

/* Adds one ExecEvent to the table, or prints it as JSON. */
static int printer_add(Printer *p, json_object *e) {
        char time[FORMAT_TIMESTAMP_MAX], uid[16], pid[16], ppid[16], result[32];
        int64_t t, u, pd, pp, res;
        const char *name, *filename;
        _cleanup_(freep) char *args = NULL;

        if (!wanted(p->args, e))
                return 0;
        if (p->args->json != JSON_OFF) {
                call_print_json(p->args, e);
                return 0;
        }
        if (!json_get_int64(e, "time_usec", 0, INT64_MAX, &t) || !json_get_int64(e, "uid", 0, UINT32_MAX, &u) ||
            !json_get_int64(e, "pid", 0, INT32_MAX, &pd) || !json_get_int64(e, "ppid", 0, INT32_MAX, &pp) ||
            !json_get_int64(e, "result", INT32_MIN, INT32_MAX, &res))
                return call_bad_reply(EXECCOUNT_METHOD_GET_EVENTS, "well-formed ExecEvents");
        snprintf(uid, sizeof(uid), "%" PRIi64, u);
        snprintf(pid, sizeof(pid), "%" PRIi64, pd);
        snprintf(ppid, sizeof(ppid), "%" PRIi64, pp);
        name = user_cache_name(p->users, (uint32_t) u);
        filename = json_get_string(e, "filename");
        args = format_args(e);
        if (!args)
                return log_oom(), EXIT_FAILURE;

        const char *cells[] = {
                format_timestamp_ms(time, (uint64_t) t), uid, name ? name : "-", pid, ppid,
                json_get_string(e, "comm") ?: "", json_get_string(e, "unit") ?: "-", format_result(result, (int) res),
                filename ? filename : "(unknown)", args,
        };
        if (table_add_row(p->table, cells) < 0)
                return log_oom(), EXIT_FAILURE;
        return 0;
}

static int on_watch_reply(const VarlinkReply *reply, void *userdata) {
        Printer *p = userdata;
        json_object *e;
        int r;

        if (reply->error)
                return call_failed(EXECCOUNT_METHOD_WATCH, 0, reply);
        if (!json_object_object_get_ex(reply->parameters, "event", &e))
                return call_bad_reply(EXECCOUNT_METHOD_WATCH, "event");
        if (p->shown_seq > 0) {
                int64_t seq;

                /* Kept events the first call showed come again as backlog. */
                if (json_get_int64(e, "seq", 0, INT64_MAX, &seq) && seq <= p->shown_seq)
                        return 0;
        }
        r = printer_add(p, e);
        if (r != 0)
                return r;
        if (p->args->json == JSON_OFF) {
                table_print(p->table, stdout, false);
                table_clear(p->table);
        }
        fflush(stdout);
        return 0;
}

/* Of the kept events (oldest first), the index of the first wanted one to show: the last
 * --lines of those --unit= wants. The daemon picks the last --lines itself without
 * --unit. */
static size_t first_shown(const Args *a, json_object *events) {
        size_t n = json_object_array_length(events), matches = 0, skip;

        if (!a->unit || a->lines < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                matches += wanted(a, json_object_array_get_idx(events, i));
        skip = matches > (size_t) a->lines ? matches - (size_t) a->lines : 0;
        for (size_t i = 0; i < n; i++)
                if (wanted(a, json_object_array_get_idx(events, i)) && skip-- == 0)
                        return i;
        return n;
}

/* GetEvents: the kept events, the last --lines of them unless --unit= filters here. */
static int kept_events(const Args *a, json_object **ret_reply, json_object **ret_events) {
        _cleanup_(json_object_putp) json_object *params = call_uid_parameters(a), *reply = NULL;
        int r;

        if (!params || (a->lines >= 0 && !a->unit && !json_add(params, "limit", json_object_new_int64(a->lines))))
                return log_oom(), EXIT_FAILURE;
        r = call_method(a, EXECCOUNT_METHOD_GET_EVENTS, params, &reply);
        if (r != 0)
                return r;
        if (!json_object_object_get_ex(reply, "events", ret_events) || !json_object_is_type(*ret_events, json_type_array))
                return call_bad_reply(EXECCOUNT_METHOD_GET_EVENTS, "events");
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* --follow --unit: the kept events the daemon's backlog would hold cannot be picked by
 * unit there, so the last --lines of them come from GetEvents, and the Watch backlog is
 * all kept events, the ones already shown skipped: none missed in between, none twice. */
static int follow_kept(const Args *a, Printer *p, json_object *params) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        json_object *events;
        size_t n;
        int r;

        r = kept_events(a, &reply, &events);
        if (r != 0)
                return r;
        n = json_object_array_length(events);
        for (size_t i = first_shown(a, events); i < n; i++) {
                json_object *e = json_object_array_get_idx(events, i);

                r = printer_add(p, e);
                if (r != 0)
                        return r;
                if (a->json == JSON_OFF) {
                        table_print(p->table, stdout, false);
                        table_clear(p->table);
                }
        }
        if (n > 0 && !json_get_int64(json_object_array_get_idx(events, n - 1), "seq", 0, INT64_MAX, &p->shown_seq))
                return call_bad_reply(EXECCOUNT_METHOD_GET_EVENTS, "well-formed ExecEvents");
        return json_add(params, "backlog", json_object_new_int64(INT64_MAX)) ? 0 : (log_oom(), EXIT_FAILURE);
}

static int events_follow(const Args *a, Printer *p, json_object *params) {
        _cleanup_(client_freep) Client *c = NULL;
        int r;

        table_set_fixed_widths(p->table, follow_widths);
        if (a->legend && a->json == JSON_OFF)
                table_print(p->table, stdout, true);
        if (a->unit && a->lines != 0) {
                r = follow_kept(a, p, params);
                if (r != 0)
                        return r;
        } else if (a->lines != 0 &&
                   !json_add(params, "backlog", json_object_new_int64(a->lines < 0 ? INT64_MAX : a->lines)))
                return log_oom(), EXIT_FAILURE;
        r = call_connect(a, &c);
        if (r != 0)
                return r;
        fflush(stdout);

        r = client_call_more(c, EXECCOUNT_METHOD_WATCH, params, on_watch_reply, p);
        if (r == -ECONNRESET) {
                log_error("execcountd closed the connection; is it still running (systemctl status execcountd)?");
                return EXIT_FAILURE;
        }
        if (r < 0)
                return call_failed(EXECCOUNT_METHOD_WATCH, r, NULL);
        return r;
}

int verb_events(const Args *a) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        _cleanup_(user_cache_freep) UserCache *users = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_object *events;
        Printer p;
        int r;

        params = call_uid_parameters(a);
        if (!params || user_cache_new(&users) < 0 || table_new(ELEMENTSOF(headers), headers, align, &t) < 0)
                return log_oom(), EXIT_FAILURE;
        table_set_escaped(t, COLUMN_ARGS);
        p = (Printer) { .args = a, .table = t, .users = users };

        if (a->follow)
                return events_follow(a, &p, params);

        r = kept_events(a, &reply, &events);
        if (r != 0)
                return r;
        if (a->pager && a->json == JSON_OFF)
                pager_open();
        for (size_t i = first_shown(a, events); i < json_object_array_length(events); i++) {
                r = printer_add(&p, json_object_array_get_idx(events, i));
                if (r != 0) {
                        pager_close();
                        return r;
                }
        }
        if (a->json == JSON_OFF) {
                if (table_rows(t) > 0 || !a->legend)
                        table_print(t, stdout, a->legend);
                else
                        printf("No execs recorded%s%s%s.\n", a->has_uid ? " for this UID" : "",
                               a->unit ? " in " : "", a->unit ?: "");
        }
        pager_close();
        return 0;
}
