/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-users.c: unit tests for users.c: the same names one by one and in bulk. */

#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "users.h"

/* A UID no user database lists. */
#define NO_SUCH_UID 4000000123u

static void test_names(size_t expect) {
        _cleanup_(user_cache_freep) UserCache *c = NULL;
        struct passwd *pw;

        ASSERT_EQ(user_cache_new(&c), 0);
        ASSERT_EQ(user_cache_expect(c, expect), 0);
        ASSERT(getpwuid(NO_SUCH_UID) == NULL);
        ASSERT(user_cache_name(c, NO_SUCH_UID) == NULL);
        ASSERT(user_cache_name(c, NO_SUCH_UID) == NULL);
        ASSERT_STREQ(user_cache_name(c, 0), "root");
        /* Every user the database lists, whichever way they were looked up. */
        setpwent();
        while ((pw = getpwent())) {
                struct passwd *first = getpwuid(pw->pw_uid);
                const char *name = user_cache_name(c, (uint32_t) pw->pw_uid);

                ASSERT(name != NULL);
                ASSERT_STREQ(name, first->pw_name);
        }
        endpwent();
        ASSERT_STREQ(user_cache_name(c, 0), "root");
}

int main(void) {
        test_names(1);
        test_names(USER_CACHE_BULK + 1);
        return 0;
}
