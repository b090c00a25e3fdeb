/* SPDX-License-Identifier: GPL-2.0-or-later */
/* socket.h: binding the daemon's listening Unix socket. */
#pragma once

#include <sys/types.h>

/* Creates the parent directories (mode 0755), replaces a stale socket file at path but
 * refuses to take over one that still accepts connections (-EADDRINUSE) or a file that is
 * not a socket (-EEXIST), then binds a non-blocking listening socket with the given mode. */
int socket_listen_unix(const char *path, mode_t mode, int *ret_fd);
