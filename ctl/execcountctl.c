/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execcountctl.c: the command-line client of execcountd. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "format.h"
#include "json-util.h"
#include "log.h"
#include "pager.h"
#include "parse.h"
#include "time-util.h"
#include "users.h"
#include "utf8.h"
#include "varlink.h"

#define SOCKET_DEFAULT "/run/execcountd/io.execcount"

/* Exit codes, documented in execcountctl(1). */
#define EXIT_USAGE 2
#define EXIT_NOT_RUNNING 3

typedef enum JsonMode {
        JSON_OFF,
        JSON_SHORT,
        JSON_PRETTY,
} JsonMode;

static const char *arg_socket = SOCKET_DEFAULT;
static JsonMode arg_json = JSON_OFF;
static bool arg_legend = true;
static bool arg_pager = true;
static bool arg_follow = false;
static bool arg_has_uid = false;
static uint32_t arg_uid = 0;
static int64_t arg_lines = 10; /* -1: all */

static void help(void) {
        printf("%s [OPTIONS...] COMMAND\n\n"
               "Query execcountd, the exec accounting daemon.\n\n"
               "Commands:\n"
               "  stats                 Exec counts per user, most active first\n"
               "  status                State of the daemon: probes, totals, events\n"
               "  events                Recent execs; with --follow, new ones as they happen\n"
               "  reset                 Forget the counts (of --uid/--user only, if given)\n"
               "  help                  Show this help\n\n"
               "Options:\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --socket=PATH      Talk to the daemon at PATH (default: %s)\n"
               "  -u --uid=UID          Only this UID\n"
               "     --user=NAME        Only this user\n"
               "  -n --lines=N          events: show the N most recent (default 10; \"all\")\n"
               "  -f --follow           events: keep printing new execs\n"
               "     --json=MODE        Print JSON: \"short\" (one line) or \"pretty\"\n"
               "     --no-legend        Leave out column headers and footers\n"
               "     --no-pager         Do not pipe output into a pager\n\n"
               "See execcountctl(1).\n",
               program_invocation_short_name, SOCKET_DEFAULT);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_SOCKET, ARG_USER, ARG_JSON, ARG_NO_LEGEND, ARG_NO_PAGER };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "uid", required_argument, NULL, 'u' },
                { "user", required_argument, NULL, ARG_USER },
                { "lines", required_argument, NULL, 'n' },
                { "follow", no_argument, NULL, 'f' },
                { "json", required_argument, NULL, ARG_JSON },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                {},
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hu:n:f", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("execcountctl %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_SOCKET:
                        arg_socket = optarg;
                        break;
                case 'u':
                        if (parse_uint32(optarg, &arg_uid) < 0 || arg_uid == UINT32_MAX) {
                                log_error("Invalid --uid=%s: expected a number from 0 to 4294967294.", optarg);
                                return -EINVAL;
                        }
                        arg_has_uid = true;
                        break;
                case ARG_USER:
                        r = user_to_uid(optarg, &arg_uid);
                        if (r < 0) {
                                log_error("Unknown user '%s'; give a user name or a UID.", optarg);
                                return -EINVAL;
                        }
                        arg_has_uid = true;
                        break;
                case 'n':
                        if (streq(optarg, "all"))
                                arg_lines = -1;
                        else {
                                uint32_t n;

                                if (parse_uint32(optarg, &n) < 0) {
                                        log_error("Invalid --lines=%s: expected a number or \"all\".", optarg);
                                        return -EINVAL;
                                }
                                arg_lines = n;
                        }
                        break;
                case 'f':
                        arg_follow = true;
                        break;
                case ARG_JSON:
                        if (streq(optarg, "short"))
                                arg_json = JSON_SHORT;
                        else if (streq(optarg, "pretty"))
                                arg_json = JSON_PRETTY;
                        else if (streq(optarg, "off"))
                                arg_json = JSON_OFF;
                        else {
                                log_error("Invalid --json=%s: expected short, pretty or off.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_NO_PAGER:
                        arg_pager = false;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }
        return 1;
}

static void print_json(json_object *o) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                    (arg_json == JSON_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : 0);

        puts(json_object_to_json_string_ext(o, flags));
}

/* Connects, or explains in one line why not. Returns an exit code on failure. */
static int connect_daemon(Client **ret) {
        int r = client_connect(arg_socket, ret);

        if (r >= 0)
                return 0;
        if (r == -ENOENT || r == -ECONNREFUSED) {
                log_error("execcountd is not running (nothing listens on %s); start it with: systemctl start "
                          "execcountd",
                          arg_socket);
                return EXIT_NOT_RUNNING;
        }
        if (r == -EACCES || r == -EPERM) {
                log_error("Permission denied connecting to %s; run execcountctl as root.", arg_socket);
                return EXIT_FAILURE;
        }
        log_error_errno(r, "Failed to connect to %s: %m", arg_socket);
        return EXIT_FAILURE;
}

/* Explains a failed call in one line. Returns an exit code. */
static int call_failed(const char *method, int r, const VarlinkReply *reply) {
        if (r == -ECONNRESET)
                log_error("execcountd closed the connection while answering %s; see its log.", method);
        else if (r < 0)
                log_error_errno(r, "Calling %s failed: %m", method);
        else {
                const char *detail = json_get_string(reply->parameters, "message");

                if (!detail)
                        detail = json_get_string(reply->parameters, "parameter");
                if (!detail)
                        detail = json_get_string(reply->parameters, "reason");
                log_error("execcountd refused %s: %s%s%s", method, reply->error, detail ? ": " : "",
                          detail ? detail : "");
        }
        return EXIT_FAILURE;
}

/* Calls method and leaves the reply's parameters in *ret. Returns an exit code. */
static int call(const char *method, json_object *parameters, json_object **ret) {
        _cleanup_(client_freep) Client *c = NULL;
        VarlinkReply reply = {};
        int r;

        r = connect_daemon(&c);
        if (r != 0)
                return r;
        r = client_call(c, method, parameters, &reply);
        if (r < 0 || reply.error) {
                r = call_failed(method, r, &reply);
                varlink_reply_done(&reply);
                return r;
        }
        *ret = TAKE_PTR(reply.parameters);
        varlink_reply_done(&reply);
        return 0;
}

static json_object *uid_parameters(void) {
        json_object *p = json_object_new_object();

        if (p && arg_has_uid && !json_add(p, "uid", json_object_new_int64(arg_uid))) {
                json_object_put(p);
                return NULL;
        }
        return p;
}

typedef struct StatsRow {
        int64_t uid, execs, failed, last;
} StatsRow;

static int compare_rows(const void *a, const void *b) {
        const StatsRow *x = a, *y = b;

        if (x->execs != y->execs)
                return x->execs > y->execs ? -1 : 1;
        if (x->failed != y->failed)
                return x->failed > y->failed ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int verb_stats(void) {
        static const char *const headers[] = { "UID", "USER", "EXECS", "FAILED", "LAST EXEC" };
        static const Align align[] = { ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_LEFT };
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(freep) StatsRow *rows = NULL;
        _cleanup_(user_cache_freep) UserCache *cache = NULL;
        json_object *users;
        int64_t since = 0, total_execs = 0, total_failed = 0;
        size_t n;
        int r;

        params = uid_parameters();
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call("io.execcount.GetStats", params, &reply);
        if (r != 0)
                return r;
        if (!json_object_object_get_ex(reply, "users", &users) || !json_object_is_type(users, json_type_array)) {
                log_error("execcountd sent a GetStats reply without users.");
                return EXIT_FAILURE;
        }
        (void) json_get_int64(reply, "since_usec", 0, INT64_MAX, &since);

        n = json_object_array_length(users);
        rows = calloc(n ? n : 1, sizeof(*rows));
        cache = user_cache_new();
        if (!rows || !cache)
                return log_oom(), EXIT_FAILURE;
        for (size_t i = 0; i < n; i++) {
                json_object *u = json_object_array_get_idx(users, i);

                if (!json_get_int64(u, "uid", 0, UINT32_MAX, &rows[i].uid) ||
                    !json_get_int64(u, "execs", 0, INT64_MAX, &rows[i].execs) ||
                    !json_get_int64(u, "failed", 0, INT64_MAX, &rows[i].failed) ||
                    !json_get_int64(u, "last_exec_usec", 0, INT64_MAX, &rows[i].last)) {
                        log_error("execcountd sent a malformed UserStats entry.");
                        return EXIT_FAILURE;
                }
                total_execs += rows[i].execs;
                total_failed += rows[i].failed;
        }
        qsort(rows, n, sizeof(*rows), compare_rows);

        if (arg_json != JSON_OFF) {
                /* The reply in table order, each entry with its user name. */
                _cleanup_(json_object_putp) json_object *out = json_object_new_object(), *a = json_object_new_array();

                if (!out || !a)
                        return log_oom(), EXIT_FAILURE;
                for (size_t i = 0; i < n; i++) {
                        json_object *o = json_object_new_object();
                        const char *name = user_cache_name(cache, (uint32_t) rows[i].uid);

                        if (!json_append(a, o) || !json_add(o, "uid", json_object_new_int64(rows[i].uid)) ||
                            !(name ? json_add(o, "user", json_object_new_string(name)) : json_add_null(o, "user")) ||
                            !json_add(o, "execs", json_object_new_int64(rows[i].execs)) ||
                            !json_add(o, "failed", json_object_new_int64(rows[i].failed)) ||
                            !json_add(o, "last_exec_usec", json_object_new_int64(rows[i].last)))
                                return log_oom(), EXIT_FAILURE;
                }
                if (!json_add(out, "users", TAKE_PTR(a)) || !json_add(out, "since_usec", json_object_new_int64(since)))
                        return log_oom(), EXIT_FAILURE;
                print_json(out);
                return 0;
        }

        t = table_new(ELEMENTSOF(headers), headers, align);
        if (!t)
                return log_oom(), EXIT_FAILURE;
        for (size_t i = 0; i < n; i++) {
                char uid[16], execs[24], failed[24], last[FORMAT_TIMESTAMP_MAX];
                const char *name = user_cache_name(cache, (uint32_t) rows[i].uid);
                const char *cells[] = { uid, name ? name : "-", execs, failed, last };

                snprintf(uid, sizeof(uid), "%" PRIi64, rows[i].uid);
                snprintf(execs, sizeof(execs), "%" PRIi64, rows[i].execs);
                snprintf(failed, sizeof(failed), "%" PRIi64, rows[i].failed);
                format_timestamp(last, (uint64_t) rows[i].last);
                if (table_add_row(t, cells) < 0)
                        return log_oom(), EXIT_FAILURE;
        }

        if (arg_pager)
                pager_open();
        if (n > 0 || !arg_legend)
                table_print(t, stdout, arg_legend);
        if (arg_legend) {
                char s[FORMAT_TIMESTAMP_MAX], ago[FORMAT_TIMESPAN_MAX];
                uint64_t now = now_usec(CLOCK_REALTIME);

                if (n == 0 && arg_has_uid)
                        printf("No execs by UID %" PRIu32 " since %s.\n", arg_uid, format_timestamp(s, since));
                else if (n == 0)
                        printf("No execs since %s.\n", format_timestamp(s, since));
                else
                        printf("\n%zu %s, %" PRIi64 " %s, %" PRIi64 " failed, since %s (%s ago).\n", n,
                               n == 1 ? "user" : "users", total_execs, total_execs == 1 ? "exec" : "execs",
                               total_failed, format_timestamp(s, since),
                               format_timespan(ago, now > (uint64_t) since ? now - (uint64_t) since : 0));
        }
        pager_close();
        return 0;
}

static int verb_status(void) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        char a[FORMAT_TIMESTAMP_MAX], b[FORMAT_TIMESPAN_MAX], sz[32];
        int64_t v[16] = {};
        json_object *rejected;
        const char *mode, *version;
        bool compat = true;
        json_object *o;
        int r;
        static const char *const keys[] = {
                "started_usec", "uptime_usec",     "since_usec",      "total_execs",     "total_failed",
                "events_received", "events_lost",  "map_entries",     "map_capacity",    "map_full_execs",
                "map_full_failed", "history_events", "history_capacity", "ring_buffer_size", "clients",
        };
        enum {
                STARTED, UPTIME, SINCE, EXECS, FAILED, RECEIVED, LOST, ENTRIES, CAPACITY, FULL_EXECS, FULL_FAILED,
                HISTORY, HISTORY_CAP, RING, CLIENTS,
        };

        params = json_object_new_object();
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call("io.execcount.GetStatus", params, &reply);
        if (r != 0)
                return r;
        if (arg_json != JSON_OFF) {
                print_json(reply);
                return 0;
        }

        mode = json_get_string(reply, "probe_mode");
        version = json_get_string(reply, "version");
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!json_get_int64(reply, keys[i], 0, INT64_MAX, &v[i])) {
                        log_error("execcountd sent a GetStatus reply without %s.", keys[i]);
                        return EXIT_FAILURE;
                }
        if (json_object_object_get_ex(reply, "compat_execs", &o))
                compat = json_object_get_boolean(o);

        printf("execcountd %s: counting execs with the %s probes%s\n", version ? version : "?", mode ? mode : "?",
               compat ? "" : " (this kernel has no 32-bit compat execs)");
        printf("      Started: %s (up %s)\n", format_timestamp(a, (uint64_t) v[STARTED]),
               format_timespan(b, (uint64_t) v[UPTIME]));
        printf("       Counts: %" PRIi64 " execs, %" PRIi64 " failed, since %s\n", v[EXECS], v[FAILED],
               format_timestamp(a, (uint64_t) v[SINCE]));
        printf("      UID map: %" PRIi64 " of %" PRIi64 " entries", v[ENTRIES], v[CAPACITY]);
        if (v[FULL_EXECS] || v[FULL_FAILED])
                printf("; full: %" PRIi64 " execs and %" PRIi64 " failures counted without a UID", v[FULL_EXECS],
                       v[FULL_FAILED]);
        printf("\n       Events: %" PRIi64 " received, %" PRIi64 " lost; %" PRIi64 " of %" PRIi64
               " kept; ring buffer %s\n",
               v[RECEIVED], v[LOST], v[HISTORY], v[HISTORY_CAP], format_size(sz, (uint64_t) v[RING]));
        printf("      Clients: %" PRIi64 "\n", v[CLIENTS]);

        if (json_object_object_get_ex(reply, "rejected_probes", &rejected) &&
            json_object_is_type(rejected, json_type_array))
                for (size_t i = 0; i < json_object_array_length(rejected); i++) {
                        json_object *x = json_object_array_get_idx(rejected, i);
                        _cleanup_(freep) char *reason = NULL;

                        reason = utf8_escape_for_terminal(json_get_string(x, "reason") ?: "?");
                        printf("%s %s: %s\n", i == 0 ? "     Rejected:" : "              ",
                               json_get_string(x, "mode") ?: "?", reason ?: "?");
                }
        return 0;
}

static int verb_reset(void) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        int r;

        params = uid_parameters();
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call("io.execcount.Reset", params, &reply);
        if (r != 0)
                return r;
        if (arg_has_uid)
                printf("Reset the counts of UID %" PRIu32 ".\n", arg_uid);
        else
                printf("Reset the counts of all UIDs.\n");
        return 0;
}

typedef struct EventPrinter {
        Table *table;
        UserCache *cache;
} EventPrinter;

static const char *const event_headers[] = { "TIME", "UID", "USER", "PID", "PPID", "COMM", "RESULT", "FILENAME" };
static const Align event_align[] = { ALIGN_LEFT,  ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT,
                                     ALIGN_RIGHT, ALIGN_LEFT,  ALIGN_LEFT, ALIGN_LEFT };

/* Adds one ExecEvent to the table, or prints it as JSON. */
static int event_print(EventPrinter *p, json_object *e) {
        char time[FORMAT_TIMESTAMP_MAX], uid[16], pid[16], ppid[16], result[32];
        int64_t t, u, pd, pp, res;
        const char *name, *filename;

        if (arg_json != JSON_OFF) {
                print_json(e);
                return 0;
        }
        if (!json_get_int64(e, "time_usec", 0, INT64_MAX, &t) || !json_get_int64(e, "uid", 0, UINT32_MAX, &u) ||
            !json_get_int64(e, "pid", 0, INT32_MAX, &pd) || !json_get_int64(e, "ppid", 0, INT32_MAX, &pp) ||
            !json_get_int64(e, "result", INT32_MIN, INT32_MAX, &res)) {
                log_error("execcountd sent a malformed ExecEvent.");
                return -EBADMSG;
        }
        snprintf(uid, sizeof(uid), "%" PRIi64, u);
        snprintf(pid, sizeof(pid), "%" PRIi64, pd);
        snprintf(ppid, sizeof(ppid), "%" PRIi64, pp);
        name = user_cache_name(p->cache, (uint32_t) u);
        filename = json_get_string(e, "filename");

        const char *cells[] = {
                format_timestamp_ms(time, (uint64_t) t), uid, name ? name : "-", pid, ppid,
                json_get_string(e, "comm") ?: "", format_result(result, (int) res), filename ? filename : "(unknown)",
        };
        return table_add_row(p->table, cells);
}

/* In follow mode every event is printed on its own, aligned to fixed widths. */
static int on_watch_reply(const VarlinkReply *reply, void *userdata) {
        EventPrinter *p = userdata;
        json_object *e;
        int r;

        if (reply->error)
                return call_failed("io.execcount.Watch", 0, reply);
        if (!json_object_object_get_ex(reply->parameters, "event", &e))
                return 0;
        r = event_print(p, e);
        if (r < 0)
                return EXIT_FAILURE;
        if (arg_json == JSON_OFF) {
                table_print(p->table, stdout, false);
                table_clear(p->table);
        }
        fflush(stdout);
        return 0;
}

static int verb_events(void) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(user_cache_freep) UserCache *cache = NULL;
        EventPrinter p;
        json_object *events;
        int r;

        params = uid_parameters();
        t = table_new(ELEMENTSOF(event_headers), event_headers, event_align);
        cache = user_cache_new();
        if (!params || !t || !cache)
                return log_oom(), EXIT_FAILURE;
        p = (EventPrinter) { .table = t, .cache = cache };

        if (arg_follow) {
                _cleanup_(client_freep) Client *c = NULL;

                if (arg_lines != 0 &&
                    !json_add(params, "backlog", json_object_new_int64(arg_lines < 0 ? INT64_MAX : arg_lines)))
                        return log_oom(), EXIT_FAILURE;
                r = connect_daemon(&c);
                if (r != 0)
                        return r;
                table_set_fixed_widths(t, (const size_t[]) { 23, 6, 10, 7, 7, 15, 7, 0 });
                if (arg_legend && arg_json == JSON_OFF)
                        table_print(t, stdout, true);
                fflush(stdout);
                r = client_call_more(c, "io.execcount.Watch", params, on_watch_reply, &p);
                if (r == -ECONNRESET) {
                        log_error("execcountd closed the connection (stopped?).");
                        return EXIT_FAILURE;
                }
                if (r < 0)
                        return call_failed("io.execcount.Watch", r, NULL);
                return r;
        }

        if (arg_lines >= 0 && !json_add(params, "limit", json_object_new_int64(arg_lines)))
                return log_oom(), EXIT_FAILURE;
        r = call("io.execcount.GetEvents", params, &reply);
        if (r != 0)
                return r;
        if (!json_object_object_get_ex(reply, "events", &events) || !json_object_is_type(events, json_type_array)) {
                log_error("execcountd sent a GetEvents reply without events.");
                return EXIT_FAILURE;
        }

        if (arg_pager && arg_json == JSON_OFF)
                pager_open();
        for (size_t i = 0; i < json_object_array_length(events); i++)
                if (event_print(&p, json_object_array_get_idx(events, i)) < 0) {
                        pager_close();
                        return EXIT_FAILURE;
                }
        if (arg_json == JSON_OFF) {
                if (table_rows(t) > 0 || !arg_legend)
                        table_print(t, stdout, arg_legend);
                else
                        printf("No execs recorded%s.\n", arg_has_uid ? " for this UID" : "");
        }
        pager_close();
        return 0;
}

static const struct {
        const char *name;
        int (*fn)(void);
} verbs[] = {
        { "stats", verb_stats },
        { "status", verb_status },
        { "events", verb_events },
        { "reset", verb_reset },
};

int main(int argc, char *argv[]) {
        const char *verb;
        int r;

        log_set_prefix(program_invocation_short_name);
        log_set_show_level(false);
        log_set_max_level(LOG_NOTICE);

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;

        if (optind >= argc) {
                log_error("Missing command: stats, status, events or reset; see --help.");
                return EXIT_USAGE;
        }
        verb = argv[optind];
        if (optind + 1 < argc) {
                log_error("Unexpected argument '%s' after '%s'; see --help.", argv[optind + 1], verb);
                return EXIT_USAGE;
        }
        if (streq(verb, "help")) {
                help();
                return EXIT_SUCCESS;
        }
        if (arg_follow && !streq(verb, "events")) {
                log_error("--follow only applies to 'events'.");
                return EXIT_USAGE;
        }
        if (arg_has_uid && streq(verb, "status")) {
                log_error("--uid and --user do not apply to 'status'.");
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, verb))
                        return verbs[i].fn();

        log_error("Unknown command '%s': expected stats, status, events or reset.", verb);
        return EXIT_USAGE;
}
