/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tally.c: the counts as clients see them. */

#include <assert.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>

#include <string.h>
#include <sys/stat.h>

#include "counts.h"
#include "log.h"
#include "tally-internal.h"
#include "time-util.h"
#include "units.h"

static int compare_entries(const void *a, const void *b) {
        const StateEntry *x = a, *y = b;

        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int tally_new(Probe *probe, Tally **ret) {
        struct exec_meta meta;
        Tally *t;
        int r;

        r = probe_read_meta(probe, &meta);
        if (r < 0)
                return r;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->probe = probe;
        t->since_usec = meta.since_usec ?: now_usec(CLOCK_REALTIME);
        t->stats_at_reset.map_full_execs = meta.map_full_execs_at_reset;
        t->stats_at_reset.map_full_failed = meta.map_full_failed_at_reset;
        t->attribution_at_reset.logins_full = meta.logins_full_at_reset;
        t->cgroup_root_id = cgroup_root_id(); /* 1 where no cgroup2 is mounted */
        *ret = t;
        return 0;
}

Tally *tally_free(Tally *t) {
        if (!t)
                return NULL;
        free(t->kept);
        tally_units_done(t);
        free(t);
        return NULL;
}

void tally_keep_times(Tally *t, StateEntry *entries, size_t n) {
        free(t->kept);
        t->kept = entries;
        t->n_kept = n;
        if (n > 0)
                qsort(t->kept, n, sizeof(*t->kept), compare_entries);
}

uint64_t tally_since_usec(const Tally *t) {
        return t->since_usec;
}

uint32_t tally_capacity(const Tally *t) {
        return probe_get_max_uids(t->probe);
}

uint32_t tally_map_id(const Tally *t) {
        return probe_get_counts_map_id(t->probe);
}

int64_t tally_realtime_offset(Tally *t) {
        return realtime_offset_settle(&t->realtime_offset, realtime_offset_usec());
}

/* A UID's last exec as wall-clock time: the kernel's stamp, or, for a UID that made none
 * since its counts were restored, the time the state file kept. */
static uint64_t last_exec_usec(const Tally *t, const UserCount *u, int64_t offset) {
        StateEntry key = { .uid = u->uid }, *e;

        if (u->last_exec_ns != 0)
                return boot_ns_to_realtime_usec(u->last_exec_ns, offset);
        if (t->n_kept == 0)
                return 0;
        e = bsearch(&key, t->kept, t->n_kept, sizeof(*t->kept), compare_entries);
        return e ? e->last_exec_usec : 0;
}

static TallyEntry entry_of(const Tally *t, const UserCount *u, int64_t offset) {
        return (TallyEntry) {
                .uid = u->uid,
                .execs = u->execs,
                .failed = u->failed,
                .events_throttled = u->events_throttled,
                .privileged = u->privileged,
                .last_exec_usec = last_exec_usec(t, u, offset),
        };
}

int tally_read_all(Tally *t, TallyEntry **ret, size_t *ret_n) {
        _cleanup_(freep) UserCount *u = NULL;
        CountsMaps maps = probe_get_counts_maps(t->probe);
        int64_t offset = tally_realtime_offset(t);
        TallyEntry *e;
        size_t n;
        int r;

        r = counts_read_all_live(maps, probe_get_unit_slots_fd(t->probe), &u, &n);
        if (r < 0)
                return r;
        if (n == 0) {
                e = calloc(1, sizeof(*e));
                if (!e)
                        return -ENOMEM;
                *ret = e;
                *ret_n = 0;
                return 0;
        }
        /* In place, so that a million UIDs do not cost their array twice: entry i takes no
         * more room than count i, so writing it leaves the counts after it alone. */
        static_assert(sizeof(TallyEntry) <= sizeof(UserCount), "a TallyEntry must fit where its UserCount was");
        e = (TallyEntry *) (void *) u;
        for (size_t i = 0; i < n; i++) {
                UserCount c = u[i];

                e[i] = entry_of(t, &c, offset);
        }
        *ret = e;
        *ret_n = n;
        u = NULL; /* now e */
        return 0;
}

int tally_read_one(Tally *t, uint32_t uid, TallyEntry *ret) {
        CountsMaps maps = probe_get_counts_maps(t->probe);
        UserCount u;
        int r;

        r = counts_read_one_live(maps, probe_get_unit_slots_fd(t->probe), uid, &u);
        if (r < 0)
                return r;
        *ret = entry_of(t, &u, tally_realtime_offset(t));
        return 0;
}

int tally_read_stats(Tally *t, struct exec_stats *ret) {
        struct exec_stats s;
        int r;

        r = counts_read_stats(probe_get_stats_fd(t->probe), &s);
        if (r < 0)
                return r;
        /* Never below zero, should the kernel's figures have started again. */
        s.map_full_execs -= MIN(s.map_full_execs, t->stats_at_reset.map_full_execs);
        s.map_full_failed -= MIN(s.map_full_failed, t->stats_at_reset.map_full_failed);
        *ret = s;
        return 0;
}

int tally_read_logins(Tally *t, TallyLoginFilterFn keep, void *userdata, LoginCount **ret, size_t *ret_n,
                      size_t *ret_read) {
        LoginCount *l, *shrunk;
        size_t n, k = 0;
        int r;

        r = counts_read_logins(probe_get_counts_maps(t->probe), &l, &n, ret_read);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!keep || keep(&l[i], userdata))
                        l[k++] = l[i];
        /* What is kept goes to a reply, charged by its size: no more than that is held. */
        shrunk = reallocarray(l, k ? k : 1, sizeof(*l));
        if (shrunk)
                l = shrunk;
        counts_sort_logins(l, k);
        *ret = l;
        *ret_n = k;
        return 0;
}

int tally_read_attribution(Tally *t, struct exec_attribution_stats *ret) {
        struct exec_attribution_stats a;
        int r;

        r = counts_read_attribution(probe_get_attribution_fd(t->probe), &a);
        if (r < 0)
                return r;
        a.logins_full -= MIN(a.logins_full, t->attribution_at_reset.logins_full);
        *ret = a;
        return 0;
}

void tally_sum(const TallyEntry *e, size_t n, uint64_t *ret_execs, uint64_t *ret_failed, uint64_t *ret_throttled) {
        uint64_t execs = 0, failed = 0, throttled = 0;

        for (size_t i = 0; i < n; i++) {
                execs += e[i].execs;
                failed += e[i].failed;
                throttled += e[i].events_throttled;
        }
        if (ret_execs)
                *ret_execs = execs;
        if (ret_failed)
                *ret_failed = failed;
        if (ret_throttled)
                *ret_throttled = throttled;
}

/* Keeps since_usec and the reset baseline with the counts, in the pinned meta map. */
static int write_meta(Tally *t) {
        struct exec_meta meta;
        int r;

        r = probe_read_meta(t->probe, &meta);
        if (r < 0)
                return r;
        meta.since_usec = t->since_usec;
        meta.map_full_execs_at_reset = t->stats_at_reset.map_full_execs;
        meta.map_full_failed_at_reset = t->stats_at_reset.map_full_failed;
        meta.logins_full_at_reset = t->attribution_at_reset.logins_full;
        return probe_write_meta(t->probe, &meta);
}

static int reset_all(Tally *t, uint64_t since_usec) {
        CountsMaps maps = probe_get_counts_maps(t->probe);
        struct exec_attribution_stats a;
        struct exec_stats s;
        int r, n, q = 0;

        r = counts_read_stats(probe_get_stats_fd(t->probe), &s);
        if (r >= 0)
                r = counts_read_attribution(probe_get_attribution_fd(t->probe), &a);
        if (r < 0)
                return r;
        /* Frozen, the slots move no failures into the maps: emptied after the counts
         * are deleted, so that a reset that cannot delete them leaves both. */
        n = tally_slots_freeze(t, true);
        if (n >= 0)
                n = counts_reset_all(maps);
        if (n >= 0) {
                q = tally_slots_clear(t, false, 0);
                tally_units_reset(t, false, 0);
        }
        (void) tally_slots_freeze(t, false);
        if (n < 0)
                return n;
        t->stats_at_reset = s;
        t->attribution_at_reset = a;
        t->since_usec = since_usec;
        /* The counts are reset either way; a restart would see the old start time. */
        r = write_meta(t);
        if (r < 0)
                log_warning_errno(r, "Failed to keep the reset time with the counts: %m");
        free(t->kept);
        t->kept = NULL;
        t->n_kept = 0;
        /* Reset, but for failures the slots still hold: said as a failure. */
        return q < 0 ? q : n;
}

static int reset_one(Tally *t, uint32_t uid) {
        CountsMaps maps = probe_get_counts_maps(t->probe);
        StateEntry key = { .uid = uid }, *e;
        int r, q = 0;

        /* As in reset_all(). */
        r = tally_slots_freeze(t, true);
        if (r >= 0)
                r = counts_reset_one(maps, uid);
        if (r >= 0) {
                q = tally_slots_clear(t, true, uid);
                tally_units_reset(t, true, uid);
        }
        (void) tally_slots_freeze(t, false);
        if (r < 0)
                return r;
        e = t->n_kept ? bsearch(&key, t->kept, t->n_kept, sizeof(*t->kept), compare_entries) : NULL;
        if (e)
                e->last_exec_usec = 0;
        return q < 0 ? q : r;
}

int tally_reset(Tally *t, bool has_uid, uint32_t uid, uint64_t since_usec) {
        return has_uid ? reset_one(t, uid) : reset_all(t, since_usec);
}

int tally_mark_kept(Tally *t, uint64_t usec) {
        return probe_mark_kept(t->probe, usec);
}
