/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe-internal.h: what probe.c, probe-load.c and probe-maps.c share. */
#pragma once

#include <bpf/btf.h>

#include "adopt.h"
#include "links.h"
#include "pins.h"
#include "probe.h"

struct execcount_bpf;
struct bpf_map;

struct Probe {
        struct execcount_bpf *skel; /* NULL when the probes are an earlier daemon's */
        int fds[_PIN_MAP_MAX]; /* the maps: the skeleton's, or pinned ones */
        ProbeMode mode;
        ProbeOrigin origin;
        char *pin_dir;
        int pin_lock_fd; /* held while the pins are ours */
        Links links; /* where the links are kept between daemons */
        uint64_t build_id;
        struct exec_tunables tunables; /* as last written */
        uint32_t max_uids;
        uint32_t ring_buffer_size;
        uint32_t counts_map_id;
        /* Links of an earlier daemon to let go of right before attaching: pinned in a
         * directory that is not used (refused_pin_dir), or stored. */
        bool drop_before_attach;
        char *refused_pin_dir;
};

/* probe.c: sets *ret_reason to the formatted reason; -ENOMEM if it cannot. */
_printf_(2, 3) int probe_reject(char **ret_reason, const char *fmt, ...);
struct bpf_map *probe_skel_map(struct execcount_bpf *skel, PinnedMap m);
/* Gives the maps whose size is configured their size, before loading. */
int probe_size_maps(struct execcount_bpf *skel, const ProbeOptions *opts, const struct btf *vmlinux);
/* The kernel's ID of a map; 0 if it cannot be told. */
uint32_t probe_map_id(int fd);
/* probe-maps.c: sets or clears EXEC_TUNABLE_SLOTS_FROZEN in the tunables map fd, whose
 * value *t is (and stays) as last written; freezing waits for the programs that may have
 * seen the slots unfrozen. */
int probe_tunables_freeze(int fd, struct exec_tunables *t, bool frozen);
/* probe-load.c: loads and attaches mode's programs into p, over the maps of a (pinned
 * ones, or NULL for fresh); the reason in *ret_reason when the mode does not work. */
int probe_load_mode(Probe *p, const ProbeOptions *opts, ProbeMode mode, const struct btf *vmlinux, Adoption *a,
                    ProbeReport *report, char **ret_reason);
