/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-tally.c: the counts as clients see them, over real BPF maps with no program
 * attached (needs root, hence the bpf suite): last-exec times from the kernel's stamps or
 * the state file's, the map-full baseline of the last reset, resets of one UID and of
 * all, and the bookkeeping pinned beside the counts. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "counts.h"
#include "tally.h"
#include "test.h"
#include "time-util.h"

static Probe *new_maps(void) {
        ProbeOptions opts = { .mode = PROBE_TRACEPOINT, .max_uids = 64, .ring_buffer_size = 4096 };
        Probe *p;

        ASSERT_EQ(probe_new_unattached(&opts, &p), 0);
        return p;
}

/* What the kernel counted into the stats map: execs as if on CPU 0, failures on the last
 * CPU (the same one when there is one), summed when read. */
static void set_map_full(Probe *p, uint64_t execs, uint64_t failed) {
        int n = libbpf_num_possible_cpus();
        struct exec_stats *v = calloc(n, sizeof(*v));
        uint32_t zero = 0;

        ASSERT(n > 0 && v);
        v[0].map_full_execs = execs;
        v[n - 1].map_full_failed += failed;
        ASSERT_EQ(bpf_map_update_elem(probe_get_stats_fd(p), &zero, v, BPF_ANY), 0);
        free(v);
}

static void test_read(void) {
        Probe *p = new_maps();
        UserCount in[] = {
                { .uid = 1000, .execs = 5, .failed = 1, .last_exec_ns = 2000000000ull, .events_throttled = 3 },
                { .uid = 1001, .execs = 0, .failed = 7 }, /* only failures: no stamp */
                { .uid = 0, .execs = 9 },
        };
        StateEntry *kept = calloc(2, sizeof(*kept));
        struct exec_meta meta;
        struct exec_stats s;
        TallyEntry *e, one;
        uint64_t execs, failed, throttled;
        size_t n, dropped;
        Tally *t;

        ASSERT_EQ(counts_write(probe_get_counts_maps(p), in, ELEMENTSOF(in), &dropped), 0);
        ASSERT_EQ_U(dropped, 0);
        /* A reset happened when the kernel had counted 4 and 2 without a UID. */
        ASSERT_EQ(probe_read_meta(p, &meta), 0);
        meta.since_usec = 1700000000000000ull;
        meta.map_full_execs_at_reset = 4;
        meta.map_full_failed_at_reset = 2;
        ASSERT_EQ(probe_write_meta(p, &meta), 0);
        set_map_full(p, 10, 2);

        ASSERT_EQ(tally_new(p, &t), 0);
        ASSERT_EQ_U(tally_since_usec(t), 1700000000000000ull);
        ASSERT_EQ_U(tally_capacity(t), 64);
        ASSERT(kept);
        kept[0] = (StateEntry) { .uid = 1001, .last_exec_usec = 1600000000000000ull };
        kept[1] = (StateEntry) { .uid = 1000, .last_exec_usec = 1 }; /* the kernel's stamp wins */
        tally_keep_times(t, kept, 2);

        ASSERT_EQ(tally_read_all(t, &e, &n), 0);
        ASSERT_EQ_U(n, 3);
        ASSERT_EQ_U(e[0].uid, 0);
        ASSERT_EQ_U(e[0].execs, 9);
        ASSERT_EQ_U(e[0].last_exec_usec, 0);
        ASSERT_EQ_U(e[1].uid, 1000);
        ASSERT_EQ_U(e[1].events_throttled, 3);
        ASSERT_EQ_U(e[1].last_exec_usec, boot_ns_to_realtime_usec(2000000000ull, tally_realtime_offset(t)));
        ASSERT_EQ_U(e[2].uid, 1001);
        ASSERT_EQ_U(e[2].failed, 7);
        ASSERT_EQ_U(e[2].last_exec_usec, 1600000000000000ull);
        tally_sum(e, n, &execs, &failed, &throttled);
        ASSERT_EQ_U(execs, 14);
        ASSERT_EQ_U(failed, 8);
        ASSERT_EQ_U(throttled, 3);
        free(e);

        ASSERT_EQ(tally_read_one(t, 1001, &one), 0);
        ASSERT_EQ_U(one.failed, 7);
        ASSERT_EQ_U(one.last_exec_usec, 1600000000000000ull);
        ASSERT_EQ(tally_read_one(t, 4242, &one), -ENOENT);

        ASSERT_EQ(tally_read_stats(t, &s), 0);
        ASSERT_EQ_U(s.map_full_execs, 6);
        ASSERT_EQ_U(s.map_full_failed, 0);
        /* Below the baseline (the kernel's figures started again): zero, not a wrap. */
        set_map_full(p, 1, 1);
        ASSERT_EQ(tally_read_stats(t, &s), 0);
        ASSERT_EQ_U(s.map_full_execs, 0);
        ASSERT_EQ_U(s.map_full_failed, 0);

        tally_free(t);
        probe_free(p);
}

static bool privileged_map_empty(Probe *p) {
        uint32_t key;

        return bpf_map_get_next_key(probe_get_counts_maps(p).privileged_fd, NULL, &key) < 0 && errno == ENOENT;
}

static void test_reset(void) {
        Probe *p = new_maps();
        UserCount in[] = { { .uid = 1000, .execs = 5, .privileged = 2 },
                           { .uid = 1001, .execs = 3, .failed = 7, .privileged = 1 },
                           { .uid = 1002, .execs = 1 } };
        uint32_t orphan = 1005;
        uint64_t one_privileged = 1;
        StateEntry *kept = calloc(1, sizeof(*kept));
        struct exec_meta meta;
        struct exec_stats s;
        TallyEntry one, *e;
        size_t n, dropped;
        Tally *t;

        ASSERT_EQ(counts_write(probe_get_counts_maps(p), in, ELEMENTSOF(in), &dropped), 0);
        set_map_full(p, 3, 4);
        ASSERT_EQ(tally_new(p, &t), 0);
        ASSERT(kept);
        kept[0] = (StateEntry) { .uid = 1001, .last_exec_usec = 1600000000000000ull };
        tally_keep_times(t, kept, 1);

        ASSERT_EQ(tally_read_one(t, 1001, &one), 0);
        ASSERT_EQ_U(one.privileged, 1);

        /* One UID: its counts, its privileged ones and its kept time go; no one else's. */
        ASSERT_EQ(tally_reset(t, true, 1001, 0), 1);
        ASSERT_EQ(tally_reset(t, true, 1001, 0), 0);
        ASSERT_EQ(tally_read_one(t, 1001, &one), -ENOENT);
        ASSERT_EQ(tally_read_one(t, 1000, &one), 0);
        ASSERT_EQ_U(one.execs, 5);
        ASSERT_EQ_U(one.privileged, 2);
        UserCount again = { .uid = 1001, .failed = 1 };
        ASSERT_EQ(counts_write(probe_get_counts_maps(p), &again, 1, &dropped), 0);
        ASSERT_EQ(tally_read_one(t, 1001, &one), 0);
        ASSERT_EQ_U(one.last_exec_usec, 0);
        ASSERT_EQ_U(one.privileged, 0);

        /* A privileged entry without counts (left by a reset's window) is not shown, and
         * a reset of all takes it too. */
        ASSERT_EQ(bpf_map_update_elem(probe_get_counts_maps(p).privileged_fd, &orphan, &one_privileged, BPF_ANY), 0);
        ASSERT_EQ(tally_read_one(t, orphan, &one), -ENOENT);
        ASSERT(!privileged_map_empty(p));

        /* All: every UID, the map-full counters from now on, a new start, kept pinned. */
        ASSERT_EQ(tally_reset(t, false, 0, 1750000000000000ull), 3);
        ASSERT_EQ(tally_read_all(t, &e, &n), 0);
        ASSERT_EQ_U(n, 0);
        ASSERT(privileged_map_empty(p));
        free(e);
        ASSERT_EQ(tally_read_stats(t, &s), 0);
        ASSERT_EQ_U(s.map_full_execs, 0);
        ASSERT_EQ_U(s.map_full_failed, 0);
        set_map_full(p, 5, 4);
        ASSERT_EQ(tally_read_stats(t, &s), 0);
        ASSERT_EQ_U(s.map_full_execs, 2);
        ASSERT_EQ_U(tally_since_usec(t), 1750000000000000ull);
        ASSERT_EQ(probe_read_meta(p, &meta), 0);
        ASSERT_EQ_U(meta.since_usec, 1750000000000000ull);
        ASSERT_EQ_U(meta.map_full_execs_at_reset, 3);
        ASSERT_EQ_U(meta.map_full_failed_at_reset, 4);

        /* A new tally over the same maps (a restart) sees the same. */
        tally_free(t);
        ASSERT_EQ(tally_new(p, &t), 0);
        ASSERT_EQ_U(tally_since_usec(t), 1750000000000000ull);
        ASSERT_EQ(tally_read_stats(t, &s), 0);
        ASSERT_EQ_U(s.map_full_execs, 2);

        ASSERT_EQ(tally_mark_kept(t, 1760000000000000ull), 0);
        ASSERT_EQ(probe_read_meta(p, &meta), 0);
        ASSERT_EQ_U(meta.kept_usec, 1760000000000000ull);
        tally_free(t);
        probe_free(p);
}

/* The pairs of login UID and UID: read sorted (unset last), reset with their UID, and
 * the map-full count relative to the last full reset. */
static void test_logins(void) {
        Probe *p = new_maps();
        LoginCount in[] = {
                { .login_uid = UINT32_MAX, .uid = 0, .execs = 9 },
                { .login_uid = 1000, .uid = 0, .execs = 40 },
                { .login_uid = 1000, .uid = 1000, .execs = 3 },
                { .login_uid = 1001, .uid = 1000, .execs = 2 },
        };
        UserCount users[] = { { .uid = 0, .execs = 49 }, { .uid = 1000, .execs = 5 } };
        struct exec_attribution_stats a;
        int n_cpus = libbpf_num_possible_cpus();
        struct exec_attribution_stats *v = calloc(n_cpus, sizeof(*v));
        uint32_t zero = 0;
        LoginCount *l;
        size_t n, dropped;
        Tally *t;

        ASSERT(n_cpus > 0 && v);
        ASSERT_EQ(counts_write(probe_get_counts_maps(p), users, ELEMENTSOF(users), &dropped), 0);
        ASSERT_EQ(counts_write_logins(probe_get_counts_maps(p), in, ELEMENTSOF(in), &dropped), 0);
        ASSERT_EQ_U(dropped, 0);
        v[0].logins_full = 1;
        v[n_cpus - 1].logins_full += 6; /* summed over CPUs */
        ASSERT_EQ(bpf_map_update_elem(probe_get_attribution_fd(p), &zero, v, BPF_ANY), 0);

        ASSERT_EQ(tally_new(p, &t), 0);
        ASSERT_EQ(tally_read_logins(t, NULL, NULL, &l, &n, NULL), 0);
        ASSERT_EQ_U(n, 4);
        ASSERT(l[0].login_uid == 1000 && l[0].uid == 0 && l[0].execs == 40);
        ASSERT(l[1].login_uid == 1000 && l[1].uid == 1000 && l[1].execs == 3);
        ASSERT(l[2].login_uid == 1001 && l[2].uid == 1000 && l[2].execs == 2);
        ASSERT(l[3].login_uid == UINT32_MAX && l[3].uid == 0 && l[3].execs == 9);
        free(l);
        ASSERT_EQ(tally_read_attribution(t, &a), 0);
        ASSERT_EQ_U(a.logins_full, 7);

        /* A UID's reset takes the pairs it ran as, whatever the login. */
        ASSERT_EQ(tally_reset(t, true, 1000, 0), 1);
        ASSERT_EQ(tally_read_logins(t, NULL, NULL, &l, &n, NULL), 0);
        ASSERT_EQ_U(n, 2);
        ASSERT(l[0].uid == 0 && l[1].uid == 0);
        free(l);

        /* A full reset takes them all, and starts the map-full count again. */
        ASSERT(tally_reset(t, false, 0, 1800000000000000ull) >= 1);
        ASSERT_EQ(tally_read_logins(t, NULL, NULL, &l, &n, NULL), 0);
        ASSERT_EQ_U(n, 0);
        free(l);
        ASSERT_EQ(tally_read_attribution(t, &a), 0);
        ASSERT_EQ_U(a.logins_full, 0);
        /* The baseline is kept with the counts: the next daemon starts from it. */
        tally_free(t);
        ASSERT_EQ(tally_new(p, &t), 0);
        ASSERT_EQ(tally_read_attribution(t, &a), 0);
        ASSERT_EQ_U(a.logins_full, 0);

        tally_free(t);
        probe_free(p);
        free(v);
}

/* A map read whole (counts-read.c) in room that grows from 1,024 entries as it reads, and
 * that a bucket may not fit: every entry, once. */
static void test_read_many(void) {
        ProbeOptions opts = { .mode = PROBE_TRACEPOINT, .max_uids = 8192, .ring_buffer_size = 4096 };
        enum { N = 5000 };
        UserCount *in = calloc(N, sizeof(*in)), *out;
        size_t n, dropped;
        Probe *p;

        ASSERT(in);
        ASSERT_EQ(probe_new_unattached(&opts, &p), 0);
        for (size_t i = 0; i < N; i++)
                in[i] = (UserCount) { .uid = 2000 + 3 * (uint32_t) i, .execs = i + 1, .failed = i % 7,
                                      .last_exec_ns = 1000000000ull + i, .privileged = i % 3 == 0 ? i : 0 };
        ASSERT_EQ(counts_write(probe_get_counts_maps(p), in, N, &dropped), 0);
        ASSERT_EQ_U(dropped, 0);
        ASSERT_EQ(counts_read_all(probe_get_counts_maps(p), &out, &n), 0);
        ASSERT_EQ_U(n, N);
        for (size_t i = 0; i < N; i++) {
                ASSERT_EQ_U(out[i].uid, in[i].uid); /* in UID order, as written */
                ASSERT_EQ_U(out[i].execs, in[i].execs);
                ASSERT_EQ_U(out[i].failed, in[i].failed);
                ASSERT_EQ_U(out[i].privileged, in[i].privileged);
        }
        free(out);
        free(in);
        probe_free(p);
}

int main(void) {
        if (geteuid() != 0)
                TEST_SKIP_OR_FAIL("BPF maps need root");
        test_read();
        test_reset();
        test_logins();
        test_read_many();
        return 0;
}
