/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-utf8.c: unit tests for utf8.c. */

#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "test.h"
#include "utf8.h"

static void test_valid(void) {
        ASSERT(utf8_is_valid("", 0));
        ASSERT(utf8_is_valid("/usr/bin/true", 13));
        ASSERT(utf8_is_valid("gr\xc3\xbc\xc3\x9f", 6));         /* grüß */
        ASSERT(utf8_is_valid("\xe2\x82\xac", 3));              /* € */
        ASSERT(utf8_is_valid("\xf0\x9f\x98\x80", 4));          /* U+1F600 */
        ASSERT(!utf8_is_valid("\xff", 1));
        ASSERT(!utf8_is_valid("\xc3", 1));                     /* truncated */
        ASSERT(!utf8_is_valid("\xc0\xaf", 2));                 /* overlong '/' */
        ASSERT(!utf8_is_valid("\xe0\x80\xaf", 3));             /* overlong '/' */
        ASSERT(!utf8_is_valid("/usr/bin/\xff", 10));            /* bad after ASCII */
        ASSERT(utf8_is_valid("/usr/bin/gr\xc3\xbc\xc3\x9f", 15));
        ASSERT(!utf8_is_valid("/usr/bin/gr\xc3", 12));          /* truncated after ASCII */
        ASSERT(!utf8_is_valid("\xed\xa0\x80", 3));             /* surrogate */
        ASSERT(!utf8_is_valid("\xf4\x90\x80\x80", 4));         /* > U+10FFFF */
}

static void test_sanitize(void) {
        _cleanup_(freep) char *a = utf8_sanitize("ok\xff/x", 5);
        _cleanup_(freep) char *b = utf8_sanitize("\xc3\xbc", 2);
        _cleanup_(freep) char *c = utf8_sanitize("a\0b", 3);

        ASSERT_STREQ(a, "ok\xef\xbf\xbd/x");
        ASSERT_STREQ(b, "\xc3\xbc");
        ASSERT_STREQ(c, "a\xef\xbf\xbd" "b");
}

static void test_terminal(void) {
        _cleanup_(freep) char *a = utf8_escape_for_terminal("/tmp/\x1b[31mred");
        _cleanup_(freep) char *b = utf8_escape_for_terminal("a\\b\nc\td");
        _cleanup_(freep) char *c = utf8_escape_for_terminal("\xc2\x9b" "x \xc3\xbc \xff");

        ASSERT_STREQ(a, "/tmp/\\x1b[31mred");
        ASSERT_STREQ(b, "a\\\\b\\nc\\td");
        ASSERT_STREQ(c, "\\xc2\\x9bx \xc3\xbc \\xff");

        /* What shows as a space or as nothing, or turns text around, is escaped too:
         * no-break space, zero-width space, right-to-left override, byte order mark. */
        _cleanup_(freep) char *d = utf8_escape_for_terminal("a\xc2\xa0" "b\xe2\x80\x8b" "c\xe2\x80\xae" "d\xef\xbb\xbf");
        ASSERT_STREQ(d, "a\\xc2\\xa0b\\xe2\\x80\\x8bc\\xe2\\x80\\xaed\\xef\\xbb\\xbf");
        /* Other letters and symbols stay as they are. */
        _cleanup_(freep) char *e = utf8_escape_for_terminal("\xe2\x82\xac \xe6\x97\xa5");
        ASSERT_STREQ(e, "\xe2\x82\xac \xe6\x97\xa5");
}

/* Sequences at the edges: C1 controls against the first letters after them, sequences
 * cut short at the end, overlong forms and surrogates (byte by byte), a 4-byte letter
 * and a 4-byte invisible tag character, DEL in the middle. */
static void test_terminal_sequences(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "\xc2\x80", "\\xc2\\x80" },
                { "\xc2\x9f", "\\xc2\\x9f" },
                { "\xc2\xa0", "\\xc2\\xa0" },
                { "\xc2\xa1", "\xc2\xa1" },
                { "a\xe2\x82", "a\\xe2\\x82" },
                { "\xf0\x9f\x98", "\\xf0\\x9f\\x98" },
                { "x\xf0\x9f\x98\x80", "x\xf0\x9f\x98\x80" },
                { "\xf3\xa0\x80\x81", "\\xf3\\xa0\\x80\\x81" },
                { "\xc0\xaf", "\\xc0\\xaf" },
                { "\xed\xa0\x80", "\\xed\\xa0\\x80" },
                { "a\x7f" "b", "a\\x7fb" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *got = utf8_escape_for_terminal(cases[i].in);

                ASSERT_STREQ(got, cases[i].out);
        }
}

/* Every byte alone: printable ASCII as it is, three escapes by name, the rest in hex. */
static void test_terminal_bytes(void) {
        for (unsigned c = 1; c < 256; c++) {
                char in[2] = { (char) c, 0 }, want[8];
                _cleanup_(freep) char *got = utf8_escape_for_terminal(in);

                if (c == '\\')
                        strcpy(want, "\\\\");
                else if (c == '\n')
                        strcpy(want, "\\n");
                else if (c == '\t')
                        strcpy(want, "\\t");
                else if (c >= 0x20 && c < 0x7f)
                        strcpy(want, in);
                else
                        snprintf(want, sizeof(want), "\\x%02x", c);
                ASSERT_STREQ(got, want);
        }
        /* A long run, as a hostile name is: each byte four. */
        char long_name[4001];
        memset(long_name, 0x01, 4000);
        long_name[4000] = 0;
        _cleanup_(freep) char *l = utf8_escape_for_terminal(long_name);
        ASSERT(l && strlen(l) == 16000);
        ASSERT(strncmp(l, "\\x01\\x01", 8) == 0 && streq(l + 15996, "\\x01"));
}

int main(void) {
        test_valid();
        test_sanitize();
        test_terminal();
        test_terminal_bytes();
        test_terminal_sequences();
        return 0;
}
