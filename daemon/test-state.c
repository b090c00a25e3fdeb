/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-state.c: unit tests for state.c: the format round trip, every kind of damage,
 * and the file operations in a temporary directory. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "macro.h"
#include "state.h"
#include "test.h"

static const StateEntry entries[] = {
        { .uid = 0, .execs = 123456789, .failed = 42, .last_exec_usec = 1795412938844170, .privileged = 0 },
        { .uid = 1000, .execs = 1, .failed = 0, .last_exec_usec = 0, .privileged = 1 },
        { .uid = 4294967294u, .execs = UINT64_MAX, .failed = UINT64_MAX - 1, .last_exec_usec = 1,
          .privileged = UINT64_MAX - 2 },
};

static const StateLogin logins[] = {
        { .login_uid = 1000, .uid = 0, .execs = 40 },
        { .login_uid = 1000, .uid = 1000, .execs = UINT64_MAX },
        { .login_uid = UINT32_MAX, .uid = 0, .execs = 1 },
};

static StateUnit units[] = {
        /* A total of ended cgroups, and two cgroups still in the kernel's map. */
        { .unit = (char *) "cron.service", .uid = 0, .execs = 5, .failed = 1, .last_exec_usec = 1795412938844170 },
        { .unit = (char *) "user@1000.service/app-\xe2\x9c\x93.scope", .uid = 1000, .live = true,
          .cgroup_id = 4242, .execs = UINT64_MAX, .failed = 0, .last_exec_usec = 0 },
        { .unit = (char *) "(other)", .uid = 4294967294u, .live = true, .cgroup_id = 0, .execs = 1, .failed = 2,
          .last_exec_usec = 3 },
};

static StateSnapshot sample(void) {
        StateSnapshot s = {
                .since_usec = 1795412912694601,
                .saved_usec = 1795412999000000,
                .map_full_execs = 7,
                .map_full_failed = 9,
                .counts_map_id = 4711,
                .n = ELEMENTSOF(entries),
                .entries = (StateEntry *) entries,
                .logins_full = 11,
                .n_logins = ELEMENTSOF(logins),
                .logins = (StateLogin *) logins,
                .units_full_execs = 12,
                .units_full_failed = 13,
                .names_full = 14,
                .n_units = ELEMENTSOF(units),
                .units = units,
        };

        for (int i = 0; i < 16; i++)
                s.boot_id[i] = (uint8_t) (0xa0 + i);
        return s;
}

static void expect_same(const StateSnapshot *a, const StateSnapshot *b) {
        ASSERT_EQ_U(a->since_usec, b->since_usec);
        ASSERT_EQ_U(a->saved_usec, b->saved_usec);
        ASSERT_EQ_U(a->map_full_execs, b->map_full_execs);
        ASSERT_EQ_U(a->map_full_failed, b->map_full_failed);
        ASSERT_EQ_U(a->counts_map_id, b->counts_map_id);
        ASSERT(memcmp(a->boot_id, b->boot_id, 16) == 0);
        ASSERT_EQ_U(a->n, b->n);
        for (size_t i = 0; i < a->n; i++) {
                ASSERT_EQ_U(a->entries[i].uid, b->entries[i].uid);
                ASSERT_EQ_U(a->entries[i].execs, b->entries[i].execs);
                ASSERT_EQ_U(a->entries[i].failed, b->entries[i].failed);
                ASSERT_EQ_U(a->entries[i].last_exec_usec, b->entries[i].last_exec_usec);
                ASSERT_EQ_U(a->entries[i].privileged, b->entries[i].privileged);
        }
        ASSERT_EQ_U(a->logins_full, b->logins_full);
        ASSERT_EQ_U(a->n_logins, b->n_logins);
        for (size_t i = 0; i < a->n_logins; i++) {
                ASSERT_EQ_U(a->logins[i].login_uid, b->logins[i].login_uid);
                ASSERT_EQ_U(a->logins[i].uid, b->logins[i].uid);
                ASSERT_EQ_U(a->logins[i].execs, b->logins[i].execs);
        }
        ASSERT_EQ_U(a->units_full_execs, b->units_full_execs);
        ASSERT_EQ_U(a->units_full_failed, b->units_full_failed);
        ASSERT_EQ_U(a->names_full, b->names_full);
        ASSERT_EQ_U(a->n_units, b->n_units);
        for (size_t i = 0; i < a->n_units; i++) {
                ASSERT_STREQ(a->units[i].unit, b->units[i].unit);
                ASSERT_EQ_U(a->units[i].uid, b->units[i].uid);
                ASSERT(a->units[i].live == b->units[i].live);
                ASSERT_EQ_U(a->units[i].cgroup_id, b->units[i].cgroup_id);
                ASSERT_EQ_U(a->units[i].execs, b->units[i].execs);
                ASSERT_EQ_U(a->units[i].failed, b->units[i].failed);
                ASSERT_EQ_U(a->units[i].last_exec_usec, b->units[i].last_exec_usec);
        }
}

/* The units section's size for the sample: a header, and per row 40 bytes and the name
 * in a multiple of 8. */
#define SAMPLE_UNITS_SIZE (32 + 3 * 40 + 16 + 32 + 8)

static void expect_damaged(const void *data, size_t size, const char *want_reason) {
        StateSnapshot out = {};
        const char *reason = NULL;

        ASSERT_EQ(state_decode(data, size, &out, &reason), -EBADMSG);
        ASSERT(reason);
        if (want_reason)
                ASSERT_STREQ(reason, want_reason);
        ASSERT(!out.entries && !out.logins); /* nothing handed out */
}

static void test_round_trip(void) {
        StateSnapshot s = sample(), out = {}, empty = { .since_usec = 5 };
        const char *reason = NULL;
        void *buf;
        size_t size;

        ASSERT_EQ(state_encode(&s, &buf, &size), 0);
        /* the format's size, whatever the compiler */
        ASSERT_EQ_U(size, 72 + 3 * 40 + 16 + 3 * 16 + SAMPLE_UNITS_SIZE);
        ASSERT_EQ(state_decode(buf, size, &out, &reason), 0);
        expect_same(&s, &out);
        state_snapshot_done(&out);
        free(buf);

        /* No UIDs at all is a valid snapshot too. */
        ASSERT_EQ(state_encode(&empty, &buf, &size), 0);
        ASSERT_EQ(state_decode(buf, size, &out, &reason), 0);
        expect_same(&empty, &out);
        state_snapshot_done(&out);
        free(buf);

        /* More UIDs or pairs than a state file may hold are refused, not truncated. */
        empty.n = STATE_ENTRIES_MAX + 1;
        ASSERT_EQ(state_encode(&empty, &buf, &size), -E2BIG);
        empty.n = 0;
        empty.n_logins = STATE_ENTRIES_MAX + 1;
        ASSERT_EQ(state_encode(&empty, &buf, &size), -E2BIG);
        empty.n_logins = 0;
        empty.n_units = STATE_ENTRIES_MAX + 1;
        ASSERT_EQ(state_encode(&empty, &buf, &size), -E2BIG);

        /* Nor is a unit name longer than a file may hold. */
        {
                char long_name[STATE_UNIT_NAME_MAX + 2];
                StateUnit u = { .unit = long_name };
                StateSnapshot one = { .n_units = 1, .units = &u };

                memset(long_name, 'a', sizeof(long_name) - 1);
                long_name[sizeof(long_name) - 1] = '\0';
                ASSERT_EQ(state_encode(&one, &buf, &size), -ENAMETOOLONG);
        }
}

/* Rewrites the checksum of a file that was changed on purpose. */
static void fix_crc(uint8_t *file, size_t size) {
        uint32_t crc = 0;

        memcpy(file + 64, &crc, 4);
        crc = (uint32_t) crc32(0, file, size);
        memcpy(file + 64, &crc, 4);
}

/* A unit's name with a NUL in it, or longer than a file may hold, is damage. */
static void test_unit_names(void) {
        StateSnapshot s = sample();
        uint8_t *buf;
        size_t size, at = 72 + 3 * 40 + 16 + 3 * 16 + 32; /* the first unit row */
        uint16_t len = STATE_UNIT_NAME_MAX + 1;

        ASSERT_EQ(state_encode(&s, (void **) &buf, &size), 0);
        buf[at + 40 + 2] = '\0'; /* in "cron.service" */
        fix_crc(buf, size);
        expect_damaged(buf, size, "damaged (a unit name holds a NUL)");
        memcpy(buf + at + 4, &len, 2);
        fix_crc(buf, size);
        expect_damaged(buf, size, "damaged (its units do not fill their section)");
        free(buf);
}

/* Files of version 3, before the per-unit counts, are read with none: this build's file
 * without its units section. */
static void test_version_3(void) {
        StateSnapshot s = sample(), out = {};
        const char *reason = NULL;
        uint32_t version = 3;
        uint8_t *buf;
        size_t size;

        s.n_units = 0;
        s.units_full_execs = s.units_full_failed = s.names_full = 0;
        ASSERT_EQ(state_encode(&s, (void **) &buf, &size), 0);
        size -= 32;
        memcpy(buf + 8, &version, 4);
        fix_crc(buf, size);
        ASSERT_EQ(state_decode(buf, size, &out, &reason), 0);
        expect_same(&s, &out);
        state_snapshot_done(&out);
        free(buf);
}

static void test_damage(void) {
        StateSnapshot s = sample();
        uint8_t *buf, *copy;
        size_t size;

        ASSERT_EQ(state_encode(&s, (void **) &buf, &size), 0);
        copy = malloc(size + 1);
        ASSERT(copy);

        /* Every single flipped bit, anywhere, is caught. */
        for (size_t i = 0; i < size; i++)
                for (int bit = 0; bit < 8; bit++) {
                        memcpy(copy, buf, size);
                        copy[i] ^= (uint8_t) (1u << bit);
                        expect_damaged(copy, size, NULL);
                }
        /* Every truncation, and one byte too many. */
        for (size_t n = 0; n < size; n++)
                expect_damaged(buf, n, n < 72 ? "shorter than its header" : "truncated, or of the wrong length");
        memcpy(copy, buf, size);
        copy[size] = 0;
        expect_damaged(copy, size + 1, "truncated, or of the wrong length");

        /* What each check says. */
        memcpy(copy, buf, size);
        copy[0] = 'X';
        expect_damaged(copy, size, "not an execcountd state file");
        memcpy(copy, buf, size);
        copy[8] = 5; /* version */
        expect_damaged(copy, size, "of an unknown version");
        memcpy(copy, buf, size);
        copy[8] = 0;
        expect_damaged(copy, size, "of an unknown version");
        memcpy(copy, buf, size);
        copy[8] = 1; /* version 1 has shorter entries: this one is of the wrong length */
        expect_damaged(copy, size, "truncated, or of the wrong length");
        memcpy(copy, buf, size);
        copy[8] = 2; /* version 2 has no logins section: this one is of the wrong length */
        expect_damaged(copy, size, "truncated, or of the wrong length");
        memcpy(copy, buf, size);
        copy[8] = 3; /* nor has version 3 a units section */
        expect_damaged(copy, size, "truncated, or of the wrong length");
        memcpy(copy, buf, size);
        memset(copy + 72 + 3 * 40 + 16 + 3 * 16, 0xff, 4); /* n_units: far more than the file holds */
        expect_damaged(copy, size, "truncated, or of the wrong length");
        memcpy(copy, buf, size);
        copy[72 + 3 * 40 + 16 + 3 * 16] = 2; /* n_units: fewer rows than the section holds */
        fix_crc(copy, size);
        expect_damaged(copy, size, "damaged (its units do not fill their section)");
        memcpy(copy, buf, size);
        memset(copy + 72 + 3 * 40, 0xff, 4); /* n_logins: far more than the file holds */
        expect_damaged(copy, size, "truncated, or of the wrong length");
        memcpy(copy, buf, size);
        copy[size - 1] ^= 1;
        expect_damaged(copy, size, "damaged (checksum mismatch)");
        memcpy(copy, buf, size);
        memset(copy + 12, 0xff, 4); /* n_entries: far more than the file holds */
        expect_damaged(copy, size, "truncated, or of the wrong length");

        free(copy);
        free(buf);
}

/* Files of version 1, as the daemons before privileged counts wrote them (32-byte entries,
 * read with no privileged execs), and of version 2, before the login pairs (40-byte
 * entries, read with no pairs). The bytes are written out here, not by state_encode(). */
static void test_version(uint32_t version) {
        size_t entry_size = version == 1 ? 32 : 40;
        uint8_t file[72 + 2 * 40] = {};
        size_t size = 72 + 2 * entry_size;
        uint32_t n = 2, crc = 0, map_id = 77, uid = 1000;
        uint64_t privileged = 8;
        uint64_t since = 1795412912694601, saved = 1795412999000000, full = 3, execs = 5, failed = 6, last = 7;
        StateSnapshot out = {};
        const char *reason = NULL;

        memcpy(file, "EXECCNT\n", 8);
        memcpy(file + 8, &version, 4);
        memcpy(file + 12, &n, 4);
        memcpy(file + 16, &since, 8);
        memcpy(file + 24, &saved, 8);
        memset(file + 32, 0xab, 16); /* boot ID */
        memcpy(file + 48, &full, 8); /* map_full_execs */
        memcpy(file + 56, &full, 8); /* map_full_failed */
        memcpy(file + 68, &map_id, 4);
        for (uint32_t i = 0; i < n; i++) {
                uint8_t *e = file + 72 + i * entry_size;
                uint32_t u = uid + i;

                memcpy(e, &u, 4);
                memcpy(e + 8, &execs, 8);
                memcpy(e + 16, &failed, 8);
                memcpy(e + 24, &last, 8);
                if (version == 2)
                        memcpy(e + 32, &privileged, 8);
        }
        crc = (uint32_t) crc32(0, file, size);
        memcpy(file + 64, &crc, 4);

        ASSERT_EQ(state_decode(file, size, &out, &reason), 0);
        ASSERT_EQ_U(out.n, 2);
        ASSERT_EQ_U(out.since_usec, since);
        ASSERT_EQ_U(out.counts_map_id, 77);
        for (size_t i = 0; i < out.n; i++) {
                ASSERT_EQ_U(out.entries[i].uid, uid + i);
                ASSERT_EQ_U(out.entries[i].execs, 5);
                ASSERT_EQ_U(out.entries[i].failed, 6);
                ASSERT_EQ_U(out.entries[i].last_exec_usec, 7);
                ASSERT_EQ_U(out.entries[i].privileged, version == 1 ? 0 : 8);
        }
        ASSERT_EQ_U(out.n_logins, 0);
        ASSERT_EQ_U(out.logins_full, 0);
        state_snapshot_done(&out);
        /* Shorter than its two entries: refused. */
        expect_damaged(file, size - 24, "truncated, or of the wrong length");
}

static void test_files(void) {
        char dir[] = "/tmp/test-state-XXXXXX", sub[64], path[128], *aside = NULL;
        StateSnapshot s = sample(), out = {};
        const char *reason = NULL;
        struct stat st;
        int fd, dfd = -EBADF;

        ASSERT(mkdtemp(dir));
        snprintf(sub, sizeof(sub), "%s/state", dir);
        snprintf(path, sizeof(path), "%s/" STATE_FILE, sub);

        /* Not made unless asked; made private when asked. */
        ASSERT_EQ(state_dir_open(sub, false, &dfd, &reason), -ENOENT);
        ASSERT_EQ(state_dir_open(sub, true, &dfd, &reason), 0);
        ASSERT_EQ(stat(sub, &st), 0);
        ASSERT_EQ(st.st_mode & 0777, 0700);

        ASSERT_EQ(state_load(dfd, &out, &reason), -ENOENT);
        /* The file is private, no temporary is left. */
        ASSERT_EQ(state_save(dfd, &s), 0);
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 0777, 0600);
        snprintf(path, sizeof(path), "%s/." STATE_FILE ".tmp", sub);
        ASSERT_EQ(access(path, F_OK), -1);
        ASSERT_EQ(state_load(dfd, &out, &reason), 0);
        expect_same(&s, &out);
        state_snapshot_done(&out);

        /* A newer snapshot replaces the older one whole. */
        s.n = 1;
        s.saved_usec++;
        ASSERT_EQ(state_save(dfd, &s), 0);
        ASSERT_EQ(state_load(dfd, &out, &reason), 0);
        expect_same(&s, &out);
        state_snapshot_done(&out);

        /* A damaged file is reported, set aside under a new name, and then gone. */
        snprintf(path, sizeof(path), "%s/" STATE_FILE, sub);
        fd = open(path, O_WRONLY | O_TRUNC);
        ASSERT(fd >= 0);
        ASSERT_EQ(write(fd, "EXECCNT\n", 8), 8);
        close(fd);
        ASSERT_EQ(state_load(dfd, &out, &reason), -EBADMSG);
        ASSERT_STREQ(reason, "shorter than its header");
        ASSERT_EQ(state_set_aside(dfd, &aside), 0);
        ASSERT(strncmp(aside, STATE_FILE ".damaged-", strlen(STATE_FILE ".damaged-")) == 0);
        ASSERT_EQ(fstatat(dfd, aside, &st, 0), 0);
        ASSERT_EQ(st.st_size, 8);
        ASSERT_EQ(unlinkat(dfd, aside, 0), 0);
        free(aside);
        ASSERT_EQ(state_load(dfd, &out, &reason), -ENOENT);

        /* Anything but a regular file is refused, at once: a FIFO (which would block an
         * open for ever), a directory, a link (followed nowhere). */
        ASSERT_EQ(mkfifo(path, 0600), 0);
        ASSERT_EQ(state_load(dfd, &out, &reason), -EBADMSG);
        ASSERT_STREQ(reason, "a FIFO, not a state file");
        ASSERT_EQ(unlink(path), 0);
        ASSERT_EQ(mkdir(path, 0700), 0);
        ASSERT_EQ(state_load(dfd, &out, &reason), -EBADMSG);
        ASSERT_STREQ(reason, "a directory, not a state file");
        ASSERT_EQ(state_save(dfd, &s), -EISDIR); /* a snapshot cannot replace it */
        ASSERT_EQ(state_set_aside(dfd, &aside), 0); /* but it can be set aside */
        ASSERT_EQ(fstatat(dfd, aside, &st, 0), 0);
        ASSERT(S_ISDIR(st.st_mode));
        ASSERT_EQ(unlinkat(dfd, aside, AT_REMOVEDIR), 0);
        free(aside);
        ASSERT_EQ(symlink("/etc/passwd", path), 0);
        ASSERT_EQ(state_load(dfd, &out, &reason), -EBADMSG);
        ASSERT_STREQ(reason, "a symbolic link, not a state file");
        ASSERT_EQ(unlink(path), 0);

        ASSERT_EQ(state_save(dfd, &s), 0);
        ASSERT_EQ(state_remove(dfd), 0);
        ASSERT_EQ(state_remove(dfd), 0); /* nothing there: fine too */
        ASSERT_EQ(access(path, F_OK), -1);
        close(dfd);

        /* A directory others may write to is refused: they could plant a state file. */
        ASSERT_EQ(chmod(sub, 0777), 0);
        reason = NULL;
        ASSERT_EQ(state_dir_open(sub, true, &dfd, &reason), -EPERM);
        ASSERT_STREQ(reason, "writable by other users than its owner (chmod go-w)");
        ASSERT_EQ(chmod(sub, 0755), 0);
        ASSERT_EQ(state_dir_open(sub, true, &dfd, &reason), 0);
        close(dfd);
        if (geteuid() == 0) {
                ASSERT_EQ(chown(sub, 12345, 12345), 0);
                ASSERT_EQ(state_dir_open(sub, true, &dfd, &reason), -EPERM);
                ASSERT_STREQ(reason, "owned by a user that is neither root nor the daemon's");
        }
        /* A file where the directory should be. */
        ASSERT_EQ(rmdir(sub), 0);
        fd = open(sub, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT(fd >= 0);
        close(fd);
        reason = NULL;
        ASSERT_EQ(state_dir_open(sub, true, &dfd, &reason), -ENOTDIR);
        ASSERT_STREQ(reason, "not a directory");
        ASSERT_EQ(unlink(sub), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

static void test_boot_id(void) {
        uint8_t id[16], zero[16] = {};
        char text[33], want[64], *p = want;
        FILE *f;

        ASSERT_EQ(state_read_boot_id(id), 0);
        ASSERT(memcmp(id, zero, 16) != 0);
        f = fopen("/proc/sys/kernel/random/boot_id", "re");
        ASSERT(f && fgets(want, sizeof(want), f));
        fclose(f);
        /* The same 32 hex digits, without the dashes. */
        for (char *q = want; *q && *q != '\n'; q++)
                if (*q != '-')
                        *p++ = *q;
        *p = '\0';
        ASSERT_STREQ(state_format_boot_id(id, text), want);

        /* As systemd's %b writes it, or with the kernel's dashes; nothing else. */
        ASSERT_EQ(state_parse_boot_id("0123456789abcdefABCDEF0123456789", id), 0);
        ASSERT_STREQ(state_format_boot_id(id, text), "0123456789abcdefabcdef0123456789");
        ASSERT_EQ(state_parse_boot_id("01234567-89ab-cdef-abcd-ef0123456789\n", id), 0);
        ASSERT_STREQ(state_format_boot_id(id, text), "0123456789abcdefabcdef0123456789");
        ASSERT_EQ(state_parse_boot_id("0123456789abcdefabcdef012345678", id), -EINVAL); /* 31 */
        ASSERT_EQ(state_parse_boot_id("0123456789abcdefabcdef01234567890", id), -EINVAL); /* 33 */
        ASSERT_EQ(state_parse_boot_id("0123456789abcdefabcdef012345678g", id), -EINVAL);
        ASSERT_EQ(state_parse_boot_id("", id), -EINVAL);
}

int main(void) {
        test_round_trip();
        test_damage();
        test_version(1);
        test_version(2);
        test_version_3();
        test_unit_names();
        test_files();
        test_boot_id();
        return 0;
}
