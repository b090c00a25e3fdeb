/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe-maps.c: what a probe offers once made: its maps and their bookkeeping (the meta
 * record), the kernel-side statistics, the settings the programs read, and how its links
 * are kept. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "execcount.skel.h"
#include "log.h"
#include "probe-internal.h"

int probe_detach(Probe *p) {
        return links_release_for_stop(&p->links);
}

bool probe_links_in_fdstore(const Probe *p) {
        return p->links.keeper == LINKS_FDSTORE;
}

ProbeMode probe_get_mode(const Probe *p) {
        return p->mode;
}

ProbeOrigin probe_get_origin(const Probe *p) {
        return p->origin;
}

bool probe_is_pinned(const Probe *p) {
        return p->pin_dir != NULL;
}

int probe_get_counts_fd(const Probe *p) {
        return p->fds[PIN_COUNTS];
}

CountsMaps probe_get_counts_maps(const Probe *p) {
        return (CountsMaps) {
                .counts_fd = p->fds[PIN_COUNTS],
                .privileged_fd = p->fds[PIN_PRIVILEGED],
                .logins_fd = p->fds[PIN_LOGINS],
                .capacity = p->max_uids,
        };
}

int probe_get_stats_fd(const Probe *p) {
        return p->fds[PIN_STATS];
}

int probe_get_attribution_fd(const Probe *p) {
        return p->fds[PIN_ATTRIBUTION];
}

int probe_get_units_fd(const Probe *p) {
        return p->fds[PIN_UNITS];
}

int probe_get_unit_slots_fd(const Probe *p) {
        return p->fds[PIN_UNIT_SLOTS];
}

int probe_get_cgroup_names_fd(const Probe *p) {
        return p->fds[PIN_CGROUP_NAMES];
}

int probe_get_events_fd(const Probe *p) {
        return p->fds[PIN_EVENTS];
}

uint32_t probe_get_max_uids(const Probe *p) {
        return p->max_uids;
}

uint32_t probe_get_ring_buffer_size(const Probe *p) {
        return p->ring_buffer_size;
}

int probe_read_misses(const Probe *p, uint64_t *ret) {
        struct bpf_program *prog;
        uint64_t total = 0;

        if (p->skel)
                bpf_object__for_each_program(prog, p->skel->obj) {
                        struct bpf_prog_info info = {};
                        __u32 len = sizeof(info);

                        if (!bpf_program__autoload(prog))
                                continue;
                        if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) < 0)
                                return negative_errno();
                        total += info.recursion_misses;
                }
        *ret = total;
        return 0;
}

static int write_tunables(Probe *p) {
        uint32_t zero = 0;

        return bpf_map_update_elem(p->fds[PIN_TUNABLES], &zero, &p->tunables, BPF_ANY) < 0 ? negative_errno() : 0;
}

int probe_set_reader_polling(Probe *p, uint64_t until_boot_ns) {
        p->tunables.reader_polls_until_ns = until_boot_ns;
        return write_tunables(p);
}

int probe_tunables_freeze(int fd, struct exec_tunables *t, bool frozen) {
        uint32_t zero = 0;

        if (frozen)
                t->flags |= EXEC_TUNABLE_SLOTS_FROZEN;
        else
                t->flags &= ~(uint64_t) EXEC_TUNABLE_SLOTS_FROZEN;
        if (bpf_map_update_elem(fd, &zero, t, BPF_ANY) < 0)
                return negative_errno();
        if (!frozen)
                return 0;
        /* An RCU grace period: the programs run in RCU read-side sections (tracing
         * programs under rcu_read_lock(), kprobes with preemption off), so every program
         * that read the tunables before is done after it. Not available with nohz_full
         * CPUs: there, a pause instead, far longer than a program runs. */
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0) {
                log_debug_errno(negative_errno(), "membarrier(MEMBARRIER_CMD_GLOBAL) failed, pausing instead: %m");
                (void) usleep(20 * 1000);
        }
        return 0;
}

int probe_freeze_unit_slots(Probe *p) {
        return probe_tunables_freeze(p->fds[PIN_TUNABLES], &p->tunables, true);
}

int probe_thaw_unit_slots(Probe *p) {
        return probe_tunables_freeze(p->fds[PIN_TUNABLES], &p->tunables, false);
}

int probe_set_tunables(Probe *p, const ProbeOptions *opts) {
        struct exec_tunables t = { .wakeup_interval_ns = opts->wakeup_interval_usec * NSEC_PER_USEC,
                                   .reader_polls_until_ns = p->tunables.reader_polls_until_ns };
        uint32_t zero = 0;

        if (opts->failed_rate_burst > 0 && opts->failed_rate_interval_usec > 0) {
                t.fail_event_spacing_ns = MAX(opts->failed_rate_interval_usec * NSEC_PER_USEC / opts->failed_rate_burst,
                                              (uint64_t) 1);
                t.fail_event_window_ns = t.fail_event_spacing_ns * opts->failed_rate_burst;
        }
        if (opts->argv)
                t.flags |= EXEC_TUNABLE_ARGV;

        p->tunables = t;
        return bpf_map_update_elem(p->fds[PIN_TUNABLES], &zero, &t, BPF_ANY) < 0 ? negative_errno() : 0;
}

int probe_read_meta(const Probe *p, struct exec_meta *ret) {
        uint32_t zero = 0;

        return bpf_map_lookup_elem(p->fds[PIN_META], &zero, ret) < 0 ? negative_errno() : 0;
}

int probe_write_meta(Probe *p, const struct exec_meta *meta) {
        uint32_t zero = 0;

        return bpf_map_update_elem(p->fds[PIN_META], &zero, meta, BPF_ANY) < 0 ? negative_errno() : 0;
}

int probe_mark_kept(Probe *p, uint64_t usec) {
        struct exec_meta meta;
        int r;

        r = probe_read_meta(p, &meta);
        if (r < 0)
                return r;
        meta.kept_usec = usec;
        return probe_write_meta(p, &meta);
}

uint32_t probe_get_counts_map_id(const Probe *p) {
        return p->counts_map_id;
}
