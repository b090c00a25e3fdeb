/* SPDX-License-Identifier: GPL-2.0-or-later */
/* time-util.c: clocks and boot-time to wall-clock conversion. */

#include "macro.h"
#include "time-util.h"

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                abort(); /* only fails for an invalid clock id: a programming error */
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

int64_t realtime_offset_usec(void) {
        return (int64_t) now_usec(CLOCK_REALTIME) - (int64_t) now_usec(CLOCK_BOOTTIME);
}

uint64_t boot_ns_to_realtime_usec(uint64_t boot_ns, int64_t offset_usec) {
        int64_t t = (int64_t) (boot_ns / NSEC_PER_USEC) + offset_usec;

        return t > 0 ? (uint64_t) t : 0;
}
