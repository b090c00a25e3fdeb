/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup-tree.c: which cgroups exist, as this process sees them: a walk of the cgroup2
 * file system. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-tree.h"
#include "macro.h"

/* cgroup trees deeper than this are not walked further. */
#define CGROUP_TREE_DEPTH_MAX 64

static int compare_uint64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static int compare_tree_entry(const void *a, const void *b) {
        const struct CgroupTreeEntry *x = a, *y = b;

        return x->id < y->id ? -1 : x->id > y->id;
}

int cgroup2_mount(char **ret) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_(freep) char *line = NULL;
        size_t size = 0;

        if (!f)
                return negative_errno();
        while (getline(&line, &size, f) > 0) {
                char mountpoint[4096], fstype[64];
                const char *dash = strstr(line, " - ");

                if (!dash || sscanf(dash, " - %63s", fstype) != 1 || !streq(fstype, "cgroup2"))
                        continue;
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mountpoint) != 1)
                        continue;
                *ret = strdup(mountpoint);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

static int tree_add(CgroupTree *t, size_t *alloc, uint64_t id, const char *path) {
        if (t->n == *alloc) {
                size_t grow = *alloc ? *alloc * 2 : 256;
                struct CgroupTreeEntry *e = reallocarray(t->entries, grow, sizeof(*e));

                if (!e)
                        return -ENOMEM;
                t->entries = e;
                *alloc = grow;
        }
        t->entries[t->n].path = strdup(path);
        if (!t->entries[t->n].path)
                return -ENOMEM;
        t->entries[t->n++].id = id;
        return 0;
}

static int tree_add_opaque(CgroupTree *t, uint64_t id) {
        uint64_t *o = reallocarray(t->opaque, t->n_opaque + 1, sizeof(*o));

        if (!o)
                return -ENOMEM;
        t->opaque = o;
        t->opaque[t->n_opaque++] = id;
        return 0;
}

static int tree_walk(CgroupTree *t, size_t *alloc, int dfd, const char *path, unsigned depth) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return negative_errno();
        }
        for (errno = 0; r >= 0 && (de = readdir(d)); errno = 0) {
                _cleanup_(freep) char *sub = NULL;
                int fd;

                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&sub, "%s%s%s", path, *path ? "/" : "", de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                /* A cgroup's ID is its directory's inode number. */
                r = tree_add(t, alloc, de->d_ino, sub);
                if (r < 0)
                        continue;
                if (depth + 1 >= CGROUP_TREE_DEPTH_MAX) {
                        r = tree_add_opaque(t, de->d_ino);
                        continue;
                }
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        /* Removed meanwhile, or not ours to read (a user may chmod a
                         * cgroup delegated to them): not known what is below. */
                        if (errno != ENOENT)
                                r = tree_add_opaque(t, de->d_ino);
                        continue;
                }
                r = tree_walk(t, alloc, fd, sub, depth + 1);
                if (r == -ENOENT)
                        r = 0;
        }
        /* A directory not read to its end: what it did not list is not known to be gone. */
        if (r >= 0 && errno != 0)
                r = negative_errno();
        closedir(d);
        return r;
}

uint64_t cgroup_root_id(void) {
        _cleanup_(freep) char *mountpoint = NULL;
        struct stat st;

        if (cgroup2_mount(&mountpoint) < 0 || stat(mountpoint, &st) < 0)
                return 1;
        return st.st_ino;
}

int cgroup_tree_scan(CgroupTree *ret) {
        _cleanup_(freep) char *mountpoint = NULL;
        CgroupTree t = {};
        size_t alloc = 0;
        struct stat st;
        int fd, r;

        r = cgroup2_mount(&mountpoint);
        if (r < 0)
                return r;
        fd = open(mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }
        t.root_id = st.st_ino;
        r = tree_add(&t, &alloc, st.st_ino, "");
        if (r >= 0)
                r = tree_walk(&t, &alloc, fd, "", 0);
        else
                safe_close(fd);
        if (r < 0) {
                cgroup_tree_done(&t);
                return r;
        }
        qsort(t.entries, t.n, sizeof(*t.entries), compare_tree_entry);
        if (t.n_opaque > 0)
                qsort(t.opaque, t.n_opaque, sizeof(*t.opaque), compare_uint64);
        *ret = t;
        return 0;
}

bool cgroup_tree_is_opaque(const CgroupTree *t, uint64_t id) {
        return t->n_opaque > 0 && bsearch(&id, t->opaque, t->n_opaque, sizeof(*t->opaque), compare_uint64);
}

const char *cgroup_tree_path(const CgroupTree *t, uint64_t id) {
        struct CgroupTreeEntry key = { .id = id }, *e;

        if (t->n == 0)
                return NULL;
        e = bsearch(&key, t->entries, t->n, sizeof(*t->entries), compare_tree_entry);
        return e ? e->path : NULL;
}

void cgroup_tree_done(CgroupTree *t) {
        for (size_t i = 0; i < t->n; i++)
                free(t->entries[i].path);
        free(t->entries);
        free(t->opaque);
        *t = (CgroupTree) {};
}
