/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.h: keeping the counts across a reboot, with snapshots in the state directory.
 *
 * (Across stops, restarts and crashes the counts stay in the pinned BPF maps; see
 * probe.h.) */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "counts.h"
#include "state.h"

typedef struct Manager Manager;

typedef struct Persist {
        /* What the state file held when it was restored, for last-exec times from
         * before this boot; sorted by UID. */
        StateEntry *restored;
        size_t n_restored;
        bool did_restore;
        uint64_t restored_saved_usec;
        uint64_t last_saved_usec; /* 0: no snapshot written by this daemon yet */
} Persist;

void persist_done(Persist *p);

/* ProbeRestoreFn: fills fresh maps from the state file, if there is a usable one (a
 * damaged one is set aside and logged). userdata is the Manager. */
int persist_restore(int counts_fd, int stats_fd, int meta_fd, void *userdata);

/* For counts taken over from the pinned maps: the last-exec times the state file keeps,
 * for UIDs whose kernel stamp is zero. */
void persist_load_times(Manager *m);
/* After a reset of uid (or of all): its kept last-exec time goes too. */
void persist_forget(Persist *p, bool has_uid, uint32_t uid);

/* Writes a snapshot of the counts now. Logs why not, and returns < 0, on failure. */
int persist_save(Manager *m);

/* A UID's last exec as wall-clock time: the kernel's stamp, or, for a UID that made none
 * since its counts were restored, the time the state file kept. */
uint64_t persist_last_exec_usec(const Persist *p, const UserCount *u, int64_t realtime_offset_usec);
