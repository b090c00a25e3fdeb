/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execlog.h: one journal entry per exec, when LogExecs=yes, within a rate limit. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "macro.h"

typedef struct ExecLog ExecLog;

int exec_log_new(ExecLog **ret);
ExecLog *exec_log_free(ExecLog *l);
DEFINE_POINTER_CLEANUP(ExecLog, exec_log_free);

/* At most burst entries per interval (interval 0: no limit). */
void exec_log_configure(ExecLog *l, bool enabled, uint64_t interval_usec, unsigned burst);
/* Logs e, unless disabled or over the limit. */
void exec_log_event(ExecLog *l, const ExecEvent *e);
/* Says how many entries were held back, once their interval is over. */
void exec_log_flush(ExecLog *l);
