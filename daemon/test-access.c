/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-access.c: unit tests for access.c. */

#include <errno.h>

#include "access.h"
#include "test.h"

static void expect_filter(AccessScope scope, uid_t peer, bool has, uint32_t uid, int want_r, bool want_has,
                          uint32_t want_uid) {
        ASSERT_EQ(access_filter_uid(scope, peer, &has, &uid), want_r);
        ASSERT(has == want_has);
        ASSERT_EQ_U(uid, want_uid);
}

int main(void) {
        ASSERT(access_scope(0, false) == ACCESS_ALL);
        ASSERT(access_scope(0, true) == ACCESS_ALL);
        ASSERT(access_scope(1000, true) == ACCESS_ALL);
        ASSERT(access_scope(1000, false) == ACCESS_OWN);
        ASSERT_STREQ(access_scope_to_string(ACCESS_ALL), "all");
        ASSERT_STREQ(access_scope_to_string(ACCESS_OWN), "own");

        /* Everything for root and the group, filter or not. */
        expect_filter(ACCESS_ALL, 0, false, 0, 0, false, 0);
        expect_filter(ACCESS_ALL, 1000, true, 2000, 0, true, 2000);

        /* Anyone else: no filter means their own UID; their own UID passes; another fails
         * and leaves the filter as it was. */
        expect_filter(ACCESS_OWN, 1000, false, 0, 0, true, 1000);
        expect_filter(ACCESS_OWN, 1000, true, 1000, 0, true, 1000);
        expect_filter(ACCESS_OWN, 1000, true, 0, -EPERM, true, 0);
        expect_filter(ACCESS_OWN, 1000, true, 1001, -EPERM, true, 1001);
        /* uid_t's full range: no truncation mixes UIDs up. */
        expect_filter(ACCESS_OWN, 4294967294u, false, 0, 0, true, 4294967294u);

        ASSERT(access_may_change(0));
        ASSERT(!access_may_change(1000));
        ASSERT(!access_may_change(65534));
        return 0;
}
