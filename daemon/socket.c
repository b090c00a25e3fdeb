/* SPDX-License-Identifier: GPL-2.0-or-later */
/* socket.c: binding the daemon's listening Unix socket. */

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "socket.h"

static int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_(freep) char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *slash = '/';
        }
        return 0;
}

/* A socket file at path that accepts connections belongs to a running daemon. */
static int socket_in_use(const struct sockaddr_un *sa, socklen_t len) {
        _cleanup_(closep) int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return negative_errno();
        return connect(fd, (const struct sockaddr *) sa, len) == 0;
}

int socket_listen_unix(const char *path, mode_t mode, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_(closep) int fd = -EBADF;
        socklen_t len;
        struct stat st;
        mode_t old;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);

        r = mkdir_parents(path, 0755);
        if (r < 0)
                return r;

        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                r = socket_in_use(&sa, len);
                if (r < 0)
                        return r;
                if (r > 0)
                        return -EADDRINUSE;
                if (unlink(path) < 0 && errno != ENOENT)
                        return negative_errno();
        }

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        /* The mode is right from the start: no window in which others could connect. */
        old = umask(~mode & 0777);
        r = bind(fd, (struct sockaddr *) &sa, len);
        umask(old);
        if (r < 0)
                return negative_errno();
        if (listen(fd, SOMAXCONN) < 0)
                return negative_errno();

        *ret_fd = TAKE_FD(fd);
        return 0;
}
