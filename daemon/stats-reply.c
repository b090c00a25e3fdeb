/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats-reply.c: the GetStats and GetLogins replies.
 *
 * Written, not built as a JSON tree: a tree of ten thousand objects costs more than the
 * rest of the call. Each turn writes about CONNECTION_CHUNK bytes, so that a reply of
 * any size never delays another client's for longer than a chunk. */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stats-reply.h"
#include "units.h"

/* What one kind of reply writes. */
typedef struct RowsWriter {
        size_t row_size;
        size_t row_bytes; /* about what a row takes written */
        void (*head)(Text *t);
        void (*row)(Text *t, const void *row);
        void (*tail)(Text *t, const StatsReplyInfo *info, bool continues);
        void (*free_rows)(void *rows, size_t n); /* NULL: free() */
} RowsWriter;

typedef struct StatsReply {
        ReplyHeader header;
        Connection *connection;
        const RowsWriter *writer;
        uint8_t *rows;
        size_t n, next;
        size_t charged;
        bool started; /* the single reply's head is written */
        StatsColumn col; /* with columns, the single reply's column being written */
        bool col_open;
        StatsReplyInfo info;
} StatsReply;

static void stats_reply_free(void *p) {
        StatsReply *r = p;

        connection_uncharge(r->connection, r->charged);
        if (r->writer->free_rows)
                r->writer->free_rows(r->rows, r->n);
        else
                free(r->rows);
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

/* What follows the rows in every reply of any kind: since_usec, access, and the kind's own
 * counts of what a full map could not count (n of them, named names), which are other
 * UIDs' execs, unattributed: only for those who may see them. Every value is a number or
 * a fixed word: nothing to escape. */
static void write_tail(Text *t, const StatsReplyInfo *info, bool continues, const char *const *names,
                       const uint64_t *values, size_t n) {
        text_add(t, ",\"since_usec\":");
        text_add_u64(t, info->since_usec);
        text_add(t, ",\"access\":\"");
        text_add(t, access_scope_to_string(info->scope));
        text_add(t, "\"");
        for (size_t i = 0; info->scope == ACCESS_ALL && i < n; i++) {
                text_add(t, ",\"");
                text_add(t, names[i]);
                text_add(t, "\":");
                text_add_u64(t, MIN(values[i], (uint64_t) INT64_MAX));
        }
        text_add(t, continues ? "},\"continues\":true}" : "}}");
        text_add_char(t, '\0');
}

static void write_stats_tail(Text *t, const StatsReplyInfo *info, bool continues) {
        static const char *const names[] = { "map_full_execs", "map_full_failed" };

        write_tail(t, info, continues, names, (uint64_t[]) { info->map_full_execs, info->map_full_failed },
                   ELEMENTSOF(names));
}

void stats_write_tail(Text *t, const StatsReplyInfo *info, bool continues) {
        text_add_char(t, ']');
        write_stats_tail(t, info, continues);
}

static const char *const column_names[_STATS_COLUMN_MAX] = {
        [STATS_COLUMN_UID] = "uid",
        [STATS_COLUMN_EXECS] = "execs",
        [STATS_COLUMN_FAILED] = "failed",
        [STATS_COLUMN_EVENTS_THROTTLED] = "events_throttled",
        [STATS_COLUMN_LAST_EXEC_USEC] = "last_exec_usec",
        [STATS_COLUMN_PRIVILEGED] = "privileged",
};

void stats_write_columns_head(Text *t) {
        text_add(t, "{\"parameters\":{\"users\":[],\"columns\":{");
}

void stats_write_column_open(Text *t, StatsColumn col) {
        assert(col >= 0 && col < _STATS_COLUMN_MAX);
        if (col > 0)
                text_add_char(t, ',');
        text_add_char(t, '"');
        text_add(t, column_names[col]);
        text_add(t, "\":[");
}

/* Where each column's value sits in a TallyEntry: all are uint64_t but the UID. */
static const size_t column_offsets[_STATS_COLUMN_MAX] = {
        [STATS_COLUMN_EXECS] = offsetof(TallyEntry, execs),
        [STATS_COLUMN_FAILED] = offsetof(TallyEntry, failed),
        [STATS_COLUMN_EVENTS_THROTTLED] = offsetof(TallyEntry, events_throttled),
        [STATS_COLUMN_LAST_EXEC_USEC] = offsetof(TallyEntry, last_exec_usec),
        [STATS_COLUMN_PRIVILEGED] = offsetof(TallyEntry, privileged),
};

/* Room for all the numbers at once, each written straight into it: a number here costs
 * a few nanoseconds, where text_add*() calls per value cost more than the digits. */
void stats_write_column_values(Text *t, StatsColumn col, const TallyEntry *users, size_t n, bool first) {
        char *p = text_reserve(t, n * (TEXT_U64_MAX + 1)), *o = p;

        assert(col >= 0 && col < _STATS_COLUMN_MAX);
        if (!p)
                return;
        if (n > 0 && !first)
                *o++ = ',';
        for (size_t i = 0; i < n; i++) {
                uint64_t v;

                if (col == STATS_COLUMN_UID)
                        v = users[i].uid;
                else
                        memcpy(&v, (const uint8_t *) &users[i] + column_offsets[col], sizeof(v));
                if (i > 0)
                        *o++ = ',';
                o = text_put_u64(o, MIN(v, (uint64_t) INT64_MAX));
        }
        t->len += (size_t) (o - p);
}

void stats_write_column_close(Text *t) {
        text_add_char(t, ']');
}

void stats_write_columns_tail(Text *t, const StatsReplyInfo *info, bool continues) {
        text_add_char(t, '}');
        write_stats_tail(t, info, continues);
}

void logins_write_head(Text *t) {
        text_add(t, "{\"parameters\":{\"logins\":[");
}

void logins_write_login(Text *t, const LoginCount *l) {
        text_add(t, "{\"login_uid\":");
        if (l->login_uid == UINT32_MAX)
                text_add(t, "null");
        else
                text_add_u64(t, l->login_uid);
        text_add(t, ",\"uid\":");
        text_add_u64(t, l->uid);
        text_add(t, ",\"execs\":");
        text_add_u64(t, MIN(l->execs, (uint64_t) INT64_MAX));
        text_add(t, "}");
}

void logins_write_tail(Text *t, const StatsReplyInfo *info, bool continues) {
        static const char *const names[] = { "logins_map_full_execs" };

        text_add_char(t, ']');
        write_tail(t, info, continues, names, (uint64_t[]) { info->logins_full }, ELEMENTSOF(names));
}

void units_write_head(Text *t) {
        text_add(t, "{\"parameters\":{\"units\":[");
}

void units_write_unit(Text *t, const UnitRow *u) {
        _cleanup_(freep) char *named = u->machine ? NULL : unit_machine(u->unit);
        const char *machine = u->machine ?: named;

        text_add(t, "{\"unit\":");
        text_add_json_string(t, u->unit, strlen(u->unit));
        if (machine) {
                text_add(t, ",\"machine\":");
                text_add_json_string(t, machine, strlen(machine));
        }
        text_add(t, ",\"uid\":");
        text_add_u64(t, u->uid);
        text_add(t, ",\"execs\":");
        text_add_u64(t, MIN(u->execs, (uint64_t) INT64_MAX));
        text_add(t, ",\"failed\":");
        text_add_u64(t, MIN(u->failed, (uint64_t) INT64_MAX));
        text_add(t, ",\"last_exec_usec\":");
        text_add_u64(t, MIN(u->last_exec_usec, (uint64_t) INT64_MAX));
        text_add(t, "}");
}

void units_write_tail(Text *t, const StatsReplyInfo *info, bool continues) {
        static const char *const names[] = { "units_map_full_execs", "units_map_full_failed", "unnamed_cgroups" };

        text_add_char(t, ']');
        write_tail(t, info, continues, names,
                   (uint64_t[]) { info->units_full_execs, info->units_full_failed, info->names_full },
                   ELEMENTSOF(names));
}

static void write_unit_row(Text *t, const void *row) {
        units_write_unit(t, row);
}

static void free_unit_rows(void *rows, size_t n) {
        unit_rows_free(rows, n);
}

static void write_user_row(Text *t, const void *row) {
        stats_write_user(t, row);
}

static void write_login_row(Text *t, const void *row) {
        logins_write_login(t, row);
}

static const RowsWriter users_writer = {
        .row_size = sizeof(TallyEntry),
        .row_bytes = 112,
        .head = stats_write_head,
        .row = write_user_row,
        .tail = stats_write_tail,
};

static const RowsWriter logins_writer = {
        .row_size = sizeof(LoginCount),
        .row_bytes = 64,
        .head = logins_write_head,
        .row = write_login_row,
        .tail = logins_write_tail,
};

static const RowsWriter units_writer = {
        .row_size = sizeof(UnitRow),
        .row_bytes = 128,
        .head = units_write_head,
        .row = write_unit_row,
        .tail = units_write_tail,
        .free_rows = free_unit_rows,
};

/* Users first..end, as a complete reply of columns. */
static void columns_write_part(Text *t, const TallyEntry *users, size_t first, size_t end, size_t n,
                               const StatsReplyInfo *info) {
        (void) text_reserve(t, (end - first) * 40 + 256);
        stats_write_columns_head(t);
        for (StatsColumn col = 0; col < _STATS_COLUMN_MAX; col++) {
                stats_write_column_open(t, col);
                stats_write_column_values(t, col, users + first, end - first, true);
                stats_write_column_close(t);
        }
        stats_write_columns_tail(t, info, end < n);
}

/* GetStats with columns: the single reply, a chunk at a time, column after column. */
static bool columns_write_chunk(Text *t, StatsReply *r) {
        const TallyEntry *users = (const TallyEntry *) (const void *) r->rows;

        if (!r->started)
                stats_write_columns_head(t);
        r->started = true;
        while (r->col < _STATS_COLUMN_MAX && t->len < CONNECTION_CHUNK) {
                size_t k = MIN(r->n - r->next, CONNECTION_CHUNK / 16);

                if (!r->col_open)
                        stats_write_column_open(t, r->col);
                stats_write_column_values(t, r->col, users + r->next, k, r->next == 0);
                r->col_open = true;
                r->next += k;
                if (r->next == r->n) {
                        stats_write_column_close(t);
                        r->col_open = false;
                        r->col++;
                        r->next = 0;
                }
        }
        if (r->col < _STATS_COLUMN_MAX)
                return true;
        stats_write_columns_tail(t, &r->info, false);
        return false;
}

static int stats_reply_produce(Connection *c, void *state) {
        StatsReply *r = state;
        const RowsWriter *w = r->writer;
        Text t = {};
        size_t end;
        bool more;
        int k;

        if (r->info.columns) {
                if (r->info.parts) {
                        end = MIN(r->n, r->next + STATS_PART);
                        columns_write_part(&t, (const TallyEntry *) (const void *) r->rows, r->next, end, r->n,
                                           &r->info);
                        r->next = end;
                        more = r->next < r->n;
                } else
                        more = columns_write_chunk(&t, r);
                k = connection_write_text(c, &t);
                if (k < 0)
                        return k;
                return more ? PRODUCE_MORE : PRODUCE_DONE;
        }
        if (r->info.parts) {
                /* One complete reply of up to STATS_PART users. */
                end = MIN(r->n, r->next + STATS_PART);
                (void) text_reserve(&t, (end - r->next) * w->row_bytes + 256);
                w->head(&t);
                for (size_t i = r->next; i < end; i++) {
                        if (i > r->next)
                                text_add_char(&t, ',');
                        w->row(&t, r->rows + i * w->row_size);
                }
                w->tail(&t, &r->info, end < r->n);
                r->next = end;
        } else {
                /* One reply, a chunk at a time. */
                if (!r->started)
                        w->head(&t);
                for (; r->next < r->n && t.len < CONNECTION_CHUNK; r->next++) {
                        if (r->started || r->next > 0)
                                text_add_char(&t, ',');
                        r->started = true;
                        w->row(&t, r->rows + r->next * w->row_size);
                }
                r->started = true;
                if (r->next == r->n)
                        w->tail(&t, &r->info, false);
        }
        k = connection_write_text(c, &t);
        if (k < 0)
                return k;
        return r->next < r->n || (!r->info.parts && !r->started) ? PRODUCE_MORE : PRODUCE_DONE;
}

static int reply_start(Connection *c, const RowsWriter *w, void *rows, size_t n, const StatsReplyInfo *info) {
        StatsReply *r;
        size_t charge = n * w->row_size + sizeof(*r);
        int k;

        r = calloc(1, sizeof(*r));
        if (!r) {
                if (w->free_rows)
                        w->free_rows(rows, n);
                else
                        free(rows);
                return -ENOMEM;
        }
        *r = (StatsReply) {
                .header.others = info->scope == ACCESS_ALL,
                .connection = c,
                .writer = w,
                .rows = rows,
                .n = n,
                .info = *info,
        };
        /* The counts read for the client are the client's to pay for. */
        k = connection_charge(c, charge);
        if (k < 0) {
                r->charged = 0;
                stats_reply_free(r);
                return k;
        }
        r->charged = charge;
        connection_produce(c, stats_reply_produce, r, stats_reply_free, false);
        return 0;
}

int stats_reply_start(Connection *c, TallyEntry *users, size_t n, const StatsReplyInfo *info) {
        return reply_start(c, &users_writer, users, n, info);
}

int logins_reply_start(Connection *c, LoginCount *logins, size_t n, const StatsReplyInfo *info) {
        return reply_start(c, &logins_writer, logins, n, info);
}

int units_reply_start(Connection *c, UnitRow *units, size_t n, const StatsReplyInfo *info) {
        return reply_start(c, &units_writer, units, n, info);
}
