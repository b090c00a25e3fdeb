/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-users.c: unit tests for users.c: the same names one by one and in bulk. */

#include <dlfcn.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "users.h"

/* A UID no user database lists. */
#define NO_SUCH_UID 4000000123u

/* Counts the lookups one by one, the cache's and the test's own. */
static unsigned n_getpwuid;

struct passwd *getpwuid(uid_t uid) {
        static struct passwd *(*real)(uid_t);

        if (!real)
                real = (struct passwd * (*) (uid_t)) dlsym(RTLD_NEXT, "getpwuid");
        n_getpwuid++;
        return real(uid);
}

/* The cache's name for uid; *lookups grows by the getpwuid() calls it made. */
static const char *name_of(UserCache *c, uint32_t uid, unsigned *lookups) {
        unsigned before = n_getpwuid;
        const char *name = user_cache_name(c, uid);

        *lookups += n_getpwuid - before;
        return name;
}

static void test_names(size_t expect) {
        _cleanup_(user_cache_freep) UserCache *c = NULL;
        struct passwd *pw;
        unsigned lookups = 0;

        ASSERT_EQ(user_cache_new(&c), 0);
        ASSERT_EQ(user_cache_expect(c, expect), 0);
        ASSERT(getpwuid(NO_SUCH_UID) == NULL);
        ASSERT(name_of(c, NO_SUCH_UID, &lookups) == NULL);
        ASSERT(name_of(c, NO_SUCH_UID, &lookups) == NULL);
        ASSERT_STREQ(name_of(c, 0, &lookups), "root");
        /* Every user the database lists, whichever way they were looked up. */
        setpwent();
        while ((pw = getpwent())) {
                uint32_t uid = (uint32_t) pw->pw_uid;
                char *first = strdup(getpwuid(uid)->pw_name);
                const char *name = name_of(c, uid, &lookups);

                ASSERT(name != NULL);
                ASSERT_STREQ(name, first);
                free(first);
        }
        endpwent();
        ASSERT_STREQ(name_of(c, 0, &lookups), "root");
        /* Beyond USER_CACHE_BULK UIDs, the one pass answered everything, a UID it did not
         * list too; below, each UID was looked up once, a missing one included. */
        if (expect > USER_CACHE_BULK)
                ASSERT_EQ(lookups, 0u);
        else
                ASSERT(lookups >= 2);
}

int main(void) {
        test_names(1);
        test_names(USER_CACHE_BULK + 1);
        return 0;
}
