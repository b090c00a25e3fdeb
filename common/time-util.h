/* SPDX-License-Identifier: GPL-2.0-or-later */
/* time-util.h: clocks, and turning kernel boot-time stamps into wall-clock time. */
#pragma once

#include <stdint.h>
#include <time.h>

uint64_t now_usec(clockid_t clock);

/* CLOCK_REALTIME minus CLOCK_BOOTTIME, in µs, at the moment of the call. */
int64_t realtime_offset_usec(void);

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
