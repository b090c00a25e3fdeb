/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.c: choosing a probe mode, loading the BPF programs of that mode and attaching them,
 * or taking over the ones an earlier daemon left pinned.
 *
 * A mode is accepted only once its programs have really loaded and attached: that is the
 * feature probe. Cheap checks before it (BTF, kprobe support) only make the reason for a
 * rejection clearer.
 *
 * This file: trying the modes in turn, and the pins and links kept between daemons.
 * Loading and attaching one mode is in probe-load.c; what a probe offers once made (its
 * maps, their bookkeeping, its settings) in probe-maps.c. */

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "adopt.h"
#include "counts.h"
#include "execcount.skel.h"
#include "log.h"
#include "pins.h"
#include "probe-internal.h"
#include "programs.h"

static const char *const origin_names[_PROBE_ORIGIN_MAX] = {
        [PROBE_ORIGIN_FRESH] = "fresh",
        [PROBE_ORIGIN_PINNED_MAPS] = "pinned-maps",
        [PROBE_ORIGIN_MIGRATED] = "migrated",
        [PROBE_ORIGIN_RUNNING] = "running",
};

const char *probe_origin_to_string(ProbeOrigin o) {
        return origin_names[o];
}

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
        free(r->replaced);
        free(r->counts_discarded);
        free(r->pin_error);
        free(r->keep_error);
        free(r->state_choice);
        *r = (ProbeReport) {};
}

_printf_(2, 3) int probe_reject(char **ret_reason, const char *fmt, ...) {
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

struct bpf_map *probe_skel_map(struct execcount_bpf *skel, PinnedMap m) {
        switch (m) {
        case PIN_COUNTS:
                return skel->maps.counts;
        case PIN_STATS:
                return skel->maps.stats;
        case PIN_EVENTS:
                return skel->maps.events;
        case PIN_TUNABLES:
                return skel->maps.tunables;
        case PIN_META:
                return skel->maps.meta;
        case PIN_PRIVILEGED:
                return skel->maps.privileged;
        case PIN_LOGINS:
                return skel->maps.logins;
        case PIN_ATTRIBUTION:
                return skel->maps.attribution;
        case PIN_UNITS:
                return skel->maps.units;
        case PIN_CGROUP_NAMES:
                return skel->maps.cgroup_names;
        case PIN_UNIT_SLOTS:
                return skel->maps.unit_slots;
        default:
                abort();
        }
}

int probe_size_maps(struct execcount_bpf *skel, const ProbeOptions *opts, const struct btf *vmlinux) {
        uint32_t names = cgroup_names_capacity(vmlinux);
        int r;

        r = bpf_map__set_max_entries(skel->maps.counts, opts->max_uids);
        if (r >= 0)
                r = bpf_map__set_max_entries(skel->maps.privileged, opts->max_uids);
        if (r >= 0)
                r = bpf_map__set_max_entries(skel->maps.logins, EXECCOUNT_LOGINS_CAPACITY(opts->max_uids));
        if (r >= 0)
                r = bpf_map__set_max_entries(skel->maps.events, opts->ring_buffer_size);
        if (r >= 0 && names != EXECCOUNT_CGROUP_NAMES_CAPACITY) {
                r = bpf_map__set_max_entries(skel->maps.cgroup_names, names);
                if (r >= 0)
                        r = bpf_map__set_map_flags(skel->maps.cgroup_names, 0);
        }
        return r;
}

/* What identifies this build's programs: FNV-1a of the BPF object. */
static uint64_t build_id(void) {
        size_t size;
        const uint8_t *data = execcount_bpf__elf_bytes(&size);
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < size; i++)
                h = (h ^ data[i]) * 0x100000001b3ULL;
        return h;
}

/* Pins the maps, so that the counts outlive this daemon. The meta record goes last: it
 * names the counts map the privileged and login counts belong to, and a crash before it is pinned
 * leaves the earlier record, which then names no pinned counts map, so that the next
 * start drops those rather than pair them with other counts. */
static int probe_pin_maps(Probe *p, char **ret_error) {
        static const PinnedMap order[] = { PIN_COUNTS,      PIN_PRIVILEGED, PIN_LOGINS,      PIN_UNITS,
                                           PIN_UNIT_SLOTS,  PIN_CGROUP_NAMES, PIN_STATS,     PIN_ATTRIBUTION,
                                           PIN_EVENTS,      PIN_TUNABLES,     PIN_META };
        int r;

        _Static_assert(ELEMENTSOF(order) == _PIN_MAP_MAX, "every map is pinned");
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                PinnedMap m = order[i];

                r = pins_pin_map(p->pin_dir, m, p->fds[m]);
                if (r < 0)
                        return probe_reject(ret_error, "pinning the %s map in %s failed: %s", pinned_map_name(m),
                                      p->pin_dir, strerror(-r)), r;
        }
        return 0;
}

/* Keeps the links (pinned, or in systemd's fd store), so that counting outlives this
 * daemon. */
static int probe_keep_links(Probe *p, char **ret_error) {
        const struct bpf_object_skeleton *s = p->skel->skeleton;
        int r;

        for (int i = 0; i < s->prog_cnt; i++) {
                struct bpf_link *link = *s->progs[i].link;

                if (!link)
                        continue;
                r = links_keep(&p->links, s->progs[i].name, link);
                if (r < 0)
                        return probe_reject(ret_error, "keeping the %s probe %s failed: %s", s->progs[i].name,
                                      p->links.keeper == LINKS_FDSTORE ? "in systemd's fd store" : "pinned",
                                      strerror(-r)), r;
        }
        return 0;
}

uint32_t probe_map_id(int fd) {
        struct bpf_map_info info = {};
        __u32 len = sizeof(info);

        return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) >= 0 ? info.id : 0;
}

/* Pinned counts that nothing counts into any more are weighed against what restore()
 * has: when those are newer, the pinned counts and their bookkeeping are not used. */
static int choose_counts(Probe *p, const ProbeOptions *opts, Adoption *a, ProbeReport *report) {
        int counts_fd = a->fds[PIN_COUNTS] >= 0 ? a->fds[PIN_COUNTS] : a->old_counts_fd;
        int r;

        if (a->running || !a->has_meta || counts_fd < 0 || !opts->choose)
                return 0;
        r = opts->choose(&a->meta, probe_map_id(counts_fd), &report->state_choice, opts->userdata);
        if (r <= 0)
                return r;
        report->state_preferred = true;
        a->fds[PIN_COUNTS] = safe_close(a->fds[PIN_COUNTS]);
        a->fds[PIN_STATS] = safe_close(a->fds[PIN_STATS]);
        a->fds[PIN_META] = safe_close(a->fds[PIN_META]);
        a->fds[PIN_PRIVILEGED] = safe_close(a->fds[PIN_PRIVILEGED]);
        a->fds[PIN_LOGINS] = safe_close(a->fds[PIN_LOGINS]);
        a->fds[PIN_ATTRIBUTION] = safe_close(a->fds[PIN_ATTRIBUTION]);
        a->fds[PIN_UNITS] = safe_close(a->fds[PIN_UNITS]);
        a->fds[PIN_UNIT_SLOTS] = safe_close(a->fds[PIN_UNIT_SLOTS]);
        a->fds[PIN_CGROUP_NAMES] = safe_close(a->fds[PIN_CGROUP_NAMES]);
        a->old_counts_fd = safe_close(a->old_counts_fd);
        a->old_privileged_fd = safe_close(a->old_privileged_fd);
        a->old_logins_fd = safe_close(a->old_logins_fd);
        a->has_meta = false;
        return 0;
}

int probe_new(const ProbeOptions *opts, ProbeReport *report, Probe **ret) {
        static const ProbeMode auto_order[] = { PROBE_FENTRY, PROBE_KPROBE, PROBE_TRACEPOINT };
        Adoption adoption = ADOPTION_INIT;
        bool adopted = false;
        struct btf *vmlinux;
        Probe *p;
        int r = 0;

        *report = (ProbeReport) {};

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        for (int m = 0; m < _PIN_MAP_MAX; m++)
                p->fds[m] = -EBADF;
        p->pin_lock_fd = -EBADF;
        p->max_uids = opts->max_uids;
        p->ring_buffer_size = opts->ring_buffer_size;
        p->build_id = build_id();
        if (opts->stored_links) {
                p->links = *opts->stored_links;
                *opts->stored_links = (Links) {};
        }
        if (opts->pin_dir && !(p->pin_dir = strdup(opts->pin_dir))) {
                links_done(&p->links);
                free(p);
                return -ENOMEM;
        }

        /* NULL when the kernel has no BTF: each mode then reports that itself. */
        vmlinux = btf__load_vmlinux_btf();
        /* Without IA32 emulation there are no 32-bit execs to count, in any mode. */
        report->no_compat = !kernel_has_function(vmlinux, "__ia32_compat_sys_execve");

        if (p->pin_dir) {
                AdoptWant want = { opts->mode, opts->max_uids, opts->ring_buffer_size, p->build_id };
                int fs = pins_dir_prepare(p->pin_dir);

                if (fs > 0) {
                        r = p->pin_lock_fd = pins_lock(p->pin_dir);
                        if (r < 0)
                                goto finish;
                        p->links.keeper = opts->fdstore ? LINKS_FDSTORE : LINKS_PINNED;
                        p->links.pin_dir = p->pin_dir;
                        r = adopt_pins(p->pin_dir, &want, vmlinux, &p->links, &adoption);
                        if (r < 0)
                                goto finish;
                        adopted = true;
                        report->replaced = TAKE_PTR(adoption.replaced);
                        if (adoption.counts_discarded)
                                report->counts_discarded = TAKE_PTR(adoption.discarded);
                        report->privileged_discarded = adoption.privileged_discarded;
                        report->logins_discarded = adoption.logins_discarded;
                        r = choose_counts(p, opts, &adoption, report);
                        if (r < 0)
                                goto finish;
                } else {
                        /* Without a pin directory nothing survives the daemon, but it counts. */
                        if (fs == -EPERM)
                                r = probe_reject(&report->pin_error,
                                           "%s may be written by other users than its owner (chmod go-w)",
                                           p->pin_dir);
                        else
                                r = probe_reject(&report->pin_error, "%s is not in a BPF file system%s%s", p->pin_dir,
                                           fs < 0 ? ": " : "", fs < 0 ? strerror(-fs) : "");
                        if (r < 0)
                                goto finish;
                        /* A BPF file system all the same: an earlier daemon's links may be
                         * pinned there, still counting. */
                        if (fs == -EPERM)
                                p->refused_pin_dir = TAKE_PTR(p->pin_dir);
                        free(p->pin_dir);
                        p->pin_dir = NULL;
                }
        }
        if (!p->pin_dir) {
                /* Programs kept running without their maps would count into maps no daemon
                 * finds again: they go right before this daemon's attach. */
                p->links.pin_dir = NULL;
                p->links.keeper = LINKS_NOWHERE;
                p->drop_before_attach = true;
        }

        if (adopted && adoption.running) {
                /* The earlier probes count on: nothing to load, nothing lost. Should some
                 * be kept the other way too, they would count every exec a second time. */
                const char *other = p->links.keeper == LINKS_FDSTORE ? "pinned" : "in systemd's fd store";
                int n = links_drop_foreign(&p->links);

                if (n < 0)
                        log_warning_errno(n, "Failed to let go of the probes kept %s as well, execs may count twice: %m",
                                          other);
                else if (n > 0)
                        log_warning("Let go of %d probes kept %s as well, which counted every exec a second time.", n,
                                    other);
                for (int m = 0; m < _PIN_MAP_MAX; m++)
                        p->fds[m] = TAKE_FD(adoption.fds[m]);
                p->mode = adoption.running_mode;
                p->origin = PROBE_ORIGIN_RUNNING;
                goto finish;
        }

        for (size_t i = 0; i < ELEMENTSOF(auto_order); i++) {
                ProbeMode m = opts->mode == PROBE_AUTO ? auto_order[i] : opts->mode;

                probing_quietly = opts->mode == PROBE_AUTO && m != PROBE_TRACEPOINT;
                r = probe_load_mode(p, opts, m, vmlinux, adopted ? &adoption : NULL, report, &report->rejected[m]);
                probing_quietly = false;
                if (r >= 0 || r == -ENOMEM || opts->mode != PROBE_AUTO)
                        break;
        }

        if (r >= 0 && p->pin_dir && probe_pin_maps(p, &report->pin_error) < 0) {
                /* Counting works; only persistence is gone. Leave no half-pinned state. */
                (void) links_drop_all(&p->links);
                p->links.keeper = LINKS_NOWHERE;
                free(p->pin_dir);
                p->pin_dir = NULL;
        }
        if (r >= 0 && p->pin_dir && probe_keep_links(p, &report->keep_error) < 0) {
                /* The counts survive; counting between two daemons does not. */
                (void) links_drop_all(&p->links);
                p->links.keeper = LINKS_NOWHERE;
        }

finish:
        adoption_done(&adoption);
        btf__free(vmlinux);
        if (r < 0) {
                probe_free(p);
                return r;
        }
        p->counts_map_id = probe_map_id(p->fds[PIN_COUNTS]);
        if (probe_set_tunables(p, opts) < 0)
                log_warning("Failed to set the event wakeup interval and rate limit; events come at the kernel's "
                            "pace.");
        *ret = p;
        return 0;
}

int probe_new_unattached(const ProbeOptions *opts, Probe **ret) {
        _cleanup_(freep) Probe *p = calloc(1, sizeof(*p));
        struct execcount_bpf *skel;
        struct bpf_program *prog;
        int r;

        if (!p)
                return -ENOMEM;
        skel = execcount_bpf__open();
        if (!skel)
                return negative_errno();
        bpf_object__for_each_program(prog, skel->obj)
                bpf_program__set_autoload(prog, false);
        r = probe_size_maps(skel, opts, NULL);
        if (r >= 0)
                r = execcount_bpf__load(skel);
        if (r < 0) {
                execcount_bpf__destroy(skel);
                return r;
        }
        p->skel = skel;
        for (int m = 0; m < _PIN_MAP_MAX; m++)
                p->fds[m] = bpf_map__fd(probe_skel_map(skel, m));
        p->pin_lock_fd = -EBADF;
        p->counts_map_id = probe_map_id(p->fds[PIN_COUNTS]);
        p->mode = opts->mode;
        p->max_uids = opts->max_uids;
        p->ring_buffer_size = opts->ring_buffer_size;
        *ret = TAKE_PTR(p);
        return 0;
}

Probe *probe_free(Probe *p) {
        if (!p)
                return NULL;
        if (p->skel)
                execcount_bpf__destroy(p->skel); /* closes the map fds too */
        else
                pins_close_maps(p->fds);
        links_done(&p->links);
        safe_close(p->pin_lock_fd);
        free(p->pin_dir);
        free(p->refused_pin_dir);
        free(p);
        return NULL;
}
