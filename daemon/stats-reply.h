/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats-reply.h: the GetStats and GetLogins replies, written from the counts read at the
 * call: with "more", in complete replies of STATS_PART rows each; else one reply, written
 * a chunk at a time. GetStats writes its users as objects, or with columns as an array of
 * numbers per member. What it holds is charged to the client's UID.
 *
 * The writers are pure functions of the counts (last-exec times already resolved) and
 * the StatsReplyInfo: test-stats-reply checks them without a daemon. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "reply.h"
#include "server.h"
#include "tally.h"
#include "text.h"

#define STATS_PART 2048

typedef struct StatsReplyInfo {
        AccessScope scope;
        uint64_t since_usec;
        uint64_t map_full_execs, map_full_failed; /* GetStats */
        uint64_t logins_full; /* GetLogins */
        uint64_t units_full_execs, units_full_failed, names_full; /* GetUnits */
        bool parts;
        bool columns; /* GetStats(columns: true) */
} StatsReplyInfo;

/* Takes users (sorted by UID), also on failure; -ENOBUFS when they do not fit the client's
 * buffer share. */
int stats_reply_start(Connection *c, TallyEntry *users, size_t n, const StatsReplyInfo *info);

/* The writers: a reply is the head, users separated by commas, and the tail (which ends
 * it with its NUL; continues: more replies follow). */
void stats_write_head(Text *t);
void stats_write_user(Text *t, const TallyEntry *u);
void stats_write_tail(Text *t, const StatsReplyInfo *info, bool continues);

/* With columns: users empty, and the users' counts in columns, an array per member of
 * UserStats in the same order of users. A reply is the head, each column opened, its
 * values (in as many pieces as the writer likes: first for the piece that starts it) and
 * closed, and the tail. */
typedef enum StatsColumn {
        STATS_COLUMN_UID,
        STATS_COLUMN_EXECS,
        STATS_COLUMN_FAILED,
        STATS_COLUMN_EVENTS_THROTTLED,
        STATS_COLUMN_LAST_EXEC_USEC,
        STATS_COLUMN_PRIVILEGED,
        _STATS_COLUMN_MAX,
} StatsColumn;

void stats_write_columns_head(Text *t);
void stats_write_column_open(Text *t, StatsColumn col);
void stats_write_column_values(Text *t, StatsColumn col, const TallyEntry *users, size_t n, bool first);
void stats_write_column_close(Text *t);
void stats_write_columns_tail(Text *t, const StatsReplyInfo *info, bool continues);

/* The same for GetLogins: takes logins (sorted), also on failure. */
int logins_reply_start(Connection *c, LoginCount *logins, size_t n, const StatsReplyInfo *info);
void logins_write_head(Text *t);
void logins_write_login(Text *t, const LoginCount *l);
void logins_write_tail(Text *t, const StatsReplyInfo *info, bool continues);

/* The same for GetUnits: takes units (sorted, their names too), also on failure. */
int units_reply_start(Connection *c, UnitRow *units, size_t n, const StatsReplyInfo *info);
void units_write_head(Text *t);
void units_write_unit(Text *t, const UnitRow *u);
void units_write_tail(Text *t, const StatsReplyInfo *info, bool continues);
