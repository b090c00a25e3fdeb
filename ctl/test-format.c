/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-format.c: unit tests for format.c. */

#include <errno.h>
#include <stdlib.h>

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
        test_misc();
        return 0;
}
