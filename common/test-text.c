/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-text.c: unit tests for text.c; JSON strings are checked by parsing them back. */

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "test.h"
#include "text.h"
#include "utf8.h"

/* The JSON string written for s[0..n), parsed back by json-c. */
static char *roundtrip(const char *s, size_t n) {
        Text t = {};
        json_object *o;
        char *back;

        text_add_json_string(&t, s, n);
        ASSERT(!t.oom);
        text_add_char(&t, '\0');
        o = json_tokener_parse(t.p);
        ASSERT(o && json_object_is_type(o, json_type_string));
        back = strdup(json_object_get_string(o));
        json_object_put(o);
        text_done(&t);
        return back;
}

static void test_json_strings(void) {
        static const struct {
                const char *in;
                size_t n;
                const char *out;
        } cases[] = {
                { "plain", 5, "plain" },
                { "quote\" back\\slash", 17, "quote\" back\\slash" },
                { "\x01\x1f\n\t\r\x7f", 6, "\x01\x1f\n\t\r\x7f" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
                /* Not UTF-8: each bad byte reads as U+FFFD. */
                { "\xff\xc0\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
                { "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
                { "", 0, "" },
                /* Plain runs between escapes and multibyte sequences. */
                { "/usr/bin/a\"b\xc3\xa9" "c\\d\x01" "e", 19, "/usr/bin/a\"b\xc3\xa9" "c\\d\x01" "e" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *back = roundtrip(cases[i].in, cases[i].n);

                ASSERT_STREQ(back, cases[i].out);
                free(back);
        }
        /* Whether the bytes were UTF-8, as utf8_is_valid() says. */
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Text t = {};

                ASSERT(text_add_json_string(&t, cases[i].in, cases[i].n) == utf8_is_valid(cases[i].in, cases[i].n));
                text_done(&t);
        }
        /* Every byte value, 4095 of them: the worst case size holds. */
        char all[4096];
        for (size_t i = 0; i < sizeof(all); i++)
                all[i] = (char) (i % 255 + 1);
        free(roundtrip(all, sizeof(all)));
}

/* Strings of bytes that take every path, eight at a time or one, at every offset: each
 * reads back as its sanitized self. */
static void test_json_strings_mixed(void) {
        static const char pieces[] = "abcdefgh/._-0123\"\\\x01\x1f\x7f\xc3\xa9\xe2\x82\xac\xff\xc0\n";
        uint32_t seed = 1;

        for (size_t round = 0; round < 20000; round++) {
                char s[64], *back, *want;
                size_t n;

                seed = seed * 1103515245 + 12345;
                n = (seed >> 16) % sizeof(s);
                for (size_t i = 0; i < n; i++) {
                        seed = seed * 1103515245 + 12345;
                        /* Mostly plain bytes, as names are. */
                        s[i] = (seed >> 16) % 4 > 0 ? pieces[(seed >> 20) % 12]
                                                    : pieces[(seed >> 20) % (sizeof(pieces) - 1)];
                }
                back = roundtrip(s, n);
                want = utf8_sanitize(s, n);
                ASSERT_STREQ(back, want);
                free(back);
                free(want);
        }
}

static void test_numbers(void) {
        Text t = {};

        text_add_u64(&t, 0);
        text_add_char(&t, ' ');
        text_add_u64(&t, UINT64_MAX);
        text_add_char(&t, ' ');
        text_add_i64(&t, INT64_MIN);
        text_add_char(&t, ' ');
        text_add_i64(&t, -2);
        text_add_char(&t, ' ');
        text_add_hex(&t, "\x00\xab\xff", 3);
        text_add_char(&t, '\0');
        ASSERT_STREQ(t.p, "0 18446744073709551615 -9223372036854775808 -2 00abff");
        text_done(&t);

        /* Every number of digits, at its edges: the digits go two at a time. */
        for (uint64_t v = 1, n = 1; n <= 19; v *= 10, n++) {
                char want[64];

                snprintf(want, sizeof(want), "%" PRIu64 " %" PRIu64 " %" PRIu64, v - 1, v, v * 10 - 1);
                text_add_u64(&t, v - 1);
                text_add_char(&t, ' ');
                text_add_u64(&t, v);
                text_add_char(&t, ' ');
                text_add_u64(&t, v * 10 - 1);
                text_add_char(&t, '\0');
                ASSERT_STREQ(t.p, want);
                t.len = 0;
        }
        /* Numbers of every width, and the powers of two around them. */
        for (uint64_t i = 0, x = 88172645463325252ull; i < 64 * 200; i++) {
                char want[32];
                uint64_t v;

                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                v = i % 3 == 0 ? x >> (i % 64) : i % 3 == 1 ? (1ull << (i % 64)) : (1ull << (i % 64)) - 1;
                snprintf(want, sizeof(want), "%" PRIu64, v);
                text_add_u64(&t, v);
                text_add_char(&t, '\0');
                ASSERT_STREQ(t.p, want);
                t.len = 0;
        }
        text_done(&t);
        /* Every length of number, and the edges of the two-digit steps, as printf has them. */
        for (uint64_t v = 1, i = 0; i < 20; i++, v *= 10)
                for (uint64_t d = 0; d < 3; d++) {
                        char want[32], got[TEXT_U64_MAX + 1];
                        uint64_t x = v - 1 + d * (v / 2 + 1);

                        snprintf(want, sizeof(want), "%" PRIu64, x);
                        *text_put_u64(got, x) = '\0';
                        ASSERT_STREQ(got, want);
                }
}

static void test_steal(void) {
        Text t = {};
        size_t len, alloc;
        char *p;

        text_add(&t, "abc");
        p = text_steal(&t, &len, &alloc);
        ASSERT(p && len == 3 && alloc >= 3 && memcmp(p, "abc", 3) == 0);
        ASSERT(!t.p && t.len == 0);
        free(p);
}

/* Arguments as shown: escaped, and quoted when they could be misread. */
static void test_args(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "ls", "ls" },
                { "--color=auto", "--color=auto" },
                { "/tmp/a,b:c@d%e+f.g_h", "/tmp/a,b:c@d%e+f.g_h" },
                { "gr\xc3\xbc\xc3\x9f" "e", "gr\xc3\xbc\xc3\x9f" "e" }, /* UTF-8 letters need no quotes */
                { "", "\"\"" },
                { "a b", "\"a b\"" },
                { "say \"hi\"", "\"say \\\"hi\\\"\"" },
                { "it's", "\"it's\"" },
                { "[...]", "\"[...]\"" }, /* cannot pass for the truncation marker */
                { "-", "\"-\"" },         /* nor for "not captured" */
                { "--", "--" },
                { "a\xc2\xa0" "b", "\"a\\xc2\\xa0b\"" }, /* a no-break space: not one argument for two */
                { "$(rm -rf ~)", "\"$(rm -rf ~)\"" },
                { "a\nb", "\"a\\nb\"" },
                { "\x1b[31mred", "\"\\x1b[31mred\"" },
                { "back\\slash", "\"back\\\\slash\"" },
                { "\xff", "\"\\xff\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Text t = {};

                text_add_arg(&t, cases[i].in);
                text_add_char(&t, '\0');
                ASSERT(!t.oom);
                ASSERT_STREQ(t.p, cases[i].out);
                text_done(&t);
        }
}

int main(void) {
        test_args();
        test_json_strings();
        test_json_strings_mixed();
        test_numbers();
        test_steal();
        return 0;
}
