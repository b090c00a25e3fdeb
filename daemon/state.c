/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.c: the counts on disk, so that they survive a reboot. */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "macro.h"
#include "state.h"
#include "time-util.h"

#define MAGIC "EXECCNT\n"
/* 2 added each UID's privileged execs, 3 the section of login pairs; files of earlier
 * versions are read as having none. */
#define VERSION 3u

struct header {
        char magic[8];
        uint32_t version;
        uint32_t n_entries;
        uint64_t since_usec;
        uint64_t saved_usec;
        uint8_t boot_id[16];
        uint64_t map_full_execs;
        uint64_t map_full_failed;
        uint32_t crc32; /* of the whole file with this field 0 */
        uint32_t counts_map_id; /* 0 in files of earlier versions, which had it reserved */
};

struct entry {
        uint32_t uid;
        uint32_t reserved;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_usec;
        uint64_t privileged; /* from version 2: entries of version 1 end before it */
};

#define ENTRY_SIZE_V1 offsetof(struct entry, privileged)

/* From version 3, after the entries. */
struct logins_header {
        uint32_t n_logins;
        uint32_t reserved;
        uint64_t logins_full;
};

struct login_entry {
        uint32_t login_uid;
        uint32_t uid;
        uint64_t execs;
};

_Static_assert(sizeof(struct header) == 72, "the file format does not change with the compiler");
_Static_assert(sizeof(struct entry) == 40, "the file format does not change with the compiler");
_Static_assert(ENTRY_SIZE_V1 == 32, "version 1 entries are 32 bytes");
_Static_assert(sizeof(struct logins_header) == 16 && sizeof(struct login_entry) == 16, "nor does the logins section");

/* The largest file there can be. */
#define STATE_SIZE_MAX                                                                                \
        (sizeof(struct header) + (size_t) STATE_ENTRIES_MAX * sizeof(struct entry) +                 \
         sizeof(struct logins_header) + (size_t) STATE_ENTRIES_MAX * sizeof(struct login_entry))

void state_snapshot_done(StateSnapshot *s) {
        free(s->entries);
        free(s->logins);
        *s = (StateSnapshot) {};
}

int state_encode(const StateSnapshot *s, void **ret, size_t *ret_size) {
        size_t logins_at = sizeof(struct header) + s->n * sizeof(struct entry);
        size_t size = logins_at + sizeof(struct logins_header) + s->n_logins * sizeof(struct login_entry);
        struct logins_header lh = { .n_logins = (uint32_t) s->n_logins, .logins_full = s->logins_full };
        struct header h = {
                .version = VERSION,
                .n_entries = (uint32_t) s->n,
                .since_usec = s->since_usec,
                .saved_usec = s->saved_usec,
                .map_full_execs = s->map_full_execs,
                .map_full_failed = s->map_full_failed,
                .counts_map_id = s->counts_map_id,
        };
        uint8_t *buf;

        if (s->n > STATE_ENTRIES_MAX || s->n_logins > STATE_ENTRIES_MAX)
                return -E2BIG;
        buf = calloc(1, size);
        if (!buf)
                return -ENOMEM;
        memcpy(h.magic, MAGIC, sizeof(h.magic));
        memcpy(h.boot_id, s->boot_id, sizeof(h.boot_id));
        for (size_t i = 0; i < s->n; i++) {
                struct entry e = {
                        .uid = s->entries[i].uid,
                        .execs = s->entries[i].execs,
                        .failed = s->entries[i].failed,
                        .last_exec_usec = s->entries[i].last_exec_usec,
                        .privileged = s->entries[i].privileged,
                };

                memcpy(buf + sizeof(h) + i * sizeof(e), &e, sizeof(e));
        }
        memcpy(buf + logins_at, &lh, sizeof(lh));
        for (size_t i = 0; i < s->n_logins; i++) {
                struct login_entry e = {
                        .login_uid = s->logins[i].login_uid,
                        .uid = s->logins[i].uid,
                        .execs = s->logins[i].execs,
                };

                memcpy(buf + logins_at + sizeof(lh) + i * sizeof(e), &e, sizeof(e));
        }
        memcpy(buf, &h, sizeof(h));
        h.crc32 = (uint32_t) crc32(0, buf, (uInt) size);
        memcpy(buf, &h, sizeof(h));

        *ret = buf;
        *ret_size = size;
        return 0;
}

int state_decode(const void *data, size_t size, StateSnapshot *ret, const char **ret_reason) {
        const uint8_t *buf = data;
        _cleanup_(freep) uint8_t *copy = NULL;
        _cleanup_(freep) StateEntry *entries = NULL;
        _cleanup_(freep) StateLogin *logins = NULL;
        struct logins_header lh = {};
        struct header h;
        uint32_t crc;
        size_t entry_size, logins_at;

        if (size < sizeof(h))
                return *ret_reason = "shorter than its header", -EBADMSG;
        memcpy(&h, buf, sizeof(h));
        if (memcmp(h.magic, MAGIC, sizeof(h.magic)) != 0)
                return *ret_reason = "not an execcountd state file", -EBADMSG;
        if (h.version < 1 || h.version > VERSION)
                return *ret_reason = "of an unknown version", -EBADMSG;
        entry_size = h.version == 1 ? ENTRY_SIZE_V1 : sizeof(struct entry);
        if (h.n_entries > STATE_ENTRIES_MAX)
                return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
        logins_at = sizeof(h) + (size_t) h.n_entries * entry_size;
        if (h.version >= 3) {
                if (size < logins_at + sizeof(lh))
                        return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
                memcpy(&lh, buf + logins_at, sizeof(lh));
                if (lh.n_logins > STATE_ENTRIES_MAX ||
                    size != logins_at + sizeof(lh) + (size_t) lh.n_logins * sizeof(struct login_entry))
                        return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
        } else if (size != logins_at)
                return *ret_reason = "truncated, or of the wrong length", -EBADMSG;

        copy = malloc(size);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, buf, size);
        memset(copy + offsetof(struct header, crc32), 0, sizeof(h.crc32));
        crc = (uint32_t) crc32(0, copy, (uInt) size);
        if (crc != h.crc32)
                return *ret_reason = "damaged (checksum mismatch)", -EBADMSG;

        entries = calloc(h.n_entries ? h.n_entries : 1, sizeof(*entries));
        logins = calloc(lh.n_logins ? lh.n_logins : 1, sizeof(*logins));
        if (!entries || !logins)
                return -ENOMEM;
        for (size_t i = 0; i < h.n_entries; i++) {
                struct entry e = {};

                memcpy(&e, buf + sizeof(h) + i * entry_size, entry_size);
                entries[i] = (StateEntry) {
                        .uid = e.uid,
                        .execs = e.execs,
                        .failed = e.failed,
                        .last_exec_usec = e.last_exec_usec,
                        .privileged = e.privileged,
                };
        }
        for (size_t i = 0; i < lh.n_logins; i++) {
                struct login_entry e;

                memcpy(&e, buf + logins_at + sizeof(lh) + i * sizeof(e), sizeof(e));
                logins[i] = (StateLogin) { .login_uid = e.login_uid, .uid = e.uid, .execs = e.execs };
        }

        *ret = (StateSnapshot) {
                .since_usec = h.since_usec,
                .saved_usec = h.saved_usec,
                .map_full_execs = h.map_full_execs,
                .map_full_failed = h.map_full_failed,
                .counts_map_id = h.counts_map_id,
                .n = h.n_entries,
                .entries = TAKE_PTR(entries),
                .logins_full = lh.logins_full,
                .n_logins = lh.n_logins,
                .logins = TAKE_PTR(logins),
        };
        memcpy(ret->boot_id, h.boot_id, sizeof(h.boot_id));
        return 0;
}

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
        if ((uint64_t) st.st_size > STATE_SIZE_MAX)
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
