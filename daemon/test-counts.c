/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-counts.c: unit tests for the pure parts of counts.c. */

#include "counts.h"
#include "test.h"

int main(void) {
        UserCount u[] = {
                { .uid = 1000, .execs = 5, .failed = 1 },
                { .uid = 0, .execs = 100, .failed = 0 },
                { .uid = 4294967294u, .execs = 1, .failed = 9 },
                { .uid = 33, .execs = 0, .failed = 2 },
        };
        struct exec_stats total = { .events_lost = 1 }, s = { 2, 3, 4, 5 };

        counts_sort_by_uid(u, 4);
        ASSERT_EQ_U(u[0].uid, 0);
        ASSERT_EQ_U(u[1].uid, 33);
        ASSERT_EQ_U(u[2].uid, 1000);
        ASSERT_EQ_U(u[3].uid, 4294967294u);
        ASSERT_EQ_U(u[3].failed, 9);

        exec_stats_add(&total, &s);
        exec_stats_add(&total, &s);
        ASSERT_EQ_U(total.events_lost, 5);
        ASSERT_EQ_U(total.map_full_execs, 6);
        ASSERT_EQ_U(total.map_full_failed, 8);
        ASSERT_EQ_U(total.scratch_busy, 10);
        return 0;
}
