/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execcount.bpf.c: counts every exec per real UID and sends one event per exec.
 *
 * Successful execs are counted at the sched_process_exec tracepoint: every successful
 * exec crosses it exactly once, after the point of no return, whichever syscall (native
 * or 32-bit compat) started it, and it carries the kernel's copy of the file name while
 * the caller's memory is already gone. Failed execs are counted where the syscall
 * returns an error; the probe modes differ only in how they see that return:
 *
 *   fentry:     fexit on the syscall functions, tp_btf for sched_process_exec
 *   kprobe:     kretprobe on the syscall functions, raw_tp for sched_process_exec; and
 *               kprobes at entry, because a kretprobe can miss returns (see below)
 *   tracepoint: the raw sys_exit tracepoint (which also sees compat syscalls, unlike
 *               syscalls:sys_exit_execve), tp_btf for sched_process_exec
 *
 * The loader enables the programs of one mode only. */

#include "kernel.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "execcount.h"

char LICENSE[] SEC("license") = "GPL";

/* x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_{64,32}.tbl). */
#define NR_execve 59
#define NR_execveat 322
#define X32_SYSCALL_BIT 0x40000000
#define NR_x32_execve (X32_SYSCALL_BIT | 520)
#define NR_x32_execveat (X32_SYSCALL_BIT | 545)
#define NR_ia32_execve 11
#define NR_ia32_execveat 358
/* thread_info.status bit set while a 32-bit syscall runs (arch/x86/include/asm/thread_info.h). */
#define TS_COMPAT 0x0002

/* Kernel-internal errors (include/linux/errno.h) by which a syscall asks to be restarted
 * after a signal: ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ENOIOCTLCMD,
 * ERESTART_RESTARTBLOCK. The restarted exec is counted when it ends. */
#define ERESTART_FIRST 512
#define ERESTART_LAST 516

/* Keeps the compiler from moving memory accesses across it; x86 keeps stores in order. */
#define barrier() asm volatile("" ::: "memory")

/* The ring's size in bytes, set by the loader: what its fill is held against, without
 * asking the ring; a constant the verifier folds in. */
const volatile __u64 ring_size = 0;
/* Unread bytes that wake the reader (at most every BACKLOG_WAKEUP_GAP_NS) whatever the
 * wakeup interval: a quarter of the ring. */
#define WAKEUP_BACKLOG_BYTES (ring_size / 4)

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 65536);
        __type(key, __u32);
        __type(value, struct exec_count);
} counts SEC(".maps");

/* Privileged execs per real UID: successful execs after which the program runs with
 * effective UID 0 while the real UID is not 0 (setuid-root programs: sudo, su, pkexec).
 * A map of its own, so that the counts map keeps its layout and the hot path pays for the
 * rare case only; the loader gives it the capacity of counts. A UID has an entry here
 * only once it has one in counts. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 65536);
        __type(key, __u32);
        __type(value, __u64);
} privileged SEC(".maps");

/* Successful execs per (login UID, real UID), and each UID's number of pairs (see
 * struct exec_login_key); the loader gives it twice the capacity of counts. Only
 * successful ones: a storm of failures pays nothing for it. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 65536);
        __type(key, struct exec_login_key);
        __type(value, __u64);
} logins SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct exec_attribution_stats);
} attribution SEC(".maps");

/* Execs per (cgroup, real UID), and each UID's places (see struct exec_unit_key). */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, EXECCOUNT_UNITS_CAPACITY);
        __type(key, struct exec_unit_key);
        __type(value, struct exec_unit_count);
} units SEC(".maps");

/* Each CPU's (cgroup, UID) whose failures it counts itself (see struct exec_unit_slot). */
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct exec_unit_slot);
} unit_slots SEC(".maps");

/* The paths of the cgroups in units, written once per cgroup. Not preallocated: an entry
 * is large, and few are made. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, EXECCOUNT_CGROUP_NAMES_CAPACITY);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, __u64);
        __type(value, struct exec_cgroup_name);
} cgroup_names SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct exec_stats);
} stats SEC(".maps");

/* Set by the daemon at start and at reload; a map, so that a daemon that finds the
 * programs of an earlier one still running can change them. */
struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct exec_tunables);
} tunables SEC(".maps");

/* Not used by the programs: the daemon keeps its bookkeeping next to the counts. */
struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct exec_meta);
} meta SEC(".maps");

/* Events are assembled here and copied into the ring buffer cut to their real length, so
 * that a short file name does not take PATH_MAX bytes of ring. fexit programs run with
 * migration disabled but may be preempted, and then another of these programs can run on
 * the same CPU before the first one is done: slots are claimed with an atomic bit each. */
struct scratch {
        __u64 busy;
        struct exec_event slot[EXECCOUNT_SCRATCH_SLOTS];
};

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct scratch);
} scratch SEC(".maps");

/* Each UID's budget for successful execs' events while the ring is under pressure
 * (see success_event_allowed()): the boot time when it is whole again. Only UIDs that exec
 * while the ring is that full get an entry; one that loses its entry to others gets a
 * whole budget, as after a quiet spell. */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, 4096);
        __type(key, __u32);
        __type(value, __u64);
} success_budget SEC(".maps");

/* kprobe mode: exec calls in flight, keyed by task_struct address, which stays the same
 * when an exec from a thread takes over the thread group leader's PID. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 16384);
        __type(key, __u64);
        __type(value, struct exec_inflight);
} inflight SEC(".maps");

/* Boot time of the last forced wakeup of the reader, of the last one for a backlog, and
 * of the last look at the backlog; racy updates only shift them a little. */
__u64 last_wakeup_ns = 0;
__u64 last_backlog_wakeup_ns = 0;
__u64 last_backlog_check_ns = 0;
/* What that look saw: the bytes not read yet (see ring_backlog()). */
__u64 ring_unread = 0;
/* A reader that does not keep up is woken for its backlog at most this often: a wakeup
 * per event is what makes a naive ring buffer reader expensive. */
#define BACKLOG_WAKEUP_GAP_NS 1000000ULL
/* The backlog is looked at at most this often: the look reads the reader's and the
 * writers' positions, two cache lines other CPUs write, and cost about a tenth of a
 * successful exec's programs when made for every event. Between two looks, events fill
 * a small part of the quarter of the ring that makes a backlog. */
#define BACKLOG_CHECK_GAP_NS 100000ULL

static __always_inline struct exec_stats *stats_get(void) {
        __u32 zero = 0;

        return bpf_map_lookup_elem(&stats, &zero);
}

/* Counts with atomic adds even in per-CPU values: a preempting program on the same CPU
 * must not lose an update. */
#define STAT_INC(field)                                         \
        ({                                                      \
                struct exec_stats *_s = stats_get();            \
                if (_s)                                         \
                        __sync_fetch_and_add(&_s->field, 1);    \
        })

/* Counts the exec; returns the UID's entry, or NULL when the map is full. */
static __always_inline struct exec_count *count_exec(__u32 uid, bool failed) {
        struct exec_count *c = NULL;

        /* The second round covers an entry deleted by a concurrent reset in between. */
        for (int i = 0; i < 2; i++) {
                struct exec_count zero = {};
                long r;

                c = bpf_map_lookup_elem(&counts, &uid);
                if (c)
                        break;
                r = bpf_map_update_elem(&counts, &uid, &zero, BPF_NOEXIST);
                if (r < 0 && r != -EEXIST)
                        break; /* map full: E2BIG */
        }

        if (!c) {
                if (failed)
                        STAT_INC(map_full_failed);
                else
                        STAT_INC(map_full_execs);
                return NULL;
        }

        if (failed)
                __sync_fetch_and_add(&c->failed, 1);
        else
                __sync_fetch_and_add(&c->execs, 1);
        return c;
}

/* A failure can come by the hundred thousand per second, and the precise clock costs
 * more than the rest of counting it: read it once per clock tick (jiffy) and UID. The
 * coarse clock helpers are not for tracing programs. */
static __always_inline void stamp_failure(struct exec_count *c) {
        __u64 tick = bpf_jiffies64();

        /* The time before the tick: see slot_take(). */
        if (c && c->last_exec_tick != tick) {
                c->last_exec_ns = bpf_ktime_get_boot_ns();
                barrier();
                c->last_exec_tick = tick;
        }
}

/* The daemon's settings for the programs; looked up once per program run, and handed on.
 * NULL cannot happen (an array map's one entry), but the verifier wants it checked. */
static __always_inline const struct exec_tunables *tunables_get(void) {
        __u32 zero = 0;

        return bpf_map_lookup_elem(&tunables, &zero);
}

/* Whether a failed exec of this UID may send an event: a storm of failures, which costs
 * its maker about a microsecond each, must not flood the ring buffer, nor take the events
 * of other UIDs with it, nor cost much more than counting. */
/* now: the UID's last_exec_ns, which is precise to a clock tick. t: tunables_get(). */
static __always_inline bool fail_event_allowed(struct exec_count *c, __u64 now, const struct exec_tunables *t) {
        __u64 tat;

        if (!t || t->fail_event_spacing_ns == 0)
                return true;
        tat = c->fail_event_tat_ns;
        if (tat < now)
                tat = now;
        if (tat - now >= t->fail_event_window_ns) {
                __sync_fetch_and_add(&c->events_throttled, 1);
                return false;
        }
        c->fail_event_tat_ns = tat + t->fail_event_spacing_ns;
        return true;
}

/* The ring's unread bytes, as last looked at: looked at again at most every
 * BACKLOG_CHECK_GAP_NS, by whichever program comes first (the look costs more than a
 * global's read), but by every program while the last look found it more than half full:
 * on a machine of many CPUs, the events of one look's 0.1 ms could fill the rest. */
static __always_inline __u64 ring_backlog(__u64 now) {
        __u64 unread = ring_unread;

        if (unread * 2 > ring_size || now - last_backlog_check_ns >= BACKLOG_CHECK_GAP_NS) {
                unread = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
                last_backlog_check_ns = now;
                ring_unread = unread;
        }
        return unread;
}

/* Whether the ring is more than three quarters full, as last looked at (see
 * ring_backlog()): more than failures can fill, which stop at half, so that a storm of
 * them never holds back other users' successful execs. */
static __always_inline bool ring_under_pressure(__u64 now) {
        return ring_backlog(now) * 4 > ring_size * 3;
}

/* What a record of size bytes takes of the ring: rounded up to 8 bytes, and a header. */
#define RING_BYTES(size) ((((__u64) (size) + 7) & ~7ULL) + 8)

/* While the ring is more than three quarters full, each UID's successful execs send
 * events of at most a thirty-second of the ring at once, and as much again per second (a
 * GCRA in bytes). Otherwise one user's programs with long names and command lines, up to
 * 5 KiB of ring per exec, run in a loop while the daemon gets little CPU, would fill the
 * ring and take every other user's events with them. */
#define SUCCESS_BUDGET_SHARE 32

/* Whether a successful exec of uid may send an event of size ring bytes while the ring is
 * under pressure; counted as held back if not. A budget that is whole lets one event
 * through whatever its size (a ring of 4 KiB has a budget of 128 bytes). */
static __noinline int success_event_allowed(__u32 uid, __u64 now, __u64 size) {
        __u64 cost, old, tat, *p;
        struct exec_count *c;

        /* The whole budget, ring / SHARE bytes, comes back in a second. The product is at
         * most 5,232 * 1e9 * 32, under 2e14: no overflow. */
        cost = size * 1000000000ULL * SUCCESS_BUDGET_SHARE / (ring_size ?: 1);
        p = bpf_map_lookup_elem(&success_budget, &uid);
        if (!p) {
                tat = now + cost;
                bpf_map_update_elem(&success_budget, &uid, &tat, BPF_ANY);
                return 1;
        }
        /* A compare-and-swap, so that two CPUs' execs of the UID cannot both take the
         * same part of the budget; the second round is for one that lost the race. */
        for (int i = 0; i < 2; i++) {
                old = *p;
                if (old > now && old - now + cost > 1000000000ULL)
                        break;
                tat = (old > now ? old : now) + cost;
                if (__sync_val_compare_and_swap(p, old, tat) == old)
                        return 1;
        }
        c = bpf_map_lookup_elem(&counts, &uid);
        if (c)
                __sync_fetch_and_add(&c->events_throttled, 1);
        else
                STAT_INC(events_lost); /* no entry to count it in: the UID map is full */
        return 0;
}

/* Wake the reader at most once per interval; events in between wait for the daemon's
 * own timer, unless unread data piles up. The first event after a quiet spell always
 * wakes it, so latency stays low when execs are rare. */
static __always_inline __u64 wakeup_flags(__u64 now, const struct exec_tunables *t) {
        __u64 interval = t ? t->wakeup_interval_ns : 0;

        /* The reader polls anyway: a wakeup would only double its work. */
        if (t && now < t->reader_polls_until_ns)
                interval = ~0ULL;
        if (now - last_wakeup_ns >= interval) {
                last_wakeup_ns = now;
                return BPF_RB_FORCE_WAKEUP;
        }
        if (now - last_backlog_wakeup_ns < BACKLOG_WAKEUP_GAP_NS)
                return BPF_RB_NO_WAKEUP;
        if (ring_backlog(now) >= WAKEUP_BACKLOG_BYTES) {
                last_backlog_wakeup_ns = now;
                return BPF_RB_FORCE_WAKEUP;
        }
        return BPF_RB_NO_WAKEUP;
}

static __always_inline struct exec_event *scratch_claim(struct scratch **ret_s, __u64 *ret_bit) {
        __u32 zero = 0;
        struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

        if (!s)
                return NULL;

#pragma unroll
        for (int i = 0; i < EXECCOUNT_SCRATCH_SLOTS; i++) {
                __u64 bit = 1ULL << i;

                if (!(__sync_fetch_and_or(&s->busy, bit) & bit)) {
                        *ret_s = s;
                        *ret_bit = bit;
                        return &s->slot[i];
                }
        }
        return NULL;
}

static __always_inline void scratch_release(struct scratch *s, __u64 bit) {
        __sync_fetch_and_and(&s->busy, ~bit);
}

/* The task's fields are read through its BTF pointer: plain loads that the kernel guards
 * against faults, not a helper call each (about 40 ns apiece, on every exec). */

/* The task's effective UID; at sched_process_exec, the new program's. (__u32) -1 if the
 * task has no credentials, which does not happen: newer verifiers (6.4 on, with BTF type
 * tags) take the __rcu cred pointer for one that may be NULL, and refuse it unchecked. */
static __always_inline __u32 current_euid(void) {
        const struct cred *cred = bpf_get_current_task_btf()->cred;

        return cred ? cred->euid.val : (__u32) -1;
}

/* The task's login UID, (__u32) -1 when unset or when the kernel has no audit. */
static __always_inline __u32 current_login_uid(void) {
        struct task_struct *task = bpf_get_current_task_btf();

        if (bpf_core_field_exists(task->loginuid))
                return task->loginuid.val;
        return (__u32) -1;
}

/* The ID of the task's cgroup (v2), as bpf_get_current_cgroup_id() gives it, read
 * through the task's BTF pointer: loads, not a helper call with its RCU section (this
 * program runs in one already). 0 if a pointer is missing, which does not happen. */
static __always_inline __u64 current_cgroup_id(void) {
        struct css_set *cset = bpf_get_current_task_btf()->cgroups;
        struct cgroup *cg = cset ? cset->dfl_cgrp : NULL;
        struct kernfs_node *kn = cg ? cg->kn : NULL;

        return kn ? kn->id : 0;
}

static __always_inline void event_fill(struct exec_event *ev, __u32 uid, __u32 euid, __u64 cgroup_id, __u64 now,
                                       long result) {
        struct task_struct *task = bpf_get_current_task_btf();
        struct task_struct *parent = task->real_parent; /* __rcu too: checked as cred is */

        ev->boot_ns = now;
        ev->pid = bpf_get_current_pid_tgid() >> 32;
        ev->ppid = parent ? parent->tgid : 0;
        ev->uid = uid;
        ev->auid = current_login_uid();
        if (bpf_core_field_exists(task->sessionid))
                ev->session = task->sessionid;
        else
                ev->session = (__u32) -1;
        ev->result = (__s32) result;
        ev->dirfd = AT_FDCWD;
        ev->at_flags = 0;
        ev->euid = euid;
        ev->reserved = 0;
        ev->cgroup_id = cgroup_id;
        ev->flags = EXEC_EVENT_EUID | EXEC_EVENT_EXTENDED | EXEC_EVENT_CGROUP;
        ev->argv_len = 0;
        bpf_get_current_comm(ev->comm, sizeof(ev->comm));
        /* All 16 bytes at once: the kernel keeps a NUL in them, the daemon checks anyway. */
        if (parent)
                bpf_probe_read_kernel(ev->parent_comm, sizeof(ev->parent_comm), parent->comm);
        else
                ev->parent_comm[0] = '\0';
}

/* Puts the name's length in the record; returns it, which is where the arguments go. */
static __always_inline __u32 event_set_name(struct exec_event *ev, long name_len) {
        /* Some kernels (Debian 12's 6.1) say 0 for an empty string: it is one. */
        if (name_len == 0) {
                ev->data[0] = '\0';
                name_len = 1;
        }
        if (name_len < 0) {
                ev->data[0] = '\0';
                ev->flags |= EXEC_EVENT_NO_NAME;
                name_len = 1;
        }
        if (name_len > EXECCOUNT_PATH_MAX)
                name_len = EXECCOUNT_PATH_MAX;
        ev->filename_len = name_len;
        return name_len;
}

static __always_inline void event_send(struct exec_event *ev, __u64 now, const struct exec_tunables *t) {
        __u64 len = (__u64) ev->filename_len + ev->argv_len;

        /* Never so (both are bounded where they are set), but said so to the verifier; and
         * were it so, the event would be counted as lost, not dropped unsaid. */
        if (len > EXECCOUNT_PATH_MAX + EXECCOUNT_ARGV_MAX) {
                STAT_INC(events_lost);
                return;
        }
        if (bpf_ringbuf_output(&events, ev, EXEC_EVENT_HEADER_SIZE + len, wakeup_flags(now, t)) < 0)
                STAT_INC(events_lost);
}

/* Whether events carry the arguments (CaptureArgv=). */
static __always_inline bool argv_wanted(const struct exec_tunables *t) {
        return t && (t->flags & EXEC_TUNABLE_ARGV);
}

/* Rooms for a successful exec's name and for its arguments in a record written in the
 * ring in place, in two sizes: the verifier needs a record's size to be a constant, so a
 * record always takes its size's room, used or not. Most names and command lines fit the
 * small one (a record of 224 bytes), more fit the large one (352); a name or command line
 * that fits neither takes the way through a scratch record, cut to its length. */
#define INPLACE_SMALL 64
#define INPLACE_LARGE 128

/* A successful exec's event written in the ring in place, in a record of room bytes for
 * the name and as many for the arguments (len of them, at start, if argv): 1 when it was
 * sent (or counted lost), 0 when its name does not fit and nothing was sent. */
static __always_inline int event_send_room(const __u32 room, __u32 uid, __u32 euid, __u64 cgroup_id, __u64 now,
                                           const char *kernel_name, bool argv, unsigned long start, __u64 len,
                                           const struct exec_tunables *t) {
        struct exec_event *ev;
        __u32 off;
        long n;

        ev = bpf_ringbuf_reserve(&events, EXEC_EVENT_HEADER_SIZE + 2 * room, 0);
        if (!ev) {
                STAT_INC(events_lost);
                return 1;
        }
        /* A name that reaches the end of the room may have been cut. */
        n = bpf_probe_read_kernel_str(ev->data, room, kernel_name);
        if (n >= room) {
                bpf_ringbuf_discard(ev, BPF_RB_NO_WAKEUP);
                return 0;
        }
        event_fill(ev, uid, euid, cgroup_id, now, 0);
        off = event_set_name(ev, n) & (room - 1); /* < room already */
        if (argv && len <= room && (len == 0 || bpf_probe_read_user(ev->data + off, len, (const void *) start) == 0)) {
                ev->argv_len = len;
                ev->flags |= EXEC_EVENT_ARGV;
        }
        bpf_ringbuf_submit(ev, wakeup_flags(now, t));
        return 1;
}

/* A successful exec's event, written in the ring in place: no scratch record, no copy.
 * False when its name or arguments fit neither room, and nothing was sent. A name too
 * long for the small room is read again for the large one. */
static __always_inline bool event_send_inplace(__u32 uid, __u32 euid, __u64 cgroup_id, __u64 now,
                                               const char *kernel_name, const struct exec_tunables *t) {
        struct mm_struct *mm = bpf_get_current_task_btf()->mm;
        unsigned long start = mm->arg_start, end = mm->arg_end;
        bool argv = argv_wanted(t) && end >= start;
        __u64 len = argv ? end - start : 0;

        if (len > INPLACE_LARGE)
                return false;
        if (len <= INPLACE_SMALL &&
            event_send_room(INPLACE_SMALL, uid, euid, cgroup_id, now, kernel_name, argv, start, len, t))
                return true;
        return event_send_room(INPLACE_LARGE, uid, euid, cgroup_id, now, kernel_name, argv, start, len, t);
}

/* A successful exec's arguments: the kernel has just laid them out, one after the other,
 * on the new program's stack, between mm->arg_start and mm->arg_end. */
static __always_inline void event_new_argv(struct exec_event *ev, __u32 off, const struct exec_tunables *t) {
        struct mm_struct *mm = bpf_get_current_task_btf()->mm;
        unsigned long start = mm->arg_start, end = mm->arg_end;
        __u32 flags = EXEC_EVENT_ARGV;
        __u64 len;

        if (!argv_wanted(t) || end < start || off > EXECCOUNT_PATH_MAX)
                return;
        len = end - start;
        if (len > EXECCOUNT_ARGV_MAX) {
                len = EXECCOUNT_ARGV_MAX;
                flags |= EXEC_EVENT_ARGV_TRUNCATED;
        }
        if (len > 0 && bpf_probe_read_user(ev->data + off, len, (const void *) start) < 0)
                return;
        ev->argv_len = len;
        ev->flags |= flags;
}

/* A failed exec's arguments, from the caller's array of pointers (of 4 bytes for 32-bit
 * callers): the same bytes a successful exec would have laid out. Only for failures that
 * send an event; a function of its own, so that its code is there once, not in every
 * program. */
/* dst: where the arguments go in ev's data, after the name. */
static __noinline int event_user_argv(struct exec_event *ev, char *dst, const char *argv, __u32 compat) {
        if (!argv)
                return 0;
        /* The length so far is kept in the record, not in a register: the verifier then
         * sees every path through one argument end in the same state, and checks the next
         * argument once, not once per path so far. Unrolled: some kernels (Debian 12's
         * 6.1) refuse this loop ("back-edge from insn"), whose head follows a call. */
        ev->argv_len = 0;
#pragma unroll
        for (int i = 0; i <= EXECCOUNT_ARGS_MAX; i++) {
                unsigned long arg = 0;
                __u32 at;
                long n;

                if (compat) {
                        __u32 arg32;

                        if (bpf_probe_read_user(&arg32, sizeof(arg32), argv + 4 * i) < 0)
                                goto unreadable;
                        arg = arg32;
                } else if (bpf_probe_read_user(&arg, sizeof(arg), argv + 8 * i) < 0)
                        goto unreadable;
                if (!arg)
                        break;
                at = ev->argv_len;
                if (i == EXECCOUNT_ARGS_MAX || at >= EXECCOUNT_ARGV_MAX) {
                        ev->flags |= EXEC_EVENT_ARGV_TRUNCATED;
                        break;
                }
                at &= EXECCOUNT_ARGV_MAX - 1;
                /* One byte more than the room: a string that reaches it did not fit. */
                n = bpf_probe_read_user_str(dst + at, EXECCOUNT_ARGV_MAX - at + 1, (const char *) arg);
                if (n < 0)
                        goto unreadable;
                /* Some kernels (Debian 12's 6.1) say 0 for an empty string, its NUL written. */
                if (n == 0) {
                        dst[at] = '\0';
                        n = 1;
                }
                if (n > EXECCOUNT_ARGV_MAX - at) {
                        ev->argv_len = EXECCOUNT_ARGV_MAX;
                        ev->flags |= EXEC_EVENT_ARGV_TRUNCATED;
                        break;
                }
                ev->argv_len = at + n;
        }
        ev->flags |= EXEC_EVENT_ARGV;
        return 0;

unreadable:
        ev->argv_len = 0;
        ev->flags &= ~EXEC_EVENT_ARGV_TRUNCATED;
        return 0;
}

/* Counts a privileged exec of uid (see the privileged map). */
static __always_inline void count_privileged(__u32 uid) {
        __u64 zero = 0, *p;

        for (int i = 0; i < 2; i++) {
                p = bpf_map_lookup_elem(&privileged, &uid);
                if (p) {
                        __sync_fetch_and_add(p, 1);
                        return;
                }
                /* Then again, also when another CPU made the entry first. The map is full
                 * only if counts is, and then the UID has no entry there either. */
                bpf_map_update_elem(&privileged, &uid, &zero, BPF_NOEXIST);
        }
}

/* A successful exec that could not be counted per login: no room in the map. */
static __always_inline void logins_full_inc(void) {
        __u32 zero = 0;
        struct exec_attribution_stats *a = bpf_map_lookup_elem(&attribution, &zero);

        if (a)
                __sync_fetch_and_add(&a->logins_full, 1);
}

/* Adds one to the pair's execs, making the pair if need be; false if it cannot be made. */
static __always_inline bool login_add(struct exec_login_key *key) {
        __u64 zero = 0, *p;

        /* The second round covers an entry made by another CPU, or deleted by a reset, in
         * between. */
        for (int i = 0; i < 2; i++) {
                long r;

                p = bpf_map_lookup_elem(&logins, key);
                if (p) {
                        __sync_fetch_and_add(p, 1);
                        return true;
                }
                r = bpf_map_update_elem(&logins, key, &zero, BPF_NOEXIST);
                if (r < 0 && r != -EEXIST)
                        return false; /* map full: E2BIG */
        }
        return false;
}

/* Takes one of uid's places for a new pair: -1 when the map has no room even for the
 * count of places, 0 when uid has all its pairs already, 1 when taken. */
static __always_inline int login_place_take(__u32 uid) {
        struct exec_login_key key = { .login_uid = uid, .uid = EXEC_LOGIN_PLACES };
        __u64 zero = 0, *places;

        places = bpf_map_lookup_elem(&logins, &key);
        if (!places) {
                bpf_map_update_elem(&logins, &key, &zero, BPF_NOEXIST);
                places = bpf_map_lookup_elem(&logins, &key);
        }
        if (!places)
                return -1;
        if (__sync_fetch_and_add(places, 1) < EXECCOUNT_LOGINS_PER_UID)
                return 1;
        __sync_fetch_and_add(places, (__u64) -1);
        return 0;
}

static __always_inline void login_place_give_back(__u32 uid) {
        struct exec_login_key key = { .login_uid = uid, .uid = EXEC_LOGIN_PLACES };
        __u64 *places = bpf_map_lookup_elem(&logins, &key);

        if (places)
                __sync_fetch_and_add(places, (__u64) -1);
}

/* Counts a successful exec under its login UID and real UID (see the logins map): a new
 * pair takes one of the UID's places, or else the exec counts under EXEC_LOGIN_OTHER;
 * one that finds no room in the map is counted as such. */
static __always_inline void count_login(__u32 login_uid, __u32 uid) {
        struct exec_login_key key = { .login_uid = login_uid, .uid = uid };
        __u64 zero = 0, *p;
        int taken;
        long r;

        p = bpf_map_lookup_elem(&logins, &key);
        if (p) {
                __sync_fetch_and_add(p, 1);
                return;
        }
        /* The pair is new: it takes a place, unless it is the UID's "other" one. */
        if (login_uid != EXEC_LOGIN_OTHER) {
                taken = login_place_take(uid);
                if (taken < 0) {
                        logins_full_inc();
                        return;
                }
                if (taken == 0)
                        key.login_uid = EXEC_LOGIN_OTHER;
        } else
                taken = 0;
        if (taken > 0) {
                r = bpf_map_update_elem(&logins, &key, &zero, BPF_NOEXIST);
                /* Made by another CPU first, or no room: the place is not needed. */
                if (r < 0)
                        login_place_give_back(uid);
                if (r < 0 && r != -EEXIST) {
                        logins_full_inc();
                        return;
                }
        }
        if (!login_add(&key))
                logins_full_inc();
}

static __always_inline void attribution_inc(__u32 field) {
        __u32 zero = 0;
        struct exec_attribution_stats *a = bpf_map_lookup_elem(&attribution, &zero);

        if (!a)
                return;
        if (field == 0)
                __sync_fetch_and_add(&a->units_full_execs, 1);
        else if (field == 1)
                __sync_fetch_and_add(&a->units_full_failed, 1);
        else
                __sync_fetch_and_add(&a->names_full, 1);
}

/* Keeps the path of the current task's cgroup (cgroup_id) in cgroup_names, unless it is
 * there already. Runs once per new (cgroup, UID) entry: its cost does not matter. A
 * function of its own, so that its code is there once. */
static __noinline int cgroup_name_keep(__u64 cgroup_id) {
        struct task_struct *task = (struct task_struct *) bpf_get_current_task();
        struct exec_cgroup_name *n;
        struct cgroup *cg;
        struct scratch *s;
        __u64 bit;
        int level;
        long r;

        /* Before Linux 6.0 a cgroup has no ancestors[]: no path is kept, the daemon names
         * such cgroups from the cgroup tree while they exist. */
        if (!bpf_core_field_exists(((struct cgroup *) 0)->ancestors) ||
            bpf_map_lookup_elem(&cgroup_names, &cgroup_id))
                return 0;
        /* An event's scratch record is larger than a name record: borrowed for it. */
        n = (struct exec_cgroup_name *) scratch_claim(&s, &bit);
        if (!n) {
                attribution_inc(2);
                return 0;
        }
        cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
        /* The task moved to another cgroup since its ID was read: not this one's path. */
        if (BPF_CORE_READ(cg, kn, id) != cgroup_id) {
                scratch_release(s, bit);
                return 0;
        }
        level = BPF_CORE_READ(cg, level);
        n->level = level;
        n->truncated = 0;
        for (int i = 0; i < EXECCOUNT_CGROUP_DEPTH; i++) {
                struct cgroup *a = NULL;
                const char *name = NULL;

                n->ancestor_id[i] = 0;
                n->name[i][0] = '\0';
                if (i >= level)
                        continue;
                bpf_probe_read_kernel(&a, sizeof(a), &cg->ancestors[i + 1]);
                if (!a)
                        continue;
                n->ancestor_id[i] = BPF_CORE_READ(a, kn, id);
                name = BPF_CORE_READ(a, kn, name);
                r = bpf_probe_read_kernel_str(n->name[i], EXECCOUNT_CGROUP_NAME_LEN, name);
                if (r < 0)
                        n->name[i][0] = '\0';
                else if (r >= EXECCOUNT_CGROUP_NAME_LEN)
                        n->truncated |= 1u << i;
        }
        r = bpf_map_update_elem(&cgroup_names, &cgroup_id, n, BPF_NOEXIST);
        if (r < 0 && r != -EEXIST)
                attribution_inc(2);
        scratch_release(s, bit);
        return 0;
}

/* Adds to the entry of key, making it if need be; NULL if it cannot be made. */
static __always_inline struct exec_unit_count *unit_entry(struct exec_unit_key *key) {
        struct exec_unit_count zero = {}, *u;

        for (int i = 0; i < 2; i++) {
                long r;

                u = bpf_map_lookup_elem(&units, key);
                if (u)
                        return u;
                r = bpf_map_update_elem(&units, key, &zero, BPF_NOEXIST);
                if (r < 0 && r != -EEXIST)
                        return NULL; /* map full */
        }
        return NULL;
}

/* A new (cgroup, UID) entry: it takes one of the UID's places, or else the exec counts
 * under EXEC_UNIT_OTHER. NULL when the map has no room. */
static __noinline struct exec_unit_count *unit_new(__u64 cgroup_id, __u32 uid) {
        struct exec_unit_key key = { .cgroup_id = EXEC_UNIT_PLACES, .uid = uid };
        struct exec_unit_count *taken, *returned;
        __u64 in_use;
        long r;

        taken = unit_entry(&key);
        if (!taken)
                return NULL;
        key.cgroup_id = EXEC_UNIT_RETURNED;
        returned = bpf_map_lookup_elem(&units, &key);
        in_use = __sync_fetch_and_add(&taken->execs, 1) - (returned ? returned->execs : 0);
        key.cgroup_id = cgroup_id;
        if ((__s64) in_use >= EXECCOUNT_UNITS_PER_UID) {
                __sync_fetch_and_add(&taken->execs, (__u64) -1);
                key.cgroup_id = EXEC_UNIT_OTHER;
                return unit_entry(&key);
        }
        {
                struct exec_unit_count zero = {};

                r = bpf_map_update_elem(&units, &key, &zero, BPF_NOEXIST);
        }
        /* Made by another CPU first, or no room: the place is not needed. */
        if (r < 0)
                __sync_fetch_and_add(&taken->execs, (__u64) -1);
        if (r < 0 && r != -EEXIST)
                return NULL;
        cgroup_name_keep(cgroup_id);
        return bpf_map_lookup_elem(&units, &key);
}

/* Counts the exec under its cgroup and real UID. now: the time to keep as the latest.
 * Returns whether the cgroup has an entry of its own for the UID (not only the UID's
 * "other" one, or none in a full map). */
static __always_inline bool count_unit(__u64 cgroup_id, __u32 uid, __u64 now, bool failed) {
        struct exec_unit_key key = { .cgroup_id = cgroup_id, .uid = uid };
        struct exec_unit_count *u = bpf_map_lookup_elem(&units, &key);
        bool own = true;

        if (!u) {
                u = unit_new(key.cgroup_id, uid);
                /* unit_new() may count it in the UID's "other" entry: a second lookup,
                 * once per new entry only, tells. */
                own = bpf_map_lookup_elem(&units, &key) != NULL;
        }
        if (!u) {
                attribution_inc(failed ? 1 : 0);
                return false;
        }
        if (failed)
                __sync_fetch_and_add(&u->failed, 1);
        else
                __sync_fetch_and_add(&u->execs, 1);
        if (now)
                u->last_exec_ns = now;
        return own;
}

/* A slot's failures carry the slot's generation (see struct exec_unit_slot). */
static __always_inline __u64 slot_generation(__u32 seq) {
        return (__u64) ((seq >> 1) & EXEC_UNIT_SLOT_GENERATION_MASK) << EXEC_UNIT_SLOT_COUNT_BITS;
}

/* Counts a failure in the CPU's unit slot if the slot holds (cgroup_id, uid) and the
 * failure is sure to send no event (see struct exec_unit_slot); false if not, and then it
 * is for the maps. The add is a compare-and-swap against a count of the generation the
 * key was read in: should another program on this CPU (one that preempted this one) give
 * the slot to another key in between, the generation differs, the swap fails, and the
 * failure goes to the maps. */
static __always_inline bool slot_count(struct exec_unit_slot *s, __u64 cgroup_id, __u32 uid,
                                       const struct exec_tunables *t) {
        __u32 seq = s->seq;
        __u64 old, now, tick;

        if ((seq & 1) || s->cgroup_id != cgroup_id || s->uid != uid)
                return false;
        barrier();
        /* The time read once per clock tick, at the key's first failure in it on this
         * CPU, as the UID's own entry keeps it at its first one: the slow path that the
         * first may take then stamps the UID's entry after this, and the tat it leaves
         * in the slot holds for the rest of the tick. Kept whether or not this failure
         * is counted here: it is one of the key's. */
        tick = bpf_jiffies64();
        if (s->tick != tick) {
                now = bpf_ktime_get_boot_ns();
                if (s->seq == seq) {
                        s->last_exec_ns = now;
                        s->tick = tick;
                }
        } else
                now = s->last_exec_ns;
        /* As fail_event_allowed() sees it: the UID's tat only grows (until a reset, which
         * empties its slots first), so a failure before the one it had is throttled. */
        if (t->fail_event_spacing_ns == 0 || s->tat_ns < now || s->tat_ns - now < t->fail_event_window_ns)
                return false;
        for (int i = 0; i < 2; i++) {
                old = s->failed;
                if ((old & ~EXEC_UNIT_SLOT_COUNT_MASK) != slot_generation(seq) ||
                    (old & EXEC_UNIT_SLOT_COUNT_MASK) == EXEC_UNIT_SLOT_COUNT_MASK)
                        return false;
                if (__sync_val_compare_and_swap(&s->failed, old, old + 1) == old)
                        return true;
        }
        return false;
}

/* Moves n failures of a slot into its key's entries, where they count as failures of the
 * UID that sent no event and as failures of the (cgroup, UID). */
static __always_inline void slot_move(struct exec_unit_slot *s, __u64 n) {
        struct exec_unit_key key = { .cgroup_id = s->cgroup_id, .uid = s->uid };
        __u32 uid = s->uid;
        struct exec_unit_count *u;
        struct exec_count *c;

        u = bpf_map_lookup_elem(&units, &key);
        if (u) {
                __sync_fetch_and_add(&u->failed, n);
                if (u->last_exec_ns < s->last_exec_ns)
                        u->last_exec_ns = s->last_exec_ns;
        } else {
                /* Never so: a slot's key keeps its entries (the daemon empties the slot
                 * before it deletes them). Counted as not counted. */
                __u32 zero = 0;
                struct exec_attribution_stats *a = bpf_map_lookup_elem(&attribution, &zero);

                if (a)
                        __sync_fetch_and_add(&a->units_full_failed, n);
        }
        c = bpf_map_lookup_elem(&counts, &uid);
        if (c) {
                __sync_fetch_and_add(&c->failed, n);
                __sync_fetch_and_add(&c->events_throttled, n);
                if (c->last_exec_ns < s->last_exec_ns)
                        c->last_exec_ns = s->last_exec_ns;
        } else {
                struct exec_stats *st = stats_get();

                if (st)
                        __sync_fetch_and_add(&st->map_full_failed, n);
        }
}

/* Brings the tat that the CPU's slot keeps for (cgroup_id, uid), the key it holds, up to
 * date: c's, read after a failure of the key sent no event. A compare-and-swap of the tat
 * alone, so that readers, who have nothing to read again, are not sent round by a storm
 * that sends an event every tick. The tat is read before the key: a program that
 * preempted this one and gave the slot to another key wrote that key before its tat, so
 * that either the key read is the other one, or the tat read is older than the other
 * key's and the swap fails. */
static __always_inline void slot_refresh(struct exec_unit_slot *s, __u64 cgroup_id, __u32 uid, struct exec_count *c) {
        __u64 old = s->tat_ns, tat = c->fail_event_tat_ns;

        barrier();
        if ((s->seq & 1) || s->cgroup_id != cgroup_id || s->uid != uid || tat <= old)
                return;
        __sync_val_compare_and_swap(&s->tat_ns, old, tat);
}

/* Gives the CPU's slot to (cgroup_id, uid), whose failure was just counted in its entries
 * and sent no event, if the slot is empty or its key has been idle long enough: the
 * failures it holds go to its key's entries first; if the slot is the key's already, its
 * tat is brought up to date. c: the UID's entry. The slot is claimed by a
 * compare-and-swap of its sequence count, so that a program that preempted this one
 * cannot take it at the same time. */
static __noinline int slot_take(struct exec_unit_slot *s, __u64 cgroup_id, __u32 uid, struct exec_count *c) {
        __u64 now, tick, n;
        __u32 seq;

        if (!s || !c || cgroup_id == 0)
                return 0;
        if (s->cgroup_id == cgroup_id && s->uid == uid) {
                slot_refresh(s, cgroup_id, uid, c);
                return 0;
        }
        /* The UID's stamp: its tick, then its time, in the reverse of the order
         * stamp_failure() writes them, so that the time is never older than the tick. */
        tick = c->last_exec_tick;
        barrier();
        now = c->last_exec_ns;
        seq = s->seq;
        if ((seq & 1) || (s->cgroup_id != 0 && s->last_exec_ns + EXECCOUNT_UNIT_SLOT_IDLE_NS > now) ||
            __sync_val_compare_and_swap(&s->seq, seq, seq + 1) != seq)
                return 0;
        barrier();
        /* The count and the generation at once: adds of the old one fail from now on. */
        n = __sync_lock_test_and_set(&s->failed, slot_generation(seq + 2)) & EXEC_UNIT_SLOT_COUNT_MASK;
        if (n && s->cgroup_id != 0)
                slot_move(s, n);
        s->cgroup_id = cgroup_id;
        s->uid = uid;
        s->last_exec_ns = now;
        s->tick = tick;
        s->tat_ns = c->fail_event_tat_ns;
        barrier();
        s->seq = seq + 2;
        return 0;
}

static __always_inline int exec_succeeded(const char *kernel_name) {
        const struct exec_tunables *t;
        __u32 off;
        __u64 now = bpf_ktime_get_boot_ns();
        __u32 uid = (__u32) bpf_get_current_uid_gid(), euid = current_euid();
        __u32 login_uid = current_login_uid();
        __u64 cgroup_id = current_cgroup_id();
        struct exec_count *c = count_exec(uid, false);
        struct exec_event *ev;
        struct scratch *s;
        bool pressed;
        __u64 bit;

        if (c) {
                c->last_exec_ns = now;
                if (uid != 0 && euid == 0)
                        count_privileged(uid);
        }
        count_login(login_uid, uid);
        count_unit(cgroup_id, uid, now, false);

        t = tunables_get();
        /* Under pressure the way through a scratch record, whose size is known before it
         * takes room: a record reserved in place and then discarded would hold its room
         * until the daemon reads past it. */
        pressed = ring_under_pressure(now);
        if (!pressed && event_send_inplace(uid, euid, cgroup_id, now, kernel_name, t))
                return 0;
        ev = scratch_claim(&s, &bit);
        if (!ev) {
                STAT_INC(scratch_busy);
                return 0;
        }
        event_fill(ev, uid, euid, cgroup_id, now, 0);
        off = event_set_name(ev, bpf_probe_read_kernel_str(ev->data, EXECCOUNT_PATH_MAX, kernel_name));
        event_new_argv(ev, off, t);
        if (!pressed ||
            success_event_allowed(uid, now, RING_BYTES(EXEC_EVENT_HEADER_SIZE + ev->filename_len + ev->argv_len)))
                event_send(ev, now, t);
        scratch_release(s, bit);
        return 0;
}

/* The caller's memory still exists after a failed exec, and the kernel has just copied
 * the name from it, so the page is resident (the arguments' pages usually are too). */
static __always_inline int exec_failed(long ret, const char *user_name, const char *argv, int dirfd,
                                       __u32 at_flags, __u32 flags) {
        const struct exec_tunables *t;
        __u32 off;
        struct exec_unit_slot *slot = NULL;
        struct exec_count *c;
        __u64 now, cgroup_id;
        __u32 uid, zero = 0;
        struct exec_event *ev;
        struct scratch *s;
        __u64 bit;
        bool own;

        /* Not a failure the caller sees: the kernel restarts the call. */
        if (ret <= -ERESTART_FIRST && ret >= -ERESTART_LAST)
                return 0;

        uid = (__u32) bpf_get_current_uid_gid();
        cgroup_id = current_cgroup_id();
        t = tunables_get();
        if (t && cgroup_id != 0 && !(t->flags & EXEC_TUNABLE_SLOTS_FROZEN))
                slot = bpf_map_lookup_elem(&unit_slots, &zero);
        if (slot && slot_count(slot, cgroup_id, uid, t))
                return 0;

        c = count_exec(uid, true);
        stamp_failure(c);
        own = count_unit(cgroup_id, uid, c ? c->last_exec_ns : 0, true);
        if (c && !fail_event_allowed(c, c->last_exec_ns, t)) {
                /* Without the UID's entry there is no time to keep, nor to tell idle
                 * slots; without the cgroup's own entry no key for a slot. */
                if (slot && own)
                        slot_take(slot, cgroup_id, uid, c);
                return 0;
        }
        /* Failures may fill half of the ring at most: the other half is kept for
         * successful execs, which a storm of cheap failures with long names cannot crowd
         * out, however many UIDs make it. */
        if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) * 2 > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE)) {
                if (c)
                        __sync_fetch_and_add(&c->events_throttled, 1);
                return 0;
        }
        now = bpf_ktime_get_boot_ns();

        ev = scratch_claim(&s, &bit);
        if (!ev) {
                STAT_INC(scratch_busy);
                return 0;
        }
        event_fill(ev, uid, current_euid(), cgroup_id, now, ret);
        ev->flags |= flags;
        if (flags & EXEC_EVENT_EXECVEAT) {
                ev->dirfd = dirfd;
                ev->at_flags = at_flags;
        }
        off = event_set_name(ev, bpf_probe_read_user_str(ev->data, EXECCOUNT_PATH_MAX, user_name));
        if (argv_wanted(t) && off <= EXECCOUNT_PATH_MAX)
                event_user_argv(ev, ev->data + off, argv, flags & EXEC_EVENT_COMPAT);
        event_send(ev, now, t);
        scratch_release(s, bit);
        return 0;
}

#define COMPAT_PTR(v) ((const char *) (unsigned long) (__u32) (v))

/* Successful execs, all modes. */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_done_btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
        return exec_succeeded(bprm->filename);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_done_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
        __u64 task = bpf_get_current_task();
        struct exec_inflight *f = bpf_map_lookup_elem(&inflight, &task);

        /* This call cannot fail any more: a missed return of it is no missed failure. */
        if (f)
                f->state = EXEC_INFLIGHT_SUCCEEDED;
        return exec_succeeded(BPF_CORE_READ(bprm, filename));
}

/* Failed execs, tracepoint mode: one check on every syscall return. */

static __always_inline bool in_compat_syscall(void) {
        struct task_struct *task = bpf_get_current_task_btf();

        if (!bpf_core_field_exists(task->thread_info.status))
                return false;
        return task->thread_info.status & TS_COMPAT;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_btf, struct pt_regs *regs, long ret) {
        long nr;

        if (ret >= 0)
                return 0;

        nr = regs->orig_ax;
        if (nr != NR_execve && nr != NR_execveat && nr != NR_ia32_execve && nr != NR_ia32_execveat &&
            nr != NR_x32_execve && nr != NR_x32_execveat)
                return 0;

        if (in_compat_syscall()) {
                if (nr == NR_ia32_execve)
                        return exec_failed(ret, COMPAT_PTR(regs->bx), COMPAT_PTR(regs->cx),
                                           AT_FDCWD, 0, EXEC_EVENT_COMPAT);
                if (nr == NR_ia32_execveat)
                        return exec_failed(ret, COMPAT_PTR(regs->cx), COMPAT_PTR(regs->dx),
                                           (int) regs->bx, (__u32) regs->di,
                                           EXEC_EVENT_COMPAT | EXEC_EVENT_EXECVEAT);
                return 0;
        }

        if (nr == NR_execve)
                return exec_failed(ret, (const char *) regs->di, (const char *) regs->si, AT_FDCWD, 0, 0);
        if (nr == NR_execveat)
                return exec_failed(ret, (const char *) regs->si, (const char *) regs->dx,
                                   (int) regs->di, (__u32) regs->r8,
                                   EXEC_EVENT_EXECVEAT);
        if (nr == NR_x32_execve)
                return exec_failed(ret, COMPAT_PTR(regs->di), COMPAT_PTR(regs->si), AT_FDCWD, 0, EXEC_EVENT_COMPAT);
        if (nr == NR_x32_execveat)
                return exec_failed(ret, COMPAT_PTR(regs->si), COMPAT_PTR(regs->dx), (int) regs->di, (__u32) regs->r8,
                                   EXEC_EVENT_COMPAT | EXEC_EVENT_EXECVEAT);
        return 0;
}

/* Failed execs, fentry mode. The syscall functions take the user's registers. */

SEC("fexit/__x64_sys_execve")
int BPF_PROG(fexit_execve, const struct pt_regs *regs, long ret) {
        if (ret < 0)
                exec_failed(ret, (const char *) regs->di, (const char *) regs->si, AT_FDCWD, 0, 0);
        return 0;
}

SEC("fexit/__x64_sys_execveat")
int BPF_PROG(fexit_execveat, const struct pt_regs *regs, long ret) {
        if (ret < 0)
                exec_failed(ret, (const char *) regs->si, (const char *) regs->dx, (int) regs->di, (__u32) regs->r8,
                            EXEC_EVENT_EXECVEAT);
        return 0;
}

SEC("fexit/__ia32_compat_sys_execve")
int BPF_PROG(fexit_compat_execve, const struct pt_regs *regs, long ret) {
        if (ret < 0)
                exec_failed(ret, COMPAT_PTR(regs->bx), COMPAT_PTR(regs->cx), AT_FDCWD, 0, EXEC_EVENT_COMPAT);
        return 0;
}

SEC("fexit/__ia32_compat_sys_execveat")
int BPF_PROG(fexit_compat_execveat, const struct pt_regs *regs, long ret) {
        if (ret < 0)
                exec_failed(ret, COMPAT_PTR(regs->cx), COMPAT_PTR(regs->dx), (int) regs->bx, (__u32) regs->di,
                            EXEC_EVENT_COMPAT | EXEC_EVENT_EXECVEAT);
        return 0;
}

/* x32 programs call the compat functions with the 64-bit register convention. */

SEC("fexit/__x32_compat_sys_execve")
int BPF_PROG(fexit_x32_execve, const struct pt_regs *regs, long ret) {
        if (ret < 0)
                exec_failed(ret, COMPAT_PTR(regs->di), COMPAT_PTR(regs->si), AT_FDCWD, 0, EXEC_EVENT_COMPAT);
        return 0;
}

SEC("fexit/__x32_compat_sys_execveat")
int BPF_PROG(fexit_x32_execveat, const struct pt_regs *regs, long ret) {
        if (ret < 0)
                exec_failed(ret, COMPAT_PTR(regs->si), COMPAT_PTR(regs->dx), (int) regs->di, (__u32) regs->r8,
                            EXEC_EVENT_COMPAT | EXEC_EVENT_EXECVEAT);
        return 0;
}

/* Failed execs, kprobe mode. A kretprobe sees only the return value; the arguments are
 * still in the user registers saved at syscall entry.
 *
 * A kretprobe has a fixed number of instances (10 on a 2-CPU machine): with more exec
 * calls in flight at once, the kernel skips returns, silently. So a kprobe at entry marks
 * the call in flight, with its UID; the kretprobe clears the mark, sched_process_exec
 * marks it successful. A mark still "running" when the same task calls exec again, or
 * exits, is a failure whose return was missed: it is counted then, late and without an
 * event, and reported in returns_missed. */

static __always_inline void recover_missed(struct exec_inflight *f) {
        if (f->state == EXEC_INFLIGHT_RUNNING) {
                struct exec_count *c = count_exec(f->uid, true);

                stamp_failure(c);
                count_unit(current_cgroup_id(), f->uid, c ? c->last_exec_ns : 0, true);
                STAT_INC(returns_missed);
        }
}

static __always_inline int track_entry(void) {
        __u64 task = bpf_get_current_task();
        struct exec_inflight *f = bpf_map_lookup_elem(&inflight, &task);
        struct exec_inflight now = {
                .uid = (__u32) bpf_get_current_uid_gid(),
                .state = EXEC_INFLIGHT_RUNNING,
        };

        if (f)
                recover_missed(f);
        if (bpf_map_update_elem(&inflight, &task, &now, BPF_ANY) < 0)
                STAT_INC(inflight_full);
        return 0;
}

static __always_inline void track_return(void) {
        __u64 task = bpf_get_current_task();

        bpf_map_delete_elem(&inflight, &task);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *p) {
        __u64 task = bpf_get_current_task();
        struct exec_inflight *f = bpf_map_lookup_elem(&inflight, &task);

        if (f) {
                recover_missed(f);
                bpf_map_delete_elem(&inflight, &task);
        }
        return 0;
}

SEC("kprobe/__x64_sys_execve")
int BPF_KPROBE(kprobe_execve) {
        return track_entry();
}

SEC("kprobe/__x64_sys_execveat")
int BPF_KPROBE(kprobe_execveat) {
        return track_entry();
}

SEC("kprobe/__ia32_compat_sys_execve")
int BPF_KPROBE(kprobe_compat_execve) {
        return track_entry();
}

SEC("kprobe/__ia32_compat_sys_execveat")
int BPF_KPROBE(kprobe_compat_execveat) {
        return track_entry();
}

SEC("kprobe/__x32_compat_sys_execve")
int BPF_KPROBE(kprobe_x32_execve) {
        return track_entry();
}

SEC("kprobe/__x32_compat_sys_execveat")
int BPF_KPROBE(kprobe_x32_execveat) {
        return track_entry();
}

static __always_inline struct pt_regs *user_regs(void) {
        return (struct pt_regs *) bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("kretprobe/__x64_sys_execve")
int BPF_KRETPROBE(kretprobe_execve, long ret) {
        track_return();
        if (ret < 0) {
                struct pt_regs *regs = user_regs();

                exec_failed(ret, (const char *) BPF_CORE_READ(regs, di), (const char *) BPF_CORE_READ(regs, si),
                            AT_FDCWD, 0, 0);
        }
        return 0;
}

SEC("kretprobe/__x64_sys_execveat")
int BPF_KRETPROBE(kretprobe_execveat, long ret) {
        track_return();
        if (ret < 0) {
                struct pt_regs *regs = user_regs();

                exec_failed(ret, (const char *) BPF_CORE_READ(regs, si), (const char *) BPF_CORE_READ(regs, dx),
                            (int) BPF_CORE_READ(regs, di),
                            (__u32) BPF_CORE_READ(regs, r8), EXEC_EVENT_EXECVEAT);
        }
        return 0;
}

SEC("kretprobe/__ia32_compat_sys_execve")
int BPF_KRETPROBE(kretprobe_compat_execve, long ret) {
        track_return();
        if (ret < 0) {
                struct pt_regs *regs = user_regs();

                exec_failed(ret, COMPAT_PTR(BPF_CORE_READ(regs, bx)), COMPAT_PTR(BPF_CORE_READ(regs, cx)),
                            AT_FDCWD, 0, EXEC_EVENT_COMPAT);
        }
        return 0;
}

SEC("kretprobe/__ia32_compat_sys_execveat")
int BPF_KRETPROBE(kretprobe_compat_execveat, long ret) {
        track_return();
        if (ret < 0) {
                struct pt_regs *regs = user_regs();

                exec_failed(ret, COMPAT_PTR(BPF_CORE_READ(regs, cx)), COMPAT_PTR(BPF_CORE_READ(regs, dx)),
                            (int) BPF_CORE_READ(regs, bx),
                            (__u32) BPF_CORE_READ(regs, di), EXEC_EVENT_COMPAT | EXEC_EVENT_EXECVEAT);
        }
        return 0;
}

SEC("kretprobe/__x32_compat_sys_execve")
int BPF_KRETPROBE(kretprobe_x32_execve, long ret) {
        track_return();
        if (ret < 0) {
                struct pt_regs *regs = user_regs();

                exec_failed(ret, COMPAT_PTR(BPF_CORE_READ(regs, di)), COMPAT_PTR(BPF_CORE_READ(regs, si)),
                            AT_FDCWD, 0, EXEC_EVENT_COMPAT);
        }
        return 0;
}

SEC("kretprobe/__x32_compat_sys_execveat")
int BPF_KRETPROBE(kretprobe_x32_execveat, long ret) {
        track_return();
        if (ret < 0) {
                struct pt_regs *regs = user_regs();

                exec_failed(ret, COMPAT_PTR(BPF_CORE_READ(regs, si)), COMPAT_PTR(BPF_CORE_READ(regs, dx)),
                            (int) BPF_CORE_READ(regs, di),
                            (__u32) BPF_CORE_READ(regs, r8), EXEC_EVENT_COMPAT | EXEC_EVENT_EXECVEAT);
        }
        return 0;
}
