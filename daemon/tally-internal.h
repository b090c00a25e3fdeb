/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tally-internal.h: the tally's state, shared by its parts. */
#pragma once

#include "tally.h"

/* tally-units.c: a reset freezes the CPUs' slots (frozen), deletes the counts, empties
 * the slots of one UID (has_uid) or all, their failures dropped with the counts they
 * belong to, and thaws them (!frozen), whatever happened. Failures are logged. */
int tally_slots_freeze(Tally *t, bool frozen);
int tally_slots_clear(Tally *t, bool has_uid, uint32_t uid);
/* Forgets one UID's per-unit counts (has_uid), or all, in the kernel's maps and in the
 * totals, with the slots frozen; failures are logged, the reset of the rest goes on. */
void tally_units_reset(Tally *t, bool has_uid, uint32_t uid);
/* Frees what the per-unit part holds. */
void tally_units_done(Tally *t);

struct Tally {
        Probe *probe;
        uint64_t since_usec;
        /* The kernel's map-full counters when the counts were last reset as a whole. */
        struct exec_stats stats_at_reset;
        struct exec_attribution_stats attribution_at_reset;
        int64_t realtime_offset; /* see tally_realtime_offset() */
        /* Last-exec times the state file kept, sorted by UID. */
        StateEntry *kept;
        size_t n_kept;
        /* The totals of ended cgroups, per unit and UID, sorted so. */
        UnitRow *folded;
        size_t n_folded;
        /* The cgroup ID of this process's cgroup namespace's root: units are named
         * relative to it. */
        uint64_t cgroup_root_id;
        /* Units of cgroups the events came from, by cgroup ID (hashed, one per slot): IDs
         * are never reused within a boot, so a name stays right once found. */
        struct UnitCacheSlot {
                uint64_t cgroup_id;
                char *unit;
        } *unit_cache;
};
