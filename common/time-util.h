/* SPDX-License-Identifier: GPL-2.0-or-later */
/* time-util.h: clocks, and turning kernel boot-time stamps into wall-clock time. */
#pragma once

#include <stdint.h>
#include <time.h>

uint64_t now_usec(clockid_t clock);

/* CLOCK_REALTIME minus CLOCK_BOOTTIME, in µs, at the moment of the call. */
int64_t realtime_offset_usec(void);

/* The offset a converter should use so that the same stamp always converts to the same
 * time: *kept (0 at first) unless current is more than REALTIME_OFFSET_SLACK_USEC away
 * from it (the clock was set, or slewing added up), in which case current is kept. */
#define REALTIME_OFFSET_SLACK_USEC 1000
int64_t realtime_offset_settle(int64_t *kept, int64_t current);

/* A CLOCK_BOOTTIME stamp in ns (what the BPF program records) as µs since the epoch,
 * given realtime_offset_usec(). */
uint64_t boot_ns_to_realtime_usec(uint64_t boot_ns, int64_t offset_usec);

#define FORMAT_TIMESTAMP_MAX 32
#define FORMAT_TIMESPAN_MAX 64

/* "2026-11-23 05:36:12" in local time; "n/a" for 0. */
char *format_timestamp(char buf[static FORMAT_TIMESTAMP_MAX], uint64_t usec);
/* "2026-11-23 05:36:12.123" in local time. */
char *format_timestamp_ms(char buf[static FORMAT_TIMESTAMP_MAX], uint64_t usec);
/* "1h 2min 3s", "250ms", "0"; at most two units. */
char *format_timespan(char buf[static FORMAT_TIMESPAN_MAX], uint64_t usec);
