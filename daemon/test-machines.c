/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-machines.c: unit tests for machines.c's table of machines by unit (the D-Bus side
 * is checked under a real systemd-machined, in the e2e suite). */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machines.h"
#include "test.h"

static void test_add_lookup(void) {
        Machines *m;

        ASSERT_EQ(machines_new(NULL, &m), 0);
        ASSERT(!machines_lookup(m, "web.service"));
        ASSERT_EQ(machines_add(m, "web.service", "web"), 0);
        ASSERT_EQ(machines_add(m, "machine-db.scope", "db"), 0);
        ASSERT_EQ(machines_add(m, "a.service", "alpha"), 0);
        ASSERT_STREQ(machines_lookup(m, "web.service"), "web");
        ASSERT_STREQ(machines_lookup(m, "machine-db.scope"), "db");
        ASSERT_STREQ(machines_lookup(m, "a.service"), "alpha");
        ASSERT(!machines_lookup(m, "b.service"));
        ASSERT(!machines_lookup(m, "web.servic"));
        /* A unit that runs another machine later names that one. */
        ASSERT_EQ(machines_add(m, "web.service", "web2"), 0);
        ASSERT_STREQ(machines_lookup(m, "web.service"), "web2");
        /* What systemd would not make is refused. */
        ASSERT_EQ(machines_add(m, "", "x"), -EINVAL);
        ASSERT_EQ(machines_add(m, "x.service", ""), -EINVAL);
        {
                char longer[300];

                memset(longer, 'a', sizeof(longer) - 1);
                longer[sizeof(longer) - 1] = '\0';
                ASSERT_EQ(machines_add(m, longer, "x"), -EINVAL);
                ASSERT_EQ(machines_add(m, "x.service", longer), -EINVAL);
        }
        ASSERT(!machines_lookup(m, "x.service"));
        machines_free(m);
}

/* At most MACHINES_MAX units: the one added (or renamed) longest ago goes. */
static void test_bound(void) {
        Machines *m;
        char unit[64], name[64];

        ASSERT_EQ(machines_new(NULL, &m), 0);
        for (int i = 0; i < MACHINES_MAX; i++) {
                snprintf(unit, sizeof(unit), "u%d.service", i);
                snprintf(name, sizeof(name), "m%d", i);
                ASSERT_EQ(machines_add(m, unit, name), 0);
        }
        /* u0 renamed: now the newest; u1 is the oldest. */
        ASSERT_EQ(machines_add(m, "u0.service", "again"), 0);
        ASSERT_EQ(machines_add(m, "zz.service", "last"), 0);
        ASSERT_STREQ(machines_lookup(m, "u0.service"), "again");
        ASSERT(!machines_lookup(m, "u1.service"));
        ASSERT_STREQ(machines_lookup(m, "u2.service"), "m2");
        ASSERT_STREQ(machines_lookup(m, "zz.service"), "last");
        for (int i = 2; i < MACHINES_MAX; i++) {
                snprintf(unit, sizeof(unit), "u%d.service", i);
                snprintf(name, sizeof(name), "m%d", i);
                ASSERT_STREQ(machines_lookup(m, unit), name);
        }
        machines_free(m);
}

int main(void) {
        test_add_lookup();
        test_bound();
        return 0;
}
