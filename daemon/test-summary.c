/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-summary.c: unit tests for summary.c. */

#include "summary.h"
#include "test.h"

static void expect(const SummaryEntry *e, size_t n, const SummaryEntry *want, size_t n_want) {
        ASSERT_EQ_U(n, n_want);
        for (size_t i = 0; i < n; i++) {
                ASSERT_EQ_U(e[i].uid, want[i].uid);
                ASSERT_EQ_U(e[i].execs, want[i].execs);
                ASSERT_EQ_U(e[i].failed, want[i].failed);
        }
}

static void expect_units(SummaryUnit *u, size_t n, const SummaryUnit *want, size_t n_want) {
        ASSERT_EQ_U(n, n_want);
        for (size_t i = 0; i < n; i++) {
                ASSERT_STREQ(u[i].unit, want[i].unit);
                ASSERT_EQ_U(u[i].execs, want[i].execs);
                ASSERT_EQ_U(u[i].failed, want[i].failed);
        }
        summary_units_free(u, n);
}

/* Per unit: each (unit, UID) row's growth, summed per unit; a row that went down counts
 * whole; a reset we were told about starts that UID's rows from zero. */
static void test_units(void) {
        Summary s = {};
        SummaryUnit *u;
        size_t n;
        UnitRow a[] = {
                { .unit = (char *) "cron.service", .uid = 0, .execs = 10 },
                { .unit = (char *) "cron.service", .uid = 33, .execs = 5, .failed = 1 },
                { .unit = (char *) "session-2.scope", .uid = 1000, .execs = 7 },
        };
        UnitRow b[] = {
                { .unit = (char *) "cron.service", .uid = 0, .execs = 12 },
                { .unit = (char *) "cron.service", .uid = 33, .execs = 2 }, /* reset behind our back */
                { .unit = (char *) "session-2.scope", .uid = 1000, .execs = 7 },
                { .unit = (char *) "web.service", .uid = 48, .execs = 40, .failed = 3 },
        };

        ASSERT_EQ(summary_take_units(&s, a, 3, &u, &n), 0);
        expect_units(u, n, (SummaryUnit[]) { { "cron.service", 15, 1 }, { "session-2.scope", 7, 0 } }, 2);
        ASSERT_EQ(summary_take_units(&s, b, 4, &u, &n), 0);
        expect_units(u, n, (SummaryUnit[]) { { "web.service", 40, 3 }, { "cron.service", 4, 0 } }, 2);
        ASSERT_EQ(summary_take_units(&s, b, 4, &u, &n), 0);
        expect_units(u, n, NULL, 0);
        summary_forget(&s, true, 48);
        ASSERT_EQ(summary_take_units(&s, b, 4, &u, &n), 0);
        expect_units(u, n, (SummaryUnit[]) { { "web.service", 40, 3 } }, 1);
        summary_forget(&s, false, 0);
        ASSERT_EQ(summary_take_units(&s, b, 4, &u, &n), 0);
        ASSERT_EQ_U(n, 3);
        summary_units_free(u, n);
        summary_done(&s);
}

int main(void) {
        Summary s = {};

        test_units();
        SummaryEntry *e;
        size_t n;

        /* The first snapshot: everything is new. */
        TallyEntry a[] = { { .uid = 0, .execs = 10 }, { .uid = 1000, .execs = 3, .failed = 1 } };
        ASSERT_EQ(summary_take(&s, a, 2, &e, &n), 0);
        expect(e, n, (SummaryEntry[]) { { 0, 10, 0 }, { 1000, 3, 1 } }, 2);
        free(e);

        /* Nothing happened. */
        ASSERT_EQ(summary_take(&s, a, 2, &e, &n), 0);
        expect(e, n, NULL, 0);
        free(e);

        /* Growth, a new UID, a UID reset behind our back (counts went down), a UID gone. */
        TallyEntry b[] = {
                { .uid = 0, .execs = 12, .failed = 4 },
                { .uid = 33, .execs = 50 },
                { .uid = 1000, .execs = 1 },
        };
        ASSERT_EQ(summary_take(&s, b, 3, &e, &n), 0);
        expect(e, n, (SummaryEntry[]) { { 33, 50, 0 }, { 0, 2, 4 }, { 1000, 1, 0 } }, 3);
        free(e);

        /* A reset we were told about: from zero again. */
        summary_forget(&s, true, 33);
        TallyEntry c[] = { { .uid = 0, .execs = 12, .failed = 4 }, { .uid = 33, .execs = 60 }, { .uid = 1000, .execs = 1 } };
        ASSERT_EQ(summary_take(&s, c, 3, &e, &n), 0);
        expect(e, n, (SummaryEntry[]) { { 33, 60, 0 } }, 1);
        free(e);

        summary_forget(&s, false, 0);
        ASSERT_EQ(summary_take(&s, c, 3, &e, &n), 0);
        expect(e, n, (SummaryEntry[]) { { 33, 60, 0 }, { 0, 12, 4 }, { 1000, 1, 0 } }, 3);
        free(e);

        ASSERT_EQ(summary_take(&s, NULL, 0, &e, &n), 0);
        expect(e, n, NULL, 0);
        free(e);
        summary_done(&s);
        return 0;
}
