/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-format.c: unit tests for format.c. */

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "format.h"
#include "test.h"

static char *print_table(Table *t, bool legend) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ASSERT(f);
        ASSERT_EQ(table_print(t, f, legend), 0);
        fclose(f);
        return buf;
}

static void test_table(void) {
        static const char *const headers[] = { "UID", "USER", "EXECS" };
        static const Align align[] = { ALIGN_RIGHT, ALIGN_LEFT, ALIGN_RIGHT };
        Table *t;
        char *out;

        ASSERT_EQ(table_new(3, headers, align, &t), 0);
        ASSERT_EQ(table_add_row(t, (const char *[]) { "0", "root", "1234" }), 0);
        ASSERT_EQ(table_add_row(t, (const char *[]) { "1000", "j\xc3\xbcrgen", "5" }), 0);
        ASSERT_EQ(table_add_row(t, (const char *[]) { "65534", "evil\x1b[2J", NULL }), 0);
        ASSERT_EQ_U(table_rows(t), 3);

        out = print_table(t, true);
        ASSERT_STREQ(out, "  UID USER        EXECS\n"
                          "    0 root         1234\n"
                          " 1000 j\xc3\xbcrgen          5\n"
                          "65534 evil\\x1b[2J      \n");
        free(out);

        /* Without the legend, headers do not widen the columns. */
        out = print_table(t, false);
        ASSERT_STREQ(out, "    0 root        1234\n"
                          " 1000 j\xc3\xbcrgen         5\n"
                          "65534 evil\\x1b[2J     \n");
        free(out);

        table_clear(t);
        ASSERT_EQ_U(table_rows(t), 0);
        table_set_fixed_widths(t, (const size_t[]) { 6, 0, 0 });
        ASSERT_EQ(table_add_row(t, (const char *[]) { "1", "a", "2" }), 0);
        out = print_table(t, false);
        ASSERT_STREQ(out, "     1 a 2\n");
        free(out);
        table_free(t);
}

static void test_times(void) {
        char ts[FORMAT_TIMESTAMP_MAX], span[FORMAT_TIMESPAN_MAX];

        setenv("TZ", "UTC", 1);
        tzset();
        ASSERT_STREQ(format_timestamp(ts, 1795412183830246ULL), "2026-11-23 05:36:23");
        ASSERT_STREQ(format_timestamp_ms(ts, 1795412183830246ULL), "2026-11-23 05:36:23.830");
        ASSERT_STREQ(format_timestamp(ts, 0), "n/a");

        ASSERT_STREQ(format_timespan(span, 0), "0");
        ASSERT_STREQ(format_timespan(span, 250), "250us");
        ASSERT_STREQ(format_timespan(span, 1500), "1ms");
        ASSERT_STREQ(format_timespan(span, 27148), "27ms");
        ASSERT_STREQ(format_timespan(span, 5250000), "5s");
        ASSERT_STREQ(format_timespan(span, 90000000), "1min 30s");
        ASSERT_STREQ(format_timespan(span, 3600000000ULL + 5000000), "1h");
        ASSERT_STREQ(format_timespan(span, 90000ULL * 1000000), "1d 1h");
}

static void test_misc(void) {
        char buf[32];

        ASSERT_STREQ(format_result(buf, 0), "ok");
        ASSERT_STREQ(format_result(buf, -ENOENT), "ENOENT");
        ASSERT_STREQ(format_result(buf, -EACCES), "EACCES");
        ASSERT_STREQ(format_result(buf, -9999), "error -9999");
        ASSERT_STREQ(format_result(buf, 3), "error 3");

        ASSERT_STREQ(format_size(buf, 512), "512B");
        ASSERT_STREQ(format_size(buf, 1 << 20), "1.0M");
        ASSERT_STREQ(format_size(buf, 1536), "1.5K");
        ASSERT_EQ_U(utf8_width("j\xc3\xbcrgen"), 6);
}

int main(void) {
        test_table();
        test_times();
        test_misc();
        return 0;
}
