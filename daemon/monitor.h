/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.h: the daemon's periodic look at itself: STATUS= for systemd, warnings about
 * lost events, a full UID map or skipped program runs, the per-UID summary, and the
 * "left out" journal entries that are due. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "execlog.h"
#include "macro.h"
#include "probe.h"
#include "tally.h"

typedef struct Monitor Monitor;

#define MONITOR_TICK_USEC (5 * 1000 * 1000ull)
/* Each kind of warning is logged at most this often, with what piled up meanwhile. */
#define MONITOR_WARN_INTERVAL_USEC (60 * 1000 * 1000ull)

/* Over the counts of tally and the kernel-side figures of probe; flushes exec_log's
 * "left out" entries at every tick. */
int monitor_new(sd_event *event, Tally *tally, Probe *probe, ExecLog *exec_log, uint64_t summary_interval_usec,
                Monitor **ret);
Monitor *monitor_free(Monitor *mon);
DEFINE_POINTER_CLEANUP(Monitor, monitor_free);

/* A new summary interval (0: no summaries), from the next summary on. */
int monitor_set_summary_interval(Monitor *mon, uint64_t usec);
/* Counts were reset: the next summary starts from zero for them. */
void monitor_forget(Monitor *mon, bool has_uid, uint32_t uid);
/* Runs the periodic checks now (also updates STATUS=). */
void monitor_tick(Monitor *mon);
