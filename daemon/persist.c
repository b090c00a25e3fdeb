/* SPDX-License-Identifier: GPL-2.0-or-later */
/* persist.c: keeping the counts across a reboot, with snapshots of the tally in the state
 * directory. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "counts.h"
#include "log.h"
#include "message-ids.h"
#include "persist.h"
#include "time-util.h"

/* While snapshots keep failing, the warning is repeated this often. */
#define PERSIST_WARN_INTERVAL_USEC (3600 * USEC_PER_SEC)

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

void persist_done(Persist *p) {
        state_snapshot_done(&p->found);
        sd_event_source_disable_unref(p->timer);
        safe_close(p->dir_fd);
        free(p->dir);
        free(p->dir_error);
        *p = (Persist) { .dir_fd = -EBADF };
}

bool persist_enabled(const Persist *p) {
        return p->dir_fd >= 0;
}

/* Writes the saved map-full totals into the per-CPU stats as if CPU 0 had counted them. */
static int restore_stats(int stats_fd, int attribution_fd, const StateSnapshot *s) {
        int n_cpus = libbpf_num_possible_cpus();
        _cleanup_(freep) struct exec_stats *v = NULL;
        _cleanup_(freep) struct exec_attribution_stats *a = NULL;
        uint32_t zero = 0;

        if (n_cpus < 0)
                return n_cpus;
        v = calloc(n_cpus, sizeof(*v));
        a = calloc(n_cpus, sizeof(*a));
        if (!v || !a)
                return -ENOMEM;
        v[0].map_full_execs = s->map_full_execs;
        v[0].map_full_failed = s->map_full_failed;
        a[0].logins_full = s->logins_full;
        a[0].units_full_execs = s->units_full_execs;
        a[0].units_full_failed = s->units_full_failed;
        a[0].names_full = s->names_full;
        if (bpf_map_update_elem(stats_fd, &zero, v, BPF_ANY) < 0)
                return negative_errno();
        return bpf_map_update_elem(attribution_fd, &zero, a, BPF_ANY) < 0 ? negative_errno() : 0;
}

static int restore_logins(CountsMaps maps, const StateSnapshot *s, size_t *ret_dropped) {
        _cleanup_(freep) LoginCount *l = calloc(s->n_logins ? s->n_logins : 1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_logins; i++)
                l[i] = (LoginCount) { .login_uid = s->logins[i].login_uid, .uid = s->logins[i].uid,
                                      .execs = s->logins[i].execs };
        return counts_write_logins(maps, l, s->n_logins, ret_dropped);
}

int persist_restore(CountsMaps maps, int stats_fd, int attribution_fd, int meta_fd, void *userdata) {
        Persist *p = userdata;
        const StateSnapshot *s = &p->found;
        _cleanup_(freep) UserCount *u = NULL;
        struct exec_meta meta = { .since_usec = now_usec(CLOCK_REALTIME) };
        char boot[33], when[FORMAT_TIMESTAMP_MAX], n_uids[24];
        uint32_t zero = 0;
        size_t dropped, dropped_logins = 0;
        int r;

        if (p->found_ok) {
                u = calloc(s->n ? s->n : 1, sizeof(*u));
                if (!u)
                        return -ENOMEM;
                /* Last-exec times from an earlier boot are kept aside: the kernel's clock
                 * started again. */
                for (size_t i = 0; i < s->n; i++)
                        u[i] = (UserCount) { .uid = s->entries[i].uid, .execs = s->entries[i].execs,
                                             .failed = s->entries[i].failed,
                                             .privileged = s->entries[i].privileged };
                r = counts_write(maps, u, s->n, &dropped);
                if (r >= 0)
                        r = restore_logins(maps, s, &dropped_logins);
                if (r >= 0)
                        r = restore_stats(stats_fd, attribution_fd, s);
                if (r < 0)
                        return r;
                if (dropped > 0)
                        log_warning("%zu UIDs of the state file did not fit into the map (MaxUIDs=%u); "
                                    "their counts are lost.",
                                    dropped, maps.capacity);
                if (dropped_logins > 0)
                        log_warning("%zu login pairs of the state file did not fit into the map (MaxUIDs=%u); "
                                    "their counts are lost.",
                                    dropped_logins, maps.capacity);
                meta.since_usec = s->since_usec;
                p->did_restore = true;

                snprintf(n_uids, sizeof(n_uids), "%zu", s->n);
                LogField f[] = { { "STATE_UIDS", n_uids }, { "STATE_BOOT_ID", state_format_boot_id(s->boot_id, boot) } };
                log_struct(LOG_INFO, MESSAGE_ID_STATE_RESTORED, f, ELEMENTSOF(f),
                           "Restored the counts of %zu UIDs from the state file written at %s; execs after "
                           "that and before this start were not counted.",
                           s->n, format_timestamp(when, s->saved_usec));
        }

        /* The counts run since the last full reset, or since now. */
        meta.kept_usec = now_usec(CLOCK_REALTIME);
        return bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) < 0 ? negative_errno() : 0;
}

int persist_choose(const struct exec_meta *meta, uint32_t counts_map_id, char **ret_reason, void *userdata) {
        Persist *p = userdata;
        const StateSnapshot *s = &p->found;
        char saved[FORMAT_TIMESTAMP_MAX], kept[FORMAT_TIMESTAMP_MAX];

        *ret_reason = NULL;
        if (!p->found_ok)
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
static int snapshot_build(Persist *p, bool reset, bool has_uid, uint32_t uid, uint64_t new_since_usec,
                          uint64_t now, StateSnapshot *ret) {
        _cleanup_(freep) TallyEntry *u = NULL;
        _cleanup_(freep) LoginCount *l = NULL;
        _cleanup_(freep) StateEntry *entries = NULL;
        _cleanup_(freep) StateLogin *logins = NULL;
        struct exec_attribution_stats attribution;
        struct exec_stats stats;
        StateUnit *units = NULL;
        size_t n, n_logins, n_units = 0, k = 0, k_logins = 0;
        bool all = reset && !has_uid;
        int r;

        r = tally_read_all(p->tally, &u, &n);
        if (r >= 0)
                r = tally_read_logins(p->tally, NULL, NULL, &l, &n_logins, NULL);
        if (r >= 0)
                r = tally_read_stats(p->tally, &stats);
        if (r >= 0)
                r = tally_read_attribution(p->tally, &attribution);
        if (r >= 0)
                r = tally_units_snapshot(p->tally, all, reset && has_uid, uid, &units, &n_units);
        if (r < 0)
                return r;
        ret->units = units;
        ret->n_units = n_units;
        entries = calloc(n ? n : 1, sizeof(*entries));
        logins = calloc(n_logins ? n_logins : 1, sizeof(*logins));
        if (!entries || !logins)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (reset && (!has_uid || u[i].uid == uid))
                        continue;
                entries[k++] = (StateEntry) {
                        .uid = u[i].uid,
                        .execs = u[i].execs,
                        .failed = u[i].failed,
                        .last_exec_usec = u[i].last_exec_usec,
                        .privileged = u[i].privileged,
                };
        }
        for (size_t i = 0; i < n_logins; i++) {
                if (reset && (!has_uid || l[i].uid == uid))
                        continue;
                logins[k_logins++] = (StateLogin) { .login_uid = l[i].login_uid, .uid = l[i].uid,
                                                    .execs = l[i].execs };
        }
        *ret = (StateSnapshot) {
                .units = units,
                .n_units = n_units,
                .units_full_execs = all ? 0 : attribution.units_full_execs,
                .units_full_failed = all ? 0 : attribution.units_full_failed,
                .names_full = all ? 0 : attribution.names_full,
                .since_usec = all ? new_since_usec : tally_since_usec(p->tally),
                .saved_usec = now,
                .map_full_execs = all ? 0 : stats.map_full_execs,
                .map_full_failed = all ? 0 : stats.map_full_failed,
                .counts_map_id = tally_map_id(p->tally),
                .n = k,
                .entries = TAKE_PTR(entries),
                .logins_full = all ? 0 : attribution.logins_full,
                .n_logins = k_logins,
                .logins = TAKE_PTR(logins),
        };
        memcpy(ret->boot_id, p->boot_id, sizeof(ret->boot_id));
        return 0;
}

static int snapshot_write(Persist *p, bool reset, bool has_uid, uint32_t uid, uint64_t new_since_usec) {
        _cleanup_(state_snapshot_done) StateSnapshot s = {};
        uint64_t now = now_usec(CLOCK_REALTIME);
        int r;

        if (!p->tally)
                return 0;
        if (!persist_enabled(p)) {
                /* Nothing is kept on disk: ended cgroups are folded all the same, so that
                 * the kernel's map keeps room. */
                if (!reset && tally_units_snapshot(p->tally, false, false, 0, &s.units, &s.n_units) >= 0)
                        (void) tally_units_fold(p->tally, s.units, s.n_units);
                return 0;
        }
        /* Whether or not the file can be written, the pinned counts are current now: the
         * same time as the file's, which is then not newer than the pins. */
        r = tally_mark_kept(p->tally, now);
        if (r < 0)
                log_debug_errno(r, "Failed to note in the pinned bookkeeping that the counts are current: %m");
        r = snapshot_build(p, reset, has_uid, uid, new_since_usec, now, &s);
        if (r >= 0)
                r = state_save(p->dir_fd, &s);
        record_outcome(p, r, now);
        /* Only once the file holds them may ended cgroups leave the kernel's map: a crash
         * after this finds them in the file, not in the pins, and adds them. */
        if (r >= 0 && !reset) {
                int q = tally_units_fold(p->tally, s.units, s.n_units);

                if (q < 0)
                        log_warning_errno(q, "Failed to fold the counts of ended cgroups into their units: %m");
        }
        return r;
}

int persist_save(Persist *p) {
        return snapshot_write(p, false, false, 0, 0);
}

int persist_save_reset(Persist *p, bool has_uid, uint32_t uid, uint64_t new_since_usec) {
        return snapshot_write(p, true, has_uid, uid, new_since_usec);
}

static int on_snapshot(sd_event_source *source, uint64_t usec, void *userdata) {
        Persist *p = userdata;

        (void) persist_save(p);
        (void) sd_event_source_set_time_relative(source, p->interval_usec);
        return 0;
}

int persist_set_interval(Persist *p, uint64_t interval_usec) {
        int r;

        if (interval_usec == p->interval_usec)
                return 0;
        p->interval_usec = interval_usec;
        if (interval_usec == 0)
                return sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
        r = sd_event_source_set_time_relative(p->timer, interval_usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(p->timer, SD_EVENT_ON);
}

int persist_start(Persist *p, sd_event *e, Tally *tally, const uint8_t boot_id[16], uint64_t interval_usec) {
        int r;

        p->tally = tally;
        memcpy(p->boot_id, boot_id, sizeof(p->boot_id));
        /* Whether the counts came from the file or from the pins, the file still knows the
         * last execs of UIDs that made none since. */
        if (p->found_ok) {
                r = tally_units_restore(tally, p->found.units, p->found.n_units);
                if (r < 0)
                        log_warning_errno(r, "Failed to take the per-unit counts of the state file: %m");
                tally_keep_times(tally, TAKE_PTR(p->found.entries), p->found.n);
                p->found.n = 0;
        }
        state_snapshot_done(&p->found);
        p->found_ok = false;

        r = sd_event_add_time_relative(e, &p->timer, CLOCK_MONOTONIC, USEC_PER_SEC, USEC_PER_SEC, on_snapshot, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(p->timer, "snapshot");
        r = sd_event_source_set_enabled(p->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        return persist_set_interval(p, interval_usec);
}
