/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats.c: "execcountctl stats", and "reset" and "reload", which change what it shows. */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "fetch.h"
#include "format.h"
#include "json-scan.h"
#include "json-util.h"
#include "log.h"
#include "protocol.h"
#include "rows.h"
#include "text.h"
#include "time-util.h"
#include "users.h"
#include "verbs.h"

static int compare_rows(const void *a, const void *b) {
        const StatsRow *x = a, *y = b;

        if (x->execs != y->execs)
                return x->execs > y->execs ? -1 : 1;
        if (x->failed != y->failed)
                return x->failed > y->failed ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Totals of counts a daemon sends: at most INT64_MAX each, and their sum held there too. */
static int64_t total_add(int64_t total, int64_t n) {
        int64_t sum;

        return __builtin_add_overflow(total, n, &sum) ? INT64_MAX : sum;
}

/* One UserStats: each member there once, but for privileged, which a daemon before it
 * leaves out and the interface allows to be null. */
static int stats_parse_row(JsonSpan user, StatsRow *row) {
        static const char *const keys[] = { "uid", "execs", "failed", "last_exec_usec", "events_throttled",
                                            "privileged" };
        static const int64_t max[] = { UINT32_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX };
        int64_t *const fields[] = { &row->uid,  &row->execs,     &row->failed,
                                    &row->last, &row->throttled, &row->privileged };

        return rows_scan_ints(user, keys, fields, max, ELEMENTSOF(keys), (1u << 5) - 1, 1u << 5);
}

/* The users of GetStats(columns: true), an array of numbers per member, appended to s;
 * each row as stats_parse_row() reads one, privileged always given. Each column is read
 * straight into its field of the rows, where it starts: one pass over its numbers.
 * columns starts with the object and may go on after it: its end goes to *ret_end. */
static int stats_parse_columns(JsonSpan columns, Stats *s, const char **ret_end) {
        static const char *const keys[] = { "uid", "execs", "failed", "last_exec_usec", "events_throttled",
                                            "privileged" };
        static const int64_t max[] = { UINT32_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX };
        static const size_t offsets[] = { offsetof(StatsRow, uid),  offsetof(StatsRow, execs),
                                          offsetof(StatsRow, failed), offsetof(StatsRow, last),
                                          offsetof(StatsRow, throttled), offsetof(StatsRow, privileged) };
        static_assert(sizeof(StatsRow) % sizeof(int64_t) == 0, "a row is int64_t fields only");
        /* Each user takes two bytes at least ("0,") in each column. */
        size_t most = columns.len / (2 * ELEMENTSOF(keys)) + 1, n = 0;
        unsigned seen = 0;
        JsonSpan key, rest;
        JsonIter iter;
        int r;

        while (s->n + most > s->alloc)
                if (rows_grow((void **) &s->rows, &s->alloc, s->alloc, sizeof(*s->rows)) < 0)
                        return -ENOMEM;
        if (json_scan_object_begin(columns, &iter) < 0)
                return -EBADMSG;
        while ((r = json_scan_object_next_key(&iter, &key, &rest)) > 0) {
                const char *end = NULL;
                size_t k;
                int got;

                for (k = 0; k < ELEMENTSOF(keys) && !json_scan_key_is(key, keys[k]); k++)
                        ;
                if (k == ELEMENTSOF(keys)) { /* a column of a later daemon */
                        end = json_scan_skip(rest.p, rest.p + rest.len);
                        if (!end)
                                return -EBADMSG;
                        json_scan_object_resume(&iter, end);
                        continue;
                }
                if (seen & (1u << k))
                        return -EBADMSG;
                got = json_scan_int64_array(rest, 0, max[k],
                                            (int64_t *) (void *) ((uint8_t *) &s->rows[s->n] + offsets[k]),
                                            sizeof(StatsRow) / sizeof(int64_t), most, &end);
                if (got < 0 || (seen && (size_t) got != n))
                        return -EBADMSG;
                n = (size_t) got;
                seen |= 1u << k;
                json_scan_object_resume(&iter, end);
        }
        if (r < 0 || seen != (1u << ELEMENTSOF(keys)) - 1)
                return -EBADMSG;
        *ret_end = json_scan_iter_end(&iter);
        for (size_t i = s->n; i < s->n + n; i++) {
                s->total_execs = total_add(s->total_execs, s->rows[i].execs);
                s->total_failed = total_add(s->total_failed, s->rows[i].failed);
                s->total_throttled = total_add(s->total_throttled, s->rows[i].throttled);
        }
        s->n += n;
        return 0;
}

/* Reads one GetStats reply's parameters into s: with "more", the users come in parts,
 * each reply complete but for the users of the others; with columns, as columns. reply
 * runs from the parameters to the end of the message (see CallPartFn). */
static int stats_parse_part(JsonSpan reply, const char **ret_end, void *userdata) {
        static const char *const keys[] = { "users", "since_usec", "access", "map_full_execs", "map_full_failed",
                                            "columns" };
        enum { USERS, SINCE, ACCESS, FULL_EXECS, FULL_FAILED, COLUMNS };
        Stats *s = userdata;
        JsonSpan v[ELEMENTSOF(keys)] = {}, user, key, rest;
        JsonIter iter;
        int r;

        /* One walk over the reply for its members, the columns read where they start: a
         * skip over them first would read every number once more. The first of a member
         * given twice counts, as json_scan_members() has it. */
        if (json_scan_object_begin(reply, &iter) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "users");
        while ((r = json_scan_object_next_key(&iter, &key, &rest)) > 0) {
                const char *end;
                size_t k;

                for (k = 0; k < ELEMENTSOF(keys) && !json_scan_key_is(key, keys[k]); k++)
                        ;
                if (k == COLUMNS && !v[COLUMNS].p) {
                        r = stats_parse_columns(rest, s, &end);
                        if (r == -ENOMEM)
                                return log_oom(), EXIT_FAILURE;
                        if (r < 0)
                                return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "well-formed columns");
                } else if (!(end = json_scan_skip(rest.p, rest.p + rest.len)))
                        return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "users");
                if (k < ELEMENTSOF(keys) && !v[k].p)
                        v[k] = (JsonSpan) { rest.p, (size_t) (end - rest.p) };
                json_scan_object_resume(&iter, end);
        }
        if (r < 0 || !v[USERS].p)
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "users");
        *ret_end = json_scan_iter_end(&iter);
        if (json_scan_array_begin(v[USERS], &iter) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "users");
        if (!v[SINCE].p || json_scan_int64(v[SINCE], 0, INT64_MAX, &s->since) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "since_usec");
        s->own_only = v[ACCESS].len == 5 && memcmp(v[ACCESS].p, "\"own\"", 5) == 0;
        s->has_map_full = v[FULL_EXECS].p;
        if (s->has_map_full && (json_scan_int64(v[FULL_EXECS], 0, INT64_MAX, &s->map_full_execs) < 0 ||
                                !v[FULL_FAILED].p ||
                                json_scan_int64(v[FULL_FAILED], 0, INT64_MAX, &s->map_full_failed) < 0))
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "well-formed map_full counters");

        while ((r = json_scan_array_next(&iter, &user)) > 0) {
                StatsRow *row;

                if (rows_grow((void **) &s->rows, &s->alloc, s->n, sizeof(*s->rows)) < 0)
                        return log_oom(), EXIT_FAILURE;
                row = &s->rows[s->n];
                if (stats_parse_row(user, row) < 0)
                        return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "well-formed UserStats");
                s->n++;
                s->total_execs = total_add(s->total_execs, row->execs);
                s->total_failed = total_add(s->total_failed, row->failed);
                s->total_throttled = total_add(s->total_throttled, row->throttled);
        }
        if (r < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_STATS, "a well-formed list of users");
        return 0;
}

/* A user name as format_json_string() writes it, or null. */
static void json_name(Text *t, const char *name) {
        if (!name) {
                text_add_len(t, "null", 4);
                return;
        }
        text_add_char(t, '"');
        for (; *name; name++) {
                unsigned char c = (unsigned char) *name;
                char esc[8];

                if (c == '"' || c == '\\') {
                        text_add_char(t, '\\');
                        text_add_char(t, (char) c);
                } else if (c < 0x20)
                        text_add_len(t, esc, (size_t) snprintf(esc, sizeof(esc), "\\u%04x", c));
                else
                        text_add_char(t, (char) c);
        }
        text_add_char(t, '"');
}

/* The reply in table order, each entry with its user name. Written as it goes, without
 * printf: a tree of ten thousand objects would cost more than everything else, and
 * printf's parsing of a format per field took half of what is left. */
static int stats_print_json(const Args *a, const Stats *s, const uint32_t *order, UserCache *cache) {
        JsonLayout j = rows_json_layout(a->json);
        const char *nl = j.nl, *in1 = j.in1, *in2 = j.in2, *in3 = j.in3, *sp = j.sp;
        /* What comes before each value of a row, the same in every row. */
        static const char *const keys[] = { "uid", "user", "execs", "failed", "events_throttled", "last_exec_usec",
                                            "privileged" };
        char before[ELEMENTSOF(keys)][64], end[16];
        size_t before_len[ELEMENTSOF(keys)], end_len, row_max = 1;
        Text t = {};

        before_len[0] = (size_t) snprintf(before[0], sizeof(before[0]), "%s%s{%s%s\"uid\":%s", nl, in2, nl, in3, sp);
        for (size_t k = 1; k < ELEMENTSOF(keys); k++)
                before_len[k] = (size_t) snprintf(before[k], sizeof(before[k]), ",%s%s\"%s\":%s", nl, in3, keys[k],
                                                  sp);
        end_len = (size_t) snprintf(end, sizeof(end), "%s%s}", nl, in2);
        row_max += end_len;

        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                row_max += before_len[k] + TEXT_U64_MAX;

        printf("{%s%s\"users\":%s[", nl, in1, sp);
        for (size_t i = 0; i < s->n; i++) {
                const StatsRow *row = &s->rows[order ? order[i] : i];
                const int64_t values[] = { row->uid, 0, row->execs, row->failed, row->throttled, row->last,
                                           row->privileged };
                /* Room for the row but its name once, filled without a check per piece. */
                char *p = text_reserve(&t, row_max), *o = p;

                if (!p)
                        break;
                if (i > 0)
                        *o++ = ',';
                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        o = mempcpy(o, before[k], before_len[k]);
                        if (k == 1) {
                                t.len += (size_t) (o - p);
                                json_name(&t, user_cache_name(cache, (uint32_t) row->uid));
                                p = o = text_reserve(&t, row_max);
                                if (!p)
                                        break;
                        } else if (values[k] >= 0) /* all are but a privileged the daemon left out */
                                o = text_put_u64(o, (uint64_t) values[k]);
                        else
                                o = mempcpy(o, "null", 4);
                }
                if (!p)
                        break;
                o = mempcpy(o, end, end_len);
                t.len += (size_t) (o - p);
                if (t.len >= 64 * 1024 || i + 1 == s->n) {
                        fwrite(t.p, 1, t.len, stdout);
                        t.len = 0;
                }
        }
        if (t.oom) {
                text_done(&t);
                return log_oom(), EXIT_FAILURE;
        }
        text_done(&t);
        rows_json_tail(&j, s->n, s->since, s->own_only);
        if (s->has_map_full)
                printf(",%s%s\"map_full_execs\":%s%" PRIi64 ",%s%s\"map_full_failed\":%s%" PRIi64, nl, in1, sp,
                       s->map_full_execs, nl, in1, sp, s->map_full_failed);
        return rows_json_end(&j);
}

static void stats_print_footer(const Args *a, const void *userdata) {
        const Stats *s = userdata;
        char since[FORMAT_TIMESTAMP_MAX], ago[FORMAT_TIMESPAN_MAX];
        uint64_t now = now_usec(CLOCK_REALTIME);

        format_timestamp(since, (uint64_t) s->since);
        if (s->n == 0 && a->has_uid)
                printf("No execs by UID %" PRIu32 " since %s.\n", a->uid, since);
        else if (s->n == 0)
                printf("No execs since %s.\n", since);
        else
                printf("\n%zu %s, %" PRIi64 " %s, %" PRIi64 " failed, since %s (%s ago).\n", s->n,
                       s->n == 1 ? "user" : "users", s->total_execs, s->total_execs == 1 ? "exec" : "execs",
                       s->total_failed, since, format_timespan(ago, now > (uint64_t) s->since ? now - (uint64_t) s->since : 0));
        if (s->map_full_execs > 0 || s->map_full_failed > 0)
                printf("The UID map is full: %" PRIi64 " execs and %" PRIi64
                       " failed of further UIDs are counted without a UID; raise MaxUIDs= in "
                       "execcountd.conf(5).\n",
                       s->map_full_execs, s->map_full_failed);
        if (s->total_throttled > 0)
                printf("%" PRIi64 " execs sent no event: their UIDs went over FailedRateLimitBurst=, or "
                       "over their share of a full ring buffer (execcountd.conf(5)); they are counted all "
                       "the same.\n",
                       s->total_throttled);
        if (s->own_only)
                printf("Only your own UID is shown: root and the members of execcountd's access group see every "
                       "user (execcountd.conf(5), [Access]).\n");
}

int stats_fetch(const Args *a, Stats *s) {
        _cleanup_(json_object_putp) json_object *params = call_uid_parameters(a);
        int r;

        *s = (Stats) {};
        if (!params || !json_add(params, "columns", json_object_new_boolean(true)))
                return log_oom(), EXIT_FAILURE;
        /* In parts: a map of a million UIDs never makes one message of a hundred MB. In
         * columns, which take a third of the bytes and are read in one pass, from a daemon
         * that knows them. */
        r = call_method_parts(a, EXECCOUNT_METHOD_GET_STATS, params, "columns", stats_parse_part, s);
        if (r != 0) {
                free(s->rows);
                *s = (Stats) {};
        }
        return r;
}

/* The order of the rows in the table (compare_rows()): a radix sort's, or, if there is no
 * room for it, NULL and the rows sorted in place. */
static uint32_t *stats_sort(Stats *s) {
        static const size_t offsets[] = { offsetof(StatsRow, execs), offsetof(StatsRow, failed),
                                          offsetof(StatsRow, uid) };
        _cleanup_(freep) uint32_t *order = malloc(s->n * sizeof(*order));
        size_t n_keys = ELEMENTSOF(offsets), i;

        /* Most execs first, then most failures, then the lowest UID. The daemon sends the
         * users in UID order: then the sort, which keeps the order of equal rows, need not
         * go by UID. */
        for (i = 1; i < s->n && s->rows[i - 1].uid < s->rows[i].uid; i++)
                ;
        if (i >= s->n)
                n_keys--;
        if (order && rows_order(s->rows, sizeof(*s->rows), s->n, offsets, n_keys, 0x3, order) >= 0)
                return TAKE_PTR(order);
        qsort(s->rows, s->n, sizeof(*s->rows), compare_rows);
        return NULL;
}

static int stats_by_user(const Args *a) {
        static const char *const headers[] = { "UID", "USER", "EXECS", "FAILED", "PRIVILEGED", "LAST EXEC" };
        static const Align align[] = { ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_RIGHT, ALIGN_LEFT };
        _cleanup_(user_cache_freep) UserCache *cache = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(freep) uint32_t *order = NULL;
        Stats s = {};
        int r;

        if (user_cache_new(&cache) < 0 || table_new(ELEMENTSOF(headers), headers, align, &t) < 0)
                return log_oom(), EXIT_FAILURE;
        r = stats_fetch(a, &s);
        if (r != 0)
                return r;
        if (s.n > 0) /* no rows: no array at all */
                order = stats_sort(&s);
        (void) user_cache_expect(cache, s.n);

        if (a->json != JSON_OFF) {
                r = stats_print_json(a, &s, order, cache);
                free(s.rows);
                return r;
        }

        for (size_t i = 0; i < s.n; i++) {
                const StatsRow *row = &s.rows[order ? order[i] : i];
                char uid[16], execs[24], failed[24], privileged[24] = "-", last[FORMAT_TIMESTAMP_MAX];
                const char *name = user_cache_name(cache, (uint32_t) row->uid);
                const char *cells[] = { uid, name ? name : "-", execs, failed, privileged, last };

                snprintf(uid, sizeof(uid), "%" PRIi64, row->uid);
                snprintf(execs, sizeof(execs), "%" PRIi64, row->execs);
                snprintf(failed, sizeof(failed), "%" PRIi64, row->failed);
                if (row->privileged >= 0)
                        snprintf(privileged, sizeof(privileged), "%" PRIi64, row->privileged);
                format_timestamp(last, (uint64_t) row->last);
                if (table_add_row(t, cells) < 0) {
                        free(s.rows);
                        return log_oom(), EXIT_FAILURE;
                }
        }

        rows_show(a, t, s.n, stats_print_footer, &s);
        free(s.rows);
        return 0;
}

int verb_stats(const Args *a) {
        if (a->by == BY_LOGIN)
                return stats_by_login(a);
        if (a->by == BY_UNIT || a->unit)
                return stats_by_unit(a);
        return stats_by_user(a);
}

int verb_reload(const Args *a) {
        _cleanup_(json_object_putp) json_object *params = json_object_new_object(), *reply = NULL;

        if (!params)
                return log_oom(), EXIT_FAILURE;
        /* Quiet on success, as systemctl reload is: it runs as ExecReload=. */
        return call_method(a, EXECCOUNT_METHOD_RELOAD, params, &reply);
}

int verb_reset(const Args *a) {
        _cleanup_(json_object_putp) json_object *params = NULL, *reply = NULL;
        int r;

        params = call_uid_parameters(a);
        if (!params)
                return log_oom(), EXIT_FAILURE;
        r = call_method(a, EXECCOUNT_METHOD_RESET, params, &reply);
        if (r != 0)
                return r;
        if (a->has_uid)
                printf("Reset the counts of UID %" PRIu32 ".\n", a->uid);
        else
                printf("Reset the counts of all UIDs.\n");
        return 0;
}
