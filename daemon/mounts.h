/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mounts.h: mounting tracefs and bpffs where a systemd host has them, when missing. */
#pragma once

typedef struct MountResult {
        const char *path;
        const char *fstype;
        int result; /* 1 mounted now, 0 was mounted already, < 0 mounting failed */
} MountResult;

#define MOUNTS_MAX 2

/* Checks each file system and mounts the missing ones. Fills results (MOUNTS_MAX entries)
 * and returns how many were checked. */
int mounts_ensure(MountResult results[MOUNTS_MAX]);
