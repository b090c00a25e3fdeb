/* SPDX-License-Identifier: GPL-2.0-or-later */
/* startstop.h: what the daemon tells the journal when it starts, fails to, and stops. */
#pragma once

#include <stdbool.h>

#include "probe.h"

/* No probe mode works (mode: the one asked for), with each mode's reason. */
void log_probe_failure(const ProbeReport *report, ProbeMode mode, int error);
/* What the start found of earlier pins and links, and the choice between pinned counts
 * and the state file. */
void log_pins(const ProbeReport *report);
/* The "started" entry: the mode, the socket, where the counts came from (restored: from
 * the state file). */
void log_started(const Probe *probe, const ProbeReport *report, const char *socket_path, bool activated,
                 bool restored);
/* What a stop does with the probes and the counts, as the "stopping" entry says it. */
const char *stop_outcome(const Probe *probe, bool state_file);
