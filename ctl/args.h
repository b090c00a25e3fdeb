/* SPDX-License-Identifier: GPL-2.0-or-later */
/* args.h: execcountctl's parsed command line, which every verb gets. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Exit codes, documented in execcountctl(1). */
#define EXIT_USAGE 2
#define EXIT_NOT_RUNNING 3

typedef enum JsonMode {
        JSON_OFF,
        JSON_SHORT,
        JSON_PRETTY,
} JsonMode;

/* What "stats" counts by (--by=). */
typedef enum StatsBy {
        BY_USER,
        BY_LOGIN,
        BY_UNIT,
} StatsBy;

typedef struct Args {
        const char *socket;
        uint64_t timeout_usec; /* for each send and receive to the daemon; 0: none */
        JsonMode json;
        bool legend;
        bool pager;
        bool follow;
        bool has_uid;
        uint32_t uid;
        int64_t lines; /* -1: all */
        StatsBy by;
        bool has_by;
        const char *unit; /* --unit=: NULL, or a unit's name */
        /* metrics */
        bool openmetrics;         /* --format=openmetrics */
        bool has_metrics_options; /* any of the below, or --format= */
        uint32_t max_uids, max_units; /* --max-uids=, --max-units=; 0: no limit */
        const char *output;           /* --output=: NULL for stdout */
} Args;
