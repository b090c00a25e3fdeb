/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units.h: the per-(cgroup, UID) counts of the kernel's units map, the cgroups' systemd
 * unit names, and which cgroups still exist. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup-tree.h"
#include "counts.h"
#include "execcount.h"

/* One entry of the units map (not the places of a UID). */
typedef struct UnitLive {
        uint64_t cgroup_id; /* EXEC_UNIT_OTHER: the UID's execs beyond its places */
        uint32_t uid;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_ns; /* CLOCK_BOOTTIME */
} UnitLive;

/* The names of execs that have no unit of their own. */
#define UNIT_OTHER "(other)"     /* a UID's execs beyond EXECCOUNT_UNITS_PER_UID cgroups */
#define UNIT_OUTSIDE "(outside)" /* cgroups outside the daemon's cgroup namespace */
#define UNIT_UNKNOWN "(unknown)" /* a cgroup that ended unnamed (the names map was full) */

/* The longest unit name made: longer ones (paths of deep cgroups systemd did not make) are
 * cut, and end in "...". */
#define UNIT_NAME_MAX 1024

/* Every entry of the units map, in the map's order, with the failures the CPUs' slots
 * (slots_fd, -EBADF for none) hold for them added. -EBUSY if the slots kept changing
 * hands while the map was read. */
int units_read_live(int units_fd, int slots_fd, UnitLive **ret, size_t *ret_n);

/* counts_read_all() and counts_read_one() with the failures the slots hold for the UIDs
 * added (as failures and as events held back); -EBUSY as above. */
int counts_read_all_live(CountsMaps m, int slots_fd, UserCount **ret, size_t *ret_n);
int counts_read_one_live(CountsMaps m, int slots_fd, uint32_t uid, UserCount *ret);

/* A slot's count of failures, without its generation. */
uint64_t unit_slot_failed(const struct exec_unit_slot *s);
/* The slot emptied, in its next generation (see struct exec_unit_slot). */
struct exec_unit_slot unit_slot_emptied(const struct exec_unit_slot *s);

/* Which keys of gone[], ended cgroups', a CPU's slot holds: ret_held[i] for gone[i] (all,
 * if a slot was changing hands). Their entries stay while it does. */
int units_slots_held(int slots_fd, const UnitLive *gone, size_t n, bool *ret_held);
/* Empties the slots of one UID (has_uid), or all, their failures dropped. Only with the
 * slots frozen. */
int units_slots_clear(int slots_fd, bool has_uid, uint32_t uid);

/* Makes every slot forget the tat it keeps, its failures and key left as they are, so
 * that its next failure goes to the maps and brings it anew: for counts moved into a new
 * map, whose tats start from nothing. Only with the slots frozen. */
int units_slots_forget_tat(int slots_fd);

/* Deletes the entries of ended cgroups that still hold what gone[] says they held when
 * read (an entry that grew since is left for later), gives their UIDs their places back,
 * and deletes the cgroups' names; ret_deleted[i] (if not NULL) says whether gone[i] was
 * deleted here. Goes on past a failure, and returns the last. */
int units_forget(int units_fd, int names_fd, const UnitLive *gone, size_t n, bool *ret_deleted);

/* Deletes one UID's entries and places (has_uid), or every entry and name. */
int units_reset(int units_fd, int names_fd, bool has_uid, uint32_t uid);

/* The systemd unit of a cgroup: the first component of its path (relative to the cgroup
 * namespace's root) below the slices; below user@UID.service, "user@UID.service/" and the
 * user unit; the path itself, with a leading slash, where it is no systemd unit; the slice
 * for a process in a slice, "-.slice" for the root. Pure.
 *
 * For a cgroup the programs named (struct exec_cgroup_name), relative to the
 * namespace root root_id (1: the host's root); UNIT_OUTSIDE for cgroups outside it,
 * UNIT_UNKNOWN when the levels that name the unit were not kept. Pure. */
int unit_name_of_record(const struct exec_cgroup_name *rec, uint64_t root_id, char **ret);

/* For a path relative to the namespace root ("system.slice/foo.service"). */
int unit_name_of_path(const char *path, char **ret);

/* The machine a unit is, for "machine-NAME.scope": NAME, unescaped; else NULL. */
char *unit_machine(const char *unit);
