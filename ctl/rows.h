/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rows.h: what the commands that list counts (stats, stats --by=login) share: reading a
 * reply's rows of integers, printing them as JSON as they go, and showing their table. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "format.h"
#include "json-scan.h"

/* One object's integer members, in one pass: each of keys[k] at most once, into
 * *fields[k], from 0 to max[k]. With a bit per key: those not in required may be missing,
 * those in nullable may be null; either reads as -1. */
int rows_scan_ints(JsonSpan obj, const char *const *keys, int64_t *const *fields, const int64_t *max, size_t n,
                   unsigned required, unsigned nullable);

/* The order of n rows by keys: by the int64_t at offsets[0] of each row (of size bytes,
 * from rows) ascending, or descending if bit 0 of descending is set; equal ones by
 * offsets[1], and so on; equal in all in their order (stable). Into ret_order; -ENOMEM,
 * ret_order untouched, if there is no room to sort. A radix sort, a byte a pass, the
 * passes of bytes all rows share skipped: qsort's comparisons of 100,000 rows took 20 ms. */
int rows_order(const void *rows, size_t size, size_t n, const size_t *offsets, size_t n_keys, unsigned descending,
               uint32_t *ret_order);

/* Makes room for one more row in *rows (of *alloc, n used); -ENOMEM if it cannot. */
int rows_grow(void **rows, size_t *alloc, size_t n, size_t size);

/* Line breaks and indents of --json=pretty, or none for short. */
typedef struct JsonLayout {
        const char *nl, *in1, *in2, *in3, *sp;
} JsonLayout;

JsonLayout rows_json_layout(JsonMode mode);
/* A user name, or null. */
void rows_json_name(const char *name);
/* What ends the list of n rows and follows it in every reply: since_usec and access. */
void rows_json_tail(const JsonLayout *j, size_t n, int64_t since, bool own_only);
/* Ends the object; fails, saying so, if stdout could not take it. */
int rows_json_end(const JsonLayout *j);

/* Whether unit is the one --unit= names: the same, or the user unit after a user
 * manager's name ("user@1000.service/NAME"). */
bool rows_unit_matches(const char *unit, const char *want);

/* The table through the pager if asked, with the footer unless --no-legend. */
typedef void (*RowsFooterFn)(const Args *a, const void *userdata);
void rows_show(const Args *a, const Table *t, size_t n, RowsFooterFn footer, const void *userdata);
