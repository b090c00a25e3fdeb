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

int main(void) {
        Summary s = {};
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
