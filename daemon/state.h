/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.h: the counts on disk, so that they survive a reboot.
 *
 * One file, <state dir>/counts.state, replaced atomically (written to a temporary file,
 * synced, renamed). Binary, in the host's byte order, with a CRC32 over all of it, so that
 * a torn or damaged file is recognized and never read as counts.
 *
 * The file: a header, an entry per UID, from version 3 a section of login pairs (its own
 * header, then an entry per pair), and from version 4 a section of per-unit counts (its
 * header, then an entry per row, each followed by its unit's name). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_FILE "counts.state"
#define STATE_ENTRIES_MAX (1u << 20)

typedef struct StateEntry {
        uint32_t uid;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_usec; /* CLOCK_REALTIME; 0 if unknown */
        uint64_t privileged; /* 0 in files before version 2 */
} StateEntry;

/* Execs of one UID in one systemd unit (from version 4). A row of the totals of cgroups
 * already folded (live false); or the count of one cgroup still in the kernel's map when
 * the file was written (live true, with its cgroup ID), which a start adds to the totals
 * unless the pinned map still holds it. */
typedef struct StateUnit {
        char *unit;
        uint32_t uid;
        bool live;
        uint64_t cgroup_id;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_usec; /* CLOCK_REALTIME; 0 if unknown */
} StateUnit;

/* The longest unit name kept. */
#define STATE_UNIT_NAME_MAX 1024

/* Successful execs of one UID under one login UID (UINT32_MAX: unset). */
typedef struct StateLogin {
        uint32_t login_uid;
        uint32_t uid;
        uint64_t execs;
} StateLogin;

typedef struct StateSnapshot {
        uint64_t since_usec; /* the last full reset */
        uint64_t saved_usec;
        uint8_t boot_id[16]; /* of the boot that wrote it */
        /* The kernel's ID of the counts map it was written from, in that boot; 0 if
         * unknown. Tells whether pinned counts are the ones it holds. */
        uint32_t counts_map_id;
        uint64_t map_full_execs; /* since the last full reset */
        uint64_t map_full_failed;
        size_t n;
        StateEntry *entries;
        /* From version 3; none in files before it. */
        uint64_t logins_full; /* execs not counted per login (the map was full) since the reset */
        size_t n_logins;
        StateLogin *logins;
        /* From version 4; none in files before it. Since the reset: execs and failures not
         * counted per unit (the map was full), cgroups left unnamed. */
        uint64_t units_full_execs, units_full_failed, names_full;
        size_t n_units;
        StateUnit *units;
} StateSnapshot;

void state_snapshot_done(StateSnapshot *s);
/* The largest file there can be. */
size_t state_size_max(void);

/* Pure encoding; decoding checks everything and says what is wrong. */
int state_encode(const StateSnapshot *s, void **ret, size_t *ret_size);
int state_decode(const void *data, size_t size, StateSnapshot *ret, const char **ret_reason);

/* Opens the state directory dir, making it (mode 0700) if asked and missing. Refused
 * (-EPERM, with *ret_reason) when users other than its owner may write to it, or when it
 * belongs to someone else than root and this process; -ENOTDIR with a reason when it is
 * not a directory. The other functions work relative to the fd. */
int state_dir_open(const char *dir, bool create, int *ret_fd, const char **ret_reason);
/* Writes counts.state atomically and durably. */
int state_save(int dfd, const StateSnapshot *s);
/* Reads counts.state: -ENOENT if there is none, -EBADMSG with *ret_reason if it is
 * damaged, or not a regular file (never opened blocking, never followed as a link). */
int state_load(int dfd, StateSnapshot *ret, const char **ret_reason);
/* Renames a damaged counts.state to counts.state.damaged-<usec>, whose name it returns. */
int state_set_aside(int dfd, char **ret_name);
/* Removes counts.state; 0 also when there was none. */
int state_remove(int dfd);

/* The kernel's boot ID (/proc/sys/kernel/random/boot_id). */
int state_read_boot_id(uint8_t ret[16]);
/* 32 hex digits, dashes allowed between them (as the kernel and systemd's %b write it). */
int state_parse_boot_id(const char *text, uint8_t ret[16]);
/* "0123...cdef", 32 hex digits and a NUL. */
char *state_format_boot_id(const uint8_t id[16], char buf[33]);
