/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager.h: the daemon's state, and its life cycle: start, reload, stop. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "drain.h"
#include "event.h"
#include "execlog.h"
#include "history.h"
#include "machines.h"
#include "macro.h"
#include "monitor.h"
#include "persist.h"
#include "probe.h"
#include "ratelimit.h"
#include "server.h"
#include "tally.h"
#include "watch.h"

typedef struct Manager Manager;

struct Manager {
        sd_event *event;
        char *config_path;
        ConfigOverrides overrides;
        char *overrides_socket_path; /* owns overrides.socket_path */
        Config config; /* in effect */

        Probe *probe;
        ProbeReport probe_report;
        Tally *tally; /* the counts as clients see them */
        Drain *drain;
        History *history;
        ExecLog *exec_log;
        Server *server;
        Watchers *watchers; /* the Watch streams of the server's clients */
        Monitor *monitor;
        Machines *machines; /* systemd-machined's, by unit */

        uint64_t started_usec; /* CLOCK_REALTIME */
        uint64_t started_monotonic_usec;
        uint64_t events_received; /* also the last event's seq */
        uint64_t events_malformed;
        Persist persist;
        uint8_t boot_id[16];
        bool has_boot_id; /* given (--boot-id): not read from /proc */
        int64_t event_offset; /* the one events use, read at event_offset_read_usec */
        uint64_t event_offset_read_usec; /* CLOCK_MONOTONIC_COARSE */
        /* Links systemd passed back from its fd store, until the probes take them; and
         * whether to keep links there (--fdstore) rather than pinned. */
        Links stored_links;
        bool fdstore;
        /* [Access] Group= as resolved at start or the last reload. */
        bool has_access_gid;
        gid_t access_gid;
        RateLimit denials; /* how many refused calls are logged */
};

/* Loads the configuration; fails with a message already logged. */
int manager_new(const char *config_path, const ConfigOverrides *overrides, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_POINTER_CLEANUP(Manager, manager_free);

/* Attaches the probes and serves the socket (listen_fd >= 0: an inherited socket). */
int manager_start(Manager *m, int listen_fd);
/* The same with probes the caller made (tests and fuzzing: maps without programs), which
 * the manager takes over, also on failure. */
int manager_start_with_probe(Manager *m, int listen_fd, Probe *probe);
/* The options the configuration in effect asks of the probes. */
ProbeOptions manager_probe_options(Manager *m);
/* Runs until SIGTERM or SIGINT; returns the exit status. */
int manager_run(Manager *m);
/* Rereads the configuration; on error keeps the old one, logs why and returns < 0, with
 * the reason in *ret_error if given (NULL when out of memory). */
int manager_reload(Manager *m, char **ret_error);

/* How often events are read while nobody watches them (no Watch client, no LogExecs=):
 * GetEvents reads the ring first, so only the ring's size bounds this. */
#define UNWATCHED_FLUSH_USEC (1000 * 1000ull)
/* The flush interval in effect under c: FlushIntervalSec= while someone waits for single
 * events, else at least UNWATCHED_FLUSH_USEC. */
uint64_t manager_flush_interval(const Manager *m, const Config *c);

/* Forgets one UID's counts (has_uid), returning 1 if it had some and 0 if not; or every
 * UID's, returning how many had some. The snapshot the reset leaves is written first:
 * when that fails (*ret_not_saved), nothing is reset. */
int manager_reset(Manager *m, bool has_uid, uint32_t uid, bool *ret_not_saved);
