/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pins.h: the BPF objects execcountd keeps in the BPF file system between runs.
 *
 * A pin directory holds the maps (the counts among them) and the links that keep the
 * programs attached: while the links are pinned, counting goes on without the daemon. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum PinnedMap {
        PIN_COUNTS,
        PIN_STATS,
        PIN_EVENTS,
        PIN_TUNABLES,
        PIN_META,
        PIN_PRIVILEGED,
        PIN_LOGINS,
        PIN_ATTRIBUTION,
        PIN_UNITS,
        PIN_CGROUP_NAMES,
        PIN_UNIT_SLOTS,
        _PIN_MAP_MAX,
} PinnedMap;

/* The file name of a pinned map ("counts", ...). */
const char *pinned_map_name(PinnedMap m);

/* Whether dir is in a BPF file system: 1 yes, 0 no, < 0 it cannot be checked. A missing
 * dir whose parent is in one is made first (mode 0700). */
int pins_dir_prepare(const char *dir);

/* Whether dir is in a BPF file system: 1 yes, 0 no, -ENOENT when it does not exist. */
int pins_dir_is_bpffs(const char *dir);

/* Locks dir for this process, so that no two daemons share their pins: returns the
 * locked fd (keep it open while using the pins), -EBUSY when another process holds it. */
int pins_lock(const char *dir);

/* Opens each pinned map into fds (-EBADF where none is pinned). Returns how many were. */
int pins_open_maps(const char *dir, int fds[_PIN_MAP_MAX]);
/* Pins fd as map m, replacing an earlier pin of that name. */
int pins_pin_map(const char *dir, PinnedMap m, int fd);
void pins_close_maps(int fds[_PIN_MAP_MAX]);

/* "dir/link-PROGRAM" into buf. */
int pins_link_path(const char *dir, const char *program, char *buf, size_t size);
bool pins_link_exists(const char *dir, const char *program);
/* Whether any link is pinned in dir, of whatever program. */
bool pins_have_links(const char *dir);
/* Removes the pinned links: their programs detach once nothing else holds them. Returns
 * how many there were. */
int pins_unpin_links(const char *dir);
/* Removes every pin of execcountd's in dir, maps and links, and nothing else. Returns
 * how many there were. */
int pins_remove_all(const char *dir);
