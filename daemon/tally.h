/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tally.h: the counts as clients see them. The kernel's maps hold what the probes
 * counted; the tally adds what a client needs to read them: since when they run, the
 * map-full counters since the last full reset, last-exec times as wall-clock time (the
 * kernel's stamps, or those the state file kept), and resets of all or one UID with the
 * bookkeeping pinned beside the counts (the meta record).
 *
 * Everything that reads or resets counts goes through here: GetStats and GetStatus, the
 * periodic checks and summaries, and the snapshots written to the state file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counts.h"
#include "event.h"
#include "execcount.h"
#include "macro.h"
#include "probe.h"
#include "state.h"
#include "unit-rows.h"

typedef struct Tally Tally;

/* One UID's counts, as a client sees them. */
typedef struct TallyEntry {
        uint32_t uid;
        uint64_t execs;
        uint64_t failed;
        uint64_t events_throttled; /* execs that sent no event: the UID's limits */
        uint64_t privileged; /* execs that ran with effective UID 0, this UID not being 0 */
        uint64_t last_exec_usec; /* CLOCK_REALTIME; 0: none known */
} TallyEntry;

/* Over the counts in probe's maps (which must outlive the tally); reads the pinned
 * bookkeeping: since when the counts run, the map-full baseline of the last reset. */
int tally_new(Probe *probe, Tally **ret);
Tally *tally_free(Tally *t);
DEFINE_POINTER_CLEANUP(Tally, tally_free);

/* The last-exec times the state file kept, for UIDs the kernel has no stamp of (none
 * since the counts were restored, or only failures). Takes entries (any order). */
void tally_keep_times(Tally *t, StateEntry *entries, size_t n);

/* CLOCK_REALTIME of the last full reset, or of when counting began. */
uint64_t tally_since_usec(const Tally *t);
/* How many UIDs the kernel's map holds at most. */
uint32_t tally_capacity(const Tally *t);
/* The kernel's ID of the counts map (in this boot). */
uint32_t tally_map_id(const Tally *t);
/* CLOCK_REALTIME minus CLOCK_BOOTTIME, held still: a kernel stamp converts to the same
 * time in every reply and in the state file. */
int64_t tally_realtime_offset(Tally *t);

/* Every UID's counts, sorted by UID. */
int tally_read_all(Tally *t, TallyEntry **ret, size_t *ret_n);
/* One UID's counts; -ENOENT if it has none. */
int tally_read_one(Tally *t, uint32_t uid, TallyEntry *ret);
/* The kernel's statistics, with the map-full counters since the last full reset. */
int tally_read_stats(Tally *t, struct exec_stats *ret);
/* The (login UID, UID) pairs' successful execs that keep() wants (NULL: all), sorted by
 * login UID, then UID; *ret_read (if not NULL) says how many entries were read for them:
 * all there are. The pairs are filtered before they are sorted, so that a caller who
 * sees few of many pays little more than their reading. */
typedef bool (*TallyLoginFilterFn)(const LoginCount *l, void *userdata);
int tally_read_logins(Tally *t, TallyLoginFilterFn keep, void *userdata, LoginCount **ret, size_t *ret_n,
                      size_t *ret_read);

/* The rows whose UID keep() wants (NULL: all), sorted by unit, then UID; *ret_read (if not
 * NULL) says how many of the kernel's entries were read for them: all there are. */
typedef bool (*TallyUidFilterFn)(uint32_t uid, void *userdata);
int tally_read_units(Tally *t, TallyUidFilterFn keep, void *userdata, UnitRow **ret, size_t *ret_n,
                     size_t *ret_read);

/* For the state file: the totals of ended cgroups (live false), and each cgroup the
 * kernel's map holds, with its unit (live true); without uid's rows (has_uid) or any
 * (all). */
int tally_units_snapshot(Tally *t, bool all, bool has_uid, uint32_t uid, StateUnit **ret, size_t *ret_n);

/* Once the snapshot units is saved: the cgroups of it that no longer exist are added to
 * their units' totals, and their entries deleted from the kernel's map. Returns how many
 * were folded. */
int tally_units_fold(Tally *t, const StateUnit *units, size_t n);

/* At the start: the state file's totals, and its cgroups that the kernel's map no longer
 * holds (folded after it was written, or counted in an earlier boot). */
int tally_units_restore(Tally *t, const StateUnit *units, size_t n);

/* The unit of an event's cgroup, from the names the programs kept (cached), for
 * exec_event_decode(): NULL for a cgroup without one (its UID went beyond its cgroups, or
 * the map of names was full). Valid until the next call into t. */
int tally_event_unit(Tally *t, uint64_t cgroup_id, const char **ret);

/* What the attribution maps could not count, since the last full reset. */
int tally_read_attribution(Tally *t, struct exec_attribution_stats *ret);
/* Sums over entries. */
void tally_sum(const TallyEntry *e, size_t n, uint64_t *ret_execs, uint64_t *ret_failed, uint64_t *ret_throttled);

/* Forgets one UID's counts (has_uid), returning 1 if it had some and 0 if not; or every
 * UID's, returning how many had some, with since_usec as the new start. */
int tally_reset(Tally *t, bool has_uid, uint32_t uid, uint64_t since_usec);

/* Notes in the pinned bookkeeping that the counts were current at usec (CLOCK_REALTIME):
 * a state file written at the same time is then not newer than the pins. */
int tally_mark_kept(Tally *t, uint64_t usec);
