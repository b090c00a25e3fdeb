/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager.c: the daemon's life cycle: start, reload, stop. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "counts.h"
#include "log.h"
#include "manager.h"
#include "methods.h"
#include "mounts.h"
#include "time-util.h"

/* Loads files and overrides into *ret; logs why not. */
static int manager_load_config(Manager *m, Config *ret) {
        _cleanup_(freep) char *error = NULL;
        Config c;
        int r;

        r = config_load(m->config_path, &c, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", error ? error : "Failed to load the configuration");
        r = config_apply_overrides(&c, &m->overrides);
        if (r < 0) {
                config_done(&c);
                return log_oom();
        }
        *ret = c;
        return 0;
}

int manager_new(const char *config_path, const ConfigOverrides *overrides, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();
        m->overrides = *overrides;
        m->config_path = strdup(config_path);
        if (!m->config_path)
                return log_oom();
        if (overrides->socket_path) {
                m->overrides_socket_path = strdup(overrides->socket_path);
                if (!m->overrides_socket_path)
                        return log_oom();
                m->overrides.socket_path = m->overrides_socket_path;
        }

        r = manager_load_config(m, &m->config);
        if (r < 0)
                return r;
        log_set_max_level(m->config.log_level);

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        server_free(m->server);
        drain_free(m->drain);
        history_free(m->history);
        probe_free(m->probe);
        probe_report_done(&m->probe_report);
        config_done(&m->config);
        free(m->overrides_socket_path);
        free(m->config_path);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

static void on_record(const void *data, size_t size, void *userdata) {
        Manager *m = userdata;
        ExecEvent *e;
        int r;

        r = exec_event_decode(data, size, realtime_offset_usec(), &e);
        if (r == -ENOMEM) {
                log_oom();
                return;
        }
        if (r < 0) {
                /* Only a mismatched BPF object could send these; say so once in a while. */
                if (m->events_malformed++ % 1000 == 0)
                        log_warning("Dropped a malformed event record of %zu bytes (%" PRIu64 " so far).", size,
                                    m->events_malformed);
                return;
        }

        e->seq = ++m->events_received;
        methods_broadcast_event(m, e);
        history_push(m->history, e);
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received %s, stopping.", strsignal((int) si->ssi_signo));
        return sd_event_exit(m->event, 0);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata);
        return 0;
}

static void log_probe_report(const ProbeReport *report, bool ok) {
        for (int i = 0; i < _PROBE_MODE_MAX; i++) {
                if (!report->rejected[i])
                        continue;
                if (ok)
                        log_info("Probe mode %s rejected: %s.", probe_mode_to_string(i), report->rejected[i]);
                else
                        log_error("Probe mode %s failed: %s.", probe_mode_to_string(i), report->rejected[i]);
        }
        if (ok && report->no_compat)
                log_info("The kernel has no 32-bit compat exec entry points: there are no compat execs to count.");
}

int manager_start(Manager *m, int listen_fd) {
        MountResult mounts[MOUNTS_MAX];
        ProbeOptions opts = {
                .mode = m->config.probe_mode,
                .max_uids = m->config.max_uids,
                .ring_buffer_size = m->config.ring_buffer_size,
                .wakeup_interval_usec = m->config.flush_interval_usec,
        };
        int r, n;

        n = mounts_ensure(mounts);
        for (int i = 0; i < n; i++) {
                if (mounts[i].result > 0)
                        log_info("Mounted %s on %s, which was missing.", mounts[i].fstype, mounts[i].path);
                else if (mounts[i].result < 0)
                        log_warning_errno(mounts[i].result, "%s is not mounted on %s and mounting it failed: %m",
                                          mounts[i].fstype, mounts[i].path);
        }

        probe_setup_libbpf_logging();
        r = probe_new(&opts, &m->probe_report, &m->probe);
        log_probe_report(&m->probe_report, r >= 0);
        if (r < 0) {
                if (opts.mode == PROBE_AUTO)
                        return log_error_errno(r, "No probe mode works on this kernel.");
                return log_error_errno(r, "Probe mode %s does not work on this kernel; Mode=auto picks one that does.",
                                       probe_mode_to_string(opts.mode));
        }

        r = history_new(m->config.history_size, &m->history);
        if (r < 0)
                return log_oom();

        r = drain_new(m->event, probe_get_events_fd(m->probe), m->config.flush_interval_usec, on_record, m,
                      &m->drain);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the event ring buffer: %m");

        r = server_new(m->event, m->config.socket_path, listen_fd, NULL, methods_dispatch, m, &m->server);
        if (r == -EADDRINUSE)
                return log_error_errno(r, "Another execcountd is serving %s already.", m->config.socket_path);
        if (r == -EEXIST)
                return log_error_errno(r, "%s exists and is not a socket; remove it or choose another Path=.",
                                       m->config.socket_path);
        if (r < 0)
                return log_error_errno(r, "Failed to serve %s: %m", m->config.socket_path);

        r = sd_event_add_signal(m->event, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP | SD_EVENT_SIGNAL_PROCMASK, on_reload, m);
        if (r < 0)
                return log_error_errno(r, "Failed to handle signals: %m");

        m->started_usec = m->since_usec = now_usec(CLOCK_REALTIME);
        m->started_monotonic_usec = now_usec(CLOCK_MONOTONIC);

        log_info("execcountd %s started: counting execs with the %s probes; serving %s.", PROJECT_VERSION,
                 probe_mode_to_string(probe_get_mode(m->probe)), m->config.socket_path);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Counting execs (%s probes)",
                          probe_mode_to_string(probe_get_mode(m->probe)));
        return 0;
}

int manager_run(Manager *m) {
        int r;

        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        /* What the kernel still holds goes to the watchers, as far as their sockets take it. */
        (void) drain_now(m->drain);
        server_flush(m->server);
        log_info("Stopped.");
        return r;
}

int manager_read_stats(Manager *m, struct exec_stats *ret) {
        struct exec_stats s;
        int r;

        r = counts_read_stats(probe_get_stats_fd(m->probe), &s);
        if (r < 0)
                return r;
        s.map_full_execs -= m->stats_at_reset.map_full_execs;
        s.map_full_failed -= m->stats_at_reset.map_full_failed;
        *ret = s;
        return 0;
}

int manager_reset_all(Manager *m) {
        struct exec_stats s;
        int r, n;

        r = counts_read_stats(probe_get_stats_fd(m->probe), &s);
        if (r < 0)
                return r;
        n = counts_reset_all(probe_get_counts_fd(m->probe), probe_get_max_uids(m->probe));
        if (n < 0)
                return n;
        m->stats_at_reset = s;
        m->since_usec = now_usec(CLOCK_REALTIME);
        return n;
}

/* Settings that only take effect when the BPF maps or the socket are made again. */
static void log_restart_only(const Config *old, const Config *new) {
        if (old->probe_mode != new->probe_mode)
                log_notice("[Probe] Mode= changed from %s to %s: takes effect at the next start.",
                           probe_mode_to_string(old->probe_mode), probe_mode_to_string(new->probe_mode));
        if (old->max_uids != new->max_uids)
                log_notice("[Counts] MaxUIDs= changed from %u to %u: takes effect at the next start.", old->max_uids,
                           new->max_uids);
        if (old->ring_buffer_size != new->ring_buffer_size)
                log_notice("[Events] RingBufferSize= changed from %u to %u: takes effect at the next start.",
                           old->ring_buffer_size, new->ring_buffer_size);
        if (!streq(old->socket_path, new->socket_path))
                log_notice("[Socket] Path= changed from %s to %s: takes effect at the next start.", old->socket_path,
                           new->socket_path);
}

int manager_reload(Manager *m) {
        Config c;
        int r;

        r = manager_load_config(m, &c);
        if (r < 0) {
                log_warning("Reload failed, keeping the configuration in effect.");
                return r;
        }

        r = history_set_capacity(m->history, c.history_size);
        if (r < 0) {
                config_done(&c);
                log_oom();
                log_warning("Reload failed, keeping the configuration in effect.");
                return r;
        }
        probe_set_wakeup_interval(m->probe, c.flush_interval_usec);
        drain_set_interval(m->drain, c.flush_interval_usec);
        log_set_max_level(c.log_level);
        log_restart_only(&m->config, &c);

        /* Keep what is really in effect for the restart-only settings. */
        c.probe_mode = m->config.probe_mode;
        c.max_uids = m->config.max_uids;
        c.ring_buffer_size = m->config.ring_buffer_size;
        free(c.socket_path);
        c.socket_path = TAKE_PTR(m->config.socket_path);

        config_done(&m->config);
        m->config = c;
        log_info("Configuration reloaded.");
        return 0;
}
