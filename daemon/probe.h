/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.h: choosing a probe mode, loading the BPF programs of that mode and attaching them,
 * or taking over the ones an earlier daemon left pinned. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "counts.h"
#include "execcount.h"
#include "links.h"
#include "macro.h"

/* Fills freshly made maps (no counts kept anywhere in the kernel): called after loading,
 * before attaching, with the counts maps and the stats, attribution and meta maps. */
typedef int (*ProbeRestoreFn)(CountsMaps maps, int stats_fd, int attribution_fd, int meta_fd, void *userdata);
/* Pinned counts that no probes count into any more (meta: their bookkeeping;
 * counts_map_id: the kernel's ID of their map) may be older than what restore() would
 * fill fresh maps with: returns 1 to have them replaced, 0 to keep them, and why, in
 * *ret_reason, whenever the two disagree. */
typedef int (*ProbeChooseFn)(const struct exec_meta *meta, uint32_t counts_map_id, char **ret_reason, void *userdata);

typedef struct ProbeOptions {
        ProbeMode mode; /* PROBE_AUTO tries fentry, kprobe, tracepoint in turn */
        uint32_t max_uids;
        uint32_t ring_buffer_size;
        uint64_t wakeup_interval_usec; /* 0: wake the reader for every event */
        /* Per UID, events of failed execs: at most burst per interval (0: no limit). */
        uint64_t failed_rate_interval_usec;
        uint32_t failed_rate_burst;
        bool argv; /* events carry the arguments (CaptureArgv=yes) */
        const char *pin_dir; /* NULL: nothing survives the daemon */
        /* Keep the links in systemd's fd store rather than pinning them. */
        bool fdstore;
        /* Links systemd passed back from the fd store; probe_new() takes them over. */
        Links *stored_links;
        ProbeRestoreFn restore;
        ProbeChooseFn choose;
        void *userdata;
} ProbeOptions;

/* Where the counts the probe starts with come from. */
typedef enum ProbeOrigin {
        PROBE_ORIGIN_FRESH, /* new maps (restore() filled them, or nothing was kept) */
        PROBE_ORIGIN_PINNED_MAPS, /* maps kept pinned while no probes were attached */
        PROBE_ORIGIN_MIGRATED, /* counts copied from pinned maps of another size */
        PROBE_ORIGIN_RUNNING, /* an earlier daemon's probes, still attached and counting */
        _PROBE_ORIGIN_MAX,
} ProbeOrigin;

const char *probe_origin_to_string(ProbeOrigin o);

/* Why each mode that was tried did not work, and what happened to pinned objects. */
typedef struct ProbeReport {
        char *rejected[_PROBE_MODE_MAX]; /* NULL for modes not tried */
        /* Set when the kernel has no 32-bit compat exec entry points to hook. */
        bool no_compat;
        /* Set when pinned probes had to be detached to attach new ones: execs between the
         * two were not counted. Says why. */
        char *replaced;
        /* Set when pinning failed: nothing will survive this daemon. Says why. */
        char *pin_error;
        /* Set when the links could not be kept (pinned or stored): the counts survive the
         * daemon, counting between two daemons does not. Says why. */
        char *keep_error;
        /* Set when pinned counts could not be used and were dropped. Says why. */
        char *counts_discarded;
        /* Set when pinned privileged counts belonged to other counts than the pinned ones,
         * and were dropped. */
        bool privileged_discarded;
        /* The same for the pinned login counts. */
        bool logins_discarded;
        /* Set when choose() weighed pinned counts against the state file and they
         * disagreed: says which won and why; state_preferred when the state file did. */
        char *state_choice;
        bool state_preferred;
        /* Set when links left in a pin directory that is not used were let go of. */
        int stale_links_dropped;
} ProbeReport;

void probe_report_done(ProbeReport *r);

typedef struct Probe Probe;

/* Takes over pinned probes when they fit opts, else loads and attaches (reusing pinned
 * maps that fit), then pins what it made. Fills *report whether or not it succeeds (the
 * caller logs it and frees it with probe_report_done()). Fails with -EBUSY when another
 * process holds the pin directory (see pins_lock()), else with the error of the last
 * mode tried. */
int probe_new(const ProbeOptions *opts, ProbeReport *report, Probe **ret);
/* The maps only, made fresh, with no program loaded: nothing counts into them. For tests
 * and fuzzing of everything that reads and changes the maps, with real maps. */
int probe_new_unattached(const ProbeOptions *opts, Probe **ret);
/* Closes the daemon's handles. Pinned probes stay attached. */
Probe *probe_free(Probe *p);
DEFINE_POINTER_CLEANUP(Probe, probe_free);

/* For a stop: lets go of pinned links, so that the programs detach when the daemon closes
 * its handles. Links in systemd's fd store are systemd's to close (it does at a stop, not
 * at a restart). Maps stay pinned, counts with them. Returns how many links it let go. */
int probe_detach(Probe *p);
/* Whether the links live in systemd's fd store. */
bool probe_links_in_fdstore(const Probe *p);

ProbeMode probe_get_mode(const Probe *p);
ProbeOrigin probe_get_origin(const Probe *p);
/* Whether the maps and probes are pinned, to outlive the daemon. */
bool probe_is_pinned(const Probe *p);
int probe_get_counts_fd(const Probe *p);
/* The counts map and the privileged and logins maps beside it. */
CountsMaps probe_get_counts_maps(const Probe *p);
int probe_get_stats_fd(const Probe *p);
int probe_get_events_fd(const Probe *p);
/* The per-CPU statistics of the attribution maps (struct exec_attribution_stats). */
int probe_get_attribution_fd(const Probe *p);
/* The per-(cgroup, UID) counts and the cgroups' names (struct exec_unit_key,
 * struct exec_cgroup_name). */
int probe_get_units_fd(const Probe *p);
int probe_get_cgroup_names_fd(const Probe *p);
int probe_get_unit_slots_fd(const Probe *p);
uint32_t probe_get_max_uids(const Probe *p);
uint32_t probe_get_ring_buffer_size(const Probe *p);
/* Runs of the programs the kernel skipped because the same program was already running on
 * that CPU (bpf_prog_info.recursion_misses): each may be an exec missing from the counts.
 * 0 for probes taken over from an earlier daemon. */
int probe_read_misses(const Probe *p, uint64_t *ret);
/* The settings the programs read as they run: wakeup interval, failed-exec event limit. */
int probe_set_tunables(Probe *p, const ProbeOptions *opts);
/* Until when (CLOCK_BOOTTIME, ns; 0: no longer) the daemon drains the events on its own
 * timer: the programs then wake it only for a backlog. */
int probe_set_reader_polling(Probe *p, uint64_t until_boot_ns);
/* Freezes the unit slots (see struct exec_unit_slot) and waits until every program that
 * may have seen them unfrozen is done: then only the daemon changes them, until it thaws
 * them. */
int probe_freeze_unit_slots(Probe *p);
int probe_thaw_unit_slots(Probe *p);
/* The daemon's bookkeeping kept next to the counts. */
int probe_read_meta(const Probe *p, struct exec_meta *ret);
int probe_write_meta(Probe *p, const struct exec_meta *meta);
/* Notes in the bookkeeping that the counts were current at usec (CLOCK_REALTIME). */
int probe_mark_kept(Probe *p, uint64_t usec);
/* The kernel's ID of the counts map: the same while it lives, pinned or not. */
uint32_t probe_get_counts_map_id(const Probe *p);

/* Routes libbpf's messages into log.h; call once before probe_new(). */
void probe_setup_libbpf_logging(void);
