/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-execlog.c: unit tests for execlog.c: the limits overall and per UID, and the
 * "left out" message that says whose entries were held back. */

#include <stdio.h>

#include "execlog.h"
#include "log.h"
#include "message-ids.h"
#include "test.h"

static unsigned n_entries[8], n_total;
static char last_message[2048];
static char suppressed_fields[64][64];
static size_t n_suppressed_fields;
static char suppressed_total[32];
static char last_user[64];
/* Of the last exec entry; "" when it had no such field. */
static char last_argv[256], last_truncated[8], last_session[16], last_parent[32], last_unit[64];

/* Records, by UID index, the exec entries; and the last "left out" message. */
static void sink(int level, int error, const char *message_id, const LogField *fields, size_t n_fields,
                 const char *message) {
        if (message_id && streq(message_id, MESSAGE_ID_EXEC)) {
                n_total++;
                last_user[0] = last_argv[0] = last_truncated[0] = last_session[0] = last_parent[0] = '\0';
                last_unit[0] = '\0';
                for (size_t i = 0; i < n_fields; i++) {
                        if (streq(fields[i].name, "EXEC_ARGV"))
                                snprintf(last_argv, sizeof(last_argv), "%s", fields[i].value);
                        if (streq(fields[i].name, "EXEC_ARGV_TRUNCATED"))
                                snprintf(last_truncated, sizeof(last_truncated), "%s", fields[i].value);
                        if (streq(fields[i].name, "EXEC_SESSION"))
                                snprintf(last_session, sizeof(last_session), "%s", fields[i].value);
                        if (streq(fields[i].name, "EXEC_PARENT_COMM"))
                                snprintf(last_parent, sizeof(last_parent), "%s", fields[i].value);
                        if (streq(fields[i].name, "EXEC_UNIT"))
                                snprintf(last_unit, sizeof(last_unit), "%s", fields[i].value);
                        if (streq(fields[i].name, "EXEC_UID"))
                                n_entries[atoi(fields[i].value) % 8]++;
                        if (streq(fields[i].name, "EXEC_USER"))
                                snprintf(last_user, sizeof(last_user), "%s", fields[i].value);
                }
                return;
        }
        if (message_id && streq(message_id, MESSAGE_ID_EXECS_SUPPRESSED)) {
                snprintf(last_message, sizeof(last_message), "%s", message);
                n_suppressed_fields = 0;
                for (size_t i = 0; i < n_fields; i++) {
                        if (streq(fields[i].name, "EXECS_SUPPRESSED_UID"))
                                snprintf(suppressed_fields[n_suppressed_fields++], 64, "%s", fields[i].value);
                        if (streq(fields[i].name, "EXECS_SUPPRESSED"))
                                snprintf(suppressed_total, sizeof(suppressed_total), "%s", fields[i].value);
                }
        }
}

static ExecEvent *event(uint32_t uid) {
        static char buf[sizeof(ExecEvent) + 16];
        ExecEvent *e = (ExecEvent *) buf;

        *e = (ExecEvent) { .uid = uid, .pid = 1, .ppid = 1, .auid = EXEC_AUID_UNSET, .result = -2, .has_filename = true,
                           .filename_len = 2 };
        strcpy(e->comm, "sh");
        strcpy(e->filename, "/x");
        return e;
}

static void reset_counts(void) {
        memset(n_entries, 0, sizeof(n_entries));
        n_total = 0;
        last_message[0] = '\0';
        n_suppressed_fields = 0;
}

/* One user's storm leaves room for everyone else's execs; the message names the user. */
static void test_storm_of_one(void) {
        ExecLogLimits limits = { .interval_usec = 3600 * USEC_PER_SEC, .burst = 1000, .burst_per_uid = 100 };
        ExecLogLimits other = limits;
        ExecLog *l;

        reset_counts();
        ASSERT_EQ(exec_log_new(&l), 0);
        exec_log_configure(l, true, &limits);
        /* Whether each was logged is said: it counts against the drain's budget. */
        for (int i = 0; i < 1200; i++)
                ASSERT(exec_log_event(l, event(1001)) == (i < 100));
        for (int i = 0; i < 5; i++)
                ASSERT(exec_log_event(l, event(1002)));
        ASSERT_EQ_U(n_entries[1001 % 8], 100);
        ASSERT_EQ_U(n_entries[1002 % 8], 5);
        ASSERT_STREQ(last_message, ""); /* said when the interval ends */

        other.burst_per_uid = 101; /* new limits end the interval */
        exec_log_configure(l, true, &other);
        ASSERT(strstr(last_message, "Left out 1100 exec entries of 1 UIDs (UID 1001: 1100)"));
        ASSERT_EQ_U(n_suppressed_fields, 1);
        ASSERT_STREQ(suppressed_fields[0], "1001 1100");
        ASSERT_STREQ(suppressed_total, "1100");
        /* LogExecs=no: nothing logged, and nothing said to be. */
        exec_log_configure(l, false, &other);
        ASSERT(!exec_log_event(l, event(1003)));
        ASSERT_EQ_U(n_entries[1003 % 8], 0);
        exec_log_free(l);
}

/* All UIDs together stay within the overall burst; the message lists them, most first. */
static void test_overall(void) {
        ExecLogLimits limits = { .interval_usec = 3600 * USEC_PER_SEC, .burst = 10, .burst_per_uid = 4 };
        ExecLog *l;

        reset_counts();
        ASSERT_EQ(exec_log_new(&l), 0);
        exec_log_configure(l, true, &limits);
        for (uint32_t uid = 0; uid < 4; uid++)
                for (uint32_t i = 0; i < 5 + uid; i++)
                        exec_log_event(l, event(uid));
        /* 4 each for UIDs 0 and 1, 2 for UID 2 (the overall 10 are used up), none for 3. */
        ASSERT_EQ_U(n_entries[0], 4);
        ASSERT_EQ_U(n_entries[1], 4);
        ASSERT_EQ_U(n_entries[2], 2);
        ASSERT_EQ_U(n_entries[3], 0);
        limits.burst = 11;
        exec_log_configure(l, true, &limits);
        ASSERT(strstr(last_message, "Left out 16 exec entries of 4 UIDs (UID 3: 8, UID 2: 5, UID 1: 2, UID 0: 1)"));
        ASSERT_EQ_U(n_suppressed_fields, 4);
        ASSERT_STREQ(suppressed_fields[0], "3 8");
        exec_log_free(l);
}

/* UIDs beyond what is told apart in one interval share one per-UID limit: the table of
 * them is bounded, whatever a user with many subordinate UIDs does. */
static void test_many_uids(void) {
        ExecLogLimits limits = { .interval_usec = 3600 * USEC_PER_SEC, .burst = 100000, .burst_per_uid = 2 };
        ExecLog *l;

        reset_counts();
        ASSERT_EQ(exec_log_new(&l), 0);
        exec_log_configure(l, true, &limits);
        for (uint32_t uid = 0; uid < EXEC_LOG_UIDS_MAX + 3; uid++)
                exec_log_event(l, event(100000 + uid));
        ASSERT_EQ_U(n_total, EXEC_LOG_UIDS_MAX + 2);
        limits.burst++;
        exec_log_configure(l, true, &limits);
        ASSERT(strstr(last_message, "Left out 1 exec entries of 1 UIDs (UID other: 1)"));
        exec_log_free(l);
}

/* The user names of every UID that ran something are not all kept: the cache starts again
 * at its bound, and names are still right after. */
static void test_names_bounded(void) {
        ExecLog *l;

        reset_counts();
        ASSERT_EQ(exec_log_new(&l), 0);
        exec_log_configure(l, true, &(ExecLogLimits) { .interval_usec = 0 });
        for (uint32_t uid = 0; uid < 3 * EXEC_LOG_NAMES_MAX; uid++) {
                exec_log_event(l, event(200000 + uid));
                ASSERT(exec_log_names_kept(l) <= EXEC_LOG_NAMES_MAX);
        }
        ASSERT_EQ_U(n_total, 3 * EXEC_LOG_NAMES_MAX);
        exec_log_event(l, event(0));
        ASSERT_STREQ(last_user, "root");
        exec_log_free(l);
}

/* An event as this build's programs send it, with these arguments (argv_len bytes). */
static ExecEvent *event_with_argv(const char *argv, size_t argv_len, uint32_t flags, uint32_t session,
                                  const char *unit) {
        static struct exec_event rec;
        ExecEvent *e;

        memset(&rec, 0, sizeof(rec));
        rec.uid = 1000;
        rec.auid = 1000;
        rec.session = session;
        rec.flags = EXEC_EVENT_EUID | EXEC_EVENT_EXTENDED | EXEC_EVENT_CGROUP | EXEC_EVENT_ARGV | flags;
        rec.cgroup_id = 77;
        strcpy(rec.comm, "echo");
        strcpy(rec.parent_comm, "bash");
        memcpy(rec.data, "/bin/echo", 10);
        rec.filename_len = 10;
        memcpy(rec.data + 10, argv, argv_len);
        rec.argv_len = (uint16_t) argv_len;
        ASSERT_EQ(exec_event_decode(&rec, EXEC_EVENT_HEADER_SIZE + 10 + argv_len, 0, true, unit, &e), 0);
        return e;
}

/* The arguments reach the journal only with LogArgv=yes, escaped and quoted; the session
 * and the parent always. */
static void test_argv(void) {
        static const char args[] = "echo\0a b\0\0x\x1b\0";
        ExecLog *l;
        ExecEvent *e = event_with_argv(args, sizeof(args) - 1, 0, 42, NULL);

        ASSERT_EQ(exec_log_new(&l), 0);
        exec_log_configure(l, true, &(ExecLogLimits) { .interval_usec = 0 });
        exec_log_event(l, e);
        ASSERT_STREQ(last_argv, "");
        ASSERT_STREQ(last_session, "42");
        ASSERT_STREQ(last_parent, "bash");
        ASSERT_STREQ(last_unit, ""); /* not named */
        exec_event_unref(e);
        e = event_with_argv(args, sizeof(args) - 1, 0, 42, "cron.service");
        exec_log_event(l, e);
        ASSERT_STREQ(last_unit, "cron.service");

        exec_log_set_argv(l, true);
        exec_log_event(l, e);
        ASSERT_STREQ(last_argv, "echo \"a b\" \"\" \"x\\x1b\"");
        ASSERT_STREQ(last_truncated, "");
        exec_event_unref(e);

        /* Cut short: marked; no session: no field. */
        e = event_with_argv("echo\0lon", 8, EXEC_EVENT_ARGV_TRUNCATED, EXEC_SESSION_UNSET, NULL);
        exec_log_event(l, e);
        ASSERT_STREQ(last_argv, "echo lon");
        ASSERT_STREQ(last_truncated, "1");
        ASSERT_STREQ(last_session, "");
        exec_event_unref(e);

        exec_log_set_argv(l, false);
        e = event_with_argv("echo\0secret\0", 12, 0, 1, NULL);
        exec_log_event(l, e);
        ASSERT_STREQ(last_argv, "");
        exec_event_unref(e);
        exec_log_free(l);
}

int main(void) {
        log_set_sink(sink);
        log_set_max_level(LOG_DEBUG);
        test_storm_of_one();
        test_overall();
        test_many_uids();
        test_names_bounded();
        test_argv();
        return 0;
}
