/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state-file.c: the state file on disk: its directory, writing it atomically, reading it,
 * setting a damaged one aside; and the boot ID it is written in. */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "state.h"
#include "time-util.h"

static int write_all(int fd, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int state_dir_open(const char *dir, bool create, int *ret_fd, const char **ret_reason) {
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;

        /* systemd makes it (StateDirectory=); a daemon run by hand makes it here. */
        if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOTDIR)
                        *ret_reason = "not a directory";
                return negative_errno();
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Anyone else who may write there could plant a state file of their own, or
         * replace ours: only a CRC protects it, which anyone can compute. */
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return *ret_reason = "owned by a user that is neither root nor the daemon's", -EPERM;
        if (st.st_mode & 0022)
                return *ret_reason = "writable by other users than its owner (chmod go-w)", -EPERM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int state_save(int dfd, const StateSnapshot *s) {
        _cleanup_(freep) void *buf = NULL;
        _cleanup_(closep) int fd = -EBADF;
        static const char tmp[] = "." STATE_FILE ".tmp";
        size_t size;
        int r;

        r = state_encode(s, &buf, &size);
        if (r < 0)
                return r;

        /* A leftover of a crash is removed first; whatever else is there is not followed. */
        if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT)
                return negative_errno();
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, buf, size);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && renameat(dfd, tmp, dfd, STATE_FILE) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        /* The rename itself must reach the disk too. */
        return fsync(dfd) < 0 ? negative_errno() : 0;
}

int state_load(int dfd, StateSnapshot *ret, const char **ret_reason) {
        _cleanup_(freep) uint8_t *buf = NULL;
        _cleanup_(closep) int fd = -EBADF;
        struct stat st;
        size_t got = 0;

        /* Never blocks (a FIFO would, for ever) and never follows a link out of the
         * directory: anything but a regular file is refused, with what it is. */
        fd = openat(dfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ELOOP)
                        return *ret_reason = "a symbolic link, not a state file", -EBADMSG;
                return negative_errno();
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return *ret_reason = S_ISDIR(st.st_mode)    ? "a directory, not a state file"
                                     : S_ISFIFO(st.st_mode) ? "a FIFO, not a state file"
                                                            : "not a regular file",
                       -EBADMSG;
        if ((uint64_t) st.st_size > state_size_max())
                return *ret_reason = "larger than any state file", -EBADMSG;
        buf = malloc(st.st_size ? (size_t) st.st_size : 1);
        if (!buf)
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + got, (size_t) st.st_size - got);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        return state_decode(buf, got, ret, ret_reason);
}

int state_set_aside(int dfd, char **ret_name) {
        char *aside;

        if (asprintf(&aside, STATE_FILE ".damaged-%llu", (unsigned long long) now_usec(CLOCK_REALTIME)) < 0)
                return -ENOMEM;
        if (renameat(dfd, STATE_FILE, dfd, aside) < 0) {
                int r = negative_errno();

                free(aside);
                return r;
        }
        *ret_name = aside;
        return 0;
}

int state_remove(int dfd) {
        if (unlinkat(dfd, STATE_FILE, 0) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int state_parse_boot_id(const char *text, uint8_t ret[16]) {
        uint8_t id[16];
        size_t j = 0;

        for (size_t i = 0; text[i] && text[i] != '\n'; i++) {
                char c = text[i];
                unsigned v;

                if (c == '-')
                        continue;
                if (j == 32)
                        return -EINVAL;
                if (c >= '0' && c <= '9')
                        v = (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v = (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v = (unsigned) (c - 'A' + 10);
                else
                        return -EINVAL;
                id[j / 2] = (uint8_t) ((j % 2) ? (id[j / 2] | v) : (v << 4));
                j++;
        }
        if (j != 32)
                return -EINVAL;
        memcpy(ret, id, sizeof(id));
        return 0;
}

int state_read_boot_id(uint8_t ret[16]) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
        char text[64];

        if (!f)
                return negative_errno();
        if (!fgets(text, sizeof(text), f))
                return -EIO;
        return state_parse_boot_id(text, ret) < 0 ? -EBADMSG : 0;
}

char *state_format_boot_id(const uint8_t id[16], char buf[33]) {
        for (size_t i = 0; i < 16; i++)
                snprintf(buf + 2 * i, 3, "%02x", id[i]);
        return buf;
}
