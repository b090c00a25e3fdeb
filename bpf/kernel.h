/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kernel.h: the few kernel types the BPF program reads, for CO-RE relocation.
 *
 * Field offsets here are placeholders: preserve_access_index makes clang record every
 * access by name, and libbpf relocates it against the running kernel's BTF at load time.
 * So the build needs no /sys/kernel/btf, only these declarations. */
#pragma once

/* Tells bpf_tracing.h that struct pt_regs uses the kernel's field names (di, si, ...). */
#define __VMLINUX_H__

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u64 u64;
typedef __u32 u32;
typedef _Bool bool;
typedef int pid_t;
typedef unsigned int uid_t;

#define true 1
#define false 0
#define NULL ((void *) 0)

/* UAPI constants from linux/bpf.h: stable ABI numbers, spelled out so the BPF build
 * needs no kernel headers either. */
enum bpf_map_type {
        BPF_MAP_TYPE_HASH = 1,
        BPF_MAP_TYPE_ARRAY = 2,
        BPF_MAP_TYPE_PERCPU_ARRAY = 6,
        BPF_MAP_TYPE_LRU_HASH = 9,
        BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
        BPF_F_NO_PREALLOC = 1U << 0,
};

enum {
        BPF_ANY = 0,
        BPF_NOEXIST = 1,
        BPF_EXIST = 2,
};

enum {
        BPF_RB_NO_WAKEUP = 1ULL << 0,
        BPF_RB_FORCE_WAKEUP = 1ULL << 1,
};

enum {
        BPF_RB_AVAIL_DATA = 0,
        BPF_RB_RING_SIZE = 1,
        BPF_RB_CONS_POS = 2,
        BPF_RB_PROD_POS = 3,
};

#define AT_FDCWD -100
#define EEXIST 17

struct pt_regs {
        unsigned long r15;
        unsigned long r14;
        unsigned long r13;
        unsigned long r12;
        unsigned long bp;
        unsigned long bx;
        unsigned long r11;
        unsigned long r10;
        unsigned long r9;
        unsigned long r8;
        unsigned long ax;
        unsigned long cx;
        unsigned long dx;
        unsigned long si;
        unsigned long di;
        unsigned long orig_ax;
        unsigned long ip;
        unsigned long cs;
        unsigned long flags;
        unsigned long sp;
        unsigned long ss;
} __attribute__((preserve_access_index));

struct thread_info {
        unsigned long flags;
        __u32 status;
} __attribute__((preserve_access_index));

typedef struct {
        uid_t val;
} kuid_t;

struct cred {
        kuid_t uid;
        kuid_t euid;
} __attribute__((preserve_access_index));

struct mm_struct {
        unsigned long arg_start;
        unsigned long arg_end;
} __attribute__((preserve_access_index));

struct kernfs_node {
        const char *name;
        __u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
        struct kernfs_node *kn;
        int level;
        struct cgroup *ancestors[]; /* from Linux 6.0 */
} __attribute__((preserve_access_index));

struct css_set {
        struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct {
        struct thread_info thread_info;
        struct css_set *cgroups;
        struct mm_struct *mm;
        pid_t pid;
        pid_t tgid;
        struct task_struct *real_parent;
        const struct cred *cred;
        char comm[16];
        kuid_t loginuid;
        unsigned int sessionid;
} __attribute__((preserve_access_index));

struct linux_binprm {
        const char *filename;
} __attribute__((preserve_access_index));
