/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.c: keeping the counts across a reboot, with snapshots in the state directory. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "manager.h"
#include "persist.h"
#include "time-util.h"

void persist_done(Persist *p) {
        free(p->restored);
        *p = (Persist) {};
}

static int compare_entries(const void *a, const void *b) {
        const StateEntry *x = a, *y = b;

        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void log_set_aside(const char *dir, const char *reason) {
        _cleanup_(freep) char *aside = NULL;
        int r = state_set_aside(dir, &aside);
        LogField f[] = { { "STATE_FILE", aside ?: dir }, { "REASON", reason } };

        if (r < 0)
                log_struct_errno(LOG_ERR, r, MESSAGE_ID_STATE_DAMAGED, f, ELEMENTSOF(f),
                                 "The state file in %s is %s, and could not be set aside: %m. Starting from zero.",
                                 dir, reason);
        else
                log_struct(LOG_ERR, MESSAGE_ID_STATE_DAMAGED, f, ELEMENTSOF(f),
                           "The state file in %s is %s; kept as %s. Starting from zero.", dir, reason, aside);
}

/* Writes the saved map-full totals into the per-CPU stats as if CPU 0 had counted them. */
static int restore_stats(int stats_fd, const StateSnapshot *s) {
        int n_cpus = libbpf_num_possible_cpus();
        _cleanup_(freep) struct exec_stats *v = NULL;
        uint32_t zero = 0;

        if (n_cpus < 0)
                return n_cpus;
        v = calloc(n_cpus, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v[0].map_full_execs = s->map_full_execs;
        v[0].map_full_failed = s->map_full_failed;
        return bpf_map_update_elem(stats_fd, &zero, v, BPF_ANY) < 0 ? negative_errno() : 0;
}

int persist_restore(int counts_fd, int stats_fd, int meta_fd, void *userdata) {
        Manager *m = userdata;
        Persist *p = &m->persist;
        _cleanup_(state_snapshot_done) StateSnapshot s = {};
        _cleanup_(freep) UserCount *u = NULL;
        const char *dir = m->config.state_dir, *reason = NULL;
        struct exec_meta meta = { .since_usec = now_usec(CLOCK_REALTIME) };
        char boot[33], when[FORMAT_TIMESTAMP_MAX], n_uids[24];
        uint32_t zero = 0;
        size_t dropped;
        int r;

        if (!isempty(dir)) {
                r = state_load(dir, &s, &reason);
                if (r == -EBADMSG) {
                        log_set_aside(dir, reason);
                        state_snapshot_done(&s);
                } else if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Failed to read the state file in %s, starting from zero: %m", dir);
                else if (r >= 0) {
                        u = calloc(s.n ? s.n : 1, sizeof(*u));
                        if (!u)
                                return -ENOMEM;
                        /* Last-exec times from an earlier boot are kept aside: the kernel's
                         * clock started again. */
                        for (size_t i = 0; i < s.n; i++)
                                u[i] = (UserCount) { .uid = s.entries[i].uid, .execs = s.entries[i].execs,
                                                     .failed = s.entries[i].failed };
                        r = counts_write(counts_fd, u, s.n, &dropped);
                        if (r >= 0)
                                r = restore_stats(stats_fd, &s);
                        if (r < 0)
                                return r;
                        if (dropped > 0)
                                log_warning("%zu UIDs of the state file did not fit into the map (MaxUIDs=%u); "
                                            "their counts are lost.",
                                            dropped, m->config.max_uids);
                        meta.since_usec = s.since_usec;

                        free(p->restored);
                        p->restored = TAKE_PTR(s.entries);
                        p->n_restored = s.n;
                        qsort(p->restored, p->n_restored, sizeof(*p->restored), compare_entries);
                        p->did_restore = true;
                        p->restored_saved_usec = s.saved_usec;

                        snprintf(n_uids, sizeof(n_uids), "%zu", s.n);
                        LogField f[] = { { "STATE_UIDS", n_uids }, { "STATE_BOOT_ID", state_format_boot_id(s.boot_id, boot) } };
                        log_struct(LOG_INFO, MESSAGE_ID_STATE_RESTORED, f, ELEMENTSOF(f),
                                   "Restored the counts of %zu UIDs from the state file written at %s; execs after "
                                   "that and before this start were not counted.",
                                   s.n, format_timestamp(when, s.saved_usec));
                }
        }

        /* The counts run since the last full reset, or since now. */
        return bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) < 0 ? negative_errno() : 0;
}

void persist_load_times(Manager *m) {
        Persist *p = &m->persist;
        _cleanup_(state_snapshot_done) StateSnapshot s = {};
        const char *reason = NULL;
        int r;

        if (p->did_restore || isempty(m->config.state_dir))
                return;
        /* The counts came from the pinned maps; the state file written by the daemon before
         * still knows the last execs of UIDs that made none since it was restored. A damaged
         * one is left for the start that restores from it to set aside. */
        r = state_load(m->config.state_dir, &s, &reason);
        if (r < 0) {
                if (r != -ENOENT)
                        log_debug("No last-exec times from the state file in %s: %s", m->config.state_dir,
                                  reason ?: strerror(-r));
                return;
        }
        free(p->restored);
        p->restored = TAKE_PTR(s.entries);
        p->n_restored = s.n;
        qsort(p->restored, p->n_restored, sizeof(*p->restored), compare_entries);
}

void persist_forget(Persist *p, bool has_uid, uint32_t uid) {
        StateEntry key = { .uid = uid }, *e;

        if (!has_uid) {
                free(p->restored);
                p->restored = NULL;
                p->n_restored = 0;
                return;
        }
        e = p->n_restored ? bsearch(&key, p->restored, p->n_restored, sizeof(*p->restored), compare_entries) : NULL;
        if (e)
                e->last_exec_usec = 0;
}

uint64_t persist_last_exec_usec(const Persist *p, const UserCount *u, int64_t realtime_offset_usec) {
        StateEntry key = { .uid = u->uid }, *e;

        if (u->last_exec_ns != 0)
                return boot_ns_to_realtime_usec(u->last_exec_ns, realtime_offset_usec);
        /* None since the counts were restored (or only failures): the time the state file
         * kept, or never. */
        if (p->n_restored == 0)
                return 0;
        e = bsearch(&key, p->restored, p->n_restored, sizeof(*p->restored), compare_entries);
        return e ? e->last_exec_usec : 0;
}

int persist_save(Manager *m) {
        _cleanup_(freep) UserCount *u = NULL;
        _cleanup_(freep) StateEntry *entries = NULL;
        int64_t offset = manager_realtime_offset(m);
        struct exec_stats stats;
        StateSnapshot s;
        size_t n;
        int r;

        if (isempty(m->config.state_dir))
                return 0;

        r = counts_read_all(probe_get_counts_fd(m->probe), probe_get_max_uids(m->probe), &u, &n);
        if (r >= 0)
                r = manager_read_stats(m, &stats);
        if (r < 0)
                return log_warning_errno(r, "Failed to read the counts for a snapshot: %m");

        entries = calloc(n ? n : 1, sizeof(*entries));
        if (!entries)
                return log_oom();
        for (size_t i = 0; i < n; i++)
                entries[i] = (StateEntry) {
                        .uid = u[i].uid,
                        .execs = u[i].execs,
                        .failed = u[i].failed,
                        .last_exec_usec = persist_last_exec_usec(&m->persist, &u[i], offset),
                };
        s = (StateSnapshot) {
                .since_usec = m->since_usec,
                .saved_usec = now_usec(CLOCK_REALTIME),
                .map_full_execs = stats.map_full_execs,
                .map_full_failed = stats.map_full_failed,
                .n = n,
                .entries = entries,
        };
        (void) state_read_boot_id(s.boot_id);

        r = state_save(m->config.state_dir, &s);
        if (r < 0)
                return log_warning_errno(r, "Failed to write the state file in %s: %m", m->config.state_dir);
        m->persist.last_saved_usec = s.saved_usec;
        return 0;
}
