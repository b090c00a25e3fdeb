/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verbs.h: execcountctl's commands; each returns the exit code. */
#pragma once

#include "args.h"

int verb_stats(const Args *a);
/* stats --by=login */
int stats_by_login(const Args *a);
/* stats --by=unit, and stats --unit=NAME */
int stats_by_unit(const Args *a);
int verb_reset(const Args *a);
int verb_reload(const Args *a);
int verb_status(const Args *a);
int verb_events(const Args *a);
int verb_metrics(const Args *a);
