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
