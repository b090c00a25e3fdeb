/* SPDX-License-Identifier: GPL-2.0-or-later */
/* text.c: a growing text, for replies written rather than built as JSON trees. */

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "utf8.h"

char *text_grow(Text *t, size_t n) {
        size_t want;
        char *p;

        if (t->oom)
                return NULL;
        if (t->len + n <= t->alloc)
                return t->p + t->len;
        want = MAX(t->alloc * 2, t->len + n + 4096);
        p = realloc(t->p, want);
        if (!p) {
                t->oom = true;
                return NULL;
        }
        t->p = p;
        t->alloc = want;
        return t->p + t->len;
}

/* Decimal digits, two at a time, without printf's machinery: ten thousand UIDs make sixty
 * thousand, and each exec event has seven. At p, which has room for TEXT_U64_MAX. */
char *text_put_u64(char *p, uint64_t v) {
        static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                    "8081828384858687888990919293949596979899";
        static const uint64_t powers[] = {
                1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
                1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
                100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
                1000000000000000000ull, 10000000000000000000ull,
        };
        /* The number of digits from the number of bits: log10(2) is about 1233 / 4096. */
        size_t n = ((64 - (size_t) __builtin_clzll(v | 1)) * 1233) >> 12;
        char *d;

        n += v >= powers[n] || n == 0;
        d = p + n;
        /* Eight digits at a time in 32 bits, whose divisions are cheaper than 64-bit ones
         * (an event's time has sixteen digits). */
        for (; v >= 100000000; v /= 100000000) {
                uint32_t low = (uint32_t) (v % 100000000);

                for (int i = 0; i < 4; i++, low /= 100) {
                        d -= 2;
                        d[0] = pairs[2 * (low % 100)];
                        d[1] = pairs[2 * (low % 100) + 1];
                }
        }
        for (uint32_t w = (uint32_t) v;; w /= 100) {
                if (w < 10) {
                        d[-1] = (char) ('0' + w);
                        break;
                }
                d -= 2;
                d[0] = pairs[2 * (w % 100)];
                d[1] = pairs[2 * (w % 100) + 1];
                if (w < 100)
                        break;
        }
        return p + n;
}

void text_add_u64(Text *t, uint64_t v) {
        char *p = text_reserve(t, TEXT_U64_MAX);

        if (p)
                t->len = (size_t) (text_put_u64(p, v) - t->p);
}

void text_add_i64(Text *t, int64_t v) {
        if (v < 0) {
                text_add_char(t, '-');
                text_add_u64(t, (uint64_t) -(v + 1) + 1);
        } else
                text_add_u64(t, (uint64_t) v);
}

#define BYTES(c) (0x0101010101010101ull * (uint8_t) (c))

/* Whether one of the eight bytes of w is zero. */
static inline uint64_t word_has_zero(uint64_t w) {
        return (w - BYTES(1)) & ~w & BYTES(0x80);
}

/* Whether the eight bytes of w are all printable ASCII but '"' and '\\': copied as they
 * are, eight at a time. */
static inline bool word_plain(uint64_t w) {
        uint64_t control = (w - BYTES(0x20)) & ~w & BYTES(0x80);

        return !((w & BYTES(0x80)) | control | word_has_zero(w ^ BYTES('"')) | word_has_zero(w ^ BYTES('\\')));
}

bool text_add_json_string(Text *t, const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        /* Each byte grows to six at most (\u00XX), an invalid one to three (U+FFFD). */
        char *p = text_reserve(t, n * 6 + 2), *o = p;
        bool valid = true;

        if (!p)
                return utf8_is_valid(s, n);
        *o++ = '"';
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                uint64_t w;
                size_t l;

                /* Most bytes of most names are printable ASCII, copied as they are. The
                 * room reserved holds eight more wherever eight are left to read. */
                if (i + 8 <= n) {
                        memcpy(&w, s + i, 8);
                        if (word_plain(w)) {
                                memcpy(o, &w, 8);
                                o += 8;
                                i += 8;
                                continue;
                        }
                }
                if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                        *o++ = (char) c;
                        i++;
                        continue;
                }
                l = utf8_sequence_len(s + i, n - i);

                if (l == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        valid = false;
                        continue;
                }
                if (l > 1) {
                        memcpy(o, s + i, l);
                        o += l;
                        i += l;
                        continue;
                }
                i++;
                if (c == '"' || c == '\\') {
                        *o++ = '\\';
                        *o++ = (char) c;
                } else if (c == '\n') {
                        *o++ = '\\';
                        *o++ = 'n';
                } else if (c == '\t') {
                        *o++ = '\\';
                        *o++ = 't';
                } else if (c < 0x20) {
                        memcpy(o, "\\u00", 4);
                        o[4] = hex[c >> 4];
                        o[5] = hex[c & 0xf];
                        o += 6;
                } else
                        *o++ = (char) c;
        }
        *o++ = '"';
        t->len += (size_t) (o - p);
        return valid;
}

/* Whether an escaped argument is shown in quotes: see text_add_arg(). UTF-8 beyond ASCII
 * is valid here, the escapes took care of the rest. */
static bool arg_needs_quotes(const char *e) {
        if (!*e || streq(e, "-"))
                return true;
        for (; *e; e++) {
                unsigned char c = (unsigned char) *e;

                if (c < 0x80 && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
                    !strchr("_@%+=:,./-", c))
                        return true;
        }
        return false;
}

void text_add_arg(Text *t, const char *s) {
        _cleanup_(freep) char *e = utf8_escape_for_terminal(s);

        if (!e) {
                t->oom = true;
                return;
        }
        if (!arg_needs_quotes(e)) {
                text_add(t, e);
                return;
        }
        text_add_char(t, '"');
        for (const char *p = e; *p; p++) {
                if (*p == '"')
                        text_add_char(t, '\\');
                text_add_char(t, *p);
        }
        text_add_char(t, '"');
}

void text_add_hex(Text *t, const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        char *p = text_reserve(t, n * 2);

        if (!p)
                return;
        for (size_t i = 0; i < n; i++) {
                p[2 * i] = hex[(unsigned char) s[i] >> 4];
                p[2 * i + 1] = hex[(unsigned char) s[i] & 0xf];
        }
        t->len += n * 2;
}

void text_done(Text *t) {
        free(t->p);
        *t = (Text) {};
}

char *text_steal(Text *t, size_t *ret_len, size_t *ret_alloc) {
        char *p = t->oom ? NULL : t->p;

        if (!p)
                free(t->p);
        *ret_len = p ? t->len : 0;
        *ret_alloc = p ? t->alloc : 0;
        *t = (Text) {};
        return p;
}
