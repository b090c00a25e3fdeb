/* SPDX-License-Identifier: GPL-2.0-or-later */
/* utf8.c: UTF-8 validation, sanitizing and terminal escaping. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

size_t utf8_sequence_len(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t cp;
        size_t len;

        if (n == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                len = 2;
                cp = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                len = 3;
                cp = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                len = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are invalid. */
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp > 0x10ffff)
                return 0;
        return len;
}

bool utf8_is_valid(const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                size_t l;

                /* ASCII, as most names are, needs no decoding. */
                if ((unsigned char) s[i] < 0x80) {
                        i++;
                        continue;
                }
                l = utf8_sequence_len(s + i, n - i);

                if (l == 0)
                        return false;
                i += l;
        }
        return true;
}

char *utf8_sanitize(const char *s, size_t n) {
        /* Each invalid byte grows to the 3 bytes of U+FFFD at most. */
        char *out = malloc(n * 3 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t l = utf8_sequence_len(s + i, n - i);

                if (l == 0 || (l == 1 && s[i] == '\0')) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(o, s + i, l);
                o += l;
                i += l;
        }
        *o = '\0';
        return out;
}

/* The code point of the valid sequence of len bytes at s. */
static uint32_t code_point(const unsigned char *s, size_t len) {
        uint32_t cp = len == 2 ? s[0] & 0x1f : len == 3 ? s[0] & 0x0f : s[0] & 0x07;

        for (size_t i = 1; i < len; i++)
                cp = (cp << 6) | (s[i] & 0x3f);
        return cp;
}

/* Characters that show as a space or as nothing, or turn the text around: with them a
 * crafted name or argument could pass for another, or for two. Unicode's spaces other
 * than U+0020, its format characters (zero-width ones, bidirectional controls, the soft
 * hyphen, the byte order mark), fillers and variation selectors. */
static bool invisible(uint32_t cp) {
        static const struct {
                uint32_t first, last;
        } ranges[] = {
                { 0x00a0, 0x00a0 }, { 0x00ad, 0x00ad }, { 0x034f, 0x034f }, { 0x061c, 0x061c },
                { 0x115f, 0x1160 }, { 0x1680, 0x1680 }, { 0x180b, 0x180f }, { 0x2000, 0x200f },
                { 0x2028, 0x202f }, { 0x205f, 0x206f }, { 0x2800, 0x2800 }, { 0x3000, 0x3000 },
                { 0x3164, 0x3164 }, { 0xfe00, 0xfe0f }, { 0xfeff, 0xfeff }, { 0xffa0, 0xffa0 },
                { 0xfff9, 0xfffb }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a },
                { 0xe0000, 0xe0fff },
        };

        for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
                if (cp >= ranges[i].first && cp <= ranges[i].last)
                        return true;
        return false;
}

/* Writes byte c as \xHH at o; returns the end. */
static char *escape_byte(char *o, unsigned char c) {
        static const char hex[] = "0123456789abcdef";

        o[0] = '\\';
        o[1] = 'x';
        o[2] = hex[c >> 4];
        o[3] = hex[c & 0xf];
        return o + 4;
}

/* A name of 4,000 bytes that each need escaping is escaped in microseconds: it may be
 * logged for every exec of a flood, in the loop that serves every client. */
char *utf8_escape_for_terminal(const char *s) {
        size_t n = strlen(s);
        char *out = malloc(n * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                size_t l;

                /* Printable ASCII, as most of a name is, as it is. */
                if (c >= 0x20 && c < 0x7f && c != '\\') {
                        *o++ = (char) c;
                        i++;
                        continue;
                }
                if (c == '\\' || c == '\n' || c == '\t') {
                        *o++ = '\\';
                        *o++ = c == '\\' ? '\\' : c == '\n' ? 'n' : 't';
                        i++;
                        continue;
                }
                l = c < 0x80 ? 1 : utf8_sequence_len(s + i, n - i);
                if (l <= 1) {
                        /* Control characters, and bytes of no valid sequence. */
                        o = escape_byte(o, c);
                        i++;
                } else if ((l == 2 && c == 0xc2 && (unsigned char) s[i + 1] < 0xa0) ||
                           invisible(code_point((const unsigned char *) s + i, l))) {
                        /* C1 control characters (U+0080..U+009F) are escapes on terminals too. */
                        for (size_t k = 0; k < l; k++)
                                o = escape_byte(o, (unsigned char) s[i + k]);
                        i += l;
                } else {
                        memcpy(o, s + i, l);
                        o += l;
                        i += l;
                }
        }
        *o = '\0';
        return out;
}
