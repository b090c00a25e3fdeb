/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execlog.c: one journal entry per exec, when LogExecs=yes, within rate limits: overall,
 * and per UID. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execlog.h"
#include "log.h"
#include "message-ids.h"
#include "time-util.h"
#include "uidmap.h"
#include "users.h"
#include "utf8.h"

/* How many user names are kept for the entries at most. */
/* How many UIDs the "left out" message names in its text, and in fields. */
#define SUPPRESSED_SHOWN 10
#define SUPPRESSED_FIELDS 50

typedef struct UidTally {
        unsigned logged;
        uint64_t suppressed;
} UidTally;

struct ExecLog {
        bool enabled;
        bool argv; /* LogArgv= */
        ExecLogLimits limits;
        /* The current interval: since when, entries logged, left out; and per UID. */
        uint64_t begin_usec;
        unsigned logged;
        uint64_t suppressed;
        UidMap *uids;
        UidTally others; /* UIDs beyond EXEC_LOG_UIDS_MAX in one interval */
        UserCache *users;
};

int exec_log_new(ExecLog **ret) {
        ExecLog *l = calloc(1, sizeof(*l));

        if (!l || user_cache_new(&l->users) < 0 || uidmap_new(sizeof(UidTally), EXEC_LOG_UIDS_MAX, &l->uids) < 0) {
                exec_log_free(l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

ExecLog *exec_log_free(ExecLog *l) {
        if (!l)
                return NULL;
        user_cache_free(l->users);
        uidmap_free(l->uids);
        free(l);
        return NULL;
}

typedef struct Suppressed {
        uint32_t uid;
        bool other;
        uint64_t n;
} Suppressed;

static int compare_suppressed(const void *a, const void *b) {
        const Suppressed *x = a, *y = b;

        if (x->n != y->n)
                return x->n > y->n ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Who was left out in the interval that ends, the most first. */
static size_t collect_suppressed(ExecLog *l, Suppressed **ret) {
        Suppressed *list = calloc(uidmap_size(l->uids) + 1, sizeof(*list));
        size_t n = 0, i = 0;
        uint32_t uid;
        void *v;

        *ret = list;
        if (!list)
                return 0;
        while (uidmap_next(l->uids, &i, &uid, &v))
                if (((UidTally *) v)->suppressed > 0)
                        list[n++] = (Suppressed) { .uid = uid, .n = ((UidTally *) v)->suppressed };
        if (l->others.suppressed > 0)
                list[n++] = (Suppressed) { .other = true, .n = l->others.suppressed };
        qsort(list, n, sizeof(*list), compare_suppressed);
        return n;
}

static void log_suppressed(ExecLog *l) {
        _cleanup_(freep) Suppressed *list = NULL;
        char count[24], n_uids[24], span[32], text[SUPPRESSED_SHOWN * 48] = "";
        char entries[SUPPRESSED_FIELDS][48];
        LogField f[2 + SUPPRESSED_FIELDS];
        size_t n = collect_suppressed(l, &list), nf = 0, used = 0;

        snprintf(count, sizeof(count), "%" PRIu64, l->suppressed);
        snprintf(n_uids, sizeof(n_uids), "%zu", n);
        snprintf(span, sizeof(span), "%" PRIu64 "s", l->limits.interval_usec / USEC_PER_SEC);
        f[nf++] = (LogField) { "EXECS_SUPPRESSED", count };
        f[nf++] = (LogField) { "EXECS_SUPPRESSED_UIDS", n_uids };
        for (size_t i = 0; i < n; i++) {
                char who[24];

                if (list[i].other)
                        snprintf(who, sizeof(who), "other");
                else
                        snprintf(who, sizeof(who), "%" PRIu32, list[i].uid);
                if (i < SUPPRESSED_SHOWN && used < sizeof(text))
                        used += (size_t) snprintf(text + used, sizeof(text) - used, "%sUID %s: %" PRIu64,
                                                  i ? ", " : "", who, list[i].n);
                if (i < SUPPRESSED_FIELDS) {
                        /* One EXECS_SUPPRESSED_UID=UID COUNT per UID, the most first. */
                        snprintf(entries[i], sizeof(entries[i]), "%s %" PRIu64, who, list[i].n);
                        f[nf++] = (LogField) { "EXECS_SUPPRESSED_UID", entries[i] };
                }
        }
        log_struct(LOG_WARNING, MESSAGE_ID_EXECS_SUPPRESSED, f, nf,
                   "Left out %s exec entries of %zu UIDs (%s%s): more than %u in %s, or %u of one UID "
                   "(LogExecsRateLimitBurst=, LogExecsRateLimitBurstPerUID=, LogExecsRateLimitIntervalSec=). The "
                   "counts include them.",
                   count, n, text, n > SUPPRESSED_SHOWN ? ", ..." : "", l->limits.burst, span,
                   l->limits.burst_per_uid);
}

/* Ends the interval if it is over (or if asked), saying what it left out. */
static void interval_end(ExecLog *l, uint64_t now, bool force) {
        if (!force && now < l->begin_usec + l->limits.interval_usec)
                return;
        if (l->suppressed > 0)
                log_suppressed(l);
        l->begin_usec = now;
        l->logged = 0;
        l->suppressed = 0;
        l->others = (UidTally) {};
        uidmap_clear(l->uids);
}

void exec_log_configure(ExecLog *l, bool enabled, const ExecLogLimits *limits) {
        l->enabled = enabled;
        if (memcmp(&l->limits, limits, sizeof(*limits)) == 0)
                return;
        /* New limits start a new interval; what the old one held back is said now. */
        interval_end(l, now_usec(CLOCK_MONOTONIC), true);
        l->limits = *limits;
}

void exec_log_flush(ExecLog *l) {
        if (l->limits.interval_usec > 0)
                interval_end(l, now_usec(CLOCK_MONOTONIC), false);
}

/* Whether one more entry of uid fits the limits. */
static bool exec_log_pass(ExecLog *l, uint32_t uid) {
        UidTally *t;

        if (l->limits.interval_usec == 0)
                return true;
        interval_end(l, now_usec(CLOCK_MONOTONIC), false);
        t = uidmap_put(l->uids, uid) ?: &l->others;
        if (t->logged >= l->limits.burst_per_uid || l->logged >= l->limits.burst) {
                t->suppressed++;
                l->suppressed++;
                return false;
        }
        t->logged++;
        l->logged++;
        return true;
}

void exec_log_set_argv(ExecLog *l, bool argv) {
        l->argv = argv;
}

/* The arguments as one line: see text_add_arg(). */
static char *format_argv(const ExecEvent *e) {
        const char *a = e->argv;
        size_t len, alloc;
        Text t = {};

        for (size_t i = 0; i < e->argc; a += strlen(a) + 1, i++) {
                if (i > 0)
                        text_add_char(&t, ' ');
                text_add_arg(&t, a);
        }
        text_add_char(&t, '\0');
        return text_steal(&t, &len, &alloc);
}

size_t exec_log_names_kept(const ExecLog *l) {
        return user_cache_size(l->users);
}

bool exec_log_event(ExecLog *l, const ExecEvent *e) {
        char uid[16], pid[16], ppid[16], result[16], auid[16], euid[16], session[16], time_usec[24];
        _cleanup_(freep) char *shown = NULL, *argv = NULL;
        const char *user, *error;

        if (!l->enabled || !exec_log_pass(l, e->uid))
                return false;

        snprintf(uid, sizeof(uid), "%" PRIu32, e->uid);
        snprintf(pid, sizeof(pid), "%" PRIu32, e->pid);
        snprintf(ppid, sizeof(ppid), "%" PRIu32, e->ppid);
        snprintf(result, sizeof(result), "%" PRIi32, e->result);
        snprintf(auid, sizeof(auid), "%" PRIu32, e->auid);
        snprintf(euid, sizeof(euid), "%" PRIu32, e->euid);
        snprintf(session, sizeof(session), "%" PRIu32, e->session);
        snprintf(time_usec, sizeof(time_usec), "%" PRIu64, e->time_usec);
        /* The names of every UID that ever ran something would pile up: one person may own
         * 65,536 of them. Past a bound, the cache starts again. */
        if (user_cache_size(l->users) >= EXEC_LOG_NAMES_MAX) {
                UserCache *fresh;

                if (user_cache_new(&fresh) >= 0) {
                        user_cache_free(l->users);
                        l->users = fresh;
                }
        }
        user = user_cache_name(l->users, e->uid);
        error = e->result < 0 ? strerrorname_np(-e->result) : NULL;
        /* Arguments can hold secrets, and more people read the journal than may see every
         * event: only when asked for. */
        if (l->argv && e->has_argv)
                argv = format_argv(e);

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
                { "EXEC_EUID", e->has_euid ? euid : NULL },
                { "EXEC_SESSION", e->session != EXEC_SESSION_UNSET ? session : NULL },
                { "EXEC_PARENT_COMM", e->has_extended ? e->parent_comm : NULL },
                { "EXEC_UNIT", e->unit },
                { "EXEC_ARGV", argv },
                { "EXEC_ARGV_TRUNCATED", argv && e->argv_truncated ? "1" : NULL },
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
        return true;
}
