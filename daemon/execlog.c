/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execlog.c: one journal entry per exec, when LogExecs=yes, within a rate limit. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execlog.h"
#include "journal.h"
#include "log.h"
#include "ratelimit.h"
#include "time-util.h"
#include "users.h"
#include "utf8.h"

struct ExecLog {
        bool enabled;
        RateLimit limit;
        UserCache *users;
};

int exec_log_new(ExecLog **ret) {
        ExecLog *l = calloc(1, sizeof(*l));

        if (!l || user_cache_new(&l->users) < 0) {
                free(l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

ExecLog *exec_log_free(ExecLog *l) {
        if (!l)
                return NULL;
        user_cache_free(l->users);
        free(l);
        return NULL;
}

static void log_suppressed(const ExecLog *l, uint64_t n);

void exec_log_configure(ExecLog *l, bool enabled, uint64_t interval_usec, unsigned burst) {
        l->enabled = enabled;
        if (l->limit.interval_usec == interval_usec && l->limit.burst == burst)
                return;
        /* New limits start a new interval; what the old one held back is said now. */
        if (l->limit.suppressed > 0)
                log_suppressed(l, l->limit.suppressed);
        l->limit = (RateLimit) { .interval_usec = interval_usec, .burst = burst };
}

static void log_suppressed(const ExecLog *l, uint64_t n) {
        char count[24];
        LogField fields[] = { { "EXECS_SUPPRESSED", count } };
        char span[32];

        snprintf(count, sizeof(count), "%" PRIu64, n);
        snprintf(span, sizeof(span), "%" PRIu64 "s", l->limit.interval_usec / USEC_PER_SEC);
        log_struct(LOG_WARNING, MESSAGE_ID_EXECS_SUPPRESSED, fields, ELEMENTSOF(fields),
                   "Left out %" PRIu64 " exec entries: more than %u in %s (LogExecsRateLimitBurst=, "
                   "LogExecsRateLimitIntervalSec=). The counts include them.",
                   n, l->limit.burst, span);
}

void exec_log_flush(ExecLog *l) {
        uint64_t n = ratelimit_flush(&l->limit, now_usec(CLOCK_MONOTONIC));

        if (n > 0)
                log_suppressed(l, n);
}

void exec_log_event(ExecLog *l, const ExecEvent *e) {
        char uid[16], pid[16], ppid[16], result[16], auid[16], time_usec[24];
        _cleanup_(freep) char *shown = NULL;
        const char *user, *error;
        uint64_t suppressed;
        bool pass;

        if (!l->enabled)
                return;
        pass = ratelimit_pass(&l->limit, now_usec(CLOCK_MONOTONIC), &suppressed);
        if (suppressed > 0)
                log_suppressed(l, suppressed);
        if (!pass)
                return;

        snprintf(uid, sizeof(uid), "%" PRIu32, e->uid);
        snprintf(pid, sizeof(pid), "%" PRIu32, e->pid);
        snprintf(ppid, sizeof(ppid), "%" PRIu32, e->ppid);
        snprintf(result, sizeof(result), "%" PRIi32, e->result);
        snprintf(auid, sizeof(auid), "%" PRIu32, e->auid);
        snprintf(time_usec, sizeof(time_usec), "%" PRIu64, e->time_usec);
        user = user_cache_name(l->users, e->uid);
        error = e->result < 0 ? strerrorname_np(-e->result) : NULL;

        LogField fields[] = {
                { "EXEC_UID", uid },
                { "EXEC_PID", pid },
                { "EXEC_PPID", ppid },
                { "EXEC_COMM", e->comm },
                { "EXEC_RESULT", result },
                { "EXEC_TIME_USEC", time_usec },
                /* Optional ones last, so that they can be left out by count. */
                { "EXEC_FILENAME", e->has_filename ? e->filename : NULL },
                { "EXEC_USER", user },
                { "EXEC_LOGINUID", e->auid != EXEC_AUID_UNSET ? auid : NULL },
                { "EXEC_ERROR", error },
        };
        LogField present[ELEMENTSOF(fields)];
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i].value)
                        present[n++] = fields[i];

        /* The message is for reading: the name escaped. EXEC_FILENAME keeps the bytes. */
        shown = utf8_escape_for_terminal(e->has_filename ? e->filename : "(unknown)");
        if (e->result == 0)
                log_record(LOG_INFO, MESSAGE_ID_EXEC, present, n, "UID %s%s%s%s ran %s (pid %s, parent %s).", uid,
                           user ? " (" : "", user ?: "", user ? ")" : "", shown ?: "?", pid, ppid);
        else
                log_record(LOG_INFO, MESSAGE_ID_EXEC, present, n, "UID %s%s%s%s failed to run %s: %s (pid %s, parent %s).",
                           uid, user ? " (" : "", user ?: "", user ? ")" : "", shown ?: "?", error ?: result, pid, ppid);
}
