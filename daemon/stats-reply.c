/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats-reply.c: the GetStats reply.
 *
 * Written, not built as a JSON tree: a tree of ten thousand objects costs more than the
 * rest of the call. Each turn writes about CONNECTION_CHUNK bytes, so that a reply of
 * any size never delays another client's for longer than a chunk. */

#include <errno.h>
#include <stdlib.h>

#include "stats-reply.h"

typedef struct StatsReply {
        ReplyHeader header;
        Connection *connection;
        TallyEntry *users;
        size_t n, next;
        size_t charged;
        bool started; /* the single reply's head is written */
        StatsReplyInfo info;
} StatsReply;

static void stats_reply_free(void *p) {
        StatsReply *r = p;

        connection_uncharge(r->connection, r->charged);
        free(r->users);
        free(r);
}

void stats_write_head(Text *t) {
        text_add(t, "{\"parameters\":{\"users\":[");
}

void stats_write_user(Text *t, const TallyEntry *u) {
        text_add(t, "{\"uid\":");
        text_add_u64(t, u->uid);
        text_add(t, ",\"execs\":");
        text_add_u64(t, MIN(u->execs, (uint64_t) INT64_MAX));
        text_add(t, ",\"failed\":");
        text_add_u64(t, MIN(u->failed, (uint64_t) INT64_MAX));
        text_add(t, ",\"events_throttled\":");
        text_add_u64(t, MIN(u->events_throttled, (uint64_t) INT64_MAX));
        text_add(t, ",\"last_exec_usec\":");
        text_add_u64(t, MIN(u->last_exec_usec, (uint64_t) INT64_MAX));
        text_add(t, ",\"privileged\":");
        text_add_u64(t, MIN(u->privileged, (uint64_t) INT64_MAX));
        text_add(t, "}");
}

/* What follows the users in every reply. Every value is a number or a fixed word:
 * nothing to escape. */
void stats_write_tail(Text *t, const StatsReplyInfo *info, bool continues) {
        text_add(t, "],\"since_usec\":");
        text_add_u64(t, info->since_usec);
        text_add(t, ",\"access\":\"");
        text_add(t, access_scope_to_string(info->scope));
        text_add(t, "\"");
        /* Other UIDs' execs, unattributed: only for those who may see them. */
        if (info->scope == ACCESS_ALL) {
                text_add(t, ",\"map_full_execs\":");
                text_add_u64(t, MIN(info->map_full_execs, (uint64_t) INT64_MAX));
                text_add(t, ",\"map_full_failed\":");
                text_add_u64(t, MIN(info->map_full_failed, (uint64_t) INT64_MAX));
        }
        text_add(t, continues ? "},\"continues\":true}" : "}}");
        text_add_char(t, '\0');
}

static int stats_reply_produce(Connection *c, void *state) {
        StatsReply *r = state;
        Text t = {};
        size_t end;
        int k;

        if (r->info.parts) {
                /* One complete reply of up to STATS_PART users. */
                end = MIN(r->n, r->next + STATS_PART);
                (void) text_reserve(&t, (end - r->next) * 112 + 256);
                stats_write_head(&t);
                for (size_t i = r->next; i < end; i++) {
                        if (i > r->next)
                                text_add_char(&t, ',');
                        stats_write_user(&t, &r->users[i]);
                }
                stats_write_tail(&t, &r->info, end < r->n);
                r->next = end;
        } else {
                /* One reply, a chunk at a time. */
                if (!r->started)
                        stats_write_head(&t);
                for (; r->next < r->n && t.len < CONNECTION_CHUNK; r->next++) {
                        if (r->started || r->next > 0)
                                text_add_char(&t, ',');
                        r->started = true;
                        stats_write_user(&t, &r->users[r->next]);
                }
                r->started = true;
                if (r->next == r->n)
                        stats_write_tail(&t, &r->info, false);
        }
        k = connection_write_text(c, &t);
        if (k < 0)
                return k;
        return r->next < r->n || (!r->info.parts && !r->started) ? PRODUCE_MORE : PRODUCE_DONE;
}

int stats_reply_start(Connection *c, TallyEntry *users, size_t n, const StatsReplyInfo *info) {
        StatsReply *r;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r) {
                free(users);
                return -ENOMEM;
        }
        *r = (StatsReply) {
                .header.others = info->scope == ACCESS_ALL,
                .connection = c,
                .users = users,
                .n = n,
                .info = *info,
        };
        /* The counts read for the client are the client's to pay for. */
        k = connection_charge(c, n * sizeof(*users) + sizeof(*r));
        if (k < 0) {
                free(users);
                free(r);
                return k;
        }
        r->charged = n * sizeof(*users) + sizeof(*r);
        connection_produce(c, stats_reply_produce, r, stats_reply_free, false);
        return 0;
}
