/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-unit-rows.c: unit tests for unit-rows.c: merging rows, and bounding each UID's. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "test.h"
#include "unit-rows.h"
#include "units.h"

static UnitRow row(const char *unit, uint32_t uid, uint64_t execs) {
        UnitRow r = { .unit = strdup(unit), .uid = uid, .execs = execs, .failed = 1, .last_exec_usec = execs };

        ASSERT(r.unit);
        return r;
}

static void test_merge(void) {
        UnitRow *rows = calloc(4, sizeof(*rows));
        size_t n;

        ASSERT(rows);
        rows[0] = row("cron.service", 0, 5);
        rows[1] = row("a.service", 1000, 1);
        rows[2] = row("cron.service", 0, 7);
        rows[3] = row("cron.service", 33, 2);
        n = unit_rows_merge(rows, 4);
        ASSERT_EQ_U(n, 3);
        ASSERT_STREQ(rows[0].unit, "a.service");
        ASSERT_STREQ(rows[1].unit, "cron.service");
        ASSERT_EQ_U(rows[1].uid, 0);
        ASSERT_EQ_U(rows[1].execs, 12);
        ASSERT_EQ_U(rows[1].failed, 2);
        ASSERT_EQ_U(rows[1].last_exec_usec, 7);
        ASSERT_EQ_U(rows[2].uid, 33);
        unit_rows_free(rows, n);
}

/* One UID over the bound, one at it, one over it with an "(other)" row already: each
 * keeps UNITS_TOTALS_PER_UID rows at most, the busiest, and no exec is lost. */
static void test_bound(void) {
        size_t over = UNITS_TOTALS_PER_UID + 5, at = UNITS_TOTALS_PER_UID, n = 0, left;
        UnitRow *rows = calloc(over + at + over + 1, sizeof(*rows));
        uint64_t sum[3] = {}, got[3] = {}, other[3] = {};
        size_t count[3] = {};
        char name[32];

        ASSERT(rows);
        for (size_t i = 0; i < over; i++) {
                snprintf(name, sizeof(name), "run-%04zu.scope", i);
                rows[n++] = row(name, 1000, i + 1);
                sum[0] += i + 1;
        }
        for (size_t i = 0; i < at; i++) {
                snprintf(name, sizeof(name), "session-%04zu.scope", i);
                rows[n++] = row(name, 1001, i + 1);
                sum[1] += i + 1;
        }
        rows[n++] = row(UNIT_OTHER, 1002, 1000000);
        sum[2] += 1000000;
        for (size_t i = 0; i + 1 < over; i++) {
                snprintf(name, sizeof(name), "job-%04zu.service", i);
                rows[n++] = row(name, 1002, i + 1);
                sum[2] += i + 1;
        }
        ASSERT_EQ(unit_rows_bound(rows, n, &left), 0);
        for (size_t i = 0; i < left; i++) {
                size_t u = rows[i].uid - 1000;

                ASSERT(u < 3);
                count[u]++;
                got[u] += rows[i].execs;
                if (streq(rows[i].unit, UNIT_OTHER))
                        other[u] = rows[i].execs;
                if (i > 0)
                        ASSERT(strcmp(rows[i - 1].unit, rows[i].unit) < 0 ||
                               (streq(rows[i - 1].unit, rows[i].unit) && rows[i - 1].uid < rows[i].uid));
        }
        for (size_t u = 0; u < 3; u++) {
                ASSERT_EQ_U(got[u], sum[u]);
                ASSERT_EQ_U(count[u], UNITS_TOTALS_PER_UID);
        }
        /* The six least active of 1029 summed: 1 + ... + 6. */
        ASSERT_EQ_U(other[0], 21);
        /* Exactly at the bound: nothing summed, no "(other)". */
        ASSERT_EQ_U(other[1], 0);
        /* Its own "(other)", and the five least active of 1028 others added to it. */
        ASSERT_EQ_U(other[2], 1000000 + 15);
        unit_rows_free(rows, left);
}

int main(void) {
        test_merge();
        test_bound();
        return 0;
}
