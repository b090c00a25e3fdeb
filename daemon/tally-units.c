/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tally-units.c: the per-unit counts as clients see them: the kernel's per-cgroup counts
 * named after their units, and the totals of cgroups that ended, folded into them. */

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counts.h"
#include "log.h"
#include "tally-internal.h"
#include "time-util.h"
#include "unit-rows.h"
#include "units.h"

/* Every unit name fits a state file. */
_Static_assert(UNIT_NAME_MAX <= STATE_UNIT_NAME_MAX, "unit names are cut to what a state file holds");

/* The cache of units by cgroup ID for events. */
#define UNIT_CACHE_BITS 10
#define UNIT_CACHE_SLOTS (1u << UNIT_CACHE_BITS)

/* The unit of a cgroup, cached by ID (IDs are never reused within a boot, so a name stays
 * right once found): from the path the programs kept; with tree (NULL: not), from the
 * cgroup's path now, in a walk of the cgroup tree made at the first need. *ret is NULL
 * when neither knows it. */
static int unit_lookup(Tally *t, uint64_t cgroup_id, CgroupTree *tree, bool *scanned, const char **ret) {
        struct exec_cgroup_name rec;
        struct UnitCacheSlot *slot;
        const char *path = NULL;
        char *unit = NULL;
        int r;

        if (!t->unit_cache) {
                t->unit_cache = calloc(UNIT_CACHE_SLOTS, sizeof(*t->unit_cache));
                if (!t->unit_cache)
                        return -ENOMEM;
        }
        /* Fibonacci hashing: cgroup IDs are sequential. */
        slot = &t->unit_cache[(cgroup_id * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - UNIT_CACHE_BITS)];
        if (slot->unit && slot->cgroup_id == cgroup_id) {
                *ret = slot->unit;
                return 0;
        }
        if (bpf_map_lookup_elem(probe_get_cgroup_names_fd(t->probe), &cgroup_id, &rec) >= 0)
                r = unit_name_of_record(&rec, t->cgroup_root_id, &unit);
        else if (tree) {
                if (!*scanned) {
                        *scanned = true;
                        r = cgroup_tree_scan(tree);
                        if (r < 0)
                                log_debug_errno(r, "Failed to walk the cgroup tree: %m");
                }
                path = cgroup_tree_path(tree, cgroup_id);
                r = path ? unit_name_of_path(path, &unit) : 0;
        } else
                r = 0;
        if (r < 0)
                return r;
        if (unit) {
                free(slot->unit);
                *slot = (struct UnitCacheSlot) { .cgroup_id = cgroup_id, .unit = unit };
        }
        *ret = unit;
        return 0;
}

/* The same as a copy, with the names of the rows no cgroup of their own has. */
static int unit_of(Tally *t, uint64_t cgroup_id, CgroupTree *tree, bool *scanned, char **ret) {
        const char *unit = NULL;
        int r;

        if (cgroup_id == EXEC_UNIT_OTHER)
                unit = UNIT_OTHER;
        else {
                r = unit_lookup(t, cgroup_id, tree, scanned, &unit);
                if (r < 0)
                        return r;
        }
        *ret = strdup(unit ?: UNIT_UNKNOWN);
        return *ret ? 0 : -ENOMEM;
}

/* The kernel's entries with their units, and the totals of ended cgroups, that keep()
 * wants; as state file rows (live: the kernel's). With walk, cgroups the programs kept no
 * path for are named from a walk of the cgroup tree: only for snapshots, which come at the
 * daemon's pace, never for a client, who could make thousands of cgroups to walk. */
static int units_collect(Tally *t, TallyUidFilterFn keep, void *userdata, bool walk, StateUnit **ret,
                         size_t *ret_n, size_t *ret_read) {
        _cleanup_(freep) UnitLive *live = NULL;
        _cleanup_(cgroup_tree_done) CgroupTree tree = {};
        int64_t offset = tally_realtime_offset(t);
        bool scanned = false;
        StateUnit *u;
        size_t n, k = 0;
        int r;

        r = units_read_live(probe_get_units_fd(t->probe), probe_get_unit_slots_fd(t->probe), &live, &n);
        if (r < 0)
                return r;
        u = calloc(n + t->n_folded + 1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_folded && r >= 0; i++) {
                const UnitRow *f = &t->folded[i];

                if (keep && !keep(f->uid, userdata))
                        continue;
                u[k] = (StateUnit) { .uid = f->uid, .execs = f->execs, .failed = f->failed,
                                     .last_exec_usec = f->last_exec_usec, .unit = strdup(f->unit) };
                r = u[k++].unit ? 0 : -ENOMEM;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (keep && !keep(live[i].uid, userdata))
                        continue;
                u[k] = (StateUnit) {
                        .uid = live[i].uid,
                        .live = true,
                        .cgroup_id = live[i].cgroup_id,
                        .execs = live[i].execs,
                        .failed = live[i].failed,
                        .last_exec_usec = live[i].last_exec_ns ? boot_ns_to_realtime_usec(live[i].last_exec_ns, offset)
                                                               : 0,
                };
                r = unit_of(t, live[i].cgroup_id, walk ? &tree : NULL, &scanned, &u[k++].unit);
        }
        if (r < 0) {
                StateSnapshot s = { .units = u, .n_units = k };

                state_snapshot_done(&s);
                return r;
        }
        *ret = u;
        *ret_n = k;
        if (ret_read)
                *ret_read = n;
        return 0;
}

int tally_read_units(Tally *t, TallyUidFilterFn keep, void *userdata, UnitRow **ret, size_t *ret_n,
                     size_t *ret_read) {
        StateUnit *u;
        UnitRow *rows;
        size_t n;
        int r;

        r = units_collect(t, keep, userdata, false, &u, &n, ret_read);
        if (r < 0)
                return r;
        /* The same fields, taken over one by one: the names move, nothing is copied. */
        rows = calloc(n ? n : 1, sizeof(*rows));
        if (!rows) {
                StateSnapshot s = { .units = u, .n_units = n };

                state_snapshot_done(&s);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                rows[i] = (UnitRow) { .unit = u[i].unit, .uid = u[i].uid, .execs = u[i].execs,
                                      .failed = u[i].failed, .last_exec_usec = u[i].last_exec_usec };
        free(u);
        *ret = rows;
        *ret_n = unit_rows_merge(rows, n);
        return 0;
}

typedef struct ResetFilter {
        bool all, has_uid;
        uint32_t uid;
} ResetFilter;

static bool reset_keeps(uint32_t uid, void *userdata) {
        const ResetFilter *f = userdata;

        return !f->all && !(f->has_uid && f->uid == uid);
}

int tally_units_snapshot(Tally *t, bool all, bool has_uid, uint32_t uid, StateUnit **ret, size_t *ret_n) {
        ResetFilter f = { .all = all, .has_uid = has_uid, .uid = uid };

        return units_collect(t, reset_keeps, &f, true, ret, ret_n, NULL);
}

/* Adds rows (moved from the caller) to the totals. */
static int folded_add(Tally *t, UnitRow *rows, size_t n) {
        UnitRow *all = reallocarray(t->folded, t->n_folded + n + 1, sizeof(*all));

        if (!all) {
                unit_rows_free(rows, n);
                return -ENOMEM;
        }
        memcpy(all + t->n_folded, rows, n * sizeof(*rows));
        free(rows);
        t->folded = all;
        t->n_folded = unit_rows_merge(all, t->n_folded + n);
        return unit_rows_bound(t->folded, t->n_folded, &t->n_folded);
}

/* The rows of units (live ones only when gone() says so, with their cgroup IDs) as
 * totals; copies their names. */
static int rows_of(const StateUnit *units, size_t n, bool (*take)(const StateUnit *u, void *userdata),
                   void *userdata, UnitRow **ret, size_t *ret_n, UnitLive **ret_live, size_t *ret_n_live) {
        _cleanup_(freep) UnitLive *live = calloc(n + 1, sizeof(*live));
        UnitRow *rows = calloc(n + 1, sizeof(*rows));
        size_t k = 0, k_live = 0;

        if (!rows || !live) {
                free(rows);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (!take(&units[i], userdata))
                        continue;
                rows[k] = (UnitRow) { .unit = strdup(units[i].unit), .uid = units[i].uid, .execs = units[i].execs,
                                      .failed = units[i].failed, .last_exec_usec = units[i].last_exec_usec };
                if (!rows[k++].unit) {
                        unit_rows_free(rows, k);
                        return -ENOMEM;
                }
                if (units[i].live)
                        live[k_live++] = (UnitLive) { .cgroup_id = units[i].cgroup_id, .uid = units[i].uid,
                                                      .execs = units[i].execs, .failed = units[i].failed };
        }
        *ret = rows;
        *ret_n = k;
        if (ret_live) {
                *ret_live = TAKE_PTR(live);
                *ret_n_live = k_live;
        }
        return 0;
}

typedef struct Ended {
        Tally *tally;
        const CgroupTree *tree; /* what exists */
} Ended;

/* A live row of a cgroup that no longer exists: missing from the walk, and neither below
 * a cgroup the walk could not look into nor outside this cgroup namespace (which the walk
 * cannot see: such cgroups are kept, not folded while they may still count). The path the
 * programs kept tells where a cgroup was. */
static bool ended(const StateUnit *u, void *userdata) {
        const Ended *e = userdata;
        uint64_t root = e->tally->cgroup_root_id;
        struct exec_cgroup_name rec;
        bool inside = root == 1;

        if (!u->live || u->cgroup_id == EXEC_UNIT_OTHER || cgroup_tree_path(e->tree, u->cgroup_id))
                return false;
        if (e->tree->n_opaque == 0 && inside)
                return true;
        if (bpf_map_lookup_elem(probe_get_cgroup_names_fd(e->tally->probe), &u->cgroup_id, &rec) < 0 ||
            rec.level > EXECCOUNT_CGROUP_DEPTH)
                return false;
        for (size_t i = 0; i < rec.level; i++) {
                if (cgroup_tree_is_opaque(e->tree, rec.ancestor_id[i]))
                        return false;
                inside = inside || rec.ancestor_id[i] == root;
        }
        return inside;
}

int tally_units_fold(Tally *t, const StateUnit *units, size_t n) {
        _cleanup_(cgroup_tree_done) CgroupTree tree = {};
        _cleanup_(freep) UnitLive *gone = NULL;
        _cleanup_(freep) bool *deleted = NULL, *held = NULL;
        UnitRow *rows;
        size_t n_rows, n_gone, k = 0;
        int r, q;

        /* A cgroup of the snapshot that is missing from a walk after it ended before the
         * walk: it existed when its entry was made, and cgroup2 directories are never
         * renamed. Nothing counts into it any more. */
        r = cgroup_tree_scan(&tree);
        if (r == -ENOENT)
                return 0; /* no cgroup2 mounted (cgroup v1 only): every exec is the root's */
        if (r < 0)
                return r;
        r = rows_of(units, n, ended, &(Ended) { .tally = t, .tree = &tree }, &rows, &n_rows, &gone, &n_gone);
        if (r < 0)
                return r;
        if (n_rows == 0) {
                free(rows);
                return 0;
        }
        deleted = calloc(n_gone, sizeof(*deleted));
        held = calloc(n_gone, sizeof(*held));
        if (!deleted || !held) {
                unit_rows_free(rows, n_rows);
                return -ENOMEM;
        }
        /* A key that a CPU's slot holds keeps its entry (the slot's failures move into it
         * when the slot changes hands): left for a later fold. No slot takes an ended
         * cgroup's key, and one that left it moved its failures into the entry, whose row
         * (read with the slots) has them: what is not held now is not held later. */
        r = units_slots_held(probe_get_unit_slots_fd(t->probe), gone, n_gone, held);
        if (r < 0) {
                unit_rows_free(rows, n_rows);
                return r;
        }
        for (size_t i = 0; i < n_gone; i++)
                if (!held[i]) {
                        gone[k] = gone[i];
                        rows[k++] = rows[i];
                } else
                        free(rows[i].unit);
        n_gone = n_rows = k;
        k = 0;
        /* Only the entries deleted here become totals: one that could not be deleted is
         * still counted in the kernel's map, and folded at a later snapshot (every row
         * taken is a live one: rows[i] is gone[i]'s). */
        q = units_forget(probe_get_units_fd(t->probe), probe_get_cgroup_names_fd(t->probe), gone, n_gone, deleted);
        for (size_t i = 0; i < n_rows; i++)
                if (deleted[i])
                        rows[k++] = rows[i];
                else
                        free(rows[i].unit);
        r = folded_add(t, rows, k);
        if (r < 0)
                return r;
        return q < 0 ? q : (int) k;
}

/* A row of the state file to add to the totals: a total, or a cgroup the kernel's map
 * does not hold (any more). Into fresh maps (a reboot, or pins dropped), every row: their
 * cgroups' IDs may be another boot's, which this one uses again. */
static bool restorable(const StateUnit *u, void *userdata) {
        Tally *t = userdata;
        struct exec_unit_key key = { .cgroup_id = u->cgroup_id, .uid = u->uid };
        struct exec_unit_count v;

        return !u->live || probe_get_origin(t->probe) == PROBE_ORIGIN_FRESH ||
               bpf_map_lookup_elem(probe_get_units_fd(t->probe), &key, &v) < 0;
}

int tally_units_restore(Tally *t, const StateUnit *units, size_t n) {
        UnitRow *rows;
        size_t n_rows;
        int r;

        r = rows_of(units, n, restorable, t, &rows, &n_rows, NULL, NULL);
        if (r < 0)
                return r;
        return folded_add(t, rows, n_rows);
}

int tally_slots_freeze(Tally *t, bool frozen) {
        int r = frozen ? probe_freeze_unit_slots(t->probe) : probe_thaw_unit_slots(t->probe);

        if (r < 0)
                log_warning_errno(r, "Failed to %s the CPUs' failure slots for a reset: %m", frozen ? "freeze" : "thaw");
        return r;
}

int tally_slots_clear(Tally *t, bool has_uid, uint32_t uid) {
        int r = units_slots_clear(probe_get_unit_slots_fd(t->probe), has_uid, uid);

        if (r < 0)
                log_warning_errno(r, "Failed to empty the CPUs' failure slots for a reset: %m");
        return r;
}

void tally_units_reset(Tally *t, bool has_uid, uint32_t uid) {
        size_t k = 0;
        int r;

        r = units_reset(probe_get_units_fd(t->probe), probe_get_cgroup_names_fd(t->probe), has_uid, uid);
        if (r < 0)
                log_warning_errno(r, "Failed to reset the per-unit counts: %m");
        if (!has_uid) {
                r = counts_clear_units_full(probe_get_attribution_fd(t->probe));
                if (r < 0)
                        log_warning_errno(r, "Failed to reset the per-unit map-full counters: %m");
        }
        /* In place: the order stays. */
        for (size_t i = 0; i < t->n_folded; i++)
                if (has_uid && t->folded[i].uid != uid)
                        t->folded[k++] = t->folded[i];
                else
                        free(t->folded[i].unit);
        t->n_folded = k;
}

void tally_units_done(Tally *t) {
        unit_rows_free(t->folded, t->n_folded);
        t->folded = NULL;
        t->n_folded = 0;
        if (t->unit_cache)
                for (size_t i = 0; i < UNIT_CACHE_SLOTS; i++)
                        free(t->unit_cache[i].unit);
        free(t->unit_cache);
        t->unit_cache = NULL;
}

int tally_event_unit(Tally *t, uint64_t cgroup_id, const char **ret) {
        const char *unit = NULL;
        int r;

        /* No walk of the cgroup tree here: an event must cost little. */
        r = unit_lookup(t, cgroup_id, NULL, NULL, &unit);
        *ret = r < 0 ? NULL : unit;
        return r;
}
