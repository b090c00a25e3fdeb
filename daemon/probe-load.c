/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe-load.c: loading one mode's programs into maps (fresh, reused or migrated from
 * pinned ones) and attaching them; the reason when that fails. */

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "counts.h"
#include "execcount.skel.h"
#include "log.h"
#include "probe-internal.h"
#include "programs.h"
#include "units.h"

static bool kernel_has_kprobes(void) {
        /* The perf kprobe PMU, or the legacy tracefs interface libbpf falls back to. */
        return access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
               access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
               access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0;
}

/* Names what a failure to load means for the mode, where errno says enough. */
static const char *load_hint(ProbeMode mode, int error) {
        if (error == -EPERM && mode == PROBE_FENTRY)
                return " (BPF trampolines are unavailable: ftrace disabled or locked down)";
        if (error == -EPERM)
                return " (needs root, or CAP_BPF and CAP_PERFMON)";
        if (error == -ENOENT && mode == PROBE_KPROBE)
                return " (the kernel has no kprobes: CONFIG_KPROBES unset?)";
        return "";
}

/* Makes and fills what is new, before the programs attach: copies counts out of a map
 * of another size, or lets the caller restore them. */
static int fill_new_maps(const ProbeOptions *opts, struct execcount_bpf *skel, const Adoption *a,
                         bool reused[_PIN_MAP_MAX], ProbeOrigin *ret_origin, bool *ret_frozen,
                         struct exec_tunables *ret_tunables, char **ret_reason) {
        CountsMaps maps = {
                .counts_fd = bpf_map__fd(skel->maps.counts),
                .privileged_fd = bpf_map__fd(skel->maps.privileged),
                .logins_fd = bpf_map__fd(skel->maps.logins),
                .capacity = opts->max_uids,
        };
        struct exec_meta meta = a->has_meta ? a->meta : (struct exec_meta) {};
        uint32_t zero = 0;
        int r;

        if (reused[PIN_COUNTS]) {
                *ret_origin = PROBE_ORIGIN_PINNED_MAPS;
                return 0;
        }
        if (a->old_counts_fd >= 0) {
                size_t dropped, dropped_logins;

                /* The failures the kept slots hold are the UIDs' too, and not in the
                 * counts copied: the new programs move them into the new map. The old
                 * ones, still counting until they are let go of, must not move them into
                 * the old one meanwhile: the slots stay frozen until then. */
                if (reused[PIN_UNIT_SLOTS] && reused[PIN_TUNABLES]) {
                        r = bpf_map_lookup_elem(bpf_map__fd(skel->maps.tunables), &zero, ret_tunables) < 0 ?
                                    negative_errno() :
                                    probe_tunables_freeze(bpf_map__fd(skel->maps.tunables), ret_tunables, true);
                        if (r < 0)
                                return probe_reject(ret_reason, "freezing the CPUs' failure slots failed: %s",
                                                    strerror(-r)), r;
                        *ret_frozen = true;
                }
                CountsMaps old = {
                        .counts_fd = a->old_counts_fd,
                        .privileged_fd = a->old_privileged_fd,
                        .logins_fd = a->old_logins_fd,
                        .capacity = a->old_counts_capacity,
                };

                r = counts_copy(old, maps, &dropped, &dropped_logins);
                if (r < 0)
                        return probe_reject(ret_reason, "copying the pinned counts failed: %s", strerror(-r)), r;
                /* The tats copied start from nothing (an event is due): the slots' must
                 * not hold back failures the new counts would let send one. If they
                 * cannot be changed, only events wait, up to one rate-limit window. */
                if (*ret_frozen) {
                        r = units_slots_forget_tat(bpf_map__fd(skel->maps.unit_slots));
                        if (r < 0)
                                log_warning_errno(r, "Failed to reset the CPUs' failure slots' event budgets; some "
                                                  "failure events may be held back for a while: %m");
                }
                if (dropped > 0)
                        log_warning("%zu UIDs' counts did not fit into the smaller map (MaxUIDs=%u) and are lost.",
                                    dropped, opts->max_uids);
                if (dropped_logins > 0)
                        log_warning("%zu login pairs' counts did not fit into the smaller map (MaxUIDs=%u) and are "
                                    "lost.",
                                    dropped_logins, opts->max_uids);
                *ret_origin = PROBE_ORIGIN_MIGRATED;
        } else {
                *ret_origin = PROBE_ORIGIN_FRESH;
                if (opts->restore) {
                        r = opts->restore(maps, bpf_map__fd(skel->maps.stats), bpf_map__fd(skel->maps.attribution),
                                          bpf_map__fd(skel->maps.meta),
                                          opts->userdata);
                        if (r < 0)
                                return probe_reject(ret_reason, "restoring the counts failed: %s", strerror(-r)), r;
                        return 0;
                }
        }
        /* Counts carried over keep their bookkeeping. */
        if (!reused[PIN_META] && a->has_meta &&
            bpf_map_update_elem(bpf_map__fd(skel->maps.meta), &zero, &meta, BPF_ANY) < 0)
                return probe_reject(ret_reason, "writing the bookkeeping failed: %m"), negative_errno();
        return 0;
}

/* Thaws the slots fill_new_maps() froze (frozen), once the old programs are let go of or
 * the new ones are not coming: the daemon writes its own tunables later anyway. */
static void thaw(struct execcount_bpf *skel, bool frozen, struct exec_tunables *t) {
        int r;

        if (!frozen)
                return;
        r = probe_tunables_freeze(bpf_map__fd(skel->maps.tunables), t, false);
        if (r < 0)
                log_warning_errno(r, "Failed to thaw the CPUs' failure slots: %m");
}

/* Lets go of links an earlier daemon kept, right before new programs attach: the old ones
 * must not count next to the new ones, and should count until then. */
static void drop_old_links(Probe *p, Adoption *a, ProbeReport *report) {
        int n;

        if (p->drop_before_attach) {
                /* Not pinning: links pinned where the pins are not used, and stored ones,
                 * would count into maps no daemon reads. */
                p->links.pin_dir = p->refused_pin_dir;
                n = links_drop_all(&p->links);
                p->links.pin_dir = NULL;
                p->drop_before_attach = false;
                if (n < 0)
                        log_warning_errno(n, "Failed to let go of the probes an earlier daemon kept: %m");
                else
                        report->stale_links_dropped = n;
                return;
        }
        if (!a || !a->links_unusable || a->links_dropped)
                return;
        n = links_drop_all(&p->links);
        if (n < 0)
                log_warning_errno(n, "Failed to let go of the kept probes: %m");
        a->links_dropped = true;
}

int probe_load_mode(Probe *p, const ProbeOptions *opts, ProbeMode mode, const struct btf *vmlinux,
                     Adoption *a, ProbeReport *report, char **ret_reason) {
        struct execcount_bpf *skel = NULL;
        struct bpf_program *prog;
        bool reused[_PIN_MAP_MAX] = {}, frozen = false;
        struct exec_tunables tunables;
        struct exec_meta meta;
        uint32_t zero = 0;
        int r;

        if (!vmlinux)
                return probe_reject(ret_reason, "the kernel exposes no BTF (/sys/kernel/btf/vmlinux), which every "
                                          "mode needs"), -EOPNOTSUPP;
        if (mode == PROBE_FENTRY && !kernel_has_function(vmlinux, "__x64_sys_execve"))
                return probe_reject(ret_reason, "the kernel's BTF does not describe __x64_sys_execve"), -EOPNOTSUPP;
        if (mode == PROBE_KPROBE && !kernel_has_kprobes())
                return probe_reject(ret_reason, "the kernel has no kprobe support (no kprobe PMU, no kprobe_events; "
                                          "CONFIG_KPROBES unset?)"), -EOPNOTSUPP;

        skel = execcount_bpf__open();
        if (!skel) {
                r = negative_errno();
                return probe_reject(ret_reason, "opening the BPF object failed: %s", strerror(-r)), r;
        }

        bpf_object__for_each_program(prog, skel->obj)
                bpf_program__set_autoload(prog, program_in_mode(bpf_program__name(prog), mode, vmlinux));

        r = probe_size_maps(skel, opts, vmlinux);
        for (int m = 0; m < _PIN_MAP_MAX && r >= 0; m++)
                if (a && a->fds[m] >= 0) {
                        r = bpf_map__reuse_fd(probe_skel_map(skel, m), a->fds[m]);
                        reused[m] = r >= 0;
                }
        if (r < 0) {
                execcount_bpf__destroy(skel);
                return probe_reject(ret_reason, "preparing the BPF maps failed: %s", strerror(-r)), r;
        }
        /* The size of the ring as it is, a kept one's too: what its fill is held against,
         * and a quarter of it the backlog that wakes the reader whatever the interval. */
        skel->rodata->ring_size = bpf_map__max_entries(skel->maps.events);

        r = execcount_bpf__load(skel);
        if (r < 0) {
                execcount_bpf__destroy(skel);
                return probe_reject(ret_reason, "loading the %s programs failed: %s%s", probe_mode_to_string(mode),
                              strerror(-r), load_hint(mode, r)), r;
        }

        r = fill_new_maps(opts, skel, a ? a : &(Adoption) ADOPTION_INIT, reused, &p->origin, &frozen, &tunables,
                          ret_reason);
        if (r >= 0 && bpf_map_lookup_elem(bpf_map__fd(skel->maps.meta), &zero, &meta) < 0)
                r = negative_errno();
        if (r >= 0) {
                meta.layout_version = EXECCOUNT_LAYOUT_VERSION;
                meta.probe_mode = mode;
                meta.build_id = p->build_id;
                meta.privileged_counts_map_id = probe_map_id(bpf_map__fd(skel->maps.counts));
                meta.logins_counts_map_id = meta.privileged_counts_map_id;
                if (bpf_map_update_elem(bpf_map__fd(skel->maps.meta), &zero, &meta, BPF_ANY) < 0)
                        r = negative_errno();
        }
        if (r < 0) {
                thaw(skel, frozen, &tunables);
                execcount_bpf__destroy(skel);
                return *ret_reason ? r : (probe_reject(ret_reason, "preparing the BPF maps failed: %s", strerror(-r)), r);
        }

        drop_old_links(p, a, report);
        r = execcount_bpf__attach(skel);
        thaw(skel, frozen, &tunables);
        if (r < 0) {
                execcount_bpf__destroy(skel);
                return probe_reject(ret_reason, "attaching the %s programs failed: %s%s", probe_mode_to_string(mode),
                              strerror(-r), load_hint(mode, r)), r;
        }

        p->skel = skel;
        for (int m = 0; m < _PIN_MAP_MAX; m++)
                p->fds[m] = bpf_map__fd(probe_skel_map(skel, m));
        p->mode = mode;
        return 0;
}
