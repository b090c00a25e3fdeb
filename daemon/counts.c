/* SPDX-License-Identifier: GPL-2.0-or-later */
/* counts.c: reading and resetting the per-UID counts and the kernel-side statistics. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counts.h"
#include "macro.h"

/* The same for maps keyed by UID. */
static int read_batch(int map_fd, uint32_t capacity, size_t value_size, uint32_t **ret_keys, void **ret_values,
                      size_t *ret_n) {
        return counts_read_map(map_fd, capacity, sizeof(uint32_t), value_size, (void **) ret_keys, ret_values,
                                ret_n);
}

static UserCount user_count(uint32_t uid, const struct exec_count *v) {
        return (UserCount) {
                .uid = uid,
                .execs = v->execs,
                .failed = v->failed,
                .last_exec_ns = v->last_exec_ns,
                .events_throttled = v->events_throttled,
        };
}

int counts_read_all(CountsMaps m, UserCount **ret, size_t *ret_n) {
        _cleanup_(freep) uint32_t *keys = NULL, *privileged_keys = NULL;
        _cleanup_(freep) struct exec_count *values = NULL;
        _cleanup_(freep) uint64_t *privileged = NULL;
        _cleanup_(freep) UserCount *u = NULL;
        _cleanup_(freep) uint32_t *order = NULL;
        size_t n, n_privileged = 0;
        int r;

        /* Privileged first: the programs count an exec, then whether it was privileged, so
         * an exec between the two reads is in the counts only, and a UID never shows more
         * privileged execs than execs. */
        if (m.privileged_fd >= 0) {
                r = read_batch(m.privileged_fd, m.capacity, sizeof(*privileged), &privileged_keys,
                               (void **) &privileged, &n_privileged);
                if (r < 0)
                        return r;
        }
        r = read_batch(m.counts_fd, m.capacity, sizeof(*values), &keys, (void **) &values, &n);
        if (r < 0)
                return r;
        u = calloc(n ? n : 1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        /* Gathered in UID order rather than sorted after: qsort's calls of compare_uid()
         * on the 48-byte entries took a third of a GetStats of 100,000 UIDs. */
        order = calloc(n ? n : 1, sizeof(*order));
        if (order && counts_order_by_uid(keys, n, order) >= 0)
                for (size_t i = 0; i < n; i++)
                        u[i] = user_count(keys[order[i]], &values[order[i]]);
        else {
                for (size_t i = 0; i < n; i++)
                        u[i] = user_count(keys[i], &values[i]);
                counts_sort_by_uid(u, n);
        }

        /* A UID without counts (reset a moment ago) has none to add to. */
        for (size_t i = 0; i < n_privileged; i++) {
                UserCount *c = counts_find_uid(u, n, privileged_keys[i]);

                if (c)
                        c->privileged = privileged[i];
        }

        *ret = TAKE_PTR(u);
        *ret_n = n;
        return 0;
}

/* Every key and value of the logins map, the counts of places among them. */
static int read_logins_map(CountsMaps m, struct exec_login_key **ret_keys, uint64_t **ret_values, size_t *ret_n) {
        *ret_keys = NULL;
        *ret_values = NULL;
        *ret_n = 0;
        if (m.logins_fd < 0)
                return 0;
        return counts_read_map(m.logins_fd, EXECCOUNT_LOGINS_CAPACITY(m.capacity), sizeof(**ret_keys),
                                sizeof(**ret_values), (void **) ret_keys, (void **) ret_values, ret_n);
}

int counts_read_logins(CountsMaps m, LoginCount **ret, size_t *ret_n, size_t *ret_read) {
        _cleanup_(freep) struct exec_login_key *keys = NULL;
        _cleanup_(freep) uint64_t *values = NULL;
        LoginCount *l;
        size_t n, k = 0;
        int r;

        r = read_logins_map(m, &keys, &values, &n);
        if (r < 0)
                return r;
        l = calloc(n ? n : 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (keys[i].uid != EXEC_LOGIN_PLACES)
                        l[k++] = (LoginCount) { .login_uid = keys[i].login_uid, .uid = keys[i].uid,
                                                .execs = values[i] };
        *ret = l;
        *ret_n = k;
        if (ret_read)
                *ret_read = n;
        return 0;
}

int counts_read_one(CountsMaps m, uint32_t uid, UserCount *ret) {
        struct exec_count v;
        uint64_t privileged = 0;

        if (m.privileged_fd >= 0 && bpf_map_lookup_elem(m.privileged_fd, &uid, &privileged) < 0 &&
            errno != ENOENT)
                return negative_errno();
        if (bpf_map_lookup_elem(m.counts_fd, &uid, &v) < 0)
                return negative_errno();
        *ret = user_count(uid, &v);
        ret->privileged = privileged;
        return 0;
}

static int delete_uid(int map_fd, uint32_t uid) {
        if (bpf_map_delete_elem(map_fd, &uid) < 0) {
                int r = negative_errno();

                return r == -ENOENT ? 0 : r;
        }
        return 1;
}

/* A reset deletes the UID's element. A BPF program that looked the element up a moment
 * before may still add its one count to it; with a preallocated map that element can in
 * the same instant be handed to a UID appearing for the first time, which then starts at
 * one too many. The window is a few instructions wide and needs a reset, a new UID and an
 * exec to meet in it; the alternative, never deleting, would fill the map for good.
 *
 * The privileged entry goes right after the count, in the next system call: a privileged
 * exec between the two keeps its count and loses its privileged mark. Never the other
 * way round, since the programs count an exec before they mark it: a UID never shows
 * more privileged execs than execs. */
static int reset_uid(CountsMaps m, uint32_t uid) {
        int r, k;

        r = delete_uid(m.counts_fd, uid);
        if (r < 0)
                return r;
        k = m.privileged_fd >= 0 ? delete_uid(m.privileged_fd, uid) : 0;
        if (k < 0)
                return k;
        return r;
}

/* Removes the login pairs there are now (of uid only, when has_uid), and the count of
 * their places; none in maps of a build before them. The pairs are read after the counts
 * went: a pair made meanwhile is of an exec that may have been counted before the reset,
 * so it goes too. An exec in between keeps its count and loses its login pair, as with
 * the privileged entry, never the other way round. (The count of places goes after its
 * pairs: a pair made in between leaves it one short, which lets the UID have one more.) */
static int reset_logins(CountsMaps m, bool has_uid, uint32_t uid) {
        _cleanup_(freep) struct exec_login_key *keys = NULL;
        _cleanup_(freep) uint64_t *values = NULL;
        size_t n;
        int r;

        r = read_logins_map(m, &keys, &values, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                /* One UID's pairs; its count of places (whose key has no real UID) goes
                 * after them, below. */
                if (has_uid && keys[i].uid != uid)
                        continue;
                if (bpf_map_delete_elem(m.logins_fd, &keys[i]) < 0 && errno != ENOENT)
                        return negative_errno();
        }
        if (has_uid &&
            bpf_map_delete_elem(m.logins_fd, &(struct exec_login_key) { .login_uid = uid, .uid = EXEC_LOGIN_PLACES }) <
                    0 &&
            errno != ENOENT)
                return negative_errno();
        return 0;
}

int counts_reset_one(CountsMaps m, uint32_t uid) {
        int r, k;

        r = reset_uid(m, uid);
        if (r < 0)
                return r;
        k = reset_logins(m, true, uid);
        return k < 0 ? k : r;
}

int counts_reset_all(CountsMaps m) {
        _cleanup_(freep) uint32_t *keys = NULL, *privileged_keys = NULL;
        _cleanup_(freep) struct exec_count *values = NULL;
        _cleanup_(freep) uint64_t *privileged = NULL;
        size_t n, n_privileged = 0, deleted = 0;
        int r;

        /* Only the UIDs present now: a UID that appears meanwhile has counted after the
         * reset and keeps its count. Each UID's two entries go one right after the other. */
        r = read_batch(m.counts_fd, m.capacity, sizeof(*values), &keys, (void **) &values, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = reset_uid(m, keys[i]);
                if (r < 0)
                        return r;
                deleted += r;
        }
        /* And privileged entries without a count (a reset's window), read after the
         * counts went: none is left behind to join a later count. A UID that counted
         * again meanwhile keeps its privileged execs, as it keeps its count. */
        if (m.privileged_fd >= 0) {
                r = read_batch(m.privileged_fd, m.capacity, sizeof(*privileged), &privileged_keys,
                               (void **) &privileged, &n_privileged);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_privileged; i++) {
                struct exec_count v;

                if (bpf_map_lookup_elem(m.counts_fd, &privileged_keys[i], &v) >= 0)
                        continue;
                r = delete_uid(m.privileged_fd, privileged_keys[i]);
                if (r < 0)
                        return r;
        }
        r = reset_logins(m, false, 0);
        if (r < 0)
                return r;
        return (int) MIN(deleted, (size_t) INT32_MAX);
}

int counts_write(CountsMaps m, const UserCount *u, size_t n, size_t *ret_dropped) {
        size_t dropped = 0;

        for (size_t i = 0; i < n; i++) {
                struct exec_count v = {
                        .execs = u[i].execs,
                        .failed = u[i].failed,
                        .last_exec_ns = u[i].last_exec_ns,
                        .events_throttled = u[i].events_throttled,
                };

                if (bpf_map_update_elem(m.counts_fd, &u[i].uid, &v, BPF_ANY) < 0) {
                        if (errno != E2BIG)
                                return negative_errno();
                        dropped++;
                        continue;
                }
                /* As many entries as counts: there is room if counts had it. */
                if (u[i].privileged > 0 && m.privileged_fd >= 0 &&
                    bpf_map_update_elem(m.privileged_fd, &u[i].uid, &u[i].privileged, BPF_ANY) < 0)
                        return negative_errno();
        }
        *ret_dropped = dropped;
        return 0;
}

/* Adds one to uid's count of places for a pair written. */
static int place_taken(CountsMaps m, uint32_t uid) {
        struct exec_login_key key = { .login_uid = uid, .uid = EXEC_LOGIN_PLACES };
        uint64_t places = 0;

        if (bpf_map_lookup_elem(m.logins_fd, &key, &places) < 0 && errno != ENOENT)
                return negative_errno();
        places++;
        return bpf_map_update_elem(m.logins_fd, &key, &places, BPF_ANY) < 0 ? negative_errno() : 0;
}

int counts_write_logins(CountsMaps m, const LoginCount *l, size_t n, size_t *ret_dropped) {
        size_t dropped = 0;
        int r;

        for (size_t i = 0; i < n && m.logins_fd >= 0; i++) {
                struct exec_login_key key = { .login_uid = l[i].login_uid, .uid = l[i].uid };

                if (l[i].uid == EXEC_LOGIN_PLACES)
                        continue; /* never a real UID's: the map's own bookkeeping */
                /* Each pair takes a place, as the programs do it, but for the "other" one. */
                r = l[i].login_uid == EXEC_LOGIN_OTHER ? 0 : place_taken(m, l[i].uid);
                if (r >= 0 && bpf_map_update_elem(m.logins_fd, &key, &l[i].execs, BPF_ANY) < 0)
                        r = negative_errno();
                if (r == -E2BIG) {
                        dropped++;
                        continue;
                }
                if (r < 0)
                        return r;
        }
        *ret_dropped = dropped;
        return 0;
}

int counts_copy(CountsMaps from, CountsMaps to, size_t *ret_dropped, size_t *ret_dropped_logins) {
        _cleanup_(freep) UserCount *u = NULL;
        _cleanup_(freep) LoginCount *l = NULL;
        size_t n, n_logins;
        int r;

        r = counts_read_all(from, &u, &n);
        if (r >= 0)
                r = counts_read_logins(from, &l, &n_logins, NULL);
        if (r >= 0)
                r = counts_write(to, u, n, ret_dropped);
        if (r >= 0)
                r = counts_write_logins(to, l, n_logins, ret_dropped_logins);
        return r;
}

/* The one value of a per-CPU array of u64 counters (size bytes), summed over CPUs. */
static int read_percpu_sum(int fd, size_t size, uint64_t *ret) {
        _cleanup_(freep) uint64_t *per_cpu = NULL;
        size_t words = size / sizeof(uint64_t);
        uint32_t zero = 0;
        int n_cpus;

        n_cpus = libbpf_num_possible_cpus();
        if (n_cpus < 0)
                return n_cpus;
        /* Per-CPU values come back 8-byte aligned; these are all u64s already. */
        per_cpu = calloc((size_t) n_cpus, size);
        if (!per_cpu)
                return -ENOMEM;
        if (bpf_map_lookup_elem(fd, &zero, per_cpu) < 0)
                return negative_errno();
        memset(ret, 0, size);
        for (int i = 0; i < n_cpus; i++)
                for (size_t w = 0; w < words; w++)
                        ret[w] += per_cpu[(size_t) i * words + w];
        return 0;
}

int counts_read_stats(int stats_fd, struct exec_stats *ret) {
        _Static_assert(sizeof(struct exec_stats) % sizeof(uint64_t) == 0, "exec_stats is all u64s");
        return read_percpu_sum(stats_fd, sizeof(*ret), (uint64_t *) ret);
}

int counts_clear_units_full(int attribution_fd) {
        _cleanup_(freep) struct exec_attribution_stats *per_cpu = NULL;
        uint32_t zero = 0;
        int n_cpus;

        n_cpus = libbpf_num_possible_cpus();
        if (n_cpus < 0)
                return n_cpus;
        per_cpu = calloc((size_t) n_cpus, sizeof(*per_cpu));
        if (!per_cpu)
                return -ENOMEM;
        if (bpf_map_lookup_elem(attribution_fd, &zero, per_cpu) < 0)
                return negative_errno();
        for (int i = 0; i < n_cpus; i++) {
                per_cpu[i].units_full_execs = 0;
                per_cpu[i].units_full_failed = 0;
                per_cpu[i].names_full = 0;
        }
        return bpf_map_update_elem(attribution_fd, &zero, per_cpu, BPF_ANY) < 0 ? negative_errno() : 0;
}

int counts_read_attribution(int attribution_fd, struct exec_attribution_stats *ret) {
        _Static_assert(sizeof(struct exec_attribution_stats) % sizeof(uint64_t) == 0, "all u64s");
        if (attribution_fd < 0) {
                *ret = (struct exec_attribution_stats) {};
                return 0;
        }
        return read_percpu_sum(attribution_fd, sizeof(*ret), (uint64_t *) ret);
}
