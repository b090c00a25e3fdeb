/* SPDX-License-Identifier: GPL-2.0-or-later */
/* adopt.c: deciding what of an earlier daemon's pinned BPF objects a new one can take over. */

#include <bpf/bpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adopt.h"
#include "macro.h"
#include "programs.h"

/* What each map must be for this build. */
static void expected(PinnedMap m, const AdoptWant *want, const struct btf *vmlinux, struct bpf_map_info *ret) {
        static const struct bpf_map_info table[_PIN_MAP_MAX] = {
                [PIN_COUNTS] = { .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = sizeof(struct exec_count) },
                [PIN_STATS] = { .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4,
                                .value_size = sizeof(struct exec_stats), .max_entries = 1 },
                [PIN_EVENTS] = { .type = BPF_MAP_TYPE_RINGBUF },
                [PIN_TUNABLES] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
                                   .value_size = sizeof(struct exec_tunables), .max_entries = 1 },
                [PIN_META] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = sizeof(struct exec_meta),
                               .max_entries = 1 },
                [PIN_PRIVILEGED] = { .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = sizeof(__u64) },
                [PIN_LOGINS] = { .type = BPF_MAP_TYPE_HASH, .key_size = sizeof(struct exec_login_key),
                                 .value_size = sizeof(__u64) },
                [PIN_ATTRIBUTION] = { .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4,
                                      .value_size = sizeof(struct exec_attribution_stats), .max_entries = 1 },
                [PIN_UNITS] = { .type = BPF_MAP_TYPE_HASH, .key_size = sizeof(struct exec_unit_key),
                                .value_size = sizeof(struct exec_unit_count),
                                .max_entries = EXECCOUNT_UNITS_CAPACITY },
                [PIN_CGROUP_NAMES] = { .type = BPF_MAP_TYPE_HASH, .key_size = sizeof(__u64),
                                       .value_size = sizeof(struct exec_cgroup_name),
                                       .max_entries = EXECCOUNT_CGROUP_NAMES_CAPACITY },
                [PIN_UNIT_SLOTS] = { .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4,
                                     .value_size = sizeof(struct exec_unit_slot), .max_entries = 1 },
        };

        *ret = table[m];
        if (m == PIN_COUNTS || m == PIN_PRIVILEGED)
                ret->max_entries = want->max_uids;
        else if (m == PIN_LOGINS)
                ret->max_entries = EXECCOUNT_LOGINS_CAPACITY(want->max_uids);
        else if (m == PIN_EVENTS)
                ret->max_entries = want->ring_buffer_size;
        else if (m == PIN_CGROUP_NAMES)
                ret->max_entries = cgroup_names_capacity(vmlinux);
}

static int map_info(int fd, struct bpf_map_info *ret) {
        __u32 len = sizeof(*ret);

        *ret = (struct bpf_map_info) {};
        return bpf_obj_get_info_by_fd(fd, ret, &len) < 0 ? negative_errno() : 0;
}

static bool same_shape(const struct bpf_map_info *a, const struct bpf_map_info *b) {
        return a->type == b->type && a->key_size == b->key_size && a->value_size == b->value_size;
}

/* Appends a sentence to *text. */
_printf_(2, 3) static int say(char **text, const char *fmt, ...) {
        _cleanup_(freep) char *s = NULL;
        char *joined;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        if (asprintf(&joined, "%s%s%s", *text ?: "", *text ? "; " : "", s) < 0)
                return -ENOMEM;
        free(*text);
        *text = joined;
        return 0;
}

static bool links_complete(const Links *links, ProbeMode mode, const struct btf *vmlinux) {
        const char *names[32];
        size_t n = programs_of_mode(mode, vmlinux, names, ELEMENTSOF(names));

        for (size_t i = 0; i < n; i++)
                if (!links_have(links, names[i]))
                        return false;
        return n > 0;
}

/* Notes why kept links, if there are any, cannot be taken over. */
static int links_unusable(Adoption *a, const Links *links, const char *why) {
        if (!links_any(links))
                return 0;
        a->links_unusable = true;
        return say(&a->replaced, "%s", why);
}

/* Whether the map *fd beside the counts (privileged, logins), if any, was made for the
 * counts map counts_fd, whose ID the meta record keeps as map_id; if not, closes it. */
static bool paired(int counts_fd, int *fd, uint32_t map_id) {
        struct bpf_map_info info;

        if (*fd < 0 || counts_fd < 0)
                return true;
        if (map_info(counts_fd, &info) >= 0 && info.id == map_id)
                return true;
        *fd = safe_close(*fd);
        return false;
}

/* A map beside the counts (privileged, logins: m, and *old_fd beside the counts to be
 * copied) goes with them: kept, copied or dropped together. A build before it pinned
 * none, and it starts from nothing; so does one pinned beside other counts than those the
 * meta record says it was made for (map_id: an earlier version, run in between, replaced
 * or migrated the counts and left it). Returns 1 when it was dropped for that, and says
 * so; 0 when not. */
static int keep_with_counts(Adoption *a, PinnedMap m, int *old_fd, uint32_t map_id, const char *what) {
        if (a->fds[PIN_COUNTS] < 0)
                a->fds[m] = safe_close(a->fds[m]);
        if (a->old_counts_fd < 0)
                *old_fd = safe_close(*old_fd);
        if (paired(a->fds[PIN_COUNTS], &a->fds[m], map_id) && paired(a->old_counts_fd, old_fd, map_id))
                return 0;
        return say(&a->discarded, "the pinned %s counts belong to other counts", what) < 0 ? -ENOMEM : 1;
}

int adopt_pins(const char *dir, const AdoptWant *want, const struct btf *vmlinux, const Links *links,
               Adoption *ret) {
        Adoption a = ADOPTION_INIT;
        struct bpf_map_info info, want_info;
        uint32_t zero = 0;
        bool all_fit = true;
        int r = 0, n;

        n = pins_open_maps(dir, a.fds);
        if (n == 0) {
                r = links_unusable(&a, links, "probes were kept without their maps");
                goto done;
        }

        if (a.fds[PIN_META] < 0 || bpf_map_lookup_elem(a.fds[PIN_META], &zero, &a.meta) < 0 ||
            a.meta.layout_version != EXECCOUNT_LAYOUT_VERSION) {
                r = say(&a.discarded, "the pinned maps are of another build (layout %u, this build's is %u)",
                        a.fds[PIN_META] < 0 ? 0 : a.meta.layout_version, EXECCOUNT_LAYOUT_VERSION);
                if (r >= 0)
                        r = links_unusable(&a, links, "the kept probes are of another build");
                a.counts_discarded = a.fds[PIN_COUNTS] >= 0;
                pins_close_maps(a.fds);
                a.meta = (struct exec_meta) {};
                goto done;
        }
        a.has_meta = true;

        for (int m = 0; m < _PIN_MAP_MAX && r >= 0; m++) {
                expected(m, want, vmlinux, &want_info);
                if (a.fds[m] < 0) {
                        r = say(&a.discarded, "there is no pinned %s map", pinned_map_name(m));
                        all_fit = false;
                        continue;
                }
                if (map_info(a.fds[m], &info) < 0 || !same_shape(&info, &want_info)) {
                        r = say(&a.discarded, "the pinned %s map has another shape", pinned_map_name(m));
                        a.fds[m] = safe_close(a.fds[m]);
                        all_fit = false;
                        a.counts_discarded = a.counts_discarded || m == PIN_COUNTS;
                } else if (info.max_entries != want_info.max_entries) {
                        /* The maps beside counts go with it, which said so already. */
                        if ((m != PIN_PRIVILEGED && m != PIN_LOGINS) || a.old_counts_fd < 0)
                                r = say(&a.discarded, "the pinned %s map has %u entries, the configuration asks for %u",
                                        pinned_map_name(m), info.max_entries, want_info.max_entries);
                        all_fit = false;
                        if (m == PIN_COUNTS) {
                                /* Counts of another capacity are copied over, not lost. */
                                a.old_counts_fd = TAKE_FD(a.fds[m]);
                                a.old_counts_capacity = info.max_entries;
                        } else if (m == PIN_PRIVILEGED)
                                a.old_privileged_fd = TAKE_FD(a.fds[m]);
                        else if (m == PIN_LOGINS)
                                a.old_logins_fd = TAKE_FD(a.fds[m]);
                        else
                                a.fds[m] = safe_close(a.fds[m]);
                }
        }
        if (r < 0)
                goto done;
        r = keep_with_counts(&a, PIN_PRIVILEGED, &a.old_privileged_fd, a.meta.privileged_counts_map_id,
                             "privileged");
        if (r < 0)
                goto done;
        a.privileged_discarded = r > 0;
        r = keep_with_counts(&a, PIN_LOGINS, &a.old_logins_fd, a.meta.logins_counts_map_id, "login");
        if (r < 0)
                goto done;
        a.logins_discarded = r > 0;
        /* The per-unit counts, the failures the CPUs' slots hold for them and their
         * cgroups' names go with the counts too, kept or migrated (their capacity does not
         * depend on MaxUIDs=), or dropped; the slots only with the units map they count
         * for. */
        if (a.fds[PIN_COUNTS] < 0 && a.old_counts_fd < 0) {
                a.fds[PIN_UNITS] = safe_close(a.fds[PIN_UNITS]);
                a.fds[PIN_CGROUP_NAMES] = safe_close(a.fds[PIN_CGROUP_NAMES]);
        }
        if (a.fds[PIN_UNITS] < 0)
                a.fds[PIN_UNIT_SLOTS] = safe_close(a.fds[PIN_UNIT_SLOTS]);
        all_fit = all_fit && !a.privileged_discarded && !a.logins_discarded;

        if (!all_fit)
                r = links_unusable(&a, links, a.discarded);
        else if (want->mode != PROBE_AUTO && want->mode != (ProbeMode) a.meta.probe_mode) {
                _cleanup_(freep) char *why = NULL;

                if (asprintf(&why, "Mode=%s asks for other probes than the kept %s ones",
                             probe_mode_to_string(want->mode), probe_mode_to_string(a.meta.probe_mode)) < 0)
                        r = -ENOMEM;
                else
                        r = links_unusable(&a, links, why);
        } else if (a.meta.build_id != want->build_id)
                /* Same maps, other code: an upgrade. The new programs replace the old. */
                r = links_unusable(&a, links, "the kept probes are of another build of execcountd");
        else if (links_complete(links, a.meta.probe_mode, vmlinux)) {
                a.running = true;
                a.running_mode = a.meta.probe_mode;
        } else
                r = links_unusable(&a, links, "some of the kept probes were missing");

done:
        if (r < 0) {
                adoption_done(&a);
                return r;
        }
        *ret = a;
        return 0;
}

void adoption_done(Adoption *a) {
        pins_close_maps(a->fds);
        a->old_counts_fd = safe_close(a->old_counts_fd);
        a->old_privileged_fd = safe_close(a->old_privileged_fd);
        a->old_logins_fd = safe_close(a->old_logins_fd);
        free(a->replaced);
        free(a->discarded);
        a->replaced = a->discarded = NULL;
}
