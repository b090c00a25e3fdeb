/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.h: keeping the counts across a reboot, with snapshots in the state directory.
 *
 * (Across stops, restarts and crashes the counts stay in the pinned BPF maps; see
 * probe.h.) */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "counts.h"
#include "execcount.h"
#include "state.h"

typedef struct Manager Manager;

typedef struct Persist {
        char *dir; /* Directory=, or NULL for none */
        int dir_fd; /* -EBADF when no state file is kept (none configured, or refused) */
        char *dir_error; /* why Directory= is not used, when it is configured and refused */

        /* The state file found at start, until the start is done; found_ok says whether
         * there was a usable one. */
        StateSnapshot found;
        bool found_ok;

        /* What the state file held when it was restored, for last-exec times from
         * before this boot; sorted by UID. */
        StateEntry *restored;
        size_t n_restored;
        bool did_restore;
        uint64_t restored_saved_usec;
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
/* The state file found at start is not needed any more. */
void persist_start_done(Persist *p);
void persist_done(Persist *p);

/* Whether a state file is kept. */
bool persist_enabled(const Persist *p);

/* ProbeRestoreFn: fills fresh maps from the state file, if there is a usable one.
 * userdata is the Manager. */
int persist_restore(int counts_fd, int stats_fd, int meta_fd, void *userdata);
/* ProbeChooseFn: whether the state file holds newer counts than the pinned ones (their
 * bookkeeping meta, their counts map counts_map_id), which it then replaces; says why,
 * either way, when they disagree. userdata is the Manager. */
int persist_choose(const struct exec_meta *meta, uint32_t counts_map_id, char **ret_reason, void *userdata);

/* For counts taken over from the pinned maps: the last-exec times the state file keeps,
 * for UIDs whose kernel stamp is zero. */
void persist_load_times(Persist *p);
/* After a reset of uid (or of all): its kept last-exec time goes too. */
void persist_forget(Persist *p, bool has_uid, uint32_t uid);

/* Writes a snapshot of the counts now. Returns < 0 on failure, which is recorded for
 * GetStatus and logged (the first of a run of failures, then once an hour). */
int persist_save(Manager *m);
/* Writes the snapshot a reset of uid (or of all UIDs, since new_since_usec) leaves,
 * before the kernel's counts are reset: a reset that cannot reach the disk is not made.
 * A failure is recorded and logged as for persist_save(). 0 when no state file is kept. */
int persist_save_reset(Manager *m, bool has_uid, uint32_t uid, uint64_t new_since_usec);

/* A UID's last exec as wall-clock time: the kernel's stamp, or, for a UID that made none
 * since its counts were restored, the time the state file kept. */
uint64_t persist_last_exec_usec(const Persist *p, const UserCount *u, int64_t realtime_offset_usec);
