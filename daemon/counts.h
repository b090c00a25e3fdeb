/* SPDX-License-Identifier: GPL-2.0-or-later */
/* counts.h: reading and resetting the per-UID counts and the kernel-side statistics. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "execcount.h"

typedef struct UserCount {
        uint32_t uid;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_ns; /* CLOCK_BOOTTIME */
        uint64_t events_throttled; /* execs that sent no event: the UID's limits */
        uint64_t privileged; /* execs that ran with effective UID 0, this UID not being 0 */
} UserCount;

/* Successful execs of one real UID under one login UID. */
typedef struct LoginCount {
        uint32_t login_uid; /* UINT32_MAX: unset */
        uint32_t uid;
        uint64_t execs;
} LoginCount;

/* The maps that hold the per-UID counts: counts, and privileged and logins beside it. All
 * have capacity entries at most. privileged_fd and logins_fd are -EBADF for maps of a
 * build before them: read as empty, not written. */
typedef struct CountsMaps {
        int counts_fd;
        int privileged_fd;
        int logins_fd;
        uint32_t capacity;
} CountsMaps;

/* Every UID of the counts map, sorted by UID, with its privileged execs. */
int counts_read_all(CountsMaps m, UserCount **ret, size_t *ret_n);
/* One UID's counts; -ENOENT if it has none. */
int counts_read_one(CountsMaps m, uint32_t uid, UserCount *ret);
/* Every (login UID, UID) pair of the logins map, in the map's order; *ret_read (if not
 * NULL) says how many entries were read for them (the counts of places too). */
int counts_read_logins(CountsMaps m, LoginCount **ret, size_t *ret_n, size_t *ret_read);
/* Removes one UID's entries (its login pairs too); returns 1 if it had counts, 0 if not. */
int counts_reset_one(CountsMaps m, uint32_t uid);
/* Removes every entry present when called; returns how many UIDs had counts. */
int counts_reset_all(CountsMaps m);

/* Writes entries into empty maps, before any program counts into them; entries with
 * last_exec_ns 0 stay so. Returns how many did not fit (map full). */
int counts_write(CountsMaps m, const UserCount *u, size_t n, size_t *ret_dropped);
/* The same for login pairs, with their UIDs' counts of places; says how many did not fit. */
int counts_write_logins(CountsMaps m, const LoginCount *l, size_t n, size_t *ret_dropped);
/* Copies every entry of one set of maps into another (of another capacity). */
int counts_copy(CountsMaps from, CountsMaps to, size_t *ret_dropped, size_t *ret_dropped_logins);

/* The per-CPU statistics summed over CPUs. */
int counts_read_stats(int stats_fd, struct exec_stats *ret);
int counts_read_attribution(int attribution_fd, struct exec_attribution_stats *ret);
/* Sets the per-unit map-full counters to 0, for a full reset (the meta record has no room
 * for their baseline); a program adding to them at that moment may lose its one. */
int counts_clear_units_full(int attribution_fd);

/* Reads all keys and values of a hash map (of key_size and value_size bytes each, at most
 * capacity entries) with the batch interface. */
int counts_read_map(int map_fd, uint32_t capacity, size_t key_size, size_t value_size, void **ret_keys,
                    void **ret_values, size_t *ret_n);

/* Pure helpers. */
void counts_sort_by_uid(UserCount *u, size_t n);
/* The indexes 0..n of uids in the order of their UIDs (equal ones in their order), in
 * ret_order; -ENOMEM, and ret_order untouched, if there is no room to sort them. */
int counts_order_by_uid(const uint32_t *uids, size_t n, uint32_t *ret_order);
/* The UID's count in u, n of them sorted by UID; NULL if it has none. */
UserCount *counts_find_uid(UserCount *u, size_t n, uint32_t uid);
void counts_sort_logins(LoginCount *l, size_t n);
