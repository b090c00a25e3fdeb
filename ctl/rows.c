/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rows.c: what the commands that list counts share. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pager.h"
#include "rows.h"

int rows_scan_ints(JsonSpan obj, const char *const *keys, int64_t *const *fields, const int64_t *max, size_t n,
                   unsigned required, unsigned nullable) {
        unsigned seen = 0;
        JsonIter iter;
        JsonSpan key, value;
        int r;

        for (size_t k = 0; k < n; k++)
                if (!(required & (1u << k)))
                        *fields[k] = -1;
        if (json_scan_object_begin(obj, &iter) < 0)
                return -EBADMSG;
        while ((r = json_scan_object_next(&iter, &key, &value)) > 0)
                for (size_t k = 0; k < n; k++) {
                        if (!json_scan_key_is(key, keys[k]))
                                continue;
                        if (seen & (1u << k))
                                return -EBADMSG;
                        if ((nullable & (1u << k)) && value.len == 4 && memcmp(value.p, "null", 4) == 0)
                                *fields[k] = -1;
                        else if (json_scan_int64(value, 0, max[k], fields[k]) < 0)
                                return -EBADMSG;
                        seen |= 1u << k;
                        break;
                }
        return r < 0 || (seen & required) != required ? -EBADMSG : 0;
}

int rows_grow(void **rows, size_t *alloc, size_t n, size_t size) {
        size_t want;
        void *p;

        if (n < *alloc)
                return 0;
        want = *alloc ? *alloc * 2 : 64;
        p = reallocarray(*rows, want, size);
        if (!p)
                return -ENOMEM;
        *rows = p;
        *alloc = want;
        return 0;
}

JsonLayout rows_json_layout(JsonMode mode) {
        bool pretty = mode == JSON_PRETTY;

        return (JsonLayout) {
                .nl = pretty ? "\n" : "",
                .in1 = pretty ? "  " : "",
                .in2 = pretty ? "    " : "",
                .in3 = pretty ? "      " : "",
                .sp = pretty ? " " : "",
        };
}

void rows_json_name(const char *name) {
        if (name)
                format_json_string(stdout, name);
        else
                fputs("null", stdout);
}

void rows_json_tail(const JsonLayout *j, size_t n, int64_t since, bool own_only) {
        printf("%s%s],%s%s\"since_usec\":%s%" PRIi64 ",%s%s\"access\":%s\"%s\"", n ? j->nl : "", n ? j->in1 : "",
               j->nl, j->in1, j->sp, since, j->nl, j->in1, j->sp, own_only ? "own" : "all");
}

int rows_json_end(const JsonLayout *j) {
        printf("%s}\n", j->nl);
        return fflush(stdout) == 0 ? 0 : (log_error_errno(-errno, "Failed to write: %m"), EXIT_FAILURE);
}

void rows_show(const Args *a, const Table *t, size_t n, RowsFooterFn footer, const void *userdata) {
        if (a->pager)
                pager_open();
        if (n > 0 || !a->legend)
                table_print(t, stdout, a->legend);
        if (a->legend)
                footer(a, userdata);
        pager_close();
}

bool rows_unit_matches(const char *unit, const char *want) {
        size_t a = strlen(unit), b = strlen(want);

        return streq(unit, want) || (a > b && unit[a - b - 1] == '/' && streq(unit + a - b, want));
}
