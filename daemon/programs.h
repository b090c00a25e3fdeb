/* SPDX-License-Identifier: GPL-2.0-or-later */
/* programs.h: which BPF programs each probe mode loads. */
#pragma once

#include <bpf/btf.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Whether mode uses program on this kernel: programs hooking 32-bit entry points only
 * where the kernel has them (vmlinux is the kernel's BTF, NULL if it has none). */
bool program_in_mode(const char *program, ProbeMode mode, const struct btf *vmlinux);

/* The programs mode uses on this kernel, into names (at most max); returns how many. */
size_t programs_of_mode(ProbeMode mode, const struct btf *vmlinux, const char **names, size_t max);

bool kernel_has_function(const struct btf *vmlinux, const char *name);
/* The size of the map of cgroups' paths on this kernel (NULL: a new enough one), which is
 * preallocated when it is EXECCOUNT_CGROUP_NAMES_PREALLOC. */
uint32_t cgroup_names_capacity(const struct btf *vmlinux);

struct execcount_bpf;
/* The first program the table and the skeleton disagree on (one of the table the skeleton
 * names otherwise, or one of the object no mode loads), or NULL if they agree. */
const char *program_check_skeleton(const struct execcount_bpf *skel);
