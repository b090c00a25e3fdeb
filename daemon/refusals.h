/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refusals.h: clients turned away, counted and reported in aggregate: how many, why, and
 * which UIDs the most. Every refusal is reported: the first of a quiet spell at once, the
 * others in one message per REFUSALS_INTERVAL_USEC. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "uidmap.h"

#define REFUSALS_INTERVAL_USEC (10 * 1000 * 1000ull)
/* UIDs told apart in one interval; further ones are counted as "other". */
#define REFUSALS_UIDS_MAX 4096

typedef enum RefusalReason {
        REFUSED_MAX_CLIENTS, /* MaxClients=, less ReservedClients= for the unprivileged */
        REFUSED_PER_UID, /* MaxClientsPerUID= */
        REFUSED_NO_FDS, /* out of file descriptors */
        REFUSED_BUFFER, /* MaxBuffer= used up */
        _REFUSED_MAX,
} RefusalReason;

typedef struct Refusals {
        uint64_t total;
        /* The current interval. */
        uint64_t count;
        uint64_t by_reason[_REFUSED_MAX];
        uint64_t others; /* of UIDs beyond REFUSALS_UIDS_MAX, or unknown */
        UidMap *uids; /* uid -> uint64_t */
        uint64_t reported_usec; /* CLOCK_MONOTONIC of the last report, 0 for none */
} Refusals;

int refusals_init(Refusals *r);
void refusals_done(Refusals *r);

/* Counts one refusal (uid is unknown when has_uid is false). Returns true when it should
 * be reported now (refusals_report()), false when it waits for the interval's report. */
bool refusals_add(Refusals *r, bool has_uid, uint32_t uid, RefusalReason why, uint64_t now);
/* Whether refusals wait to be reported, and when they should be (CLOCK_MONOTONIC). */
bool refusals_pending(const Refusals *r, uint64_t *ret_when);
/* Logs what the interval counted (nothing if nothing) and starts a new one. */
void refusals_report(Refusals *r, uint64_t now);
