/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager.c: the daemon's life cycle: start, reload, stop. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager-internal.h"
#include "message-ids.h"
#include "methods.h"
#include "mounts.h"
#include "persist.h"
#include "settings.h"
#include "startstop.h"
#include "time-util.h"

/* Loads files and overrides into *ret. On failure, *ret_error says why (NULL for OOM). */
static int manager_load_config(Manager *m, Config *ret, char **ret_error) {
        Config c;
        int r;

        *ret_error = NULL;
        r = config_load(m->config_path, &c, ret_error);
        if (r < 0)
                return r;
        r = config_apply_overrides(&c, &m->overrides);
        if (r < 0) {
                config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

int manager_new(const char *config_path, const ConfigOverrides *overrides, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(freep) char *error = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();
        m->persist = (Persist) { .dir_fd = -EBADF };
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

        r = manager_load_config(m, &m->config, &error);
        if (r < 0) {
                LogField f[] = { { "CONFIG_ERROR", error ?: "out of memory" } };

                return log_struct_errno(LOG_ERR, r, MESSAGE_ID_START_FAILED, f, ELEMENTSOF(f),
                                        "Invalid configuration, not starting: %s", f[0].value);
        }
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
        monitor_free(m->monitor);
        machines_free(m->machines);
        server_free(m->server); /* the streams go with their connections */
        watchers_free(m->watchers);
        drain_free(m->drain);
        exec_log_free(m->exec_log);
        history_free(m->history);
        persist_done(&m->persist);
        tally_free(m->tally);
        probe_free(m->probe);
        probe_report_done(&m->probe_report);
        links_done(&m->stored_links);
        config_done(&m->config);
        free(m->overrides_socket_path);
        free(m->config_path);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        const char *abbrev = sigabbrev_np((int) si->ssi_signo), *what;
        char name[32];
        int r;

        snprintf(name, sizeof(name), "SIG%s", abbrev ?: "?");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");

        r = probe_detach(m->probe);
        if (r < 0)
                log_warning_errno(r, "Failed to unpin the probes, they stay attached: %m");
        what = stop_outcome(m->probe, persist_enabled(&m->persist));

        LogField f[] = { { "SIGNAL", name } };
        log_struct(LOG_INFO, MESSAGE_ID_STOPPING, f, ELEMENTSOF(f), "Received %s, stopping: %s.", name, what);
        return sd_event_exit(m->event, 0);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata, NULL);
        return 0;
}

/* A signal's source, named, and owned by the loop. */
static int add_signal(Manager *m, int sig, sd_event_signal_handler_t handler, const char *name) {
        sd_event_source *source;
        int r;

        r = sd_event_add_signal(m->event, &source, sig | SD_EVENT_SIGNAL_PROCMASK, handler, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(source, name);
        r = sd_event_source_set_floating(source, true);
        sd_event_source_unref(source);
        return r;
}

uint64_t manager_flush_interval(const Manager *m, const Config *c) {
        /* Nobody waits for single events: the history is brought up to date when asked
         * for, and the loop wakes a few times a second less. */
        if ((!m->watchers || watchers_count(m->watchers) == 0) && !c->log_execs)
                return MAX(c->flush_interval_usec, UNWATCHED_FLUSH_USEC);
        return c->flush_interval_usec;
}

/* Tells the programs their tunables under c, and the drain how often to read events. */
static int apply_flush_interval(Manager *m, const Config *c) {
        ProbeOptions tunables = {
                .wakeup_interval_usec = manager_flush_interval(m, c),
                .failed_rate_interval_usec = c->failed_rate_interval_usec,
                .failed_rate_burst = c->failed_rate_burst,
                .argv = c->capture_argv,
        };
        int r;

        r = probe_set_tunables(m->probe, &tunables);
        if (r < 0)
                return r;
        drain_set_interval(m->drain, tunables.wakeup_interval_usec);
        return 0;
}

/* The first Watch stream started or the last ended: how often events are read changes.
 * Only then: setting the interval again restarts the drain timer, and a stream opened and
 * closed over and over beside another would keep it from ever firing. */
static void on_watching(bool any, void *userdata) {
        Manager *m = userdata;

        /* manager_flush_interval() tells from the streams whether any are left. */
        if (m->probe && m->drain && apply_flush_interval(m, &m->config) < 0)
                log_warning("Failed to change how often events are read; they may come late.");
}

ProbeOptions manager_probe_options(Manager *m) {
        return (ProbeOptions) {
                .mode = m->config.probe_mode,
                .max_uids = m->config.max_uids,
                .ring_buffer_size = m->config.ring_buffer_size,
                .wakeup_interval_usec = manager_flush_interval(m, &m->config),
                .failed_rate_interval_usec = m->config.failed_rate_interval_usec,
                .failed_rate_burst = m->config.failed_rate_burst,
                .argv = m->config.capture_argv,
                .pin_dir = isempty(m->config.pin_dir) ? NULL : m->config.pin_dir,
                .fdstore = m->fdstore,
                .stored_links = &m->stored_links,
                .restore = persist_restore,
                .choose = persist_choose,
                .userdata = &m->persist,
        };
}

int manager_start(Manager *m, int listen_fd) {
        MountResult mounts[MOUNTS_MAX];
        ProbeOptions opts = manager_probe_options(m);
        Probe *probe;
        int r, n;

        n = mounts_ensure(mounts);
        for (int i = 0; i < n; i++) {
                if (mounts[i].result > 0)
                        log_info("Mounted %s on %s, which was missing.", mounts[i].fstype, mounts[i].path);
                else if (mounts[i].result < 0)
                        log_warning_errno(mounts[i].result, "%s is not mounted on %s and mounting it failed: %m",
                                          mounts[i].fstype, mounts[i].path);
        }

        persist_open(&m->persist, m->config.state_dir);
        probe_setup_libbpf_logging();
        r = probe_new(&opts, &m->probe_report, &probe);
        if (r == -EBUSY)
                return log_error_errno(r, "Another execcountd uses the pins in %s; stop it first, or give this "
                                       "one another PinDirectory=.", opts.pin_dir);
        if (r < 0) {
                log_probe_failure(&m->probe_report, opts.mode, r);
                return r;
        }
        log_pins(&m->probe_report);
        return manager_start_with_probe(m, listen_fd, probe);
}

int manager_start_with_probe(Manager *m, int listen_fd, Probe *probe) {
        int r;

        m->probe = probe;
        /* The bookkeeping kept with the counts: since when they run, the reset baseline. */
        r = tally_new(m->probe, &m->tally);
        if (r < 0)
                return log_error_errno(r, "Failed to read the counts' bookkeeping: %m");
        /* The service's sandbox hides /proc/sys: systemd passes it (--boot-id=%b). */
        if (!m->has_boot_id) {
                r = state_read_boot_id(m->boot_id);
                if (r < 0)
                        log_warning_errno(r, "Failed to read the kernel's boot ID; status shows it as zeros (pass "
                                          "--boot-id=): %m");
        }
        /* This daemon vouches for the counts from now on. */
        r = tally_mark_kept(m->tally, now_usec(CLOCK_REALTIME));
        if (r < 0)
                log_debug_errno(r, "Failed to note in the pinned bookkeeping that the counts are current: %m");
        r = persist_start(&m->persist, m->event, m->tally, m->boot_id, m->config.snapshot_interval_usec);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the snapshots: %m");

        r = history_new(m->config.history_size, &m->history);
        if (r < 0)
                return log_oom();
        r = exec_log_new(&m->exec_log);
        if (r < 0)
                return log_oom();
        settings_configure_exec_log(m->exec_log, &m->config);

        r = watchers_new(on_watching, m, &m->watchers);
        if (r < 0)
                return log_oom();
        r = drain_new(m->event, probe_get_events_fd(m->probe), manager_flush_interval(m, &m->config),
                      manager_on_record, manager_on_drain_polling, manager_on_drain_read, m, &m->drain);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the event ring buffer: %m");

        m->has_access_gid = settings_access_gid(m->config.access_group, &m->access_gid) > 0;
        m->denials = (RateLimit) { .interval_usec = 10 * USEC_PER_SEC, .burst = 10 };
        ServerLimits limits = settings_server_limits(&m->config);
        ServerCallbacks callbacks = {
                .handler = methods_dispatch,
                .privileged = methods_privileged,
                .revoked = methods_revoked,
                .userdata = m,
        };
        r = server_new(m->event, m->config.socket_path, listen_fd, &limits, &callbacks, &m->server);
        if (r == -EADDRINUSE)
                return log_error_errno(r, "Another execcountd is serving %s already.", m->config.socket_path);
        if (r == -EEXIST)
                return log_error_errno(r, "%s exists and is not a socket; remove it or choose another Path=.",
                                       m->config.socket_path);
        if (r < 0)
                return log_error_errno(r, "Failed to serve %s: %m", m->config.socket_path);

        r = add_signal(m, SIGTERM, on_terminate, "sigterm");
        if (r >= 0)
                r = add_signal(m, SIGINT, on_terminate, "sigint");
        if (r >= 0)
                r = add_signal(m, SIGHUP, on_reload, "sighup");
        if (r < 0)
                return log_error_errno(r, "Failed to handle signals: %m");

        m->started_usec = now_usec(CLOCK_REALTIME);
        m->started_monotonic_usec = now_usec(CLOCK_MONOTONIC);

        /* Only a daemon that serves asks the system bus (not --check-config, --forget). */
        r = machines_new(m->event, &m->machines);
        if (r < 0)
                return log_oom();

        r = monitor_new(m->event, m->tally, m->probe, m->exec_log, m->config.summary_interval_usec, &m->monitor);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the periodic checks: %m");

        /* Pings from the loop itself: if it hangs, systemd restarts us (WatchdogSec=). */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the watchdog: %m");

        log_started(m->probe, &m->probe_report, server_path(m->server), listen_fd >= 0, m->persist.did_restore);
        monitor_tick(m->monitor); /* STATUS= before READY=1 */
        (void) sd_notify(false, "READY=1");
        return 0;
}

int manager_run(Manager *m) {
        int r;

        r = sd_event_loop(m->event);
        if (r < 0) {
                (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
                return log_error_errno(r, "Event loop failed: %m");
        }
        /* What the kernel still holds goes to the watchers, as far as their sockets take it. */
        (void) drain_now(m->drain);
        server_flush(m->server);
        /* For a reboot: the pinned counts do not survive it, the state file does. */
        (void) persist_save(&m->persist);
        log_info("Stopped.");
        return r;
}

int manager_reset(Manager *m, bool has_uid, uint32_t uid, bool *ret_not_saved) {
        uint64_t since = now_usec(CLOCK_REALTIME);
        int r, n;

        /* On disk first: a reset that a reboot (after a crash) would undo is not made. */
        *ret_not_saved = false;
        r = persist_save_reset(&m->persist, has_uid, uid, since);
        if (r < 0) {
                *ret_not_saved = true;
                return r;
        }
        n = tally_reset(m->tally, has_uid, uid, since);
        if (n < 0) {
                /* The snapshot says more was reset than was: say what is. */
                (void) persist_save(&m->persist);
                return n;
        }
        monitor_forget(m->monitor, has_uid, uid);
        return n;
}

static int manager_apply(Manager *m, Config *c) {
        int r;

        r = history_set_capacity(m->history, c->history_size);
        if (r < 0)
                return r;
        r = monitor_set_summary_interval(m->monitor, c->summary_interval_usec);
        if (r < 0)
                return r;
        r = persist_set_interval(&m->persist, c->snapshot_interval_usec);
        if (r < 0)
                return r;
        r = apply_flush_interval(m, c);
        if (r < 0)
                return r;
        ServerLimits limits = settings_server_limits(c);
        server_set_limits(m->server, &limits);
        m->has_access_gid = settings_access_gid(c->access_group, &m->access_gid) > 0;
        settings_configure_exec_log(m->exec_log, c);
        log_set_max_level(c->log_level);
        settings_log_restart_only(&m->config, c);

        settings_keep_restart_only(c, &m->config);

        config_done(&m->config);
        m->config = *c;
        *c = (Config) {};
        /* Access is checked again for the clients already connected: one that left the
         * group no longer gets what it would not be given now. Last, with the new
         * configuration in place: a stream that ends calls back into the manager. */
        server_reclassify(m->server);
        return 0;
}

int manager_reload(Manager *m, char **ret_error) {
        _cleanup_(freep) char *error = NULL;
        Config c;
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nSTATUS=Reloading the configuration\nMONOTONIC_USEC=%" PRIu64,
                          now_usec(CLOCK_MONOTONIC));

        r = manager_load_config(m, &c, &error);
        if (r >= 0) {
                r = manager_apply(m, &c);
                config_done(&c);
        }
        if (r < 0) {
                LogField f[] = { { "CONFIG_ERROR", error ?: strerror(-r) } };

                log_struct_errno(LOG_ERR, r, MESSAGE_ID_RELOAD_FAILED, f, ELEMENTSOF(f),
                                 "Reload failed, keeping the configuration in effect: %s", f[0].value);
        } else
                log_struct(LOG_INFO, MESSAGE_ID_RELOADED, NULL, 0, "Configuration reloaded.");

        monitor_tick(m->monitor);
        (void) sd_notify(false, "READY=1");
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(error);
        return r;
}
