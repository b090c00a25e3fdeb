/* SPDX-License-Identifier: GPL-2.0-or-later */
/* programs.c: which BPF programs each probe mode loads. */

#include "macro.h"
#include "programs.h"

/* compat_function: the 32-bit entry point the program hooks, which only exists when the
 * kernel has IA32 emulation (or the x32 ABI). */
static const struct {
        const char *program;
        ProbeMode mode;
        const char *compat_function;
} programs[] = {
        { "exec_done_btf", PROBE_FENTRY, NULL },
        { "fexit_execve", PROBE_FENTRY, NULL },
        { "fexit_execveat", PROBE_FENTRY, NULL },
        { "fexit_compat_execve", PROBE_FENTRY, "__ia32_compat_sys_execve" },
        { "fexit_compat_execveat", PROBE_FENTRY, "__ia32_compat_sys_execveat" },
        { "fexit_x32_execve", PROBE_FENTRY, "__x32_compat_sys_execve" },
        { "fexit_x32_execveat", PROBE_FENTRY, "__x32_compat_sys_execveat" },
        { "exec_done_raw", PROBE_KPROBE, NULL },
        { "exit_raw", PROBE_KPROBE, NULL },
        { "kprobe_execve", PROBE_KPROBE, NULL },
        { "kprobe_execveat", PROBE_KPROBE, NULL },
        { "kprobe_compat_execve", PROBE_KPROBE, "__ia32_compat_sys_execve" },
        { "kprobe_compat_execveat", PROBE_KPROBE, "__ia32_compat_sys_execveat" },
        { "kprobe_x32_execve", PROBE_KPROBE, "__x32_compat_sys_execve" },
        { "kprobe_x32_execveat", PROBE_KPROBE, "__x32_compat_sys_execveat" },
        { "kretprobe_execve", PROBE_KPROBE, NULL },
        { "kretprobe_execveat", PROBE_KPROBE, NULL },
        { "kretprobe_compat_execve", PROBE_KPROBE, "__ia32_compat_sys_execve" },
        { "kretprobe_compat_execveat", PROBE_KPROBE, "__ia32_compat_sys_execveat" },
        { "kretprobe_x32_execve", PROBE_KPROBE, "__x32_compat_sys_execve" },
        { "kretprobe_x32_execveat", PROBE_KPROBE, "__x32_compat_sys_execveat" },
        { "exec_done_btf", PROBE_TRACEPOINT, NULL },
        { "sys_exit_btf", PROBE_TRACEPOINT, NULL },
};

bool kernel_has_function(const struct btf *vmlinux, const char *name) {
        return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
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
