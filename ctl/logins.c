/* SPDX-License-Identifier: GPL-2.0-or-later */
/* logins.c: "execcountctl stats --by=login": successful execs per login UID and real UID. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "format.h"
#include "json-scan.h"
#include "json-util.h"
#include "log.h"
#include "protocol.h"
#include "rows.h"
#include "time-util.h"
#include "users.h"
#include "verbs.h"

#define LOGIN_UNSET INT64_C(-1)
/* The daemon's login UID for a UID's execs under login UIDs beyond its first 1024. */
#define LOGIN_OTHER INT64_C(4294967294)

typedef struct LoginRow {
        int64_t login_uid; /* LOGIN_UNSET: unset */
        int64_t uid, execs;
} LoginRow;

typedef struct Logins {
        LoginRow *rows;
        size_t n, alloc;
        int64_t since, map_full;
        bool has_map_full; /* absent when the caller sees only its own pairs */
        bool own_only;
        int64_t total_execs;
} Logins;

static int compare_rows(const void *a, const void *b) {
        const LoginRow *x = a, *y = b;

        if (x->execs != y->execs)
                return x->execs > y->execs ? -1 : 1;
        /* Unset login UIDs after set ones, as the daemon orders them. */
        if (x->login_uid != y->login_uid)
                return (uint64_t) x->login_uid < (uint64_t) y->login_uid ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* One LoginStats: each member there once; login_uid may be null (unset: LOGIN_UNSET). */
static int parse_row(JsonSpan obj, LoginRow *row) {
        static const char *const keys[] = { "login_uid", "uid", "execs" };
        static const int64_t max[] = { UINT32_MAX - 1, UINT32_MAX - 1, INT64_MAX };
        int64_t *const fields[] = { &row->login_uid, &row->uid, &row->execs };

        _Static_assert(LOGIN_UNSET == -1, "null reads as -1");
        return rows_scan_ints(obj, keys, fields, max, ELEMENTSOF(keys), 7, 1);
}

/* reply: from the parameters on; see CallPartFn. */
static int parse_part(JsonSpan reply, const char **ret_end, void *userdata) {
        static const char *const keys[] = { "logins", "since_usec", "access", "logins_map_full_execs" };
        enum { LOGINS, SINCE, ACCESS, FULL };
        Logins *l = userdata;
        JsonSpan v[ELEMENTSOF(keys)], item;
        JsonIter iter;
        int r;

        /* One walk over the reply for its members: each walk reads every row. */
        if (json_scan_members_end(reply, keys, v, ELEMENTSOF(keys), ret_end) < 0 || !v[LOGINS].p ||
            json_scan_array_begin(v[LOGINS], &iter) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_LOGINS, "logins");
        if (!v[SINCE].p || json_scan_int64(v[SINCE], 0, INT64_MAX, &l->since) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_LOGINS, "since_usec");
        l->own_only = v[ACCESS].len == 5 && memcmp(v[ACCESS].p, "\"own\"", 5) == 0;
        l->has_map_full = v[FULL].p;
        if (l->has_map_full && json_scan_int64(v[FULL], 0, INT64_MAX, &l->map_full) < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_LOGINS, "a well-formed logins_map_full_execs");

        while ((r = json_scan_array_next(&iter, &item)) > 0) {
                if (rows_grow((void **) &l->rows, &l->alloc, l->n, sizeof(*l->rows)) < 0)
                        return log_oom(), EXIT_FAILURE;
                if (parse_row(item, &l->rows[l->n]) < 0)
                        return call_bad_reply(EXECCOUNT_METHOD_GET_LOGINS, "well-formed LoginStats");
                l->total_execs += l->rows[l->n].execs;
                l->n++;
        }
        if (r < 0)
                return call_bad_reply(EXECCOUNT_METHOD_GET_LOGINS, "a well-formed list of logins");
        return 0;
}

static int print_json(const Args *a, const Logins *l, UserCache *cache) {
        JsonLayout j = rows_json_layout(a->json);
        const char *nl = j.nl, *in1 = j.in1, *in2 = j.in2, *in3 = j.in3, *sp = j.sp;

        printf("{%s%s\"logins\":%s[", nl, in1, sp);
        for (size_t i = 0; i < l->n; i++) {
                const LoginRow *row = &l->rows[i];
                bool unset = row->login_uid == LOGIN_UNSET;

                printf("%s%s%s{%s%s\"login_uid\":%s", i ? "," : "", nl, in2, nl, in3, sp);
                if (unset)
                        fputs("null", stdout);
                else
                        printf("%" PRIi64, row->login_uid);
                printf(",%s%s\"login_user\":%s", nl, in3, sp);
                rows_json_name(unset || row->login_uid == LOGIN_OTHER ? NULL
                                                                       : user_cache_name(cache, (uint32_t) row->login_uid));
                printf(",%s%s\"uid\":%s%" PRIi64 ",%s%s\"user\":%s", nl, in3, sp, row->uid, nl, in3, sp);
                rows_json_name(user_cache_name(cache, (uint32_t) row->uid));
                printf(",%s%s\"execs\":%s%" PRIi64 "%s%s}", nl, in3, sp, row->execs, nl, in2);
        }
        rows_json_tail(&j, l->n, l->since, l->own_only);
        if (l->has_map_full)
                printf(",%s%s\"logins_map_full_execs\":%s%" PRIi64, nl, in1, sp, l->map_full);
        return rows_json_end(&j);
}

static void print_footer(const Args *a, const void *userdata) {
        const Logins *l = userdata;
        char since[FORMAT_TIMESTAMP_MAX];

        format_timestamp(since, (uint64_t) l->since);
        if (l->n == 0 && a->has_uid)
                printf("No execs by UID %" PRIu32 " since %s.\n", a->uid, since);
        else if (l->n == 0)
                printf("No execs since %s.\n", since);
        else
                printf("\n%zu %s, %" PRIi64 " %s, since %s. Failed execs are not counted per login.\n", l->n,
                       l->n == 1 ? "login and user pair" : "login and user pairs", l->total_execs,
                       l->total_execs == 1 ? "exec" : "execs", since);
        if (l->map_full > 0)
                printf("The map of pairs is full: %" PRIi64 " execs of further pairs are not counted per login; "
                       "raise MaxUIDs= in execcountd.conf(5).\n",
                       l->map_full);
        if (l->own_only)
                printf("Only your own execs, and those made in your logins as other users, are shown: root and "
                       "the members of execcountd's access group see every pair (execcountd.conf(5), [Access]).\n");
}

int stats_by_login(const Args *a) {
        static const char *const headers[] = { "LOGIN UID", "LOGIN", "UID", "USER", "EXECS" };
        static const Align align[] = { ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT };
        _cleanup_(json_object_putp) json_object *params = NULL;
        _cleanup_(user_cache_freep) UserCache *cache = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        Logins l = {};
        int r;

        params = call_uid_parameters(a);
        if (!params || user_cache_new(&cache) < 0 || table_new(ELEMENTSOF(headers), headers, align, &t) < 0)
                return log_oom(), EXIT_FAILURE;
        r = call_method_parts(a, EXECCOUNT_METHOD_GET_LOGINS, params, NULL, parse_part, &l);
        if (r != 0) {
                free(l.rows);
                return r;
        }
        if (l.n > 0)
                qsort(l.rows, l.n, sizeof(*l.rows), compare_rows);
        (void) user_cache_expect(cache, 2 * l.n);

        if (a->json != JSON_OFF) {
                r = print_json(a, &l, cache);
                free(l.rows);
                return r;
        }

        for (size_t i = 0; i < l.n; i++) {
                const LoginRow *row = &l.rows[i];
                bool unset = row->login_uid == LOGIN_UNSET, other = row->login_uid == LOGIN_OTHER;
                const char *login_name = unset   ? "unset"
                                         : other ? "other"
                                                 : user_cache_name(cache, (uint32_t) row->login_uid);
                const char *name = user_cache_name(cache, (uint32_t) row->uid);
                char login_uid[16] = "-", uid[16], execs[24];
                const char *cells[] = { login_uid, login_name ? login_name : "-", uid, name ? name : "-", execs };

                if (!unset && !other)
                        snprintf(login_uid, sizeof(login_uid), "%" PRIi64, row->login_uid);
                snprintf(uid, sizeof(uid), "%" PRIi64, row->uid);
                snprintf(execs, sizeof(execs), "%" PRIi64, row->execs);
                if (table_add_row(t, cells) < 0) {
                        free(l.rows);
                        return log_oom(), EXIT_FAILURE;
                }
        }

        rows_show(a, t, l.n, print_footer, &l);
        free(l.rows);
        return 0;
}
