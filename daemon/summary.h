/* SPDX-License-Identifier: GPL-2.0-or-later */
/* summary.h: each UID's and each unit's execs since the last summary, from two snapshots
 * of the counts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "tally.h"

typedef struct SummaryEntry {
        uint32_t uid;
        uint64_t execs;
        uint64_t failed;
} SummaryEntry;

/* A unit's execs since the last summary, its UIDs summed. */
typedef struct SummaryUnit {
        char *unit;
        uint64_t execs;
        uint64_t failed;
} SummaryUnit;

typedef struct Summary {
        TallyEntry *last; /* the snapshot taken last, sorted by UID */
        size_t n_last;
        UnitRow *last_units; /* the same per unit and UID, sorted so */
        size_t n_last_units;
} Summary;

void summary_done(Summary *s);

/* The activity between the last snapshot and cur (sorted by UID): the UIDs that made
 * execs or failed ones, most execs first. A UID whose counts went down was reset in
 * between: all its counts are new. cur becomes the last snapshot (copied). */
int summary_take(Summary *s, const TallyEntry *cur, size_t n_cur, SummaryEntry **ret, size_t *ret_n);

/* The same per unit: cur sorted by unit, then UID (as tally_read_units() gives them);
 * units whose rows went up, most execs first, each row that went down counted whole.
 * cur becomes the last snapshot (copied). */
int summary_take_units(Summary *s, const UnitRow *cur, size_t n_cur, SummaryUnit **ret, size_t *ret_n);
void summary_units_free(SummaryUnit *u, size_t n);

/* After a reset: the UID (or every one) starts from zero, per unit too. */
void summary_forget(Summary *s, bool has_uid, uint32_t uid);
