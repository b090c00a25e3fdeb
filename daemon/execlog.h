/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execlog.h: one journal entry per exec, when LogExecs=yes, within rate limits: overall,
 * and per UID, so that one user's storm never hides another user's execs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "macro.h"

typedef struct ExecLog ExecLog;

/* At most this many UIDs are told apart in one interval; the execs of further ones
 * share one per-UID limit. */
#define EXEC_LOG_UIDS_MAX 4096
/* How many user names are kept for the entries at most. */
#define EXEC_LOG_NAMES_MAX 4096

typedef struct ExecLogLimits {
        uint64_t interval_usec; /* 0: no limit */
        unsigned burst; /* entries per interval, all UIDs together */
        unsigned burst_per_uid; /* entries per interval of one UID */
} ExecLogLimits;

int exec_log_new(ExecLog **ret);
ExecLog *exec_log_free(ExecLog *l);
DEFINE_POINTER_CLEANUP(ExecLog, exec_log_free);

void exec_log_configure(ExecLog *l, bool enabled, const ExecLogLimits *limits);
/* Whether entries carry the arguments (LogArgv=): off until set. */
void exec_log_set_argv(ExecLog *l, bool argv);
/* Logs e, unless disabled or over a limit; returns whether it did. */
bool exec_log_event(ExecLog *l, const ExecEvent *e);
/* How many UIDs' user names are kept now (bounded). */
size_t exec_log_names_kept(const ExecLog *l);
/* Says how many entries were held back, and whose, once their interval is over. */
void exec_log_flush(ExecLog *l);
