/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ratelimit.h: at most burst events per interval, counting what was held back. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct RateLimit {
        uint64_t interval_usec; /* 0: no limit */
        unsigned burst;
        uint64_t begin_usec; /* start of the current interval */
        unsigned count; /* let through in it */
        uint64_t suppressed; /* held back in it */
} RateLimit;

/* Whether one more event may pass at now (CLOCK_MONOTONIC µs). When an interval ends with
 * events held back, *ret_suppressed gets their number (else 0), for the caller to report
 * once. */
bool ratelimit_pass(RateLimit *r, uint64_t now, uint64_t *ret_suppressed);

/* Ends the current interval if it is over; returns what it held back (0 if nothing or if
 * the interval runs on). For reporting suppression when no further event comes. */
uint64_t ratelimit_flush(RateLimit *r, uint64_t now);
