/* SPDX-License-Identifier: GPL-2.0-or-later */
/* counts.c: reading and resetting the per-UID counts and the kernel-side statistics. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

#include "counts.h"
#include "macro.h"

static int compare_uid(const void *a, const void *b) {
        const UserCount *x = a, *y = b;

        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

void counts_sort_by_uid(UserCount *u, size_t n) {
        if (n > 1)
                qsort(u, n, sizeof(*u), compare_uid);
}

void exec_stats_add(struct exec_stats *total, const struct exec_stats *s) {
        total->events_lost += s->events_lost;
        total->map_full_execs += s->map_full_execs;
        total->map_full_failed += s->map_full_failed;
        total->scratch_busy += s->scratch_busy;
        total->returns_missed += s->returns_missed;
        total->inflight_full += s->inflight_full;
}

/* Reads all keys and values with the batch interface: a handful of syscalls instead of
 * two per UID. */
static int read_batch(int map_fd, uint32_t capacity, uint32_t **ret_keys, struct exec_count **ret_values,
                      size_t *ret_n) {
        _cleanup_(freep) uint32_t *keys = NULL;
        _cleanup_(freep) struct exec_count *values = NULL;
        uint32_t token = 0;
        size_t n = 0;
        bool first = true;

        /* One spare slot: new UIDs may appear while reading, and the map is bounded anyway. */
        keys = calloc((size_t) capacity + 1, sizeof(*keys));
        values = calloc((size_t) capacity + 1, sizeof(*values));
        if (!keys || !values)
                return -ENOMEM;

        for (;;) {
                __u32 count = capacity + 1 - n;
                int r;

                if (count == 0)
                        break;
                r = bpf_map_lookup_batch(map_fd, first ? NULL : &token, &token, keys + n, values + n, &count,
                                         NULL);
                n += count;
                first = false;
                if (r == -ENOENT)
                        break; /* no more entries */
                if (r < 0)
                        return r;
        }

        *ret_keys = TAKE_PTR(keys);
        *ret_values = TAKE_PTR(values);
        *ret_n = n;
        return 0;
}

int counts_read_all(int map_fd, uint32_t capacity, UserCount **ret, size_t *ret_n) {
        _cleanup_(freep) uint32_t *keys = NULL;
        _cleanup_(freep) struct exec_count *values = NULL;
        UserCount *u;
        size_t n;
        int r;

        r = read_batch(map_fd, capacity, &keys, &values, &n);
        if (r < 0)
                return r;

        u = calloc(n ? n : 1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                u[i] = (UserCount) {
                        .uid = keys[i],
                        .execs = values[i].execs,
                        .failed = values[i].failed,
                        .last_exec_ns = values[i].last_exec_ns,
                        .events_throttled = values[i].events_throttled,
                };
        counts_sort_by_uid(u, n);

        *ret = u;
        *ret_n = n;
        return 0;
}

int counts_read_one(int map_fd, uint32_t uid, UserCount *ret) {
        struct exec_count v;

        if (bpf_map_lookup_elem(map_fd, &uid, &v) < 0)
                return negative_errno();
        *ret = (UserCount) {
                .uid = uid,
                .execs = v.execs,
                .failed = v.failed,
                .last_exec_ns = v.last_exec_ns,
                .events_throttled = v.events_throttled,
        };
        return 0;
}

/* A reset deletes the UID's element. A BPF program that looked the element up a moment
 * before may still add its one count to it; with a preallocated map that element can in
 * the same instant be handed to a UID appearing for the first time, which then starts at
 * one too many. The window is a few instructions wide and needs a reset, a new UID and an
 * exec to meet in it; the alternative, never deleting, would fill the map for good. */
int counts_reset_one(int map_fd, uint32_t uid) {
        if (bpf_map_delete_elem(map_fd, &uid) < 0) {
                int r = negative_errno();

                return r == -ENOENT ? 0 : r;
        }
        return 1;
}

int counts_reset_all(int map_fd, uint32_t capacity) {
        _cleanup_(freep) uint32_t *keys = NULL;
        _cleanup_(freep) struct exec_count *values = NULL;
        size_t n, deleted = 0;
        int r;

        /* Only the UIDs present now: a UID that appears meanwhile has counted after the
         * reset and keeps its count. */
        r = read_batch(map_fd, capacity, &keys, &values, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = counts_reset_one(map_fd, keys[i]);
                if (r < 0)
                        return r;
                deleted += r;
        }
        return (int) MIN(deleted, (size_t) INT32_MAX);
}

int counts_write(int map_fd, const UserCount *u, size_t n, size_t *ret_dropped) {
        size_t dropped = 0;

        for (size_t i = 0; i < n; i++) {
                struct exec_count v = {
                        .execs = u[i].execs,
                        .failed = u[i].failed,
                        .last_exec_ns = u[i].last_exec_ns,
                        .events_throttled = u[i].events_throttled,
                };

                if (bpf_map_update_elem(map_fd, &u[i].uid, &v, BPF_ANY) < 0) {
                        if (errno != E2BIG)
                                return negative_errno();
                        dropped++;
                }
        }
        *ret_dropped = dropped;
        return 0;
}

int counts_copy(int from_fd, uint32_t from_capacity, int to_fd, size_t *ret_dropped) {
        _cleanup_(freep) UserCount *u = NULL;
        size_t n;
        int r;

        r = counts_read_all(from_fd, from_capacity, &u, &n);
        if (r < 0)
                return r;
        return counts_write(to_fd, u, n, ret_dropped);
}

int counts_read_stats(int stats_fd, struct exec_stats *ret) {
        _cleanup_(freep) struct exec_stats *per_cpu = NULL;
        struct exec_stats total = {};
        uint32_t zero = 0;
        int n_cpus;

        n_cpus = libbpf_num_possible_cpus();
        if (n_cpus < 0)
                return n_cpus;
        /* Per-CPU values come back 8-byte aligned; exec_stats is all u64s already. */
        per_cpu = calloc(n_cpus, sizeof(*per_cpu));
        if (!per_cpu)
                return -ENOMEM;
        if (bpf_map_lookup_elem(stats_fd, &zero, per_cpu) < 0)
                return negative_errno();
        for (int i = 0; i < n_cpus; i++)
                exec_stats_add(&total, &per_cpu[i]);
        *ret = total;
        return 0;
}
