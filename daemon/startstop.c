/* SPDX-License-Identifier: GPL-2.0-or-later */
/* startstop.c: what the daemon tells the journal when it starts, fails to, and stops. */

#include <stdio.h>

#include "log.h"
#include "message-ids.h"
#include "startstop.h"

/* Fields naming the rejected modes: PROBE_REJECTED=mode: reason, one per mode. */
static size_t rejected_fields(const ProbeReport *report, char lines[][512], LogField *f) {
        size_t n = 0;

        for (int i = 0; i < _PROBE_MODE_MAX; i++) {
                if (!report->rejected[i])
                        continue;
                snprintf(lines[n], 512, "%s: %s", probe_mode_to_string(i), report->rejected[i]);
                f[n] = (LogField) { "PROBE_REJECTED", lines[n] };
                n++;
        }
        return n;
}

void log_probe_failure(const ProbeReport *report, ProbeMode mode, int error) {
        char lines[_PROBE_MODE_MAX][512];
        LogField f[_PROBE_MODE_MAX];
        size_t n = rejected_fields(report, lines, f);

        for (size_t i = 0; i < n; i++)
                log_error("Probe mode %s.", lines[i]);
        if (mode == PROBE_AUTO)
                log_struct_errno(LOG_ERR, error, MESSAGE_ID_START_FAILED, f, n, "No probe mode works on this kernel.");
        else
                log_struct_errno(LOG_ERR, error, MESSAGE_ID_START_FAILED, f, n,
                                 "Probe mode %s does not work on this kernel; Mode=auto picks one that does.",
                                 probe_mode_to_string(mode));
}

void log_pins(const ProbeReport *report) {

        if (report->pin_error)
                log_warning("Counts will not survive this daemon: %s.", report->pin_error);
        if (report->keep_error)
                log_warning("Execs will not be counted between this daemon and the next: %s.", report->keep_error);
        if (report->counts_discarded) {
                LogField f[] = { { "REASON", report->counts_discarded } };

                log_struct(LOG_ERR, MESSAGE_ID_COUNTS_DISCARDED, f, ELEMENTSOF(f),
                           "The pinned counts cannot be used (%s) and are dropped: what they held since the "
                           "last snapshot to the state file is lost.",
                           report->counts_discarded);
        }
        if (report->privileged_discarded && !report->state_preferred)
                log_warning("The pinned privileged counts are not used: they were kept beside other counts than the "
                            "pinned ones (an earlier version of execcountd ran in between); privileged execs count "
                            "from zero.");
        if (report->logins_discarded && !report->state_preferred)
                log_warning("The pinned login counts are not used: they were kept beside other counts than the "
                            "pinned ones (an earlier version of execcountd ran in between); execs per login count "
                            "from zero.");
        if (report->stale_links_dropped > 0)
                log_warning("Let go of %d probes an earlier daemon left attached where this one does not pin: they "
                            "counted next to this daemon's.",
                            report->stale_links_dropped);
        if (report->state_choice) {
                LogField f[] = { { "REASON", report->state_choice } };

                log_struct(report->state_preferred ? LOG_WARNING : LOG_NOTICE, MESSAGE_ID_COUNTS_CHOSEN, f,
                           ELEMENTSOF(f), "The pinned counts and the state file disagree: %s.", report->state_choice);
        }
        if (report->replaced) {
                LogField f[] = { { "REASON", report->replaced } };

                log_struct(LOG_WARNING, MESSAGE_ID_PROBES_REPLACED, f, ELEMENTSOF(f),
                           "Replaced the probes an earlier daemon left attached (%s): execs between detaching them "
                           "and attaching the new ones were not counted.",
                           report->replaced);
        }
}

static const char *origin_text(ProbeOrigin o) {
        switch (o) {
        case PROBE_ORIGIN_RUNNING:
                return "took over the probes of the earlier daemon, which never stopped counting";
        case PROBE_ORIGIN_PINNED_MAPS:
                return "the counts were kept pinned since the last stop";
        case PROBE_ORIGIN_MIGRATED:
                return "the counts were copied into a map of the new size";
        default:
                return NULL;
        }
}

void log_started(const Probe *probe, const ProbeReport *report, const char *socket_path, bool activated,
                 bool restored) {
        char lines[_PROBE_MODE_MAX][512];
        LogField f[_PROBE_MODE_MAX + 5];
        const char *mode = probe_mode_to_string(probe_get_mode(probe));
        size_t n = rejected_fields(report, lines, f), n_rejected = n;

        for (int i = 0; i < _PROBE_MODE_MAX; i++)
                if (report->rejected[i])
                        log_info("Probe mode %s rejected: %s.", probe_mode_to_string(i), report->rejected[i]);
        f[n++] = (LogField) { "PROBE_MODE", mode };
        f[n++] = (LogField) { "SOCKET", socket_path };
        f[n++] = (LogField) { "SOCKET_ACTIVATED", activated ? "yes" : "no" };
        f[n++] = (LogField) { "COMPAT_EXECS", report->no_compat ? "no" : "yes" };
        f[n++] = (LogField) { "COUNTS_ORIGIN", probe_origin_to_string(probe_get_origin(probe)) };
        const char *origin = origin_text(probe_get_origin(probe));
        if (!origin)
                origin = restored ? "the counts were restored from the state file"
                                                : "the counts start from zero";
        log_struct(LOG_INFO, MESSAGE_ID_STARTED, f, n,
                   "execcountd %s started: counting execs with the %s probes%s; %s; serving %s%s%s.",
                   PROJECT_VERSION, mode, report->no_compat ? " (the kernel has no 32-bit compat execs)" : "",
                   origin, socket_path, activated ? " (passed by systemd)" : "",
                   n_rejected > 0 ? "; rejected modes are listed in PROBE_REJECTED" : "");
}

const char *stop_outcome(const Probe *probe, bool state_file) {
        if (probe_links_in_fdstore(probe))
                /* systemd keeps them for a restart (or after a crash), and closes them at a stop. */
                return "the probes stay attached if systemd restarts the service, and go when it stops it; the "
                       "counts are kept either way";
        if (probe_is_pinned(probe))
                return "the probes are detached; the counts are kept for the next start";
        if (state_file)
                return "nothing is pinned: the counts go to the state file, and the next start goes on from "
                       "them; execs until then are not counted";
        return "nothing is pinned and no state file is kept: the counts go with the daemon";
}
