/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unit-rows.h: rows of execs per unit and UID, as the tally keeps and serves them. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One UID's execs in one systemd unit. */
typedef struct UnitRow {
        char *unit;
        uint32_t uid;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_usec; /* CLOCK_REALTIME; 0: none known */
        char *machine; /* the machine systemd-machined says ran in the unit; NULL: none said */
} UnitRow;

/* The most rows per UID unit_rows_bound() keeps. */
#define UNITS_TOTALS_PER_UID 1024

void unit_rows_free(UnitRow *rows, size_t n);

/* Sorts rows by unit, then UID, and sums those of the same unit and UID (freeing the
 * names of those summed away); returns how many are left. */
size_t unit_rows_merge(UnitRow *rows, size_t n);

/* Transient units often have names of their own (session-N.scope, run-rID.scope), and any
 * user can make them: keeps at most UNITS_TOTALS_PER_UID rows per UID, summing a UID's
 * least active ones beyond them into its UNIT_OTHER row, so that neither memory nor the
 * state file grows without end. Leaves the rows sorted as unit_rows_merge() does, and how
 * many in *ret_n, also when it fails (-ENOMEM: then none are summed). */
int unit_rows_bound(UnitRow *rows, size_t n, size_t *ret_n);
