/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.h: the daemon's periodic work: STATUS= for systemd, warnings about lost events,
 * a full UID map or skipped program runs, the per-UID summary, and snapshots of the
 * counts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

typedef struct Manager Manager;
typedef struct Monitor Monitor;

#define MONITOR_TICK_USEC (5 * 1000 * 1000ull)
/* Each kind of warning is logged at most this often, with what piled up meanwhile. */
#define MONITOR_WARN_INTERVAL_USEC (60 * 1000 * 1000ull)

int monitor_new(Manager *m, uint64_t summary_interval_usec, uint64_t snapshot_interval_usec, Monitor **ret);
Monitor *monitor_free(Monitor *mon);
DEFINE_POINTER_CLEANUP(Monitor, monitor_free);

/* A new summary interval (0: no summaries), from the next summary on. */
int monitor_set_summary_interval(Monitor *mon, uint64_t usec);
/* A new snapshot interval (0: snapshots only at stop and at resets). */
int monitor_set_snapshot_interval(Monitor *mon, uint64_t usec);
/* Counts were reset: the next summary starts from zero for them. */
void monitor_forget(Monitor *mon, bool has_uid, uint32_t uid);
/* Runs the periodic checks now (also updates STATUS=). */
void monitor_tick(Monitor *mon);
