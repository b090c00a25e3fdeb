/* SPDX-License-Identifier: GPL-2.0-or-later */
/* time-util.c: clocks and boot-time to wall-clock conversion. */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "time-util.h"

uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                abort(); /* only fails for an invalid clock id: a programming error */
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

int64_t realtime_offset_usec(void) {
        int64_t best = INT64_MIN;

        /* Being preempted between the two reads only ever makes the difference smaller:
         * the largest of a few is the closest. */
        for (int i = 0; i < 3; i++) {
                int64_t d = (int64_t) now_usec(CLOCK_REALTIME) - (int64_t) now_usec(CLOCK_BOOTTIME);

                if (d > best)
                        best = d;
        }
        return best;
}

int64_t realtime_offset_settle(int64_t *kept, int64_t current) {
        if (*kept == 0 || current > *kept + (int64_t) REALTIME_OFFSET_SLACK_USEC ||
            current < *kept - (int64_t) REALTIME_OFFSET_SLACK_USEC)
                *kept = current;
        return *kept;
}

uint64_t boot_ns_to_realtime_usec(uint64_t boot_ns, int64_t offset_usec) {
        int64_t t = (int64_t) (boot_ns / NSEC_PER_USEC) + offset_usec;

        return t > 0 ? (uint64_t) t : 0;
}

static char *format_local(char buf[static FORMAT_TIMESTAMP_MAX], uint64_t usec, bool ms) {
        time_t sec = (time_t) (usec / 1000000);
        struct tm tm;
        size_t n;

        if (usec == 0 || !localtime_r(&sec, &tm))
                return strcpy(buf, "n/a");
        n = strftime(buf, FORMAT_TIMESTAMP_MAX, "%Y-%m-%d %H:%M:%S", &tm);
        if (n == 0)
                return strcpy(buf, "n/a");
        if (ms)
                snprintf(buf + n, FORMAT_TIMESTAMP_MAX - n, ".%03u", (unsigned) (usec / 1000 % 1000));
        return buf;
}

char *format_timestamp(char buf[static FORMAT_TIMESTAMP_MAX], uint64_t usec) {
        return format_local(buf, usec, false);
}

char *format_timestamp_ms(char buf[static FORMAT_TIMESTAMP_MAX], uint64_t usec) {
        return format_local(buf, usec, true);
}

char *format_timespan(char buf[static FORMAT_TIMESPAN_MAX], uint64_t usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "d", 86400ULL * 1000000 }, { "h", 3600ULL * 1000000 }, { "min", 60ULL * 1000000 },
                { "s", 1000000 },            { "ms", 1000 },            { "us", 1 },
        };
        size_t n = 0, used = 0;

        if (usec == 0)
                return strcpy(buf, "0");
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(units) && used < 2; i++) {
                uint64_t v = usec / units[i].usec;

                /* Units below a larger one already shown would be noise, and so would
                 * microseconds next to anything larger. */
                if (used > 0 && (v == 0 || units[i].usec == 1))
                        break;
                if (v == 0)
                        continue;
                n += (size_t) snprintf(buf + n, FORMAT_TIMESPAN_MAX - n, "%s%" PRIu64 "%s", used ? " " : "", v,
                                       units[i].suffix);
                usec -= v * units[i].usec;
                used++;
                /* Seconds and up: leave out milliseconds. */
                if (units[i].usec >= 1000000 && i + 1 < ELEMENTSOF(units) && units[i + 1].usec < 1000000)
                        break;
        }
        return buf;
}
