/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-json-scan.c: unit tests for json-scan.c, against what json-c accepts. */

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "json-scan.h"
#include "macro.h"
#include "test.h"

static JsonSpan span(const char *s) {
        return (JsonSpan) { s, strlen(s) };
}

/* The scan and json-c agree on whether s is one well-formed value. */
static void test_agrees(const char *s) {
        const char *end = s + strlen(s), *got = json_scan_skip(s, end);
        json_object *o = json_tokener_parse(s);
        bool scan_ok = got && *got == '\0';

        /* json-c is lenient where the scan is not (e.g. "[1,]"): only check that what the
         * scan takes, json-c takes too. */
        if (scan_ok)
                ASSERT(o != NULL);
        json_object_put(o);
}

static void test_skip(void) {
        static const char *const good[] = {
                "0", "-1", "1.5e+3", "\"a\\\"b\\u00e9\"", "[]", "{}", "[1, {\"a\": [null, true, false]}]",
                " {\"k\" : \"v\" } ",
        };
        static const char *const bad[] = {
                "", "-", "1.", "1e", "\"abc", "\"\\x\"", "\"\\u12\"", "[1", "[1 2]", "{\"a\"}", "{\"a\":}",
                "{a:1}", "tru", "nul", "[,1]", "{,}", "01", "-00", "\"a\x01\"",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                const char *end = good[i] + strlen(good[i]), *got = json_scan_skip(good[i], end);

                ASSERT(got != NULL);
                test_agrees(good[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *end = bad[i] + strlen(bad[i]), *got = json_scan_skip(bad[i], end);

                ASSERT(got == NULL || got != end);
        }

        /* Deep nesting is refused rather than recursed into. */
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        ASSERT(json_scan_skip(deep, deep + 200) == NULL);
        /* A cut text: never read past its end. */
        const char *cut = "{\"a\":[1,2";
        ASSERT(json_scan_skip(cut, cut + strlen(cut)) == NULL);
}

static void test_members(void) {
        JsonSpan v, key;
        JsonIter it;
        int64_t i;

        ASSERT_EQ(json_scan_member(span("{\"a\":1,\"b\":{\"c\":2},\"d\":-9}"), "d", &v), 0);
        ASSERT_EQ(json_scan_int64(v, INT64_MIN, INT64_MAX, &i), 0);
        ASSERT_EQ(i, -9);
        ASSERT_EQ(json_scan_member(span("{\"a\":1,\"b\":{\"c\":2}}"), "c", &v), -ENOENT); /* not nested ones */
        ASSERT_EQ(json_scan_member(span("{\"a\":1,\"b\":{\"c\":2}}"), "b", &v), 0);
        ASSERT_EQ((int) v.len, 7);
        ASSERT_EQ(json_scan_member(span("{}"), "a", &v), -ENOENT);
        ASSERT_EQ(json_scan_member(span("[1]"), "a", &v), -EBADMSG);
        ASSERT_EQ(json_scan_member(span("{\"a\":1,"), "a", &v), -EBADMSG);
        ASSERT_EQ(json_scan_member(span("{\"\\u0061\":1}"), "a", &v), -ENOENT); /* escaped keys never match */

        ASSERT_EQ(json_scan_object_begin(span("{\"x\": 1 , \"y\":[2]}"), &it), 0);
        ASSERT_EQ(json_scan_object_next(&it, &key, &v), 1);
        ASSERT(json_scan_key_is(key, "x"));
        ASSERT_EQ(json_scan_object_next(&it, &key, &v), 1);
        ASSERT(json_scan_key_is(key, "y") && !json_scan_key_is(key, "yy"));
        ASSERT_EQ(json_scan_object_next(&it, &key, &v), 0);
        ASSERT_EQ(json_scan_object_begin(span("{\"x\":1 \"y\":2}"), &it), 0);
        ASSERT_EQ(json_scan_object_next(&it, &key, &v), 1);
        ASSERT_EQ(json_scan_object_next(&it, &key, &v), -EBADMSG);

        /* Several members in one walk: those missing are {NULL, 0}; the first of duplicates
         * wins, as with json_scan_member(); nested ones are not members. */
        static const char *const keys[] = { "d", "a", "c", "zz" };
        JsonSpan m[4];

        ASSERT_EQ(json_scan_members(span("{\"a\":1,\"b\":{\"c\":2},\"d\":[-9],\"a\":3}"), keys, m, 4), 0);
        ASSERT(m[0].len == 4 && memcmp(m[0].p, "[-9]", 4) == 0);
        ASSERT(m[1].len == 1 && m[1].p[0] == '1');
        ASSERT(!m[2].p && m[2].len == 0);
        ASSERT(!m[3].p);
        ASSERT_EQ(json_scan_members(span("{\"d\":1,"), keys, m, 4), -EBADMSG);
        ASSERT_EQ(json_scan_members(span("[]"), keys, m, 4), -EBADMSG);
        ASSERT_EQ(json_scan_members(span("{}"), keys, m, 4), 0);
        ASSERT(!m[0].p && !m[1].p);

        /* An object that text goes on after: its end. */
        const char *text = "{\"a\":{\"d\":\"}\"}, \"d\" :2 },\"x\":1}", *end = NULL;

        ASSERT_EQ(json_scan_members_end(span(text), keys, m, 4, &end), 0);
        ASSERT(end && streq(end, ",\"x\":1}"));
        ASSERT(m[0].len == 1 && m[0].p[0] == '2');
        ASSERT(m[1].len == 9 && memcmp(m[1].p, "{\"d\":\"}\"}", 9) == 0);
        end = NULL;
        ASSERT_EQ(json_scan_members_end(span("{\"d\":1"), keys, m, 4, &end), -EBADMSG);
        ASSERT(!end);
}

static void test_arrays(void) {
        JsonIter it;
        JsonSpan v;
        int64_t sum = 0, i;

        ASSERT_EQ(json_scan_array_begin(span(" [1, 2 ,3]"), &it), 0);
        while (json_scan_array_next(&it, &v) > 0) {
                ASSERT_EQ(json_scan_int64(v, 0, 10, &i), 0);
                sum += i;
        }
        ASSERT_EQ(sum, 6);
        ASSERT_EQ(json_scan_array_begin(span("[]"), &it), 0);
        ASSERT_EQ(json_scan_array_next(&it, &v), 0);
        ASSERT_EQ(json_scan_array_begin(span("[1,,2]"), &it), 0);
        ASSERT_EQ(json_scan_array_next(&it, &v), 1);
        ASSERT_EQ(json_scan_array_next(&it, &v), -EBADMSG);
        ASSERT_EQ(json_scan_array_begin(span("[1"), &it), 0);
        ASSERT_EQ(json_scan_array_next(&it, &v), 1);
        ASSERT_EQ(json_scan_array_next(&it, &v), -EBADMSG);
        ASSERT_EQ(json_scan_array_begin(span("{}"), &it), -EBADMSG);
}

static void test_int64(void) {
        int64_t i;

        ASSERT_EQ(json_scan_int64(span("9223372036854775807"), INT64_MIN, INT64_MAX, &i), 0);
        ASSERT_EQ(i, INT64_MAX);
        ASSERT_EQ(json_scan_int64(span("-9223372036854775808"), INT64_MIN, INT64_MAX, &i), 0);
        ASSERT(i == INT64_MIN);
        ASSERT_EQ(json_scan_int64(span("9223372036854775808"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("1.5"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("1e3"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("\"1\""), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("-1"), 0, 10, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("11"), 0, 10, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span(""), 0, 10, &i), -EBADMSG);
        /* Past eighteen digits each one is checked against the limit. */
        ASSERT_EQ(json_scan_int64(span("999999999999999999"), INT64_MIN, INT64_MAX, &i), 0);
        ASSERT_EQ(i, 999999999999999999);
        ASSERT_EQ(json_scan_int64(span("9999999999999999999"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("-9223372036854775809"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("18446744073709551616"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span("123456789012345678901234567890"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
        /* JSON has no leading zeros. */
        ASSERT_EQ(json_scan_int64(span("01"), 0, 10, &i), -EBADMSG);
        ASSERT_EQ(json_scan_int64(span(" 0 "), 0, 10, &i), 0);
        ASSERT_EQ(i, 0);
        ASSERT_EQ(json_scan_int64(span("-"), INT64_MIN, INT64_MAX, &i), -EBADMSG);
}

/* The one-pass reader of integer arrays: every value where stride puts it, and anything
 * but an array of integers in range refused, as a walk and a scan of each would. */
static void test_int64_array(void) {
        int64_t v[8] = {}, pairs[6] = {};

        ASSERT_EQ(json_scan_int64_array(span(" [ 1 ,2,\n3 ] "), 0, 10, v, 1, 8, NULL), 3);
        ASSERT(v[0] == 1 && v[1] == 2 && v[2] == 3);
        ASSERT_EQ(json_scan_int64_array(span("[4,5,6]"), 0, 10, pairs, 2, 3, NULL), 3);
        ASSERT(pairs[0] == 4 && pairs[1] == 0 && pairs[2] == 5 && pairs[4] == 6);
        ASSERT_EQ(json_scan_int64_array(span("[7,8,9]"), 0, 10, NULL, 0, SIZE_MAX, NULL), 3);
        ASSERT_EQ(json_scan_int64_array(span("[]"), 0, 10, v, 1, 0, NULL), 0);
        ASSERT_EQ(json_scan_int64_array(span("[9223372036854775807,-9223372036854775808,0]"), INT64_MIN,
                                        INT64_MAX, v, 1, 8, NULL), 3);
        ASSERT(v[0] == INT64_MAX && v[1] == INT64_MIN && v[2] == 0);
        ASSERT_EQ(json_scan_int64_array(span("[1,2,3]"), 0, 10, v, 1, 2, NULL), -EBADMSG); /* more than n_max */
        ASSERT_EQ(json_scan_int64_array(span("[11]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[-1]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[9223372036854775808]"), INT64_MIN, INT64_MAX, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[1.5]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[1e3]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[01]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[-]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[null]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[\"1\"]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[1,,2]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[1,]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[1 2]"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[1"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("[1] x"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span("{}"), 0, 10, v, 1, 8, NULL), -EBADMSG);
        ASSERT_EQ(json_scan_int64_array(span(""), 0, 10, v, 1, 8, NULL), -EBADMSG);
}

/* An object walked a member at a time, its arrays read where they start: the walk goes
 * on after each, and a value read with a skip does too. */
static void test_object_keys(void) {
        JsonSpan obj = span(" { \"a\" : [1,2] , \"b\":{\"x\":[3]},\"c\":[4] } "), key, rest;
        JsonIter it;
        int64_t v[4];
        const char *end;

        ASSERT_EQ(json_scan_object_begin(obj, &it), 0);
        ASSERT_EQ(json_scan_object_next_key(&it, &key, &rest), 1);
        ASSERT(json_scan_key_is(key, "a"));
        ASSERT_EQ(json_scan_int64_array(rest, 0, 10, v, 1, 4, &end), 2);
        ASSERT(v[0] == 1 && v[1] == 2 && *end == ' ');
        json_scan_object_resume(&it, end);
        ASSERT_EQ(json_scan_object_next_key(&it, &key, &rest), 1);
        ASSERT(json_scan_key_is(key, "b"));
        end = json_scan_skip(rest.p, rest.p + rest.len);
        ASSERT(end && *end == ',');
        json_scan_object_resume(&it, end);
        ASSERT_EQ(json_scan_object_next_key(&it, &key, &rest), 1);
        ASSERT(json_scan_key_is(key, "c"));
        ASSERT_EQ(json_scan_int64_array(rest, 0, 10, v, 1, 4, NULL), -EBADMSG); /* "}" follows */
        ASSERT_EQ(json_scan_int64_array(rest, 0, 10, v, 1, 4, &end), 1);
        json_scan_object_resume(&it, end);
        ASSERT_EQ(json_scan_object_next_key(&it, &key, &rest), 0);
        ASSERT(json_scan_iter_end(&it) == obj.p + obj.len - 1); /* the closing brace's end */

        ASSERT_EQ(json_scan_object_begin(span("{\"a\" [1]}"), &it), 0);
        ASSERT_EQ(json_scan_object_next_key(&it, &key, &rest), -EBADMSG);
        ASSERT_EQ(json_scan_object_begin(span("{\"a\":[1] \"b\":[2]}"), &it), 0);
        ASSERT_EQ(json_scan_object_next_key(&it, &key, &rest), 1);
        ASSERT_EQ(json_scan_int64_array(rest, 0, 10, v, 1, 4, &end), 1);
        json_scan_object_resume(&it, end);
        ASSERT_EQ(json_scan_object_next_key(&it, &key, &rest), -EBADMSG); /* no comma */
}

int main(void) {
        test_skip();
        test_object_keys();
        test_int64_array();
        test_members();
        test_arrays();
        test_int64();
        return 0;
}
