/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execcountctl.c: the command line of execcountd's client. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "protocol.h"
#include "users.h"
#include "verbs.h"

static void help(void) {
        printf("%s [OPTIONS...] COMMAND\n\n"
               "Query execcountd, the exec accounting daemon.\n\n"
               "Commands:\n"
               "  stats                 Exec counts per user, most active first\n"
               "  status                State of the daemon: probes, totals, events\n"
               "  events                Recent execs and their arguments; with --follow, new\n"
               "                        ones as they happen\n"
               "  reset                 Forget the counts (of --uid/--user only, if given)\n"
               "  reload                Make the daemon reread its configuration, and wait\n"
               "  metrics               The counts as Prometheus metrics\n"
               "  help                  Show this help\n\n"
               "Options:\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version\n"
               "     --socket=PATH      Talk to the daemon at PATH (default: %s)\n"
               "  -u --uid=UID          Only this UID\n"
               "     --user=NAME        Only this user\n"
               "     --by=user|login|unit\n"
               "                        stats: per user (default); per login UID and user:\n"
               "                        who ran programs as whom (su, sudo); or per systemd\n"
               "                        unit (service, scope, session, container)\n"
               "     --unit=NAME        stats: per user in this unit only (with --by=unit:\n"
               "                        this unit's row); events: only its execs. NAME\n"
               "                        without a type is NAME.service\n"
               "  -n --lines=N          events: show the N most recent (default 10; \"all\")\n"
               "  -f --follow           events: keep printing new execs\n"
               "     --json[=MODE]      Print JSON: \"short\" (one line) or \"pretty\"; alone,\n"
               "                        pretty on a terminal, short otherwise\n"
               "     --no-legend        Leave out column headers and footers\n"
               "     --no-pager         Do not pipe output into a pager\n"
               "     --format=FORMAT    metrics: \"prometheus\" (text format 0.0.4, default) or\n"
               "                        \"openmetrics\" (OpenMetrics 1.0)\n"
               "     --max-uids=N       metrics: UIDs with series of their own, the most\n"
               "                        active; the others sum up in uid=\"other\" (default\n"
               "                        %d; 0: no limit)\n"
               "     --max-units=N      metrics: the same for units (default %d)\n"
               "     --output=FILE      metrics: write FILE, replacing it at once\n\n"
               "See execcountctl(1).\n",
               program_invocation_short_name, EXECCOUNT_SOCKET_DEFAULT, METRICS_MAX_UIDS_DEFAULT,
               METRICS_MAX_UNITS_DEFAULT);
}

/* Returns 1 to go on, 0 to exit with success (--help), -EINVAL for a bad command line. */
static int parse_argv(int argc, char *argv[], Args *a) {
        enum {
                ARG_VERSION = 0x100,
                ARG_SOCKET,
                ARG_USER,
                ARG_BY,
                ARG_UNIT,
                ARG_JSON,
                ARG_NO_LEGEND,
                ARG_NO_PAGER,
                ARG_FORMAT,
                ARG_MAX_UIDS,
                ARG_MAX_UNITS,
                ARG_OUTPUT,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "uid", required_argument, NULL, 'u' },
                { "user", required_argument, NULL, ARG_USER },
                { "by", required_argument, NULL, ARG_BY },
                { "unit", required_argument, NULL, ARG_UNIT },
                { "lines", required_argument, NULL, 'n' },
                { "follow", no_argument, NULL, 'f' },
                { "json", optional_argument, NULL, ARG_JSON },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "no-pager", no_argument, NULL, ARG_NO_PAGER },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "max-uids", required_argument, NULL, ARG_MAX_UIDS },
                { "max-units", required_argument, NULL, ARG_MAX_UNITS },
                { "output", required_argument, NULL, ARG_OUTPUT },
                {},
        };
        uint32_t n;
        int c;

        while ((c = getopt_long(argc, argv, "hu:n:f", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("execcountctl %s\n", PROJECT_VERSION);
                        return 0;
                case ARG_SOCKET:
                        a->socket = optarg;
                        break;
                case 'u':
                        if (parse_uint32(optarg, &a->uid) < 0 || a->uid == UINT32_MAX) {
                                log_error("Invalid --uid=%s: expected a number from 0 to 4294967294.", optarg);
                                return -EINVAL;
                        }
                        a->has_uid = true;
                        break;
                case ARG_USER:
                        if (user_to_uid(optarg, &a->uid) < 0) {
                                log_error("Unknown user '%s'; give a user name or a UID.", optarg);
                                return -EINVAL;
                        }
                        a->has_uid = true;
                        break;
                case ARG_BY:
                        if (streq(optarg, "user"))
                                a->by = BY_USER;
                        else if (streq(optarg, "login"))
                                a->by = BY_LOGIN;
                        else if (streq(optarg, "unit"))
                                a->by = BY_UNIT;
                        else {
                                log_error("Invalid --by=%s: expected user, login or unit.", optarg);
                                return -EINVAL;
                        }
                        a->has_by = true;
                        break;
                case ARG_UNIT:
                        if (isempty(optarg) || strlen(optarg) > 1024 || strchr(optarg, '\n')) {
                                log_error("Invalid --unit=%s: expected a unit's name, such as cron.service.",
                                          optarg);
                                return -EINVAL;
                        }
                        /* As systemctl does: a name without a type is a service's. */
                        if (!strchr(optarg, '.') && optarg[0] != '(' && optarg[0] != '/') {
                                static char service[1040];

                                snprintf(service, sizeof(service), "%s.service", optarg);
                                a->unit = service;
                        } else
                                a->unit = optarg;
                        break;
                case 'n':
                        if (streq(optarg, "all"))
                                a->lines = -1;
                        else if (parse_uint32(optarg, &n) >= 0)
                                a->lines = n;
                        else {
                                log_error("Invalid --lines=%s: expected a number or \"all\".", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'f':
                        a->follow = true;
                        break;
                case ARG_JSON:
                        /* Bare --json: pretty for people, short for programs (as systemd's -j). */
                        if (!optarg)
                                a->json = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT;
                        else if (streq(optarg, "short"))
                                a->json = JSON_SHORT;
                        else if (streq(optarg, "pretty"))
                                a->json = JSON_PRETTY;
                        else if (streq(optarg, "off"))
                                a->json = JSON_OFF;
                        else {
                                log_error("Invalid --json=%s: expected short, pretty or off.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_NO_LEGEND:
                        a->legend = false;
                        break;
                case ARG_NO_PAGER:
                        a->pager = false;
                        break;
                case ARG_FORMAT:
                        if (streq(optarg, "prometheus"))
                                a->openmetrics = false;
                        else if (streq(optarg, "openmetrics"))
                                a->openmetrics = true;
                        else {
                                log_error("Invalid --format=%s: expected prometheus or openmetrics.", optarg);
                                return -EINVAL;
                        }
                        a->has_metrics_options = true;
                        break;
                case ARG_MAX_UIDS:
                case ARG_MAX_UNITS:
                        if (metrics_parse_max(c == ARG_MAX_UIDS ? "max-uids" : "max-units", optarg,
                                              c == ARG_MAX_UIDS ? &a->max_uids : &a->max_units) < 0)
                                return -EINVAL;
                        a->has_metrics_options = true;
                        break;
                case ARG_OUTPUT:
                        if (isempty(optarg) || optarg[strlen(optarg) - 1] == '/') {
                                log_error("Invalid --output=%s: expected a file's name.", optarg);
                                return -EINVAL;
                        }
                        a->output = optarg;
                        a->has_metrics_options = true;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }
        return 1;
}

static const struct {
        const char *name;
        int (*fn)(const Args *a);
        bool takes_uid;
} verbs[] = {
        { "stats", verb_stats, true },
        { "status", verb_status, false },
        { "events", verb_events, true },
        { "reset", verb_reset, true },
        { "reload", verb_reload, false },
        { "metrics", verb_metrics, false },
};

int main(int argc, char *argv[]) {
        Args a = {
                .socket = EXECCOUNT_SOCKET_DEFAULT,
                .legend = true,
                .pager = true,
                .lines = 10,
                .max_uids = METRICS_MAX_UIDS_DEFAULT,
                .max_units = METRICS_MAX_UNITS_DEFAULT,
        };
        const char *verb;
        int r;

        log_set_prefix(program_invocation_short_name);
        log_set_show_level(false);
        log_set_max_level(LOG_NOTICE);

        r = parse_argv(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;

        if (optind >= argc) {
                log_error("Missing command: stats, status, events, reset, reload or metrics; see --help.");
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
        if (a.follow && !streq(verb, "events")) {
                log_error("--follow only applies to 'events'.");
                return EXIT_USAGE;
        }
        if (a.has_by && !streq(verb, "stats")) {
                log_error("--by only applies to 'stats'.");
                return EXIT_USAGE;
        }
        if (a.unit && !streq(verb, "stats") && !streq(verb, "events")) {
                log_error("--unit only applies to 'stats' and 'events'.");
                return EXIT_USAGE;
        }
        if (a.has_metrics_options && !streq(verb, "metrics")) {
                log_error("--format, --max-uids, --max-units and --output only apply to 'metrics'.");
                return EXIT_USAGE;
        }
        if (a.unit && a.by == BY_LOGIN) {
                log_error("--unit does not apply to --by=login: logins are not counted per unit.");
                return EXIT_USAGE;
        }

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(verbs[i].name, verb))
                        continue;
                if (a.has_uid && !verbs[i].takes_uid) {
                        log_error("--uid and --user do not apply to '%s'.", verb);
                        return EXIT_USAGE;
                }
                return verbs[i].fn(&a);
        }

        log_error("Unknown command '%s': expected stats, status, events, reset, reload or metrics.", verb);
        return EXIT_USAGE;
}
