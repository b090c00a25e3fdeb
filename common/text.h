/* SPDX-License-Identifier: GPL-2.0-or-later */
/* text.h: a growing text, for replies written rather than built as JSON trees.
 *
 * An allocation failure is remembered (oom) and makes every later addition a no-op, so
 * that a writer checks once, at the end. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"

typedef struct Text {
        char *p;
        size_t len, alloc;
        bool oom;
} Text;

/* Grows t for text_reserve(). */
char *text_grow(Text *t, size_t n);

/* Room for n more bytes at t->p + t->len, or NULL (and oom). Inline, as the additions
 * below: a reply or an event stream is written a few bytes at a time, and a call for
 * each would cost more than the bytes. */
static inline char *text_reserve(Text *t, size_t n) {
        if (t->len + n <= t->alloc && !t->oom)
                return t->p + t->len;
        return text_grow(t, n);
}

static inline void text_add_len(Text *t, const char *s, size_t n) {
        char *p = text_reserve(t, n);

        if (p) {
                memcpy(p, s, n);
                t->len += n;
        }
}

/* Inline, so that the length of a literal is known when compiling. */
static inline void text_add(Text *t, const char *s) {
        text_add_len(t, s, strlen(s));
}

static inline void text_add_char(Text *t, char c) {
        char *p = text_reserve(t, 1);

        if (p) {
                *p = c;
                t->len++;
        }
}

void text_add_u64(Text *t, uint64_t v);
/* The digits of v at p, which has room for TEXT_U64_MAX of them; returns their end. For
 * writers of many numbers, which reserve room for all of them at once. */
#define TEXT_U64_MAX 20
char *text_put_u64(char *p, uint64_t v);
void text_add_i64(Text *t, int64_t v);
/* A JSON string of the bytes s[0..n), quoted: bytes that are not UTF-8 become U+FFFD,
 * control characters, '"' and '\' are escaped. Returns whether s[0..n) was UTF-8 (nothing
 * became U+FFFD), as utf8_is_valid() would: a writer that adds the exact bytes of what is
 * not needs no second pass over what is. */
bool text_add_json_string(Text *t, const char *s, size_t n);
/* One argument of a command line, for reading: escaped as utf8_escape_for_terminal() does,
 * and in double quotes (with \" for a quote) when it is empty, is "-", or has an ASCII
 * character other than letters, digits and _@%+=:,./- in it: so that arguments joined by
 * spaces can be told apart, and no argument passes for a marker such as "[...]" or "-". */
void text_add_arg(Text *t, const char *s);
/* Lowercase hex digits of the bytes s[0..n). */
void text_add_hex(Text *t, const char *s, size_t n);
/* Frees the buffer. */
void text_done(Text *t);
/* Hands the buffer out (NULL if none or oom) and empties t. */
char *text_steal(Text *t, size_t *ret_len, size_t *ret_alloc);
