/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.h: keeping the counts across a reboot, with snapshots of the tally in the
 * state directory.
 *
 * (Across stops, restarts and crashes the counts stay in the pinned BPF maps; see
 * probe.h.) */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "execcount.h"
#include "state.h"
#include "tally.h"

typedef struct Persist {
        char *dir; /* Directory=, or NULL for none */
        int dir_fd; /* -EBADF when no state file is kept (none configured, or refused) */
        char *dir_error; /* why Directory= is not used, when it is configured and refused */

        /* The state file found at start, until the start is done; found_ok says whether
         * there was a usable one. */
        StateSnapshot found;
        bool found_ok;
        bool did_restore; /* the counts came from it */

        /* Set by persist_start(): the counts, their boot, and the periodic snapshots. */
        Tally *tally;
        uint8_t boot_id[16];
        sd_event_source *timer;
        uint64_t interval_usec;
        uint64_t last_saved_usec; /* 0: no snapshot written by this daemon yet */

        /* Snapshots that failed in a row, the last one's error and when it came. */
        uint64_t failures;
        int error;
        uint64_t error_usec; /* CLOCK_REALTIME */
        uint64_t error_logged_usec; /* CLOCK_MONOTONIC of the last warning about them */
} Persist;

/* Opens Directory= (dir may be empty) and reads the state file there, setting a damaged
 * one aside. Logs what is wrong; the daemon counts without a state file then. */
void persist_open(Persist *p, const char *dir);
void persist_done(Persist *p);

/* Whether a state file is kept. */
bool persist_enabled(const Persist *p);

/* ProbeRestoreFn: fills fresh maps from the state file, if there is a usable one.
 * userdata is the Persist. */
int persist_restore(CountsMaps maps, int stats_fd, int attribution_fd, int meta_fd, void *userdata);
/* ProbeChooseFn: whether the state file holds newer counts than the pinned ones (their
 * bookkeeping meta, their counts map counts_map_id), which it then replaces; says why,
 * either way, when they disagree. userdata is the Persist. */
int persist_choose(const struct exec_meta *meta, uint32_t counts_map_id, char **ret_reason, void *userdata);

/* The start is done: snapshots are of tally's counts, in boot boot_id, every
 * interval_usec (0: only at stop and at resets). The last-exec times of the state file
 * found at start go to the tally (for UIDs the kernel has no stamp of). */
int persist_start(Persist *p, sd_event *e, Tally *tally, const uint8_t boot_id[16], uint64_t interval_usec);
/* A new snapshot interval, from now on. */
int persist_set_interval(Persist *p, uint64_t interval_usec);

/* Writes a snapshot of the counts now. Returns < 0 on failure, which is recorded for
 * GetStatus and logged (the first of a run of failures, then once an hour). */
int persist_save(Persist *p);
/* Writes the snapshot a reset of uid (or of all UIDs, since new_since_usec) leaves,
 * before the kernel's counts are reset: a reset that cannot reach the disk is not made.
 * A failure is recorded and logged as for persist_save(). 0 when no state file is kept. */
int persist_save_reset(Persist *p, bool has_uid, uint32_t uid, uint64_t new_since_usec);
