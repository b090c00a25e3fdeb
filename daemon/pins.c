/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pins.c: the BPF objects execcountd keeps in the BPF file system between runs. */

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "macro.h"
#include "pins.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define LINK_PREFIX "link-"
/* A map pinned under this prefix is about to be renamed over its pin. */
#define NEW_PREFIX "new-"

static const char *const map_names[_PIN_MAP_MAX] = {
        [PIN_COUNTS] = "counts",
        [PIN_STATS] = "stats",
        [PIN_EVENTS] = "events",
        [PIN_TUNABLES] = "tunables",
        [PIN_META] = "meta",
        [PIN_PRIVILEGED] = "privileged",
        [PIN_LOGINS] = "logins",
        [PIN_UNITS] = "units",
        [PIN_CGROUP_NAMES] = "cgroup_names",
        [PIN_UNIT_SLOTS] = "unit_slots",
        [PIN_ATTRIBUTION] = "attribution",
};

const char *pinned_map_name(PinnedMap m) {
        return map_names[m];
}

static int is_bpffs(const char *path) {
        struct statfs sfs;

        if (statfs(path, &sfs) < 0)
                return negative_errno();
        return sfs.f_type == BPF_FS_MAGIC;
}

int pins_dir_is_bpffs(const char *dir) {
        return is_bpffs(dir);
}

/* Pins others could replace would be taken over blindly: refused. */
static int check_owner_only(const char *dir) {
        struct stat st;

        if (stat(dir, &st) < 0)
                return negative_errno();
        return st.st_mode & 0022 ? -EPERM : 1;
}

int pins_dir_prepare(const char *dir) {
        _cleanup_(freep) char *parent = strdup(dir);
        char *slash;
        int r;

        r = is_bpffs(dir);
        if (r > 0)
                return check_owner_only(dir);
        if (r != -ENOENT)
                return r;
        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (!slash)
                return -ENOENT;
        slash[slash == parent] = '\0'; /* "/x" has the parent "/" */
        r = is_bpffs(parent);
        if (r <= 0)
                return r == 0 ? -ENOENT : r;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        r = is_bpffs(dir);
        return r > 0 ? check_owner_only(dir) : r;
}

static int path_of(const char *dir, const char *name, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", dir, name);

        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int pins_lock(const char *dir) {
        _cleanup_(closep) int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : negative_errno();
        return TAKE_FD(fd);
}

int pins_open_maps(const char *dir, int fds[_PIN_MAP_MAX]) {
        int n = 0;

        for (int i = 0; i < _PIN_MAP_MAX; i++) {
                char path[4096];

                fds[i] = -EBADF;
                if (path_of(dir, map_names[i], path, sizeof(path)) < 0)
                        continue;
                fds[i] = bpf_obj_get(path);
                if (fds[i] >= 0)
                        n++;
                else
                        fds[i] = -EBADF;
        }
        return n;
}

int pins_pin_map(const char *dir, PinnedMap m, int fd) {
        char path[4096], tmp[4096];
        int r;

        r = path_of(dir, map_names[m], path, sizeof(path));
        if (r >= 0)
                /* No dot: the BPF file system refuses names with one. */
                r = snprintf(tmp, sizeof(tmp), "%s/" NEW_PREFIX "%s", dir, map_names[m]) >= (int) sizeof(tmp)
                            ? -ENAMETOOLONG
                            : 0;
        if (r < 0)
                return r;
        /* Pinned under another name first, then renamed over the old pin: there is never a
         * moment without a pin, in which a crash would let the kernel free the counts. */
        if (unlink(tmp) < 0 && errno != ENOENT)
                return negative_errno();
        if (bpf_obj_pin(fd, tmp) < 0)
                return negative_errno();
        if (rename(tmp, path) < 0) {
                r = negative_errno();
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

void pins_close_maps(int fds[_PIN_MAP_MAX]) {
        for (int i = 0; i < _PIN_MAP_MAX; i++)
                fds[i] = safe_close(fds[i]);
}

int pins_link_path(const char *dir, const char *program, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/" LINK_PREFIX "%s", dir, program);

        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

bool pins_link_exists(const char *dir, const char *program) {
        char path[4096];

        return pins_link_path(dir, program, path, sizeof(path)) >= 0 && access(path, F_OK) == 0;
}

static bool is_map_name(const char *name) {
        /* One that a crash left half way through pins_pin_map() too. */
        if (strncmp(name, NEW_PREFIX, strlen(NEW_PREFIX)) == 0)
                name += strlen(NEW_PREFIX);
        for (int i = 0; i < _PIN_MAP_MAX; i++)
                if (streq(name, map_names[i]))
                        return true;
        return false;
}

/* Removes the links of dir (names starting with "link-"), and the maps too if asked. */
static int remove_pins(const char *dir, bool maps) {
        DIR *d;
        struct dirent *de;
        int n = 0, r = 0;

        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, LINK_PREFIX, strlen(LINK_PREFIX)) != 0 &&
                    !(maps && is_map_name(de->d_name)))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
                        if (r == 0)
                                r = negative_errno();
                        continue;
                }
                n++;
        }
        closedir(d);
        return r < 0 ? r : n;
}

bool pins_have_links(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        bool found = false;

        if (!d)
                return false;
        while (!found && (de = readdir(d)))
                found = strncmp(de->d_name, LINK_PREFIX, strlen(LINK_PREFIX)) == 0;
        closedir(d);
        return found;
}

int pins_unpin_links(const char *dir) {
        return remove_pins(dir, false);
}

int pins_remove_all(const char *dir) {
        return remove_pins(dir, true);
}
