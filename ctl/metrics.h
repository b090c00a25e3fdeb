/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.h: the counts as Prometheus metrics, in the text exposition format 0.0.4 or
 * in OpenMetrics 1.0, for "execcountctl metrics" and execcountd-metrics. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "fetch.h"
#include "users.h"

typedef enum MetricsFormat {
        METRICS_PROMETHEUS,  /* text/plain; version=0.0.4 */
        METRICS_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
} MetricsFormat;

#define METRICS_CONTENT_TYPE_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_CONTENT_TYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* The most UIDs and units with series of their own, unless told otherwise; 0 is no
 * limit. */
#define METRICS_MAX_UIDS_DEFAULT 500
#define METRICS_MAX_UNITS_DEFAULT 500

typedef struct MetricsUser {
        uint32_t uid;
        const char *user; /* NULL: no name */
        int64_t execs, failed, privileged;
} MetricsUser;

typedef struct MetricsUnit {
        const char *unit;
        int64_t execs, failed;
} MetricsUnit;

/* Not known: the daemon did not say (an earlier version, or a caller who sees its own
 * UID only). Such families are left out. */
#define METRICS_UNKNOWN INT64_C(-1)

typedef struct Metrics {
        const char *version, *probe_mode;
        int64_t since_usec; /* when the counts started, or were last reset */
        int64_t host_execs, host_failed, events_lost, events_held_back, map_full_execs, map_full_failed, uids,
                uids_capacity, probe_misses, units_full_execs, units_full_failed;
        MetricsUser *users; /* by UID */
        size_t n_users;
        bool has_privileged;
        MetricsUnit *units; /* by name */
        size_t n_units;
        /* Set by metrics_limit(): the users and units beyond the limit, summed. */
        size_t other_users, other_units;
        MetricsUser other_user;
        MetricsUnit other_unit;
} Metrics;

/* Keeps the max_users most active users (by execs, then failures, then lowest UID) and
 * the max_units most active units in series of their own, in their order; the others
 * are summed into other_user and other_unit, so that each family's sum stays exact.
 * 0: no limit. */
void metrics_limit(Metrics *m, size_t max_users, size_t max_units);

/* Parses the value of --max-uids= or --max-units= (name) into *ret; -EINVAL after saying
 * why. */
int metrics_parse_max(const char *name, const char *value, uint32_t *ret);

/* Writes m; -errno if out could not take it. */
int metrics_write(const Metrics *m, MetricsFormat format, FILE *out);

/* What the daemon answers, read into a Metrics. */
typedef struct MetricsSource {
        Metrics metrics;
        Stats stats;
        Units units;
        UserCache *users;
        char *version, *probe_mode;
} MetricsSource;

/* Asks the daemon at a->socket for its status, its counts per UID and per unit, and keeps
 * series for a->max_uids UIDs and a->max_units units (metrics_limit()), with the users'
 * names; 0, or the exit code after saying why. */
int metrics_collect(const Args *a, MetricsSource *ret);
void metrics_source_done(MetricsSource *s);
