/* SPDX-License-Identifier: GPL-2.0-or-later */
/* adopt.h: deciding what of an earlier daemon's pinned BPF objects a new one can take over. */
#pragma once

#include <bpf/btf.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "execcount.h"
#include "links.h"
#include "pins.h"

typedef struct AdoptWant {
        ProbeMode mode; /* as configured; PROBE_AUTO takes whatever is pinned */
        uint32_t max_uids;
        uint32_t ring_buffer_size;
        uint64_t build_id; /* of this build's BPF object */
} AdoptWant;

typedef struct Adoption {
        /* Pinned maps that fit what is wanted; -EBADF for the others. */
        int fds[_PIN_MAP_MAX];
        /* Pinned counts of another capacity, to be copied into the new map; or -EBADF. The
         * privileged and logins maps beside them, or -EBADF (none, or of a build before
         * them). */
        int old_counts_fd;
        int old_privileged_fd;
        int old_logins_fd;
        uint32_t old_counts_capacity;
        /* The pinned links fit too: the earlier probes go on counting, nothing to load. */
        bool running;
        ProbeMode running_mode;
        /* The pinned bookkeeping, when the pins are of this layout. */
        struct exec_meta meta;
        bool has_meta;
        /* Why kept links cannot be taken over, when there are some: the caller lets go of
         * them right before it attaches new ones (execs in between are not counted). */
        char *replaced;
        bool links_unusable; /* there are kept links, and they cannot be taken over */
        bool links_dropped; /* the caller did let go of them */
        /* Why pinned maps were not used, when they were not. */
        char *discarded;
        /* Set when pinned counts were there and cannot be used (another build's, another
         * shape): they are lost. */
        bool counts_discarded;
        /* Set when pinned privileged counts were of other counts than the pinned ones. */
        bool privileged_discarded;
        bool logins_discarded; /* the same for the login counts */
} Adoption;

#define ADOPTION_INIT { .old_counts_fd = -EBADF, .old_privileged_fd = -EBADF, .old_logins_fd = -EBADF }

/* Looks at the maps pinned in dir and the links kept (pinned or stored): what fits is
 * handed out. Touches nothing. Fails only on allocation failure. */
int adopt_pins(const char *dir, const AdoptWant *want, const struct btf *vmlinux, const Links *links,
               Adoption *ret);
void adoption_done(Adoption *a);
