/* SPDX-License-Identifier: GPL-2.0-or-later */
/* format.c: tables, times and errors as execcountctl prints them. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "utf8.h"

struct Table {
        size_t n_columns;
        const char *const *headers;
        const Align *align;
        size_t *min_width; /* NULL or n_columns entries */
        uint64_t escaped; /* columns whose cells come escaped already, by bit */
        char **cells; /* n_rows * n_columns */
        size_t n_rows, n_alloc;
};

int table_new(size_t n_columns, const char *const *headers, const Align *align, Table **ret) {
        Table *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->n_columns = n_columns;
        t->headers = headers;
        t->align = align;
        *ret = t;
        return 0;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->min_width);
        free(t);
        return NULL;
}

void table_clear(Table *t) {
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        t->n_rows = 0;
}

void table_set_escaped(Table *t, size_t column) {
        if (column < 64)
                t->escaped |= UINT64_C(1) << column;
}

void table_set_fixed_widths(Table *t, const size_t *widths) {
        free(t->min_width);
        t->min_width = calloc(t->n_columns, sizeof(size_t));
        if (t->min_width)
                memcpy(t->min_width, widths, t->n_columns * sizeof(size_t));
}

int table_add_row(Table *t, const char *const *cells) {
        if (t->n_rows == t->n_alloc) {
                size_t n = t->n_alloc ? t->n_alloc * 2 : 16;
                char **p = reallocarray(t->cells, n * t->n_columns, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                t->cells = p;
                t->n_alloc = n;
        }
        for (size_t i = 0; i < t->n_columns; i++) {
                const char *cell = cells[i] ? cells[i] : "";
                char *c = i < 64 && (t->escaped & (UINT64_C(1) << i)) ? strdup(cell) : utf8_escape_for_terminal(cell);

                if (!c) {
                        for (size_t j = 0; j < i; j++)
                                free(t->cells[t->n_rows * t->n_columns + j]);
                        return -ENOMEM;
                }
                t->cells[t->n_rows * t->n_columns + i] = c;
        }
        t->n_rows++;
        return 0;
}

size_t table_rows(const Table *t) {
        return t->n_rows;
}

size_t utf8_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        w++;
        return w;
}

static void print_cell(FILE *f, const char *s, size_t width, Align align, bool last) {
        size_t w = utf8_width(s), pad = width > w ? width - w : 0;

        if (align == ALIGN_RIGHT)
                fprintf(f, "%*s", (int) pad, "");
        fputs(s, f);
        /* No trailing blanks after the last column. */
        if (align == ALIGN_LEFT && !last)
                fprintf(f, "%*s", (int) pad, "");
}

int table_print(const Table *t, FILE *f, bool legend) {
        _cleanup_(freep) size_t *width = calloc(t->n_columns, sizeof(size_t));

        if (!width)
                return -ENOMEM;
        for (size_t c = 0; c < t->n_columns; c++) {
                if (t->min_width)
                        width[c] = t->min_width[c];
                if (legend)
                        width[c] = MAX(width[c], utf8_width(t->headers[c]));
                for (size_t r = 0; r < t->n_rows; r++)
                        width[c] = MAX(width[c], utf8_width(t->cells[r * t->n_columns + c]));
        }

        if (legend) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        if (c > 0)
                                fputs(" ", f);
                        print_cell(f, t->headers[c], width[c], t->align[c], c == t->n_columns - 1);
                }
                fputs("\n", f);
        }
        for (size_t r = 0; r < t->n_rows; r++) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        if (c > 0)
                                fputs(" ", f);
                        print_cell(f, t->cells[r * t->n_columns + c], width[c], t->align[c], c == t->n_columns - 1);
                }
                fputs("\n", f);
        }
        return 0;
}

const char *format_result(char buf[static 32], int result) {
        const char *name;

        if (result == 0)
                return "ok";
        name = result < 0 ? strerrorname_np(-result) : NULL;
        if (name)
                return name;
        snprintf(buf, 32, "error %d", result);
        return buf;
}

char *format_size(char buf[static 32], uint64_t bytes) {
        static const char suffixes[] = "KMGTPE";
        double v = (double) bytes;
        size_t i = 0;

        if (bytes < 1024) {
                snprintf(buf, 32, "%" PRIu64 "B", bytes);
                return buf;
        }
        v /= 1024;
        while (v >= 1024 && i + 1 < sizeof(suffixes) - 1) {
                v /= 1024;
                i++;
        }
        snprintf(buf, 32, "%.1f%c", v, suffixes[i]);
        return buf;
}

/* A JSON string: the user database's names are printed as they are, but for what JSON
 * must escape. */
void format_json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}
