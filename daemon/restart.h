/* SPDX-License-Identifier: GPL-2.0-or-later */
/* restart.h: telling, on SIGTERM, a restart of the service from a stop. */
#pragma once

/* Asks systemd (over D-Bus) which job it runs for this process's unit: 1 when it is a
 * restart (restart, try-restart, reload-or-restart), 0 for a stop or no job at all (a
 * plain signal), -ENOMEDIUM when not run by systemd, < 0 when systemd cannot be asked. */
int restart_in_progress(void);
