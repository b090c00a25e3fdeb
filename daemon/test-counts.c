/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-counts.c: unit tests for the pure parts of counts.c, and the sums over tally entries
 * (tally.c). (Summing the per-CPU statistics needs a map: test-tally.) */

#include "counts.h"
#include "tally.h"
#include "test.h"

int main(void) {
        UserCount u[] = {
                { .uid = 1000, .execs = 5, .failed = 1 },
                { .uid = 0, .execs = 100, .failed = 0 },
                { .uid = 4294967294u, .execs = 1, .failed = 9 },
                { .uid = 33, .execs = 0, .failed = 2 },
        };
        TallyEntry e[] = {
                { .uid = 0, .execs = 100, .failed = 0, .events_throttled = 0 },
                { .uid = 33, .execs = 0, .failed = 2, .events_throttled = 1 },
                { .uid = 1000, .execs = 5, .failed = 1, .events_throttled = 0 },
                { .uid = 4294967294u, .execs = 1, .failed = 9, .events_throttled = 7 },
        };
        LoginCount l[] = {
                { .login_uid = UINT32_MAX, .uid = 0 },
                { .login_uid = 1000, .uid = 33 },
                { .login_uid = EXEC_LOGIN_OTHER, .uid = 0 },
                { .login_uid = 1000, .uid = 0 },
        };
        uint64_t execs = 1, failed = 1, throttled = 1;

        counts_sort_by_uid(u, 4);
        ASSERT_EQ_U(u[0].uid, 0);
        ASSERT_EQ_U(u[1].uid, 33);
        ASSERT_EQ_U(u[2].uid, 1000);
        ASSERT_EQ_U(u[3].uid, 4294967294u);
        ASSERT_EQ_U(u[3].failed, 9);

        tally_sum(e, 4, &execs, &failed, &throttled);
        ASSERT_EQ_U(execs, 106);
        ASSERT_EQ_U(failed, 12);
        ASSERT_EQ_U(throttled, 8);
        tally_sum(e, 0, &execs, &failed, &throttled);
        ASSERT_EQ_U(execs, 0);
        ASSERT_EQ_U(failed, 0);
        ASSERT_EQ_U(throttled, 0);
        tally_sum(e, 2, &execs, NULL, NULL); /* any of the sums may be left out */
        ASSERT_EQ_U(execs, 100);

        /* By login UID, then UID: "other" and unset last. */
        counts_sort_logins(l, ELEMENTSOF(l));
        ASSERT(l[0].login_uid == 1000 && l[0].uid == 0);
        ASSERT(l[1].login_uid == 1000 && l[1].uid == 33);
        ASSERT_EQ_U(l[2].login_uid, EXEC_LOGIN_OTHER);
        ASSERT_EQ_U(l[3].login_uid, UINT32_MAX);
        return 0;
}
