/* SPDX-License-Identifier: GPL-2.0-or-later */
/* machines.h: the containers and VMs systemd-machined knows, by the unit each runs in,
 * learned over the system bus as machines come (and as they are at start), and kept while
 * the daemon runs, so that a machine's unit keeps its name after the machine ended. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

typedef struct Machines Machines;

/* The most units kept: machines are registered by root only, but are not counted on. */
#define MACHINES_MAX 1024

/* Asks systemd-machined on the system bus, in the event loop e (NULL: never asks; units
 * are then told with machines_add() only). Without a system bus, or without
 * systemd-machined, it knows no machines, and says so at debug level: not an error. */
int machines_new(sd_event *e, Machines **ret);
Machines *machines_free(Machines *m);

/* Notes that machine name runs in unit; the oldest one goes when MACHINES_MAX are kept. */
int machines_add(Machines *m, const char *unit, const char *name);

/* The machine that ran in unit last, NULL if none did. */
const char *machines_lookup(const Machines *m, const char *unit);
