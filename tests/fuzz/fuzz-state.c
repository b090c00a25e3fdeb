/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-state.c: the state file decoder (state.c), which reads what is on disk after a
 * crash. A snapshot that decodes must encode back to a file that decodes the same. */

#include <string.h>

#include "fuzz.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        StateSnapshot s = {}, again = {};
        const char *reason = NULL;
        uint32_t version;
        void *buf;
        size_t n;

        if (state_decode(data, size, &s, &reason) < 0) {
                FUZZ_CHECK(reason || !s.entries);
                return 0;
        }
        FUZZ_CHECK(s.n <= STATE_ENTRIES_MAX && s.n_logins <= STATE_ENTRIES_MAX);
        FUZZ_CHECK(state_encode(&s, &buf, &n) == 0);
        /* Files of version 1 come back in the current version, 8 bytes longer per entry;
         * those of versions 1 and 2 with an empty logins section of 16 bytes, those before
         * 4 with an empty units section of 32. */
        memcpy(&version, data + 8, sizeof(version));
        FUZZ_CHECK(n == size + (version == 1 ? s.n * 8 : 0) + (version < 3 ? 16 : 0) + (version < 4 ? 32 : 0));
        FUZZ_CHECK(state_decode(buf, n, &again, &reason) == 0);
        FUZZ_CHECK(again.n == s.n && again.since_usec == s.since_usec && again.saved_usec == s.saved_usec);
        FUZZ_CHECK(s.n == 0 || memcmp(again.entries, s.entries, s.n * sizeof(*s.entries)) == 0);
        FUZZ_CHECK(again.n_logins == s.n_logins && again.logins_full == s.logins_full);
        FUZZ_CHECK(s.n_logins == 0 || memcmp(again.logins, s.logins, s.n_logins * sizeof(*s.logins)) == 0);
        FUZZ_CHECK(again.n_units == s.n_units && again.units_full_execs == s.units_full_execs &&
                   again.units_full_failed == s.units_full_failed && again.names_full == s.names_full);
        for (size_t i = 0; i < s.n_units; i++) {
                const StateUnit *a = &again.units[i], *b = &s.units[i];

                FUZZ_CHECK(strcmp(a->unit, b->unit) == 0 && a->uid == b->uid && a->live == b->live &&
                           a->cgroup_id == b->cgroup_id && a->execs == b->execs && a->failed == b->failed &&
                           a->last_exec_usec == b->last_exec_usec);
        }
        state_snapshot_done(&again);
        state_snapshot_done(&s);
        free(buf);
        return 0;
}
