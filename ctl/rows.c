/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rows.c: what the commands that list counts share. */

#include <assert.h>
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

/* Key k of row i, as an unsigned number in the order wanted. */
static uint64_t row_key(const void *rows, size_t size, size_t i, size_t offset, bool descending) {
        int64_t v;

        memcpy(&v, (const uint8_t *) rows + i * size + offset, sizeof(v));
        /* Flipping the sign bit orders int64_t as uint64_t; inverting all bits reverses. */
        return ((uint64_t) v ^ (UINT64_C(1) << 63)) ^ (descending ? UINT64_MAX : 0);
}

int rows_order(const void *rows, size_t size, size_t n, const size_t *offsets, size_t n_keys, unsigned descending,
               uint32_t *ret_order) {
        _cleanup_(freep) uint32_t *a = NULL, *b = NULL;
        _cleanup_(freep) size_t *counts = NULL; /* [key][byte][value] */

        assert(n <= UINT32_MAX && n_keys <= 32);
        if (n == 0)
                return 0;
        a = malloc(n * sizeof(*a));
        b = malloc(n * sizeof(*b));
        counts = calloc(n_keys * 8 * 256, sizeof(*counts));
        if (!a || !b || !counts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                a[i] = (uint32_t) i;
                for (size_t k = 0; k < n_keys; k++) {
                        uint64_t key = row_key(rows, size, i, offsets[k], descending & (1u << k));

                        for (unsigned d = 0; d < 8; d++)
                                counts[(k * 8 + d) * 256 + ((key >> (8 * d)) & 0xff)]++;
                }
        }
        /* Least significant first: the last key's lowest byte, up to the first key's highest. */
        for (size_t k = n_keys; k-- > 0;)
                for (unsigned d = 0; d < 8; d++) {
                        bool desc = descending & (1u << k);
                        size_t *c = counts + (k * 8 + d) * 256, at = 0;
                        uint32_t *swap;

                        if (c[(row_key(rows, size, 0, offsets[k], desc) >> (8 * d)) & 0xff] == n)
                                continue;
                        for (unsigned v = 0; v < 256; v++) {
                                size_t m = c[v];

                                c[v] = at;
                                at += m;
                        }
                        for (size_t i = 0; i < n; i++)
                                b[c[(row_key(rows, size, a[i], offsets[k], desc) >> (8 * d)) & 0xff]++] = a[i];
                        swap = a;
                        a = b;
                        b = swap;
                }
        memcpy(ret_order, a, n * sizeof(*a));
        return 0;
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
