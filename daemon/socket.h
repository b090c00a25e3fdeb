/* SPDX-License-Identifier: GPL-2.0-or-later */
/* socket.h: binding the daemon's listening Unix socket. */
#pragma once

#include <sys/types.h>

/* Creates the parent directories (mode 0755), replaces a stale socket file at path but
 * refuses to take over one that still accepts connections (-EADDRINUSE) or a file that is
 * not a socket (-EEXIST), then binds a non-blocking listening socket with the given mode.
 * *ret_id identifies the socket file, for socket_unlink_if_same(). */
typedef struct SocketFileId {
        dev_t dev;
        ino_t ino;
} SocketFileId;

int socket_listen_unix(const char *path, mode_t mode, int *ret_fd, SocketFileId *ret_id);

/* Removes path only if it is still the file bound then: someone else (systemd's socket
 * unit, another daemon) may have replaced it since. */
void socket_unlink_if_same(const char *path, const SocketFileId *id);

/* The path a listening Unix socket is bound to; -EINVAL for other sockets. */
int socket_get_path(int fd, char **ret);
