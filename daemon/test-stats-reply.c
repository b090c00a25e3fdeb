/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-stats-reply.c: the GetStats and GetLogins writers, as pure functions of the
 * counts: what a reply holds for each access scope, in parts or whole, and values past
 * int64 clamped (JSON readers take int64 at most). */

#include <json-c/json.h>

#include "stats-reply.h"
#include "test.h"

static const TallyEntry users[] = {
        { .uid = 0, .execs = 9, .failed = 1, .events_throttled = 0, .privileged = 0,
          .last_exec_usec = 1700000000000000ull },
        { .uid = 1000, .execs = UINT64_MAX, .failed = 7, .events_throttled = 3, .privileged = UINT64_MAX,
          .last_exec_usec = 0 },
};

/* A message written whole, parsed back; t is done with. */
static json_object *message_parse(Text *t) {
        json_object *o;

        ASSERT(!t->oom);
        ASSERT(t->len > 0 && t->p[t->len - 1] == '\0'); /* a Varlink message ends with its NUL */
        ASSERT_EQ_U(strlen(t->p), t->len - 1);
        o = json_tokener_parse(t->p);
        if (!o)
                TEST_FAIL("not JSON: %s", t->p);
        text_done(t);
        return o;
}

/* One reply of users[0..n) under info, parsed back. */
static json_object *reply(const StatsReplyInfo *info, size_t n, bool continues) {
        Text t = {};

        stats_write_head(&t);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        text_add_char(&t, ',');
                stats_write_user(&t, &users[i]);
        }
        stats_write_tail(&t, info, continues);
        return message_parse(&t);
}

static int64_t get_int(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                TEST_FAIL("no integer %s in %s", key, json_object_to_json_string(o));
        return json_object_get_int64(v);
}

static void test_all(void) {
        StatsReplyInfo info = { .scope = ACCESS_ALL, .since_usec = 1600000000000000ull, .map_full_execs = 4,
                                .map_full_failed = 5 };
        json_object *o = reply(&info, 2, false), *p, *list, *u, *v;

        ASSERT(json_object_object_get_ex(o, "parameters", &p));
        ASSERT(!json_object_object_get_ex(o, "continues", &v));
        ASSERT(json_object_object_get_ex(p, "users", &list));
        ASSERT_EQ_U(json_object_array_length(list), 2);
        u = json_object_array_get_idx(list, 0);
        ASSERT_EQ(get_int(u, "uid"), 0);
        ASSERT_EQ(get_int(u, "execs"), 9);
        ASSERT_EQ(get_int(u, "failed"), 1);
        ASSERT_EQ(get_int(u, "events_throttled"), 0);
        ASSERT_EQ(get_int(u, "last_exec_usec"), 1700000000000000ll);
        ASSERT_EQ(get_int(u, "privileged"), 0);
        u = json_object_array_get_idx(list, 1);
        ASSERT_EQ(get_int(u, "uid"), 1000);
        ASSERT_EQ(get_int(u, "execs"), INT64_MAX);
        ASSERT_EQ(get_int(u, "events_throttled"), 3);
        ASSERT_EQ(get_int(u, "last_exec_usec"), 0);
        ASSERT_EQ(get_int(u, "privileged"), INT64_MAX); /* capped as JSON's integers are */
        ASSERT_EQ(get_int(p, "since_usec"), 1600000000000000ll);
        ASSERT_EQ(get_int(p, "map_full_execs"), 4);
        ASSERT_EQ(get_int(p, "map_full_failed"), 5);
        ASSERT(json_object_object_get_ex(p, "access", &v));
        ASSERT_STREQ(json_object_get_string(v), "all");
        json_object_put(o);
}

/* A user who sees only their own UID gets no figures about the others. */
static void test_own(void) {
        StatsReplyInfo info = { .scope = ACCESS_OWN, .since_usec = 1, .map_full_execs = 4, .map_full_failed = 5 };
        json_object *o = reply(&info, 1, true), *p, *v;

        ASSERT(json_object_object_get_ex(o, "continues", &v) && json_object_get_boolean(v));
        ASSERT(json_object_object_get_ex(o, "parameters", &p));
        ASSERT(!json_object_object_get_ex(p, "map_full_execs", &v));
        ASSERT(!json_object_object_get_ex(p, "map_full_failed", &v));
        ASSERT(json_object_object_get_ex(p, "access", &v));
        ASSERT_STREQ(json_object_get_string(v), access_scope_to_string(ACCESS_OWN));
        json_object_put(o);
}

static void test_empty(void) {
        StatsReplyInfo info = { .scope = ACCESS_ALL };
        json_object *o = reply(&info, 0, false), *p, *list;

        ASSERT(json_object_object_get_ex(o, "parameters", &p));
        ASSERT(json_object_object_get_ex(p, "users", &list));
        ASSERT_EQ_U(json_object_array_length(list), 0);
        json_object_put(o);
}

/* GetLogins: an unset login UID is null; the map-full count only for those who see all. */
static void test_logins(void) {
        static const LoginCount logins[] = {
                { .login_uid = 1000, .uid = 0, .execs = UINT64_MAX },
                { .login_uid = UINT32_MAX, .uid = 0, .execs = 3 },
        };
        StatsReplyInfo all = { .scope = ACCESS_ALL, .since_usec = 7, .logins_full = 2 },
                       own = { .scope = ACCESS_OWN, .since_usec = 7, .logins_full = 2 };
        json_object *o, *p, *list, *v;
        Text t = {};

        logins_write_head(&t);
        logins_write_login(&t, &logins[0]);
        text_add_char(&t, ',');
        logins_write_login(&t, &logins[1]);
        logins_write_tail(&t, &all, true);
        ASSERT(!t.oom && t.p[t.len - 1] == '\0');
        o = json_tokener_parse(t.p);
        if (!o)
                TEST_FAIL("not JSON: %s", t.p);
        ASSERT(json_object_object_get_ex(o, "continues", &v) && json_object_get_boolean(v));
        ASSERT(json_object_object_get_ex(o, "parameters", &p));
        ASSERT_EQ(get_int(p, "since_usec"), 7);
        ASSERT_EQ(get_int(p, "logins_map_full_execs"), 2);
        ASSERT(json_object_object_get_ex(p, "logins", &list));
        ASSERT_EQ_U(json_object_array_length(list), 2);
        ASSERT_EQ(get_int(json_object_array_get_idx(list, 0), "login_uid"), 1000);
        ASSERT_EQ(get_int(json_object_array_get_idx(list, 0), "execs"), INT64_MAX);
        ASSERT(json_object_object_get_ex(json_object_array_get_idx(list, 1), "login_uid", &v) && !v);
        json_object_put(o);
        text_done(&t);

        logins_write_head(&t);
        logins_write_tail(&t, &own, false);
        o = json_tokener_parse(t.p);
        ASSERT(o && json_object_object_get_ex(o, "parameters", &p));
        ASSERT(!json_object_object_get_ex(p, "logins_map_full_execs", &v));
        ASSERT(json_object_object_get_ex(p, "access", &v) && streq(json_object_get_string(v), "own"));
        json_object_put(o);
        text_done(&t);
}

/* Unit names come from cgroup directories anyone may name: escaped, whatever they hold. */
static void test_units(void) {
        static const UnitRow units[] = {
                { .unit = (char *) "machine-web\\x2dfront.scope", .uid = 0, .execs = 3, .failed = 1,
                  .last_exec_usec = 5 },
                { .unit = (char *) "/odd\"\n\x1b[31m\xff", .uid = 1000, .execs = UINT64_MAX, .failed = 0,
                  .last_exec_usec = 0 },
                /* A machine systemd-machined named for a service: escaped like the rest. */
                { .unit = (char *) "vmhost.service", .uid = 0, .execs = 1, .machine = (char *) "g\"uest\x01" },
        };
        StatsReplyInfo all = { .scope = ACCESS_ALL, .since_usec = 7, .units_full_execs = 2, .units_full_failed = 3,
                               .names_full = 4 };
        StatsReplyInfo own = { .scope = ACCESS_OWN, .since_usec = 7, .units_full_execs = 2 };
        json_object *o, *p, *list, *v, *row;
        Text t = {};

        units_write_head(&t);
        units_write_unit(&t, &units[0]);
        text_add_char(&t, ',');
        units_write_unit(&t, &units[1]);
        text_add_char(&t, ',');
        units_write_unit(&t, &units[2]);
        units_write_tail(&t, &all, false);
        ASSERT(!t.oom && t.p[t.len - 1] == '\0');
        o = json_tokener_parse(t.p);
        if (!o)
                TEST_FAIL("not JSON: %s", t.p);
        ASSERT(json_object_object_get_ex(o, "parameters", &p));
        ASSERT(!json_object_object_get_ex(o, "continues", &v));
        ASSERT_EQ(get_int(p, "units_map_full_execs"), 2);
        ASSERT_EQ(get_int(p, "units_map_full_failed"), 3);
        ASSERT_EQ(get_int(p, "unnamed_cgroups"), 4);
        ASSERT(json_object_object_get_ex(p, "units", &list));
        ASSERT_EQ_U(json_object_array_length(list), 3);
        row = json_object_array_get_idx(list, 0);
        ASSERT(json_object_object_get_ex(row, "unit", &v));
        ASSERT_STREQ(json_object_get_string(v), "machine-web\\x2dfront.scope");
        ASSERT(json_object_object_get_ex(row, "machine", &v));
        ASSERT_STREQ(json_object_get_string(v), "web-front");
        ASSERT_EQ(get_int(row, "failed"), 1);
        ASSERT_EQ(get_int(row, "last_exec_usec"), 5);
        row = json_object_array_get_idx(list, 1);
        ASSERT(!json_object_object_get_ex(row, "machine", &v));
        ASSERT(json_object_object_get_ex(row, "unit", &v));
        /* The control characters survive as themselves, the invalid byte as U+FFFD. */
        ASSERT_STREQ(json_object_get_string(v), "/odd\"\n\x1b[31m\xef\xbf\xbd");
        ASSERT_EQ(get_int(row, "uid"), 1000);
        ASSERT_EQ(get_int(row, "execs"), INT64_MAX);
        row = json_object_array_get_idx(list, 2);
        ASSERT(json_object_object_get_ex(row, "machine", &v));
        ASSERT_STREQ(json_object_get_string(v), "g\"uest\x01");
        json_object_put(o);
        text_done(&t);

        units_write_head(&t);
        units_write_tail(&t, &own, true);
        o = json_tokener_parse(t.p);
        ASSERT(o && json_object_object_get_ex(o, "parameters", &p));
        ASSERT(!json_object_object_get_ex(p, "units_map_full_execs", &v));
        ASSERT(json_object_object_get_ex(o, "continues", &v) && json_object_get_boolean(v));
        json_object_put(o);
        text_done(&t);
}

/* The same users as columns: users[0..n) of info, each column written in pieces of at
 * most piece users, parsed back. */
static json_object *columns_reply(const StatsReplyInfo *info, size_t n, size_t piece, bool continues) {
        Text t = {};

        stats_write_columns_head(&t);
        for (StatsColumn col = 0; col < _STATS_COLUMN_MAX; col++) {
                stats_write_column_open(&t, col);
                for (size_t i = 0; i < n; i += piece)
                        stats_write_column_values(&t, col, users + i, MIN(piece, n - i), i == 0);
                stats_write_column_close(&t);
        }
        stats_write_columns_tail(&t, info, continues);
        return message_parse(&t);
}

/* Columns hold what the objects hold, member for member, and the same tail; users is
 * there, empty, for readers that look for it. */
static void test_columns(void) {
        static const char *const names[] = { "uid", "execs", "failed", "events_throttled", "last_exec_usec",
                                             "privileged" };
        StatsReplyInfo info = { .scope = ACCESS_ALL, .since_usec = 1600000000000000ull, .map_full_execs = 4,
                                .map_full_failed = 5, .columns = true };

        for (size_t n = 0; n <= ELEMENTSOF(users); n++)
                for (size_t piece = 1; piece <= 2; piece++)
                        for (int continues = 0; continues <= 1; continues++) {
                                json_object *o = reply(&info, n, continues);
                                json_object *c = columns_reply(&info, n, piece, continues);
                                json_object *p, *q, *list, *cols, *col, *v, *w;

                                ASSERT(json_object_object_get_ex(o, "parameters", &p));
                                ASSERT(json_object_object_get_ex(c, "parameters", &q));
                                ASSERT_EQ(json_object_object_get_ex(c, "continues", &v), continues);
                                ASSERT(json_object_object_get_ex(q, "users", &list));
                                ASSERT_EQ_U(json_object_array_length(list), 0);
                                ASSERT(json_object_object_get_ex(q, "columns", &cols));
                                ASSERT_EQ(json_object_object_length(cols), ELEMENTSOF(names));
                                ASSERT(json_object_object_get_ex(p, "users", &list));
                                for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                                        ASSERT(json_object_object_get_ex(cols, names[k], &col));
                                        ASSERT_EQ_U(json_object_array_length(col), n);
                                        for (size_t i = 0; i < n; i++) {
                                                json_object *x = json_object_array_get_idx(col, i);

                                                ASSERT_EQ(json_object_get_int64(x),
                                                          get_int(json_object_array_get_idx(list, i), names[k]));
                                        }
                                }
                                json_object_object_foreach(p, key, val) {
                                        if (streq(key, "users"))
                                                continue;
                                        ASSERT(json_object_object_get_ex(q, key, &w));
                                        ASSERT(json_object_equal(val, w));
                                }
                                ASSERT_EQ(json_object_object_length(q), json_object_object_length(p) + 1);
                                json_object_put(o);
                                json_object_put(c);
                        }
}

int main(void) {
        test_all();
        test_columns();
        test_own();
        test_empty();
        test_logins();
        test_units();
        return 0;
}
