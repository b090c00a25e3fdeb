/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.c: keeping the counts across a reboot, with snapshots in the state directory. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "message-ids.h"
#include "persist.h"
#include "time-util.h"

/* While snapshots keep failing, the warning is repeated this often. */
#define PERSIST_WARN_INTERVAL_USEC (3600 * USEC_PER_SEC)

static int compare_entries(const void *a, const void *b) {
        const StateEntry *x = a, *y = b;

        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void log_set_aside(Persist *p, const char *reason) {
        _cleanup_(freep) char *aside = NULL;
        int r = state_set_aside(p->dir_fd, &aside);
        char path[4096];
        LogField f[] = { { "STATE_FILE", path }, { "REASON", reason } };

        snprintf(path, sizeof(path), "%s/%s", p->dir, aside ?: STATE_FILE);
        if (r < 0)
                log_struct_errno(LOG_ERR, r, MESSAGE_ID_STATE_DAMAGED, f, ELEMENTSOF(f),
                                 "The state file in %s is %s, and could not be set aside: %m.", p->dir, reason);
        else
                log_struct(LOG_ERR, MESSAGE_ID_STATE_DAMAGED, f, ELEMENTSOF(f),
                           "The state file in %s is %s; kept as %s.", p->dir, reason, path);
}

void persist_open(Persist *p, const char *dir) {
        const char *reason = NULL;
        int r;

        *p = (Persist) { .dir_fd = -EBADF };
        if (isempty(dir))
                return;
        p->dir = strdup(dir);
        if (!p->dir) {
                log_oom();
                return;
        }
        r = state_dir_open(dir, true, &p->dir_fd, &reason);
        if (r < 0) {
                LogField f[] = { { "STATE_DIRECTORY", dir } };

                if (asprintf(&p->dir_error, "%s %s%s", dir, reason ? "is " : "cannot be opened: ",
                             reason ?: strerror(-r)) < 0)
                        p->dir_error = NULL;
                log_struct_errno(LOG_ERR, r, MESSAGE_ID_SNAPSHOT_FAILED, f, ELEMENTSOF(f),
                                 "No state file is kept: the state directory %s %s%s. The counts will not survive a "
                                 "reboot.",
                                 dir, reason ? "is " : "cannot be opened: ", reason ?: strerror(-r));
                return;
        }

        r = state_load(p->dir_fd, &p->found, &reason);
        if (r == -EBADMSG) {
                /* Set aside at once, whatever the start does next: a FIFO or a directory
                 * there would also make every snapshot fail. */
                log_set_aside(p, reason);
                state_snapshot_done(&p->found);
        } else if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Failed to read the state file in %s, so it is not used: %m", dir);
        else if (r >= 0)
                p->found_ok = true;
}

void persist_start_done(Persist *p) {
        state_snapshot_done(&p->found);
        p->found_ok = false;
}

void persist_done(Persist *p) {
        persist_start_done(p);
        safe_close(p->dir_fd);
        free(p->dir);
        free(p->dir_error);
        free(p->restored);
        *p = (Persist) { .dir_fd = -EBADF };
}

bool persist_enabled(const Persist *p) {
        return p->dir_fd >= 0;
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

/* Keeps the state file's entries, sorted, for their last-exec times. */
static void keep_entries(Persist *p) {
        free(p->restored);
        p->restored = TAKE_PTR(p->found.entries);
        p->n_restored = p->found.n;
        p->found.n = 0;
        qsort(p->restored, p->n_restored, sizeof(*p->restored), compare_entries);
}

int persist_restore(int counts_fd, int stats_fd, int meta_fd, void *userdata) {
        Manager *m = userdata;
        Persist *p = &m->persist;
        const StateSnapshot *s = &p->found;
        _cleanup_(freep) UserCount *u = NULL;
        struct exec_meta meta = { .since_usec = now_usec(CLOCK_REALTIME) };
        char boot[33], when[FORMAT_TIMESTAMP_MAX], n_uids[24];
        uint32_t zero = 0;
        size_t dropped;
        int r;

        if (p->found_ok) {
                u = calloc(s->n ? s->n : 1, sizeof(*u));
                if (!u)
                        return -ENOMEM;
                /* Last-exec times from an earlier boot are kept aside: the kernel's clock
                 * started again. */
                for (size_t i = 0; i < s->n; i++)
                        u[i] = (UserCount) { .uid = s->entries[i].uid, .execs = s->entries[i].execs,
                                             .failed = s->entries[i].failed };
                r = counts_write(counts_fd, u, s->n, &dropped);
                if (r >= 0)
                        r = restore_stats(stats_fd, s);
                if (r < 0)
                        return r;
                if (dropped > 0)
                        log_warning("%zu UIDs of the state file did not fit into the map (MaxUIDs=%u); "
                                    "their counts are lost.",
                                    dropped, m->config.max_uids);
                meta.since_usec = s->since_usec;
                p->did_restore = true;
                p->restored_saved_usec = s->saved_usec;

                snprintf(n_uids, sizeof(n_uids), "%zu", s->n);
                LogField f[] = { { "STATE_UIDS", n_uids }, { "STATE_BOOT_ID", state_format_boot_id(s->boot_id, boot) } };
                log_struct(LOG_INFO, MESSAGE_ID_STATE_RESTORED, f, ELEMENTSOF(f),
                           "Restored the counts of %zu UIDs from the state file written at %s; execs after "
                           "that and before this start were not counted.",
                           s->n, format_timestamp(when, s->saved_usec));
                keep_entries(p);
        }

        /* The counts run since the last full reset, or since now. */
        meta.kept_usec = now_usec(CLOCK_REALTIME);
        return bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) < 0 ? negative_errno() : 0;
}

int persist_choose(const struct exec_meta *meta, uint32_t counts_map_id, char **ret_reason, void *userdata) {
        Manager *m = userdata;
        const StateSnapshot *s = &m->persist.found;
        char saved[FORMAT_TIMESTAMP_MAX], kept[FORMAT_TIMESTAMP_MAX];

        *ret_reason = NULL;
        if (!m->persist.found_ok)
                return 0;
        /* Written from these very maps: the pins hold the same counts, or newer ones. (Map
         * IDs start again at every boot, but pins live one boot only: a file of an earlier
         * boot with the same ID is older than the pins anyway.) */
        if (s->counts_map_id != 0 && s->counts_map_id == counts_map_id)
                return 0;
        /* Pins of an earlier version do not say when they were last current: they win, as
         * they always did. */
        if (meta->kept_usec == 0)
                return 0;

        format_timestamp(saved, s->saved_usec);
        format_timestamp(kept, meta->kept_usec);
        if (s->saved_usec > meta->kept_usec) {
                if (asprintf(ret_reason,
                             "the state file, written at %s from counts that were not pinned here, is newer than "
                             "the pinned counts, last current at %s: it replaces them",
                             saved, kept) < 0)
                        return -ENOMEM;
                return 1;
        }
        if (asprintf(ret_reason,
                     "the pinned counts, current at %s, are newer than the state file, written at %s from other "
                     "counts: they are used, and the state file is replaced at the next snapshot",
                     kept, saved) < 0)
                return -ENOMEM;
        return 0;
}

void persist_load_times(Persist *p) {
        /* The counts came from the pinned maps; the state file written by the daemon before
         * still knows the last execs of UIDs that made none since it was restored. */
        if (!p->did_restore && p->found_ok)
                keep_entries(p);
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

/* Records the outcome of a snapshot: the first failure of a run is logged, then one an
 * hour (or when the error changes), and the first success after them. */
static void record_outcome(Persist *p, int r, uint64_t now_real) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        char n[24];

        if (r >= 0) {
                if (p->failures > 0)
                        log_info("Wrote the state file in %s again, after %" PRIu64 " failed snapshots.", p->dir,
                                 p->failures);
                p->failures = 0;
                p->error = 0;
                p->last_saved_usec = now_real;
                return;
        }
        p->failures++;
        if (p->failures == 1 || r != p->error || now >= p->error_logged_usec + PERSIST_WARN_INTERVAL_USEC) {
                snprintf(n, sizeof(n), "%" PRIu64, p->failures);
                LogField f[] = { { "STATE_DIRECTORY", p->dir }, { "SNAPSHOT_FAILURES", n } };
                log_struct_errno(LOG_WARNING, r, MESSAGE_ID_SNAPSHOT_FAILED, f, ELEMENTSOF(f),
                                 "Failed to write the state file in %s (%s failed in a row): %m. Until it works, "
                                 "a reboot loses the counts since the last snapshot, and resets are refused.",
                                 p->dir, n);
                p->error_logged_usec = now;
        }
        p->error = r;
        p->error_usec = now_real;
}

/* The snapshot of the counts now; for a reset, without the counts it takes away. */
static int snapshot_build(Manager *m, bool reset, bool has_uid, uint32_t uid, uint64_t new_since_usec,
                          uint64_t now, StateSnapshot *ret) {
        _cleanup_(freep) UserCount *u = NULL;
        int64_t offset = manager_realtime_offset(m);
        struct exec_stats stats;
        StateEntry *entries;
        size_t n, k = 0;
        int r;

        r = counts_read_all(probe_get_counts_fd(m->probe), probe_get_max_uids(m->probe), &u, &n);
        if (r >= 0)
                r = manager_read_stats(m, &stats);
        if (r < 0)
                return r;
        entries = calloc(n ? n : 1, sizeof(*entries));
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (reset && (!has_uid || u[i].uid == uid))
                        continue;
                entries[k++] = (StateEntry) {
                        .uid = u[i].uid,
                        .execs = u[i].execs,
                        .failed = u[i].failed,
                        .last_exec_usec = persist_last_exec_usec(&m->persist, &u[i], offset),
                };
        }
        *ret = (StateSnapshot) {
                .since_usec = reset && !has_uid ? new_since_usec : m->since_usec,
                .saved_usec = now,
                .map_full_execs = reset && !has_uid ? 0 : stats.map_full_execs,
                .map_full_failed = reset && !has_uid ? 0 : stats.map_full_failed,
                .counts_map_id = probe_get_counts_map_id(m->probe),
                .n = k,
                .entries = entries,
        };
        memcpy(ret->boot_id, m->boot_id, sizeof(ret->boot_id));
        return 0;
}

static int snapshot_write(Manager *m, bool reset, bool has_uid, uint32_t uid, uint64_t new_since_usec) {
        _cleanup_(state_snapshot_done) StateSnapshot s = {};
        uint64_t now = now_usec(CLOCK_REALTIME);
        int r;

        if (!persist_enabled(&m->persist))
                return 0;
        /* Whether or not the file can be written, the pinned counts are current now: the
         * same time as the file's, which is then not newer than the pins. */
        r = probe_mark_kept(m->probe, now);
        if (r < 0)
                log_debug_errno(r, "Failed to note in the pinned bookkeeping that the counts are current: %m");
        r = snapshot_build(m, reset, has_uid, uid, new_since_usec, now, &s);
        if (r >= 0)
                r = state_save(m->persist.dir_fd, &s);
        record_outcome(&m->persist, r, now);
        return r;
}

int persist_save(Manager *m) {
        return snapshot_write(m, false, false, 0, 0);
}

int persist_save_reset(Manager *m, bool has_uid, uint32_t uid, uint64_t new_since_usec) {
        return snapshot_write(m, true, has_uid, uid, new_since_usec);
}
