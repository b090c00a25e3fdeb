/* SPDX-License-Identifier: GPL-2.0-or-later */
/* programs.c: which BPF programs each probe mode loads. */

#include <stddef.h>

#include "execcount.skel.h"
#include "macro.h"
#include "execcount.h"
#include "programs.h"

/* compat_function: the 32-bit entry point the program hooks, which only exists when the
 * kernel has IA32 emulation (or the x32 ABI). Each entry names a program of the skeleton:
 * one renamed or removed there fails the build here, and test-programs checks that every
 * program of the object is in the table. */
#define PROGRAM(name, mode, compat) { #name, offsetof(struct execcount_bpf, progs.name), mode, compat }

static const struct {
        const char *program;
        size_t offset; /* of its struct bpf_program pointer in the skeleton */
        ProbeMode mode;
        const char *compat_function;
} programs[] = {
        PROGRAM(exec_done_btf, PROBE_FENTRY, NULL),
        PROGRAM(fexit_execve, PROBE_FENTRY, NULL),
        PROGRAM(fexit_execveat, PROBE_FENTRY, NULL),
        PROGRAM(fexit_compat_execve, PROBE_FENTRY, "__ia32_compat_sys_execve"),
        PROGRAM(fexit_compat_execveat, PROBE_FENTRY, "__ia32_compat_sys_execveat"),
        PROGRAM(fexit_x32_execve, PROBE_FENTRY, "__x32_compat_sys_execve"),
        PROGRAM(fexit_x32_execveat, PROBE_FENTRY, "__x32_compat_sys_execveat"),
        PROGRAM(exec_done_raw, PROBE_KPROBE, NULL),
        PROGRAM(exit_raw, PROBE_KPROBE, NULL),
        PROGRAM(kprobe_execve, PROBE_KPROBE, NULL),
        PROGRAM(kprobe_execveat, PROBE_KPROBE, NULL),
        PROGRAM(kprobe_compat_execve, PROBE_KPROBE, "__ia32_compat_sys_execve"),
        PROGRAM(kprobe_compat_execveat, PROBE_KPROBE, "__ia32_compat_sys_execveat"),
        PROGRAM(kprobe_x32_execve, PROBE_KPROBE, "__x32_compat_sys_execve"),
        PROGRAM(kprobe_x32_execveat, PROBE_KPROBE, "__x32_compat_sys_execveat"),
        PROGRAM(kretprobe_execve, PROBE_KPROBE, NULL),
        PROGRAM(kretprobe_execveat, PROBE_KPROBE, NULL),
        PROGRAM(kretprobe_compat_execve, PROBE_KPROBE, "__ia32_compat_sys_execve"),
        PROGRAM(kretprobe_compat_execveat, PROBE_KPROBE, "__ia32_compat_sys_execveat"),
        PROGRAM(kretprobe_x32_execve, PROBE_KPROBE, "__x32_compat_sys_execve"),
        PROGRAM(kretprobe_x32_execveat, PROBE_KPROBE, "__x32_compat_sys_execveat"),
        PROGRAM(exec_done_btf, PROBE_TRACEPOINT, NULL),
        PROGRAM(sys_exit_btf, PROBE_TRACEPOINT, NULL),
};

bool kernel_has_function(const struct btf *vmlinux, const char *name) {
        return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
}

uint32_t cgroup_names_capacity(const struct btf *vmlinux) {
        /* Tracing programs may use maps that allocate as they go once the kernel has
         * bpf_mem_alloc (Linux 6.1); before, the verifier warns (a kernel WARN) and taints
         * the kernel. There, the map is preallocated, and smaller. */
        if (vmlinux && btf__find_by_name_kind(vmlinux, "bpf_mem_alloc", BTF_KIND_STRUCT) < 0)
                return EXECCOUNT_CGROUP_NAMES_PREALLOC;
        return EXECCOUNT_CGROUP_NAMES_CAPACITY;
}

static bool usable(size_t i, const struct btf *vmlinux) {
        return !programs[i].compat_function || kernel_has_function(vmlinux, programs[i].compat_function);
}

bool program_in_mode(const char *program, ProbeMode mode, const struct btf *vmlinux) {
        for (size_t i = 0; i < ELEMENTSOF(programs); i++)
                if (programs[i].mode == mode && streq(programs[i].program, program) && usable(i, vmlinux))
                        return true;
        return false;
}

size_t programs_of_mode(ProbeMode mode, const struct btf *vmlinux, const char **names, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(programs) && n < max; i++)
                if (programs[i].mode == mode && usable(i, vmlinux))
                        names[n++] = programs[i].program;
        return n;
}

const char *program_check_skeleton(const struct execcount_bpf *skel) {
        struct bpf_program *prog;

        for (size_t i = 0; i < ELEMENTSOF(programs); i++) {
                prog = *(struct bpf_program *const *) ((const char *) skel + programs[i].offset);
                if (!prog || !streq(bpf_program__name(prog), programs[i].program))
                        return programs[i].program;
        }
        bpf_object__for_each_program(prog, skel->obj) {
                bool known = false;

                for (size_t i = 0; i < ELEMENTSOF(programs) && !known; i++)
                        known = streq(programs[i].program, bpf_program__name(prog));
                if (!known)
                        return bpf_program__name(prog);
        }
        return NULL;
}
