/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execcount.h: the records shared by the BPF program and the daemon. Plain structs only. */
#pragma once

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EXECCOUNT_COMM_LEN 16
/* Kernel file names are at most PATH_MAX bytes including the NUL. */
#define EXECCOUNT_PATH_MAX 4096
/* The arguments an event carries: at most this many bytes, each argument counted with the
 * NUL after it (the daemon also keeps at most EXECCOUNT_ARGS_MAX arguments). */
#define EXECCOUNT_ARGV_MAX 1024
#define EXECCOUNT_ARGS_MAX 64
/* Scratch records per CPU: exec programs on one CPU can preempt each other. */
#define EXECCOUNT_SCRATCH_SLOTS 4

/* Value of the "counts" hash map, keyed by the real UID (__u32) as the initial user
 * namespace sees it. Counters are only ever changed with atomic adds. */
struct exec_count {
        __u64 execs;        /* successful execs */
        __u64 failed;       /* exec attempts that returned an error */
        /* CLOCK_BOOTTIME of the latest attempt; for failures, of the first one in the
         * latest clock tick (the precise clock costs more than the rest of counting one). */
        __u64 last_exec_ns;
        __u64 last_exec_tick; /* jiffies when last_exec_ns was set */
        /* The rate limit on events of failed execs (a GCRA, on last_exec_ns): when this
         * UID's budget is whole again. Updated without atomics: it is a limit, not a
         * count. */
        __u64 fail_event_tat_ns;
        /* Execs counted but sent no event: failures by the limit, or because failures
         * filled half of the ring buffer already; successful ones over the UID's share
         * of a ring more than three quarters full. */
        __u64 events_throttled;
};

/* Value of the one-entry per-CPU "stats" array. The daemon sums over CPUs. */
struct exec_stats {
        __u64 events_lost;        /* ring buffer full: event dropped, counts kept */
        __u64 map_full_execs;     /* UID map full: exec counted only here */
        __u64 map_full_failed;    /* UID map full: failure counted only here */
        __u64 scratch_busy;       /* all scratch slots in use: event dropped */
        __u64 returns_missed;     /* kprobe mode: a kretprobe missed a failed exec's return; the
                                   * failure was counted later, without an event */
        __u64 inflight_full;      /* kprobe mode: too many execs in flight to track one */
};

/* The "tunables" array's one value: set by the daemon, read by the programs. */
struct exec_tunables {
        __u64 wakeup_interval_ns; /* wake the reader at most this often */
        /* Each UID's failed execs make at most fail_event_burst events at once, and one
         * per fail_event_spacing_ns after that; 0 spacing: no limit. */
        __u64 fail_event_spacing_ns;
        __u64 fail_event_window_ns; /* burst x spacing */
        /* Boot time until which the reader polls on its own timer: no wakeups are forced
         * before then (but for a backlog). The reader clears it when it stops polling; a
         * reader that died lets it expire. */
        __u64 reader_polls_until_ns;
        __u64 flags; /* enum exec_tunable_flags */
};

enum exec_tunable_flags {
        /* Events carry the arguments (CaptureArgv=yes). Set, not cleared, to capture them:
         * programs that run before the daemon set their tunables capture none. */
        EXEC_TUNABLE_ARGV = 1u << 0,
        /* The programs leave the unit slots alone (see struct exec_unit_slot): the daemon
         * is changing them. */
        EXEC_TUNABLE_SLOTS_FROZEN = 1u << 1,
};

/* The "meta" array's one value: written by the daemon only, pinned with the maps, so that
 * the next start knows what it finds. */
#define EXECCOUNT_LAYOUT_VERSION 3
struct exec_meta {
        __u32 layout_version; /* EXECCOUNT_LAYOUT_VERSION of the build that made the maps */
        __u32 probe_mode; /* the mode of the pinned links (daemon's ProbeMode) */
        __u64 since_usec; /* CLOCK_REALTIME of the last full reset */
        __u64 map_full_execs_at_reset; /* the stats counters at that reset */
        __u64 map_full_failed_at_reset;
        __u64 build_id; /* of the BPF object whose programs the kept links hold */
        /* CLOCK_REALTIME when a daemon last vouched that these counts were current: at its
         * start, at every snapshot and at its stop. 0 in maps of earlier versions. */
        __u64 kept_usec;
        /* The kernel's ID of the counts map the privileged map was made or taken over for:
         * privileged counts pinned beside other counts (an earlier version replaced or
         * migrated them) are not used. 0 in maps of earlier versions. */
        __u32 privileged_counts_map_id;
        /* The same for the logins map. 0 in maps of earlier versions. */
        __u32 logins_counts_map_id;
        /* attribution.logins_full summed over CPUs at the last full reset. */
        __u64 logins_full_at_reset;
};

/* Key of the "logins" hash map: successful execs per login UID and real UID, so that
 * "alice ran 40 execs as root" is one lookup. Both as the initial user namespace sees
 * them; login_uid is (__u32) -1 when unset (daemons, anything started outside a login).
 *
 * A process without a login UID may give itself one, once, without privilege: one user
 * could fill the map with pairs of its own. So each real UID has at most
 * EXECCOUNT_LOGINS_PER_UID pairs; its execs under further login UIDs are counted under
 * EXEC_LOGIN_OTHER. How many pairs a UID has is kept in the same map, under the key
 * { .login_uid = UID, .uid = EXEC_LOGIN_PLACES }: no real UID is (__u32) -1. */
struct exec_login_key {
        __u32 login_uid;
        __u32 uid;
};

#define EXECCOUNT_LOGINS_PER_UID 1024
/* The logins map's size for counts of max_uids UIDs: pairs, and a count of places each. */
#define EXECCOUNT_LOGINS_CAPACITY(max_uids) (2 * (max_uids))
#define EXEC_LOGIN_OTHER 0xfffffffeu
#define EXEC_LOGIN_PLACES 0xffffffffu

/* Key of the "units" hash map: execs per cgroup (v2) and real UID, so that a user still
 * sees only their own rows. cgroup_id is the kernel's ID of the cgroup the exec ran in,
 * which is the inode number of its directory in the cgroup file system; the daemon turns
 * it into a systemd unit's name, and folds cgroups that no longer exist into their unit's
 * totals, deleting their entries.
 *
 * Any user can make cgroups of their own (systemd delegates user@UID.service to its user):
 * each real UID has at most EXECCOUNT_UNITS_PER_UID cgroups in the map at once; its execs in
 * further ones are counted under EXEC_UNIT_OTHER. Places are counted in the same map, under
 * two keys of the UID: the places taken (EXEC_UNIT_PLACES, added to by the programs only)
 * and the places given back (EXEC_UNIT_RETURNED, written by the daemon only, as it deletes
 * the entries of ended cgroups), both in execs. */
struct exec_unit_key {
        __u64 cgroup_id;
        __u32 uid;
        __u32 reserved; /* 0 */
};

/* Value of the "units" map. Counters only ever change with atomic adds. */
struct exec_unit_count {
        __u64 execs;
        __u64 failed;
        __u64 last_exec_ns; /* CLOCK_BOOTTIME, as in struct exec_count */
};

/* Value of the one-entry per-CPU "unit_slots" array. A storm of failed execs comes from
 * one place, and past its UID's budget of failure events (FailedRateLimitBurst=) it sends
 * none: counting each such failure in the counts map and the units map (two hash lookups
 * and three atomic adds on lines all CPUs share) cost a storm some 70 ns a failure more
 * than counting it here (bench/RESULTS.md). So each CPU keeps one (cgroup, UID) of its
 * own and counts here, with one compare and one compare-and-swap, the failures of that
 * key that are sure to send no event: those before the time at which the UID's budget, as
 * its entry said when the slot last looked (tat_ns), can allow one again. Any other
 * failure goes to the maps as before, and one of them that sent no event takes the slot
 * (if it is empty or its holder idle for EXECCOUNT_UNIT_SLOT_IDLE_NS), or brings its
 * tat_ns up to date if the slot is its key's. A slot's failures belong to its UID's failed and
 * events_throttled counts and to its (cgroup, UID)'s failed count, and are nowhere else:
 * the count of a UID or a key is its entry's plus the slots'. The entries of the key exist
 * in the counts and units maps while a slot holds it.
 *
 * A slot changes hands by its CPU's programs only: seq is odd while they move its failures
 * into the key's entries and take it for another key, so that a reader who sees the same
 * even seq before and after reading the maps sees every failure once. (tat_ns changes
 * with a compare-and-swap of its own, seq staying as it is.) failed holds the count in its
 * low EXEC_UNIT_SLOT_COUNT_BITS bits and the slot's generation, seq / 2 (16 bits), above
 * them: an add, a compare-and-swap, is of the generation its program found the key in,
 * and a reader tells a slot copied while it changed hands. The daemon changes slots only
 * with EXEC_TUNABLE_SLOTS_FROZEN set and the programs that ran before it done
 * (membarrier(MEMBARRIER_CMD_GLOBAL), an RCU grace period), to the next generation. */
struct exec_unit_slot {
        __u64 cgroup_id; /* 0: empty */
        __u32 uid;
        __u32 seq;
        __u64 failed;
        __u64 last_exec_ns; /* CLOCK_BOOTTIME of the key's latest failure on this CPU, precise to a tick */
        __u64 tick; /* the jiffy in which last_exec_ns was read */
        __u64 tat_ns; /* the UID's fail_event_tat_ns when the slot was taken or last brought up to date */
};

#define EXEC_UNIT_SLOT_COUNT_BITS 48
#define EXEC_UNIT_SLOT_COUNT_MASK ((1ULL << EXEC_UNIT_SLOT_COUNT_BITS) - 1)
#define EXEC_UNIT_SLOT_GENERATION_MASK 0xffffULL

#define EXECCOUNT_UNIT_SLOT_IDLE_NS 1000000000ULL

#define EXECCOUNT_UNITS_CAPACITY 16384
#define EXECCOUNT_UNITS_PER_UID 1024
#define EXEC_UNIT_OTHER 0ULL /* no cgroup has ID 0 */
#define EXEC_UNIT_PLACES (~0ULL)
#define EXEC_UNIT_RETURNED (~0ULL - 1)

/* Value of the "cgroup_names" hash map, keyed by cgroup ID (__u64): the cgroup's path as
 * the programs found it when it was first seen, so that a cgroup that ends before the
 * daemon looks (a short transient unit) still has a name. Entry i is the ancestor at level
 * i + 1 (the root, level 0, has no name); only the first EXECCOUNT_CGROUP_DEPTH levels are
 * kept. The daemon deletes an entry when it folds its cgroup. */
#define EXECCOUNT_CGROUP_DEPTH 10
#define EXECCOUNT_CGROUP_NAME_LEN 112
#define EXECCOUNT_CGROUP_NAMES_CAPACITY 16384
/* On kernels before bpf_mem_alloc, whose tracing programs may use preallocated maps only. */
#define EXECCOUNT_CGROUP_NAMES_PREALLOC 2048
struct exec_cgroup_name {
        __u32 level; /* of the cgroup itself; 0 for the root */
        __u32 truncated; /* bit i: name[i] was cut short */
        __u64 ancestor_id[EXECCOUNT_CGROUP_DEPTH]; /* the ancestors' cgroup IDs */
        char name[EXECCOUNT_CGROUP_DEPTH][EXECCOUNT_CGROUP_NAME_LEN];
};

/* Value of the one-entry per-CPU "attribution" array: what the attribution maps could not
 * count. Room is left for more, so that the map keeps its shape. */
struct exec_attribution_stats {
        __u64 logins_full; /* successful execs not counted per login: the logins map was full */
        __u64 units_full_execs; /* execs not counted per cgroup: the units map was full */
        __u64 units_full_failed; /* failed execs, likewise */
        __u64 names_full; /* cgroups whose path could not be kept: the names map was full */
        __u64 reserved[4];
};

/* kprobe mode: an exec call between its kprobe and its kretprobe, keyed by task. */
struct exec_inflight {
        __u32 uid;
        __u32 state; /* EXEC_INFLIGHT_* */
};

#define EXEC_INFLIGHT_RUNNING 1
#define EXEC_INFLIGHT_SUCCEEDED 2

enum exec_event_flags {
        EXEC_EVENT_COMPAT = 1u << 0,   /* failed 32-bit compat syscall */
        EXEC_EVENT_EXECVEAT = 1u << 1, /* failed execveat: dirfd and at_flags are set */
        EXEC_EVENT_NO_NAME = 1u << 2,  /* the file name could not be read */
        EXEC_EVENT_EUID = 1u << 3,     /* euid is set (programs of earlier builds leave it out) */
        /* The record has the fields after comm: session, parent_comm, data. Records of
         * programs of earlier builds end with comm and the file name. */
        EXEC_EVENT_EXTENDED = 1u << 4,
        EXEC_EVENT_ARGV = 1u << 5,           /* argv_len bytes of arguments follow the name */
        EXEC_EVENT_ARGV_TRUNCATED = 1u << 6, /* there were more arguments than the record holds */
        /* The record has cgroup_id, and data follows it. Extended records of programs of
         * earlier builds have the data right after parent_comm. */
        EXEC_EVENT_CGROUP = 1u << 7,
};

/* One ring buffer record. data holds the file name (filename_len bytes including the NUL),
 * then argv_len bytes of arguments, each followed by a NUL, the last one cut short when
 * EXEC_EVENT_ARGV_TRUNCATED says so. The record is shorter than sizeof(struct
 * exec_event): cut right after them, or, for a successful exec's event written in the ring
 * in place, 128 or 256 bytes of data long whatever they use of it. Readers go by the
 * lengths. */
struct exec_event {
        __u64 boot_ns;     /* CLOCK_BOOTTIME when the exec finished */
        __u32 pid;         /* thread group id after the exec */
        __u32 ppid;        /* thread group id of the real parent */
        __u32 uid;         /* real UID */
        __u32 auid;        /* login UID, (__u32) -1 when unset */
        __s32 result;      /* 0 or -errno */
        __s32 dirfd;       /* execveat's dirfd, for failed execveat only */
        __u32 at_flags;    /* execveat's flags, for failed execveat only */
        __u32 flags;       /* enum exec_event_flags */
        __u16 filename_len;
        __u16 argv_len;    /* 0 in records of earlier builds (it was reserved) */
        /* Effective UID after the exec: the new program's for a successful one, the
         * caller's for a failed one. */
        __u32 euid;
        char comm[EXECCOUNT_COMM_LEN];
        /* Only with EXEC_EVENT_EXTENDED: */
        __u32 session;     /* audit session ID, (__u32) -1 when unset */
        char parent_comm[EXECCOUNT_COMM_LEN];
        /* Only with EXEC_EVENT_CGROUP: */
        __u32 reserved;
        __u64 cgroup_id;   /* of the cgroup (v2) the exec ran in */
        /* The name, then the arguments; the room beyond the two maxima is never sent (the
         * verifier needs it to check reads at variable offsets). */
        char data[EXECCOUNT_PATH_MAX + 2 * EXECCOUNT_ARGV_MAX];
};

#define EXEC_EVENT_HEADER_SIZE __builtin_offsetof(struct exec_event, data)
/* Records without EXEC_EVENT_EXTENDED: the file name follows comm. */
#define EXEC_EVENT_LEGACY_HEADER_SIZE __builtin_offsetof(struct exec_event, session)
/* Records with EXEC_EVENT_EXTENDED but without EXEC_EVENT_CGROUP: it follows parent_comm. */
#define EXEC_EVENT_EXTENDED_HEADER_SIZE __builtin_offsetof(struct exec_event, reserved)
