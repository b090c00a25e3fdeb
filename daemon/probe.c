/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.c: choosing a probe mode, loading the BPF programs of that mode and attaching them.
 *
 * A mode is accepted only once its programs have really loaded and attached: that is the
 * feature probe. Cheap checks before it (BTF, kprobe support) only make the reason for a
 * rejection clearer. */

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "execcount.skel.h"
#include "log.h"
#include "probe.h"

struct Probe {
        struct execcount_bpf *skel;
        ProbeMode mode;
        uint32_t max_uids;
        uint32_t ring_buffer_size;
};

/* Which programs each mode uses. compat_function: the 32-bit entry point the program
 * hooks, which only exists when the kernel has IA32 emulation (or the x32 ABI). */
static const struct {
        const char *program;
        ProbeMode mode;
        const char *compat_function;
} probe_programs[] = {
        { "exec_done_btf", PROBE_FENTRY, NULL },
        { "fexit_execve", PROBE_FENTRY, NULL },
        { "fexit_execveat", PROBE_FENTRY, NULL },
        { "fexit_compat_execve", PROBE_FENTRY, "__ia32_compat_sys_execve" },
        { "fexit_compat_execveat", PROBE_FENTRY, "__ia32_compat_sys_execveat" },
        { "fexit_x32_execve", PROBE_FENTRY, "__x32_compat_sys_execve" },
        { "fexit_x32_execveat", PROBE_FENTRY, "__x32_compat_sys_execveat" },
        { "exec_done_raw", PROBE_KPROBE, NULL },
        { "exit_raw", PROBE_KPROBE, NULL },
        { "kprobe_execve", PROBE_KPROBE, NULL },
        { "kprobe_execveat", PROBE_KPROBE, NULL },
        { "kprobe_compat_execve", PROBE_KPROBE, "__ia32_compat_sys_execve" },
        { "kprobe_compat_execveat", PROBE_KPROBE, "__ia32_compat_sys_execveat" },
        { "kprobe_x32_execve", PROBE_KPROBE, "__x32_compat_sys_execve" },
        { "kprobe_x32_execveat", PROBE_KPROBE, "__x32_compat_sys_execveat" },
        { "kretprobe_execve", PROBE_KPROBE, NULL },
        { "kretprobe_execveat", PROBE_KPROBE, NULL },
        { "kretprobe_compat_execve", PROBE_KPROBE, "__ia32_compat_sys_execve" },
        { "kretprobe_compat_execveat", PROBE_KPROBE, "__ia32_compat_sys_execveat" },
        { "kretprobe_x32_execve", PROBE_KPROBE, "__x32_compat_sys_execve" },
        { "kretprobe_x32_execveat", PROBE_KPROBE, "__x32_compat_sys_execveat" },
        { "exec_done_btf", PROBE_TRACEPOINT, NULL },
        { "sys_exit_btf", PROBE_TRACEPOINT, NULL },
};

/* While auto mode tries modes that may well fail, libbpf's complaints are only debug
 * output: the rejection reason is logged once instead. */
static bool probing_quietly = false;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        char buf[1024];
        size_t n;
        int prio;

        prio = level == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG;
        if (probing_quietly)
                prio = LOG_DEBUG;
        if (prio > log_get_max_level())
                return 0;

        (void) vsnprintf(buf, sizeof(buf), fmt, ap);
        n = strlen(buf);
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        /* libbpf starts its messages with "libbpf: " itself. */
        log_full(prio, "%s", buf);
        return 0;
}

void probe_setup_libbpf_logging(void) {
        libbpf_set_print(libbpf_print);
}

void probe_report_done(ProbeReport *r) {
        if (!r)
                return;
        for (size_t i = 0; i < ELEMENTSOF(r->rejected); i++)
                free(r->rejected[i]);
        *r = (ProbeReport) {};
}

static bool kernel_has_function(const struct btf *vmlinux, const char *name) {
        return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
}

static bool kernel_has_kprobes(void) {
        /* The perf kprobe PMU, or the legacy tracefs interface libbpf falls back to. */
        return access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
               access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
               access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0;
}

_printf_(2, 3) static int reject(char **ret_reason, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(ret_reason, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret_reason = NULL;
                return -ENOMEM;
        }
        return 0;
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

static int probe_try(const ProbeOptions *opts, ProbeMode mode, const struct btf *vmlinux,
                     ProbeReport *report, struct execcount_bpf **ret, char **ret_reason) {
        struct execcount_bpf *skel = NULL;
        struct bpf_program *prog;
        int r;

        if (!vmlinux)
                return reject(ret_reason, "the kernel exposes no BTF (/sys/kernel/btf/vmlinux), which every "
                                          "mode needs"), -EOPNOTSUPP;
        if (mode == PROBE_FENTRY && !kernel_has_function(vmlinux, "__x64_sys_execve"))
                return reject(ret_reason, "the kernel's BTF does not describe __x64_sys_execve"), -EOPNOTSUPP;
        if (mode == PROBE_KPROBE && !kernel_has_kprobes())
                return reject(ret_reason, "the kernel has no kprobe support (no kprobe PMU, no kprobe_events; "
                                          "CONFIG_KPROBES unset?)"), -EOPNOTSUPP;

        skel = execcount_bpf__open();
        if (!skel) {
                r = negative_errno();
                return reject(ret_reason, "opening the BPF object failed: %s", strerror(-r)), r;
        }

        bpf_object__for_each_program(prog, skel->obj) {
                const char *name = bpf_program__name(prog);
                bool load = false;

                for (size_t i = 0; i < ELEMENTSOF(probe_programs); i++) {
                        if (probe_programs[i].mode != mode || !streq(probe_programs[i].program, name))
                                continue;
                        if (probe_programs[i].compat_function &&
                            !kernel_has_function(vmlinux, probe_programs[i].compat_function))
                                continue;
                        load = true;
                }
                bpf_program__set_autoload(prog, load);
        }

        r = bpf_map__set_max_entries(skel->maps.counts, opts->max_uids);
        if (r >= 0)
                r = bpf_map__set_max_entries(skel->maps.events, opts->ring_buffer_size);
        if (r < 0) {
                execcount_bpf__destroy(skel);
                return reject(ret_reason, "sizing the BPF maps failed: %s", strerror(-r)), r;
        }
        skel->bss->wakeup_interval_ns = opts->wakeup_interval_usec * NSEC_PER_USEC;
        /* Wake the reader early when a quarter of the ring waits, whatever the interval. */
        skel->rodata->wakeup_backlog_bytes = opts->ring_buffer_size / 4;

        r = execcount_bpf__load(skel);
        if (r < 0) {
                execcount_bpf__destroy(skel);
                return reject(ret_reason, "loading the %s programs failed: %s%s", probe_mode_to_string(mode),
                              strerror(-r), load_hint(mode, r)), r;
        }

        r = execcount_bpf__attach(skel);
        if (r < 0) {
                execcount_bpf__destroy(skel);
                return reject(ret_reason, "attaching the %s programs failed: %s%s", probe_mode_to_string(mode),
                              strerror(-r), load_hint(mode, r)), r;
        }

        *ret = skel;
        return 0;
}

int probe_new(const ProbeOptions *opts, ProbeReport *report, Probe **ret) {
        static const ProbeMode auto_order[] = { PROBE_FENTRY, PROBE_KPROBE, PROBE_TRACEPOINT };
        struct btf *vmlinux;
        Probe *p;
        int r = -EINVAL;

        *report = (ProbeReport) {};

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;

        /* NULL when the kernel has no BTF: each mode then reports that itself. */
        vmlinux = btf__load_vmlinux_btf();
        /* Without IA32 emulation there are no 32-bit execs to count, in any mode. */
        report->no_compat = !kernel_has_function(vmlinux, "__ia32_compat_sys_execve");

        for (size_t i = 0; i < ELEMENTSOF(auto_order); i++) {
                ProbeMode m = opts->mode == PROBE_AUTO ? auto_order[i] : opts->mode;

                probing_quietly = opts->mode == PROBE_AUTO && m != PROBE_TRACEPOINT;
                r = probe_try(opts, m, vmlinux, report, &p->skel, &report->rejected[m]);
                probing_quietly = false;
                if (r >= 0) {
                        p->mode = m;
                        break;
                }
                if (r == -ENOMEM || opts->mode != PROBE_AUTO)
                        break;
        }
        btf__free(vmlinux);

        if (r < 0) {
                free(p);
                return r;
        }

        p->max_uids = opts->max_uids;
        p->ring_buffer_size = opts->ring_buffer_size;
        *ret = p;
        return 0;
}

Probe *probe_free(Probe *p) {
        if (!p)
                return NULL;
        execcount_bpf__destroy(p->skel);
        free(p);
        return NULL;
}

ProbeMode probe_get_mode(const Probe *p) {
        return p->mode;
}

int probe_get_counts_fd(const Probe *p) {
        return bpf_map__fd(p->skel->maps.counts);
}

int probe_get_stats_fd(const Probe *p) {
        return bpf_map__fd(p->skel->maps.stats);
}

int probe_get_events_fd(const Probe *p) {
        return bpf_map__fd(p->skel->maps.events);
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

void probe_set_wakeup_interval(Probe *p, uint64_t usec) {
        /* .bss is mapped into our memory: the programs see the new value at their next run. */
        __atomic_store_n(&p->skel->bss->wakeup_interval_ns, usec * NSEC_PER_USEC, __ATOMIC_RELAXED);
}
