/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-time-util.c: unit tests for time-util.c. */

#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "time-util.h"

static void test_times(void) {
        char ts[FORMAT_TIMESTAMP_MAX], span[FORMAT_TIMESPAN_MAX];

        setenv("TZ", "UTC", 1);
        tzset();
        ASSERT_STREQ(format_timestamp(ts, 1795412183830246ULL), "2026-11-23 05:36:23");
        ASSERT_STREQ(format_timestamp_ms(ts, 1795412183830246ULL), "2026-11-23 05:36:23.830");
        ASSERT_STREQ(format_timestamp(ts, 0), "n/a");

        ASSERT_STREQ(format_timespan(span, 0), "0");
        ASSERT_STREQ(format_timespan(span, 250), "250us");
        ASSERT_STREQ(format_timespan(span, 1500), "1ms");
        ASSERT_STREQ(format_timespan(span, 27148), "27ms");
        ASSERT_STREQ(format_timespan(span, 5250000), "5s");
        ASSERT_STREQ(format_timespan(span, 90000000), "1min 30s");
        ASSERT_STREQ(format_timespan(span, 3600000000ULL + 5000000), "1h");
        ASSERT_STREQ(format_timespan(span, 90000ULL * 1000000), "1d 1h");
}

static void test_conversion(void) {
        int64_t offset = realtime_offset_usec();
        uint64_t boot = now_usec(CLOCK_BOOTTIME), real = now_usec(CLOCK_REALTIME);

        /* Boot time plus the offset is wall-clock time, to within the calls' spacing. */
        ASSERT(boot_ns_to_realtime_usec(boot * 1000, offset) + 1000000 > real);
        ASSERT(boot_ns_to_realtime_usec(boot * 1000, offset) < real + 1000000);
        ASSERT_EQ_U(boot_ns_to_realtime_usec(5000, 10), 15);

        /* Jitter within the slack keeps the offset; a clock step replaces it. */
        int64_t kept = 0;
        ASSERT_EQ(realtime_offset_settle(&kept, 1000000), 1000000);
        ASSERT_EQ(realtime_offset_settle(&kept, 1000001), 1000000);
        ASSERT_EQ(realtime_offset_settle(&kept, 999000), 1000000);
        ASSERT_EQ(realtime_offset_settle(&kept, 1001001), 1001001);
        ASSERT_EQ(realtime_offset_settle(&kept, -5000000), -5000000);
        ASSERT_EQ(kept, -5000000);
        /* Two reads in a row are within the slack of each other. */
        kept = 0;
        int64_t first = realtime_offset_settle(&kept, realtime_offset_usec());
        ASSERT_EQ(realtime_offset_settle(&kept, realtime_offset_usec()), first);
        ASSERT_EQ_U(boot_ns_to_realtime_usec(5000, -100), 0); /* never before the epoch */
}

int main(void) {
        test_times();
        test_conversion();
        return 0;
}
