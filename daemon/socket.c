/* SPDX-License-Identifier: GPL-2.0-or-later */
/* socket.c: binding the daemon's listening Unix socket. */

#include <errno.h>
#include <stdlib.h>
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

int socket_listen_unix(const char *path, mode_t mode, int *ret_fd, SocketFileId *ret_id) {
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
        if (stat(path, &st) < 0)
                return negative_errno();

        *ret_id = (SocketFileId) { .dev = st.st_dev, .ino = st.st_ino };
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void socket_unlink_if_same(const char *path, const SocketFileId *id) {
        struct stat st;

        if (lstat(path, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino)
                (void) unlink(path);
}

int socket_get_path(int fd, char **ret) {
        struct sockaddr_un sa = {};
        socklen_t len = sizeof(sa);
        char *p;

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return negative_errno();
        if (sa.sun_family != AF_UNIX || len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] == '\0')
                return -EINVAL;
        p = strndup(sa.sun_path, len - offsetof(struct sockaddr_un, sun_path));
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}
