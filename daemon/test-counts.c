/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-counts.c: unit tests for the pure parts of counts.c, and the sums over tally entries
 * (tally.c). (Summing the per-CPU statistics needs a map: test-tally.) */

#include "counts.h"
#include "tally.h"
#include "test.h"

/* The order of a radix sort is the UIDs', equal ones in their order, whatever bytes of
 * the UIDs differ; checked against a sort of the entries. */
static void test_order_by_uid(void) {
        static const uint32_t base[] = { 0, 1000, 2800000000u, 4294967294u };
        uint32_t uids[3000] = {}, order[3000];
        UserCount u[3000];
        uint64_t seed = 1;

        ASSERT_EQ(counts_order_by_uid(uids, 0, order), 0);
        for (size_t b = 0; b < ELEMENTSOF(base); b++)
                for (unsigned spread = 1; spread <= 24; spread += 23) {
                        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                                uids[i] = base[b] + (uint32_t) ((seed >> 33) & ((1u << spread) - 1));
                                u[i] = (UserCount) { .uid = uids[i], .execs = i };
                        }
                        ASSERT_EQ(counts_order_by_uid(uids, ELEMENTSOF(uids), order), 0);
                        counts_sort_by_uid(u, ELEMENTSOF(u));
                        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                                ASSERT_EQ_U(uids[order[i]], u[i].uid);
                                if (i > 0 && uids[order[i]] == uids[order[i - 1]])
                                        ASSERT(order[i] > order[i - 1]);
                        }
                }
}

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

        test_order_by_uid();
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
