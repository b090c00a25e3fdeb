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
        uint64_t events_throttled; /* failed execs that sent no event: the UID's rate limit */
} UserCount;

/* Every entry of the counts map, sorted by UID. capacity is the map's max_entries. */
int counts_read_all(int map_fd, uint32_t capacity, UserCount **ret, size_t *ret_n);
/* One UID's entry; -ENOENT if it has none. */
int counts_read_one(int map_fd, uint32_t uid, UserCount *ret);
/* Removes one UID's entry; returns 1 if it existed, 0 if not. */
int counts_reset_one(int map_fd, uint32_t uid);
/* Removes every entry present when called; returns how many. */
int counts_reset_all(int map_fd, uint32_t capacity);

/* Writes entries into an empty map, before any program counts into it; entries with
 * last_exec_ns 0 stay so. Returns how many did not fit (map full). */
int counts_write(int map_fd, const UserCount *u, size_t n, size_t *ret_dropped);
/* Copies every entry of one map into another (of another capacity). */
int counts_copy(int from_fd, uint32_t from_capacity, int to_fd, size_t *ret_dropped);

/* The per-CPU statistics summed over CPUs. */
int counts_read_stats(int stats_fd, struct exec_stats *ret);

/* Pure helpers. */
void counts_sort_by_uid(UserCount *u, size_t n);
void exec_stats_add(struct exec_stats *total, const struct exec_stats *s);
