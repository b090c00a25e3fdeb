/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.c: the counts as Prometheus metrics: the series limit, and both formats. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "parse.h"
#include "utf8.h"

/* ---- The series limit */

/* Most active first: by successful execs, then failures. Failures only break ties: they
 * cost a user microseconds each and make no process, so that many of them do not push
 * the users who run programs out of their series. */
static int compare_counts(int64_t execs_x, int64_t failed_x, int64_t execs_y, int64_t failed_y) {
        if (execs_x != execs_y)
                return execs_x > execs_y ? -1 : 1;
        if (failed_x != failed_y)
                return failed_x > failed_y ? -1 : 1;
        return 0;
}

static int compare_users_activity(const void *a, const void *b) {
        const MetricsUser *x = *(const MetricsUser *const *) a, *y = *(const MetricsUser *const *) b;
        int c = compare_counts(x->execs, x->failed, y->execs, y->failed);

        return c ? c : x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int compare_units_activity(const void *a, const void *b) {
        const MetricsUnit *x = *(const MetricsUnit *const *) a, *y = *(const MetricsUnit *const *) b;
        int c = compare_counts(x->execs, x->failed, y->execs, y->failed);

        return c ? c : strcmp(x->unit, y->unit);
}

static void add_saturating(int64_t *sum, int64_t v) {
        if (v > 0)
                *sum = *sum > INT64_MAX - v ? INT64_MAX : *sum + v;
}

static void fold_user(const void *item, void *other) {
        const MetricsUser *u = item;
        MetricsUser *o = other;

        add_saturating(&o->execs, u->execs);
        add_saturating(&o->failed, u->failed);
        add_saturating(&o->privileged, u->privileged);
}

static void fold_unit(const void *item, void *other) {
        const MetricsUnit *u = item;
        MetricsUnit *o = other;

        add_saturating(&o->execs, u->execs);
        add_saturating(&o->failed, u->failed);
}

/* Keeps the max most active of the *n items (by compare, which orders pointers to them),
 * in their order, and folds the others into other; returns how many it folded. Keeps
 * them all if it cannot allocate: more series, never wrong sums. */
static size_t limit_items(void *items, size_t *n, size_t size, size_t max,
                          int (*compare)(const void *, const void *), void (*fold)(const void *, void *),
                          void *other) {
        const char **order;
        bool *keep;
        size_t k = 0, folded = 0;

        if (max == 0 || *n <= max)
                return 0;
        order = calloc(*n, sizeof(*order));
        keep = calloc(*n, sizeof(*keep));
        if (!order || !keep) {
                free(order);
                free(keep);
                return 0;
        }
        for (size_t i = 0; i < *n; i++)
                order[i] = (const char *) items + i * size;
        qsort(order, *n, sizeof(*order), compare);
        for (size_t i = 0; i < max; i++)
                keep[(size_t) (order[i] - (const char *) items) / size] = true;
        for (size_t i = 0; i < *n; i++) {
                char *item = (char *) items + i * size;

                if (!keep[i]) {
                        fold(item, other);
                        folded++;
                } else if (k++ != i)
                        memcpy((char *) items + (k - 1) * size, item, size);
        }
        *n = k;
        free(order);
        free(keep);
        return folded;
}

int metrics_parse_max(const char *name, const char *value, uint32_t *ret) {
        if (parse_uint32(value, ret) < 0) {
                log_error("Invalid --%s=%s: expected a number (0 for no limit).", name, value);
                return -EINVAL;
        }
        return 0;
}

void metrics_limit(Metrics *m, size_t max_users, size_t max_units) {
        m->other_user = (MetricsUser) {};
        m->other_unit = (MetricsUnit) {};
        m->other_users = limit_items(m->users, &m->n_users, sizeof(*m->users), max_users, compare_users_activity,
                                     fold_user, &m->other_user);
        m->other_units = limit_items(m->units, &m->n_units, sizeof(*m->units), max_units, compare_units_activity,
                                     fold_unit, &m->other_unit);
}

/* ---- The formats */

typedef enum Kind {
        KIND_COUNTER,
        KIND_GAUGE,
        KIND_INFO,
} Kind;

/* A label's value, quoted: valid UTF-8 (bytes that are not read as U+FFFD), with \, "
 * and line feeds escaped as both formats want. */
static void put_label_value(FILE *out, const char *s) {
        size_t n = strlen(s);
        char *copy = NULL;

        if (!utf8_is_valid(s, n)) {
                copy = utf8_sanitize(s, n);
                s = copy ?: "";
        }
        fputc('"', out);
        for (; *s; s++)
                if (*s == '\\')
                        fputs("\\\\", out);
                else if (*s == '"')
                        fputs("\\\"", out);
                else if (*s == '\n')
                        fputs("\\n", out);
                else
                        fputc(*s, out);
        fputc('"', out);
        free(copy);
}

/* # HELP and # TYPE. The text format names a counter's samples (NAME_total) and has no
 * info type; OpenMetrics names the family (NAME). */
static void put_family(FILE *out, MetricsFormat f, const char *name, Kind kind, const char *help) {
        static const char *const types[] = { "counter", "gauge", "info" };
        const char *suffix = "";

        if (f == METRICS_PROMETHEUS)
                suffix = kind == KIND_COUNTER ? "_total" : kind == KIND_INFO ? "_info" : "";
        fprintf(out, "# HELP %s%s %s\n", name, suffix, help);
        fprintf(out, "# TYPE %s%s %s\n", name, suffix,
                f == METRICS_PROMETHEUS && kind == KIND_INFO ? "gauge" : types[kind]);
}

typedef void (*LabelsFn)(FILE *out, const void *item);

static void put_user_labels(FILE *out, const void *item) {
        const MetricsUser *u = item;

        fprintf(out, "{uid=\"%" PRIu32 "\",user=", u->uid);
        put_label_value(out, u->user ?: "");
        fputc('}', out);
}

static void put_other_user_labels(FILE *out, const void *item) {
        (void) item;
        fputs("{uid=\"other\"}", out);
}

static void put_unit_labels(FILE *out, const void *item) {
        const MetricsUnit *u = item;

        fputs("{unit=", out);
        put_label_value(out, u->unit);
        fputc('}', out);
}

static void put_other_unit_labels(FILE *out, const void *item) {
        (void) item;
        fputs("{unit=\"other\"}", out);
}

/* One counter's sample, and in OpenMetrics when its count started: the counts' start
 * or last reset as a whole. Not for the counters that start again at other times (the
 * "other" series, whose UIDs change; the kernel's misses, which start again with the
 * programs): no _created is better than a wrong one. */
static void put_counter(FILE *out, const Metrics *m, MetricsFormat f, const char *name, LabelsFn labels,
                        const void *item, int64_t value, bool created) {
        fprintf(out, "%s_total", name);
        if (labels)
                labels(out, item);
        fprintf(out, " %" PRIi64 "\n", value);
        if (f != METRICS_OPENMETRICS || !created)
                return;
        fprintf(out, "%s_created", name);
        if (labels)
                labels(out, item);
        fprintf(out, " %" PRIi64 ".%06" PRIi64 "\n", m->since_usec / 1000000, m->since_usec % 1000000);
}

static void put_scalar_counter(FILE *out, const Metrics *m, MetricsFormat f, const char *name, int64_t value,
                               const char *help) {
        if (value == METRICS_UNKNOWN)
                return;
        put_family(out, f, name, KIND_COUNTER, help);
        put_counter(out, m, f, name, NULL, NULL, value, !streq(name, "execcount_probe_misses"));
}

static void put_gauge(FILE *out, MetricsFormat f, const char *name, int64_t value, const char *help) {
        if (value == METRICS_UNKNOWN)
                return;
        put_family(out, f, name, KIND_GAUGE, help);
        fprintf(out, "%s %" PRIi64 "\n", name, value);
}

/* Which of a user's counts a family shows. */
typedef enum UserCount {
        USER_EXECS,
        USER_FAILED,
        USER_PRIVILEGED,
} UserCount;

static int64_t user_count(const MetricsUser *u, UserCount which) {
        return which == USER_EXECS ? u->execs : which == USER_FAILED ? u->failed : u->privileged;
}

static void put_user_family(FILE *out, const Metrics *m, MetricsFormat f, const char *name, UserCount which,
                            const char *help) {
        put_family(out, f, name, KIND_COUNTER, help);
        for (size_t i = 0; i < m->n_users; i++)
                put_counter(out, m, f, name, put_user_labels, &m->users[i], user_count(&m->users[i], which), true);
        if (m->other_users > 0)
                put_counter(out, m, f, name, put_other_user_labels, NULL, user_count(&m->other_user, which), false);
}

static void put_unit_family(FILE *out, const Metrics *m, MetricsFormat f, const char *name, bool failed,
                            const char *help) {
        put_family(out, f, name, KIND_COUNTER, help);
        for (size_t i = 0; i < m->n_units; i++)
                put_counter(out, m, f, name, put_unit_labels, &m->units[i],
                            failed ? m->units[i].failed : m->units[i].execs, true);
        if (m->other_units > 0)
                put_counter(out, m, f, name, put_other_unit_labels, NULL,
                            failed ? m->other_unit.failed : m->other_unit.execs, false);
}

int metrics_write(const Metrics *m, MetricsFormat f, FILE *out) {
        put_user_family(out, m, f, "execcount_execs", USER_EXECS,
                        "Successful execve() and execveat() calls per real UID since the counts were reset.");
        put_user_family(out, m, f, "execcount_failed_execs", USER_FAILED,
                        "Exec attempts that returned an error, per real UID.");
        if (m->has_privileged)
                put_user_family(out, m, f, "execcount_privileged_execs", USER_PRIVILEGED,
                                "Successful execs of a UID other than 0 that ran with effective UID 0 "
                                "(setuid-root programs: sudo, su, pkexec).");
        put_unit_family(out, m, f, "execcount_unit_execs", false,
                        "Successful execs per systemd unit (service, scope, session, container), all UIDs.");
        put_unit_family(out, m, f, "execcount_unit_failed_execs", true,
                        "Failed exec attempts per systemd unit, all UIDs.");
        put_scalar_counter(out, m, f, "execcount_host_execs", m->host_execs,
                           "Successful execs of every UID, those counted without a UID included; unlike a "
                           "sum over the per-UID series, it does not move when UIDs change series.");
        put_scalar_counter(out, m, f, "execcount_host_failed_execs", m->host_failed,
                           "Failed exec attempts of every UID, those counted without a UID included.");
        put_scalar_counter(out, m, f, "execcount_events_lost", m->events_lost,
                           "Exec events that never reached the daemon (ring buffer full); their execs are "
                           "counted.");
        put_scalar_counter(out, m, f, "execcount_events_held_back", m->events_held_back,
                           "Events not sent because of their UID's rate limit for failed execs, or its share "
                           "of a full ring buffer; their execs are counted.");
        put_scalar_counter(out, m, f, "execcount_map_full_execs", m->map_full_execs,
                           "Successful execs counted without a UID because the UID map was full.");
        put_scalar_counter(out, m, f, "execcount_map_full_failed_execs", m->map_full_failed,
                           "Failed execs counted without a UID because the UID map was full.");
        put_scalar_counter(out, m, f, "execcount_unit_map_full_execs", m->units_full_execs,
                           "Successful execs not counted per unit because the map of cgroups was full.");
        put_scalar_counter(out, m, f, "execcount_unit_map_full_failed_execs", m->units_full_failed,
                           "Failed execs not counted per unit because the map of cgroups was full.");
        put_scalar_counter(out, m, f, "execcount_probe_misses", m->probe_misses,
                           "Program runs the kernel skipped; each may be an exec missing from the counts.");
        put_gauge(out, f, "execcount_tracked_uids", m->uids, "UIDs in the daemon's map of counts.");
        put_gauge(out, f, "execcount_tracked_uids_limit", m->uids_capacity,
                  "UIDs the map of counts holds (MaxUIDs=); beyond it execs count without a UID.");
        put_gauge(out, f, "execcount_other_uids", (int64_t) m->other_users,
                  "UIDs beyond the series limit, summed into the series of uid other.");
        put_gauge(out, f, "execcount_other_units", (int64_t) m->other_units,
                  "Units beyond the series limit, summed into the series of unit other.");
        put_family(out, f, "execcount_counts_reset_timestamp_seconds", KIND_GAUGE,
                   "When the counts started, or were last reset as a whole (execcountctl reset).");
        fprintf(out, "execcount_counts_reset_timestamp_seconds %" PRIi64 ".%06" PRIi64 "\n",
                m->since_usec / 1000000, m->since_usec % 1000000);
        put_family(out, f, "execcount_build", KIND_INFO, "The daemon's version and the probes it counts with.");
        fputs("execcount_build_info{version=", out);
        put_label_value(out, m->version ?: "");
        fputs(",probe_mode=", out);
        put_label_value(out, m->probe_mode ?: "");
        fputs("} 1\n", out);
        if (f == METRICS_OPENMETRICS)
                fputs("# EOF\n", out);
        return fflush(out) == 0 && !ferror(out) ? 0 : -(errno ?: EIO);
}
