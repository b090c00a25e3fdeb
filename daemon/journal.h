/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal.h: sending log messages to journald, with their fields, when it reads our stderr. */
#pragma once

#include <stdbool.h>

/* Whether stderr is connected to journald ($JOURNAL_STREAM names it). */
bool journal_is_stderr(void);
/* Routes log.h's messages to the journal. */
void journal_log_open(void);
