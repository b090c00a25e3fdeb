/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unit-rows.c: rows of execs per unit and UID: freeing, merging, bounding. Pure. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "unit-rows.h"
#include "units.h"

void unit_rows_free(UnitRow *rows, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(rows[i].unit);
                free(rows[i].machine);
        }
        free(rows);
}

static int compare_rows(const void *a, const void *b) {
        const UnitRow *x = a, *y = b;
        int c = strcmp(x->unit, y->unit);

        return c ? c : x->uid < y->uid ? -1 : x->uid > y->uid;
}

size_t unit_rows_merge(UnitRow *rows, size_t n) {
        size_t k = 0;

        if (n == 0)
                return 0;
        qsort(rows, n, sizeof(*rows), compare_rows);
        for (size_t i = 1; i < n; i++) {
                if (compare_rows(&rows[k], &rows[i]) == 0) {
                        rows[k].execs += rows[i].execs;
                        rows[k].failed += rows[i].failed;
                        rows[k].last_exec_usec = MAX(rows[k].last_exec_usec, rows[i].last_exec_usec);
                        free(rows[i].unit);
                        if (!rows[k].machine)
                                rows[k].machine = TAKE_PTR(rows[i].machine);
                        free(rows[i].machine);
                } else
                        rows[++k] = rows[i];
        }
        return k + 1;
}

/* Most active first within a UID, "(other)" last. */
static int compare_activity(const void *a, const void *b) {
        const UnitRow *x = a, *y = b;
        bool x_other = streq(x->unit, UNIT_OTHER), y_other = streq(y->unit, UNIT_OTHER);

        if (x->uid != y->uid)
                return x->uid < y->uid ? -1 : 1;
        if (x_other != y_other)
                return x_other ? 1 : -1;
        if (x->execs + x->failed != y->execs + y->failed)
                return x->execs + x->failed > y->execs + y->failed ? -1 : 1;
        return strcmp(x->unit, y->unit);
}

/* A UID's rows, from rows[i] (sorted by compare_activity()): where they end. */
static size_t group_end(const UnitRow *rows, size_t n, size_t i) {
        size_t j = i;

        while (j < n && rows[j].uid == rows[i].uid)
                j++;
        return j;
}

int unit_rows_bound(UnitRow *rows, size_t n, size_t *ret_n) {
        _cleanup_(freep) char **others = NULL;
        size_t k = 0, need = 0, used = 0;

        qsort(rows, n, sizeof(*rows), compare_activity);
        /* The "(other)" names the UIDs over the bound need are made first: a failure then
         * leaves every row as it was. A UID's "(other)" row, if it has one, is its last. */
        for (size_t i = 0, j; i < n; i = j) {
                j = group_end(rows, n, i);
                need += j - i > UNITS_TOTALS_PER_UID && !streq(rows[j - 1].unit, UNIT_OTHER);
        }
        others = calloc(need + 1, sizeof(*others));
        for (size_t i = 0; others && i < need; i++)
                if (!(others[i] = strdup(UNIT_OTHER))) {
                        while (i > 0)
                                free(others[--i]);
                        free(others);
                        others = NULL;
                }
        if (!others) {
                *ret_n = unit_rows_merge(rows, n);
                return -ENOMEM;
        }
        for (size_t i = 0, j; i < n; i = j) {
                UnitRow other = { .uid = rows[i].uid };
                size_t kept = 0;
                bool has_other;

                j = group_end(rows, n, i);
                has_other = streq(rows[j - 1].unit, UNIT_OTHER);
                if (has_other)
                        other.unit = rows[j - 1].unit;
                else if (j - i > UNITS_TOTALS_PER_UID)
                        other.unit = others[used++];
                for (size_t m = i; m < j; m++) {
                        if (kept < UNITS_TOTALS_PER_UID - 1 && !(has_other && m == j - 1)) {
                                rows[k++] = rows[m];
                                kept++;
                                continue;
                        }
                        /* Beyond the bound (or the "(other)" row itself): summed into it. A
                         * UID with exactly the bound keeps its last row as it is. */
                        if (!other.unit)
                                other.unit = rows[m].unit;
                        else if (other.unit != rows[m].unit)
                                free(rows[m].unit);
                        free(rows[m].machine);
                        other.execs += rows[m].execs;
                        other.failed += rows[m].failed;
                        other.last_exec_usec = MAX(other.last_exec_usec, rows[m].last_exec_usec);
                }
                if (other.unit)
                        rows[k++] = other;
        }
        *ret_n = unit_rows_merge(rows, k);
        return 0;
}
