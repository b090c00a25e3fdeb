/* SPDX-License-Identifier: GPL-2.0-or-later */
/* floor.bpf.c: the cheapest programs that do one part of execcountd's job each, for the
 * floor its own programs' cost per exec is held against (bench/compare.py --only floors).
 *
 * On the same attach points as execcountd's tracepoint mode, with none of its
 * bookkeeping: what is left is what the part costs on this kernel, whoever writes it.
 * bench/floor loads the ones named on its command line. */

#include "kernel.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define NR_execve 59
#define NR_execveat 322

/* A fixed size, about that of execcountd's event without its file name. Only the fields
 * that cost a read are filled: the rest costs nothing but room in the ring. */
struct floor_record {
        __u64 boot_ns;
        __u32 pid;
        __u32 uid;
        char comm[16];
        __u8 rest[96];
};
_Static_assert(sizeof(struct floor_record) == 128, "a 128-byte record");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 65536);
        __type(key, __u32);
        __type(value, __u64);
} counts SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 1 << 20);
} ring SEC(".maps");

/* Records that found the ring full: those runs skipped the writing, and so cost less. */
__u64 ring_full = 0;

/* The minimal exact counter: a second lookup only when the entry was missing, which is
 * once per UID. */
static __always_inline void count(__u32 uid) {
        __u64 zero = 0, *c = bpf_map_lookup_elem(&counts, &uid);

        if (!c) {
                bpf_map_update_elem(&counts, &uid, &zero, BPF_NOEXIST);
                c = bpf_map_lookup_elem(&counts, &uid);
                if (!c)
                        return; /* map full */
        }
        __sync_fetch_and_add(c, 1);
}

static __always_inline void record(__u32 uid) {
        struct floor_record *r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);

        if (!r) {
                __sync_fetch_and_add(&ring_full, 1);
                return;
        }
        r->boot_ns = bpf_ktime_get_boot_ns();
        r->pid = bpf_get_current_pid_tgid() >> 32;
        r->uid = uid;
        bpf_get_current_comm(r->comm, sizeof(r->comm));
        /* bench/floor drains the ring on a timer: no wakeup. */
        bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(fl_exec_empty) {
        return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(fl_exec_count) {
        count((__u32) bpf_get_current_uid_gid());
        return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(fl_exec_ring) {
        record((__u32) bpf_get_current_uid_gid());
        return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(fl_exec_both) {
        __u32 uid = (__u32) bpf_get_current_uid_gid();

        count(uid);
        record(uid);
        return 0;
}

/* Each of the two below puts every system call of the machine on the tracing path. */

SEC("tp_btf/sys_exit")
int BPF_PROG(fl_sysexit_void) {
        return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(fl_sysexit_nr, struct pt_regs *regs, long ret) {
        long nr;

        if (ret >= 0)
                return 0;
        nr = regs->orig_ax;
        if (nr == NR_execve || nr == NR_execveat)
                count((__u32) bpf_get_current_uid_gid());
        return 0;
}
