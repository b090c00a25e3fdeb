/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mounts.c: mounting tracefs and bpffs where a systemd host has them, when missing. */

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "macro.h"
#include "mounts.h"

/* From linux/magic.h. */
#define TRACEFS_MAGIC 0x74726163
#define BPF_FS_MAGIC 0xcafe4a11

static const struct {
        const char *path;
        const char *fstype;
        long magic;
} file_systems[MOUNTS_MAX] = {
        { "/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC },
        { "/sys/fs/bpf", "bpf", BPF_FS_MAGIC },
};

static int ensure_one(const char *path, const char *fstype, long magic) {
        struct statfs sfs;

        if (statfs(path, &sfs) < 0)
                return negative_errno();
        if (sfs.f_type == magic)
                return 0;
        /* Mode 0700, as systemd mounts bpffs; tracefs keeps its own default. */
        if (mount(fstype, path, fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  streq(fstype, "bpf") ? "mode=0700" : NULL) < 0)
                return negative_errno();
        return 1;
}

int mounts_ensure(MountResult results[MOUNTS_MAX]) {
        for (size_t i = 0; i < ELEMENTSOF(file_systems); i++)
                results[i] = (MountResult) {
                        .path = file_systems[i].path,
                        .fstype = file_systems[i].fstype,
                        .result = ensure_one(file_systems[i].path, file_systems[i].fstype, file_systems[i].magic),
                };
        return (int) ELEMENTSOF(file_systems);
}
