/* SPDX-License-Identifier: GPL-2.0-or-later */
/* settings.h: what the configuration means for each part of the daemon, at start and at
 * every reload. */
#pragma once

#include <sys/types.h>

#include "config.h"
#include "execlog.h"
#include "server.h"

/* [Access] Group='s ID: 1 and *ret if the group exists; 0 (and why, logged) if not, or
 * if none is configured: then only root sees every UID. */
int settings_access_gid(const char *group, gid_t *ret);
/* Configures the journal entries per exec under c. */
void settings_configure_exec_log(ExecLog *l, const Config *c);
ServerLimits settings_server_limits(const Config *c);

/* Says which settings changed from old to new that only take effect at the next start
 * (the BPF maps and the socket are made then). */
void settings_log_restart_only(const Config *old, const Config *new);
/* Keeps old's values of those settings in new: what is really in effect. */
void settings_keep_restart_only(Config *new, Config *old);
