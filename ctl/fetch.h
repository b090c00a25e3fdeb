/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fetch.h: the rows of GetStats and GetUnits, read in parts, for the commands that show
 * them (stats, stats --by=unit) and for the metrics. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"

typedef struct StatsRow {
        int64_t uid, execs, failed, last, throttled;
        int64_t privileged; /* -1: the daemon did not say (one before privileged counts) */
} StatsRow;

typedef struct Stats {
        StatsRow *rows;
        size_t n, alloc;
        int64_t since, map_full_execs, map_full_failed;
        bool has_map_full; /* absent when the caller sees only its own UID */
        bool own_only;
        int64_t total_execs, total_failed, total_throttled; /* over the rows */
} Stats;

/* GetStats, of --uid if given, in the daemon's order (by UID); 0, or the exit code after
 * saying why. The caller frees rows. */
int stats_fetch(const Args *a, Stats *ret);

typedef struct UnitRow {
        char *unit;
        char *machine; /* NULL: none */
        int64_t uid, execs, failed, last;
} UnitRow;

typedef struct Units {
        const Args *args;
        UnitRow *rows;
        size_t n, alloc;
        int64_t since, full_execs, full_failed, unnamed;
        bool has_full; /* absent when the caller sees only its own rows */
        bool own_only;
        int64_t total_execs, total_failed;
} Units;

/* GetUnits, of --uid if given, and only --unit's rows if given; 0, or the exit code after
 * saying why. units_done() frees it. */
int units_fetch(const Args *a, Units *ret);
/* Sums the rows of each unit over their UIDs (uid is then the first row's), sorted by
 * name. */
void units_sum_per_unit(Units *u);
void units_done(Units *u);
