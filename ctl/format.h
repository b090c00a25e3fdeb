/* SPDX-License-Identifier: GPL-2.0-or-later */
/* format.h: tables, times and errors as execcountctl prints them. Pure; no I/O but FILE. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"
#include "time-util.h"

typedef enum Align {
        ALIGN_LEFT,
        ALIGN_RIGHT,
} Align;

typedef struct Table Table;

/* A table with n columns. headers and align must outlive the table. */
int table_new(size_t n_columns, const char *const *headers, const Align *align, Table **ret);
Table *table_free(Table *t);
DEFINE_POINTER_CLEANUP(Table, table_free);
/* Adds a row of n_columns cells (copied; escaped for the terminal). -ENOMEM on failure. */
/* Cells are escaped for the terminal (utf8_escape_for_terminal()), but in columns set
 * with table_set_escaped(), whose cells the caller escaped already. */
void table_set_escaped(Table *t, size_t column);
int table_add_row(Table *t, const char *const *cells);
size_t table_rows(const Table *t);
/* Drops all rows, keeping the columns. */
void table_clear(Table *t);
/* Minimum widths per column (0: none), so that rows printed one at a time line up. */
void table_set_fixed_widths(Table *t, const size_t *widths);
/* Prints the header line (when legend) and the rows, columns padded to their width. */
int table_print(const Table *t, FILE *f, bool legend);

/* s as a JSON string: the user database's names are printed as they are, but for what
 * JSON must escape. */
void format_json_string(FILE *f, const char *s);

/* Display width of UTF-8 text: one column per code point. */
size_t utf8_width(const char *s);

/* "ok" for 0, else the errno's name: "ENOENT" (or "error 1234" when unknown). */
const char *format_result(char buf[static 32], int result);
/* "1.0K", "1.0M": sizes in powers of 1024, or the bare number below 1K. */
char *format_size(char buf[static 32], uint64_t bytes);
