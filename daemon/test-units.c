/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-units.c: unit tests for units.c's naming: systemd units from cgroup paths, from the
 * records the programs keep (relative to a cgroup namespace), and machines' names. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "test.h"
#include "units.h"

static void expect_path(const char *path, const char *want) {
        _cleanup_(freep) char *unit = NULL;

        ASSERT_EQ(unit_name_of_path(path, &unit), 0);
        if (!streq(unit, want))
                TEST_FAIL("%s: unit %s, expected %s", path, unit, want);
}

static void test_paths(void) {
        expect_path("system.slice/cron.service", "cron.service");
        /* A service's own sub-cgroups (Delegate=) are the service's. */
        expect_path("system.slice/docker.service/sub/leaf", "docker.service");
        expect_path("system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service");
        expect_path("user.slice/user-1000.slice/session-3.scope", "session-3.scope");
        expect_path("user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1732.scope",
                    "user@1000.service/app-firefox-1732.scope");
        expect_path("user.slice/user-1000.slice/user@1000.service/init.scope", "user@1000.service/init.scope");
        /* The manager's own cgroup, with nothing below. */
        expect_path("user.slice/user-1000.slice/user@1000.service", "user@1000.service");
        expect_path("machine.slice/machine-web.scope/payload/system.slice/nginx.service", "machine-web.scope");
        expect_path("system.slice/docker-0123abcd.scope", "docker-0123abcd.scope");
        expect_path("init.scope", "init.scope");
        /* A process in a slice itself, and in the root. */
        expect_path("user.slice", "user.slice");
        expect_path("", "-.slice");
        /* Not made by systemd: the path. */
        expect_path("mygroup/sub", "/mygroup/sub");
        expect_path("system.slice/odd", "/system.slice/odd");
        /* ".slice" alone is not a slice. */
        expect_path(".slice/x.service", "/.slice/x.service");
        /* A path longer than a state file keeps a name is cut, and says so. */
        {
                char path[40 * 101 + 1] = "", *p = path;
                _cleanup_(freep) char *unit = NULL;

                for (int i = 0; i < 40; i++) {
                        memset(p, 'd', 100);
                        p[100] = '/';
                        p += 101;
                }
                *p = '\0';
                ASSERT_EQ(unit_name_of_path(path, &unit), 0);
                ASSERT_EQ_U(strlen(unit), UNIT_NAME_MAX);
                ASSERT_STREQ(unit + UNIT_NAME_MAX - 3, "...");
        }
}

static struct exec_cgroup_name record(const char *const *names, unsigned level, const uint64_t *ids) {
        struct exec_cgroup_name r = { .level = level };

        for (unsigned i = 0; i < level && i < EXECCOUNT_CGROUP_DEPTH; i++) {
                snprintf(r.name[i], sizeof(r.name[i]), "%s", names[i]);
                r.ancestor_id[i] = ids[i];
        }
        return r;
}

static void expect_record(const struct exec_cgroup_name *r, uint64_t root_id, const char *want) {
        _cleanup_(freep) char *unit = NULL;

        ASSERT_EQ(unit_name_of_record(r, root_id, &unit), 0);
        if (!streq(unit, want))
                TEST_FAIL("unit %s, expected %s", unit, want);
}

static void test_records(void) {
        static const char *const names[] = { "machine.slice", "machine-web.scope", "payload", "system.slice",
                                              "nginx.service" };
        static const uint64_t ids[] = { 10, 11, 12, 13, 14 };
        static const char *const deep[] = { "a.slice",   "a-b.slice", "a-b-c.slice", "a-b-c-d.slice", "a-b-c-d-e.slice",
                                            "a-b-c-d-e-f.slice", "a-b-c-d-e-f-g.slice", "a-b-c-d-e-f-g-h.slice",
                                            "a-b-c-d-e-f-g-h-i.slice", "a-b-c-d-e-f-g-h-i-j.slice" };
        static const uint64_t deep_ids[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
        struct exec_cgroup_name r = record(names, 5, ids);

        /* On the host, the machine; inside it (its namespace's root is its payload), the
         * unit its own systemd runs. */
        expect_record(&r, 1, "machine-web.scope");
        expect_record(&r, 12, "nginx.service");
        /* A cgroup outside the namespace. */
        expect_record(&r, 99, UNIT_OUTSIDE);
        /* The namespace's root itself. */
        expect_record(&r, 14, "-.slice");
        /* Deeper than the levels kept: named where the kept levels tell, unknown where
         * they do not. */
        r = record(deep, 10, deep_ids);
        r.level = 12;
        expect_record(&r, 1, UNIT_UNKNOWN);
        r = record(names, 5, ids);
        r.level = 14;
        expect_record(&r, 1, "machine-web.scope");
        /* A name without a NUL in its room is not read past it. */
        r = record(names, 2, ids);
        memset(r.name[1], 'x', sizeof(r.name[1]));
        {
                _cleanup_(freep) char *unit = NULL;

                ASSERT_EQ(unit_name_of_record(&r, 1, &unit), 0);
                ASSERT_EQ_U(strlen(unit), strlen("/machine.slice/") + EXECCOUNT_CGROUP_NAME_LEN);
        }
}

static void test_machines(void) {
        _cleanup_(freep) char *a = unit_machine("machine-web.scope");
        _cleanup_(freep) char *b = unit_machine("machine-web\\x2dfront.scope");
        _cleanup_(freep) char *c = unit_machine("machine-.scope");
        _cleanup_(freep) char *d = unit_machine("cron.service");
        _cleanup_(freep) char *e = unit_machine("machine-a\\x2.scope");

        ASSERT_STREQ(a, "web");
        ASSERT_STREQ(b, "web-front");
        ASSERT(!c && !d);
        /* A broken escape stays as it is. */
        ASSERT_STREQ(e, "a\\x2");
}

int main(void) {
        test_paths();
        test_records();
        test_machines();
        return 0;
}
