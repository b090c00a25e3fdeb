/* SPDX-License-Identifier: GPL-2.0-or-later */
/* settings.c: what the configuration means for each part of the daemon, at start and at
 * every reload. */

#include <errno.h>
#include <grp.h>
#include <stdlib.h>

#include "log.h"
#include "settings.h"

/* Looks up [Access] Group=; without it, only root sees every UID. */
int settings_access_gid(const char *group, gid_t *ret) {
        struct group grp, *result = NULL;
        char buf[4096];
        int r;

        if (isempty(group))
                return 0;
        r = getgrnam_r(group, &grp, buf, sizeof(buf), &result);
        /* A group with many members does not fit the buffer: a bigger one, once. */
        _cleanup_(freep) char *big = NULL;
        if (r == ERANGE && (big = malloc(1 << 20)))
                r = getgrnam_r(group, &grp, big, 1 << 20, &result);
        if (r != 0) {
                log_warning_errno(-r, "Failed to look up group %s of [Access] Group=, so only root sees every UID: %m",
                                  group);
                return 0;
        }
        if (!result) {
                log_notice("Group %s of [Access] Group= does not exist, so only root sees every UID.", group);
                return 0;
        }
        log_debug("Members of group %s (%u) see every UID.", group, (unsigned) grp.gr_gid);
        *ret = grp.gr_gid;
        return 1;
}

void settings_configure_exec_log(ExecLog *l, const Config *c) {
        ExecLogLimits limits = {
                .interval_usec = c->log_execs_interval_usec,
                .burst = c->log_execs_burst,
                .burst_per_uid = c->log_execs_burst_per_uid,
        };

        exec_log_configure(l, c->log_execs, &limits);
        exec_log_set_argv(l, c->log_argv);
}

ServerLimits settings_server_limits(const Config *c) {
        ServerLimits l = SERVER_LIMITS_DEFAULT;

        l.max_connections = c->max_clients;
        l.max_connections_per_uid = c->max_clients_per_uid;
        l.reserved_connections = c->reserved_clients;
        l.idle_timeout_usec = c->idle_timeout_usec;
        l.max_buffer = c->max_buffer;
        l.max_buffer_per_uid = c->max_buffer_per_uid;
        l.output_rate_per_uid = c->output_rate_per_uid;
        return l;
}

/* Settings that only take effect when the BPF maps or the socket are made again. */
void settings_log_restart_only(const Config *old, const Config *new) {
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
        if (!streq(old->state_dir, new->state_dir))
                log_notice("[State] Directory= changed from %s to %s: takes effect at the next start.",
                           old->state_dir, new->state_dir);
        if (!streq(old->pin_dir, new->pin_dir))
                log_notice("[State] PinDirectory= changed from %s to %s: takes effect at the next start.",
                           old->pin_dir, new->pin_dir);
}

void settings_keep_restart_only(Config *new, Config *old) {
        new->probe_mode = old->probe_mode;
        new->max_uids = old->max_uids;
        new->ring_buffer_size = old->ring_buffer_size;
        free(new->socket_path);
        new->socket_path = TAKE_PTR(old->socket_path);
        free(new->pin_dir);
        new->pin_dir = TAKE_PTR(old->pin_dir);
        free(new->state_dir);
        new->state_dir = TAKE_PTR(old->state_dir);
}
