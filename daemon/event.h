/* SPDX-License-Identifier: GPL-2.0-or-later */
/* event.h: one exec event as the daemon keeps it, decoded from a ring buffer record. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execcount.h"
#include "macro.h"
#include "text.h"
#include "units.h"

#define EXEC_AUID_UNSET UINT32_MAX
#define EXEC_SESSION_UNSET UINT32_MAX

typedef struct ExecEvent {
        unsigned n_ref; /* the history and the replies and streams that hold it */
        size_t size; /* allocated, for exec_event_size() */
        uint64_t seq; /* assigned by the daemon, 1 for the first event it received */
        uint64_t time_usec; /* CLOCK_REALTIME */
        uint32_t pid;
        uint32_t ppid;
        uint32_t uid;
        uint32_t auid; /* EXEC_AUID_UNSET when not set */
        uint32_t euid; /* effective UID after the exec (the caller's if it failed) */
        bool has_euid; /* false for records of programs of an earlier build */
        /* false for records of programs of an earlier build: no session nor parent_comm */
        bool has_extended;
        uint32_t session; /* audit session ID; EXEC_SESSION_UNSET when not set */
        int32_t result; /* 0 or -errno */
        bool has_filename;
        /* The arguments were captured (CaptureArgv=yes, and they could be read). */
        bool has_argv;
        /* There were more arguments, or longer ones, than an event keeps. */
        bool argv_truncated;
        char comm[EXECCOUNT_COMM_LEN]; /* NUL-terminated */
        char parent_comm[EXECCOUNT_COMM_LEN]; /* NUL-terminated; "" without has_extended */
        bool has_cgroup; /* false for records of programs of an earlier build */
        uint64_t cgroup_id;
        /* The systemd unit of cgroup_id, as given to exec_event_decode(); NULL when unknown.
         * In the same allocation, after the arguments. */
        const char *unit;
        size_t argc; /* arguments in argv, at most EXECCOUNT_ARGS_MAX */
        size_t argv_size; /* bytes in argv */
        /* The arguments, each followed by a NUL; in the same allocation, after filename. */
        const char *argv;
        size_t filename_len; /* without the NUL */
        char filename[]; /* NUL-terminated; any bytes but NUL */
} ExecEvent;

/* Decodes and checks one ring buffer record; -EBADMSG if it is malformed. Without argv,
 * the arguments are dropped (CaptureArgv=no: records still in the ring from before keep
 * none either). For a failed execveat() relative to a directory fd, the name becomes
 * "/dev/fd/N/name" (or "/dev/fd/N" with AT_EMPTY_PATH), the form the kernel itself gives
 * successful ones. unit (copied, cut to UNIT_NAME_MAX bytes) names the unit the exec ran
 * in, or is NULL: looked up first (exec_event_record_cgroup()), so that the event is one
 * allocation, not two. */
int exec_event_decode(const void *data, size_t size, int64_t realtime_offset_usec, bool argv, const char *unit,
                      ExecEvent **ret);
/* The cgroup a record says the exec ran in: false if it says none, or is too short to. */
bool exec_event_record_cgroup(const void *data, size_t size, uint64_t *ret);
ExecEvent *exec_event_ref(ExecEvent *e);
/* Frees e once nothing holds it; returns NULL. */
ExecEvent *exec_event_unref(ExecEvent *e);
DEFINE_POINTER_CLEANUP(ExecEvent, exec_event_unref);
/* What e takes in memory, for the budget of whoever holds it. */
size_t exec_event_size(const ExecEvent *e);

/* Whether the arguments of e are for root and the access group only: a failed exec by a
 * caller that runs with another effective UID than its real one (a setuid program). Its
 * arguments are not its real UID's to see: it may have been made to fail, and they never
 * were in any /proc/PID/cmdline. */
bool exec_event_argv_restricted(const ExecEvent *e);
/* Writes the io.execcount ExecEvent object, as JSON; restricted arguments only with
 * see_restricted (a viewer who sees every UID). */
void exec_event_write_json(Text *t, const ExecEvent *e, bool see_restricted);
/* The most exec_event_write_json() writes for one event. */
#define EXEC_EVENT_JSON_MAX                                                                                 \
        (384 + 6 * UNIT_NAME_MAX + 12 * EXECCOUNT_COMM_LEN + 8 * EXECCOUNT_PATH_MAX + 8 * EXECCOUNT_ARGV_MAX + 6 * EXECCOUNT_ARGS_MAX)
