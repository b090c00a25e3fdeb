/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup-tree.h: which cgroups exist, as this process sees them (its cgroup namespace). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The cgroups that exist now. */
typedef struct CgroupTree {
        uint64_t root_id;
        size_t n;
        struct CgroupTreeEntry {
                uint64_t id;
                char *path; /* relative to the root, "" for it */
        } *entries; /* sorted by id */
        /* Cgroups the walk could not look into (too deep, or refused): what is below them
         * is not known to be gone. Sorted. */
        uint64_t *opaque;
        size_t n_opaque;
} CgroupTree;

/* Where the cgroup2 file system is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on
 * hosts with the hybrid layout): -ENOENT when it is not. */
int cgroup2_mount(char **ret);

/* The cgroup ID of this process's cgroup namespace's root (1: the host's, or no cgroup2). */
uint64_t cgroup_root_id(void);

/* Walks the cgroup2 file system. */
int cgroup_tree_scan(CgroupTree *ret);
/* The cgroup's path, or NULL when it does not exist (or is outside this namespace, or
 * below an opaque one). */
const char *cgroup_tree_path(const CgroupTree *t, uint64_t id);
bool cgroup_tree_is_opaque(const CgroupTree *t, uint64_t id);
void cgroup_tree_done(CgroupTree *t);
