/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-parse.c: unit tests for parse.c. */

#include <errno.h>

#include "parse.h"
#include "test.h"

static void test_uint(void) {
        uint64_t u64;
        uint32_t u32;

        ASSERT_EQ(parse_uint64("0", &u64), 0);
        ASSERT_EQ_U(u64, 0);
        ASSERT_EQ(parse_uint64("18446744073709551615", &u64), 0);
        ASSERT_EQ_U(u64, UINT64_MAX);
        ASSERT_EQ(parse_uint64("18446744073709551616", &u64), -ERANGE);
        ASSERT_EQ(parse_uint64("-1", &u64), -EINVAL);
        ASSERT_EQ(parse_uint64("+1", &u64), -EINVAL);
        ASSERT_EQ(parse_uint64(" 1", &u64), -EINVAL);
        ASSERT_EQ(parse_uint64("1 ", &u64), -EINVAL);
        ASSERT_EQ(parse_uint64("", &u64), -EINVAL);
        ASSERT_EQ(parse_uint64("12x", &u64), -EINVAL);
        ASSERT_EQ(parse_uint64(NULL, &u64), -EINVAL);

        u32 = 7;
        ASSERT_EQ(parse_uint32("4294967295", &u32), 0);
        ASSERT_EQ_U(u32, UINT32_MAX);
        ASSERT_EQ(parse_uint32("4294967296", &u32), -ERANGE);
        ASSERT_EQ_U(u32, UINT32_MAX); /* untouched on failure */
}

static void test_size(void) {
        uint64_t v;

        ASSERT_EQ(parse_size("4096", &v), 0);
        ASSERT_EQ_U(v, 4096);
        ASSERT_EQ(parse_size("64K", &v), 0);
        ASSERT_EQ_U(v, 65536);
        ASSERT_EQ(parse_size("1m", &v), 0);
        ASSERT_EQ_U(v, 1 << 20);
        ASSERT_EQ(parse_size("2G", &v), 0);
        ASSERT_EQ_U(v, 2ULL << 30);
        ASSERT_EQ(parse_size("1T", &v), -EINVAL);
        ASSERT_EQ(parse_size("1 M", &v), -EINVAL);
        ASSERT_EQ(parse_size("M", &v), -EINVAL);
        ASSERT_EQ(parse_size("17179869184G", &v), -ERANGE);
}

static void test_timespan(void) {
        uint64_t v;

        ASSERT_EQ(parse_timespan_usec("50ms", &v), 0);
        ASSERT_EQ_U(v, 50000);
        ASSERT_EQ(parse_timespan_usec("2", &v), 0);
        ASSERT_EQ_U(v, 2000000);
        ASSERT_EQ(parse_timespan_usec("0", &v), 0);
        ASSERT_EQ_U(v, 0);
        ASSERT_EQ(parse_timespan_usec("1min 30s", &v), 0);
        ASSERT_EQ_U(v, 90000000);
        ASSERT_EQ(parse_timespan_usec("1h", &v), 0);
        ASSERT_EQ_U(v, 3600000000ULL);
        ASSERT_EQ(parse_timespan_usec("250us", &v), 0);
        ASSERT_EQ_U(v, 250);
        ASSERT_EQ(parse_timespan_usec("5sec", &v), 0);
        ASSERT_EQ_U(v, 5000000);
        ASSERT_EQ(parse_timespan_usec("1m", &v), 0);
        ASSERT_EQ_U(v, 60000000);
        ASSERT_EQ(parse_timespan_usec("1s2", &v), -EINVAL); /* a bare number only alone */
        ASSERT_EQ(parse_timespan_usec("", &v), -EINVAL);
        ASSERT_EQ(parse_timespan_usec("ms", &v), -EINVAL);
        ASSERT_EQ(parse_timespan_usec("5 parsecs", &v), -EINVAL);
        ASSERT_EQ(parse_timespan_usec("-5s", &v), -EINVAL);
        ASSERT_EQ(parse_timespan_usec("18446744073709551615h", &v), -ERANGE);
}

static void test_boolean(void) {
        bool b;

        ASSERT_EQ(parse_boolean("yes", &b), 0);
        ASSERT(b);
        ASSERT_EQ(parse_boolean("OFF", &b), 0);
        ASSERT(!b);
        ASSERT_EQ(parse_boolean("1", &b), 0);
        ASSERT(b);
        ASSERT_EQ(parse_boolean("maybe", &b), -EINVAL);
        ASSERT_EQ(parse_boolean("", &b), -EINVAL);
}

int main(void) {
        test_uint();
        test_size();
        test_timespan();
        test_boolean();
        return 0;
}
