/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.h: the counts on disk, so that they survive a reboot.
 *
 * One file, <state dir>/counts.state, replaced atomically (written to a temporary file,
 * synced, renamed). Binary, in the host's byte order, with a CRC32 over all of it, so that
 * a torn or damaged file is recognized and never read as counts. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define STATE_FILE "counts.state"
#define STATE_ENTRIES_MAX (1u << 20)

typedef struct StateEntry {
        uint32_t uid;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_usec; /* CLOCK_REALTIME; 0 if unknown */
} StateEntry;

typedef struct StateSnapshot {
        uint64_t since_usec; /* the last full reset */
        uint64_t saved_usec;
        uint8_t boot_id[16]; /* of the boot that wrote it */
        uint64_t map_full_execs; /* since the last full reset */
        uint64_t map_full_failed;
        size_t n;
        StateEntry *entries;
} StateSnapshot;

void state_snapshot_done(StateSnapshot *s);

/* Pure encoding; decoding checks everything and says what is wrong. */
int state_encode(const StateSnapshot *s, void **ret, size_t *ret_size);
int state_decode(const void *data, size_t size, StateSnapshot *ret, const char **ret_reason);

/* Writes dir/counts.state atomically and durably. */
int state_save(const char *dir, const StateSnapshot *s);
/* Reads dir/counts.state: -ENOENT if there is none, -EBADMSG with *ret_reason if it is
 * damaged. */
int state_load(const char *dir, StateSnapshot *ret, const char **ret_reason);
/* Renames a damaged dir/counts.state to counts.state.damaged-<usec>, which it returns. */
int state_set_aside(const char *dir, char **ret_path);
/* Removes dir/counts.state; 0 also when there was none. */
int state_remove(const char *dir);

/* The kernel's boot ID (/proc/sys/kernel/random/boot_id). */
int state_read_boot_id(uint8_t ret[16]);
/* "0123...cdef", 32 hex digits and a NUL. */
char *state_format_boot_id(const uint8_t id[16], char buf[33]);
