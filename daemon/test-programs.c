/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-programs.c: the table of programs each probe mode loads matches the BPF object: each
 * entry is the skeleton's program of that name, and every program of the object is in a
 * mode. Opens the skeleton without loading it: no privileges needed. */

#include <errno.h>

#include "execcount.skel.h"
#include "macro.h"
#include "programs.h"
#include "test.h"

static void test_table_matches_skeleton(void) {
        struct execcount_bpf *skel = execcount_bpf__open();
        const char *bad;

        ASSERT(skel);
        bad = program_check_skeleton(skel);
        if (bad)
                TEST_FAIL("program %s: in the table and not the object, or the other way round", bad);
        execcount_bpf__destroy(skel);
}

/* Every mode loads programs; without a kernel BTF (NULL), no 32-bit ones. */
static void test_modes(void) {
        const char *names[64];

        for (ProbeMode mode = PROBE_FENTRY; mode <= PROBE_TRACEPOINT; mode++) {
                size_t n = programs_of_mode(mode, NULL, names, ELEMENTSOF(names));

                ASSERT(n >= 2);
                for (size_t i = 0; i < n; i++) {
                        ASSERT(program_in_mode(names[i], mode, NULL));
                        ASSERT(!strstr(names[i], "compat") && !strstr(names[i], "x32"));
                }
        }
        ASSERT(!program_in_mode("fexit_execve", PROBE_TRACEPOINT, NULL));
        ASSERT(!program_in_mode("no_such_program", PROBE_FENTRY, NULL));
}

int main(void) {
        test_table_matches_skeleton();
        test_modes();
        return 0;
}
