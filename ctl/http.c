/* SPDX-License-Identifier: GPL-2.0-or-later */
/* http.c: parsing one HTTP/1.1 request for /metrics, and content negotiation. */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "http.h"
#include "macro.h"

const char *http_reason(int status) {
        switch (status) {
        case 200:
                return "OK";
        case 400:
                return "Bad Request";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 408:
                return "Request Timeout";
        case 431:
                return "Request Header Fields Too Large";
        case 500:
                return "Internal Server Error";
        case 503:
                return "Service Unavailable";
        case 505:
                return "HTTP Version Not Supported";
        default:
                return "Error";
        }
}

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

/* s[0..n) without the blanks around it. */
static void trim(const char **s, size_t *n) {
        while (*n > 0 && is_space(**s))
                (*s)++, (*n)--;
        while (*n > 0 && is_space((*s)[*n - 1]))
                (*n)--;
}

static bool span_eq(const char *s, size_t n, const char *word) {
        return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* The quality of one element of a list ("type;param;q=0.5"), in thousandths; its value
 * (before the first ';') in *value. A malformed q counts as 0. */
static int element_quality(const char *s, size_t n, const char **value, size_t *value_len) {
        const char *semi = memchr(s, ';', n);
        size_t vn = semi ? (size_t) (semi - s) : n;

        *value = s;
        *value_len = vn;
        trim(value, value_len);
        while (semi) {
                const char *p = semi + 1, *next = memchr(p, ';', n - (size_t) (p - s));
                size_t pn = next ? (size_t) (next - p) : n - (size_t) (p - s);
                int q = 0, digits = 0;

                trim(&p, &pn);
                semi = next;
                if (pn < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
                        continue;
                p += 2, pn -= 2;
                /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
                if (pn == 0 || (p[0] != '0' && p[0] != '1'))
                        return 0;
                q = (p[0] - '0') * 1000;
                if (pn > 1) {
                        if (p[1] != '.' || pn > 5)
                                return 0;
                        for (size_t i = 2; i < pn; i++, digits++) {
                                if (p[i] < '0' || p[i] > '9')
                                        return 0;
                                q += (p[i] - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
                        }
                }
                return q > 1000 ? 0 : q;
        }
        return 1000;
}

/* Calls fn for each element of a comma-separated list, with its quality; stops when fn
 * returns true. */
typedef bool (*ElementFn)(const char *value, size_t len, int quality, void *userdata);

static void for_each_element(const char *s, size_t n, ElementFn fn, void *userdata) {
        while (n > 0) {
                const char *comma = memchr(s, ',', n), *value;
                size_t en = comma ? (size_t) (comma - s) : n, vn;
                int q = element_quality(s, en, &value, &vn);

                if (vn > 0 && fn(value, vn, q, userdata))
                        return;
                if (!comma)
                        return;
                n -= en + 1;
                s = comma + 1;
        }
}

typedef struct Preference {
        int openmetrics, text;
} Preference;

static bool on_media_range(const char *value, size_t len, int q, void *userdata) {
        Preference *p = userdata;

        if (span_eq(value, len, "application/openmetrics-text"))
                p->openmetrics = MAX(p->openmetrics, q);
        else if (span_eq(value, len, "text/plain") || span_eq(value, len, "text/*") || span_eq(value, len, "*/*"))
                p->text = MAX(p->text, q);
        return false;
}

bool http_accepts_openmetrics(const char *value, size_t len) {
        Preference p = {};

        for_each_element(value, len, on_media_range, &p);
        return p.openmetrics > 0 && p.openmetrics > p.text;
}

static bool on_coding(const char *value, size_t len, int q, void *userdata) {
        bool *gzip = userdata;

        if (span_eq(value, len, "gzip") || span_eq(value, len, "x-gzip") || span_eq(value, len, "*")) {
                *gzip = q > 0;
                return span_eq(value, len, "gzip") || span_eq(value, len, "x-gzip"); /* over "*" */
        }
        return false;
}

bool http_accepts_gzip(const char *value, size_t len) {
        bool gzip = false;

        for_each_element(value, len, on_coding, &gzip);
        return gzip;
}

/* The end of the headers: the blank line (CRLF CRLF, or bare LFs), or NULL. */
static const char *headers_end(const char *buf, size_t len, size_t *ret_skip) {
        for (size_t i = 0; i + 1 < len; i++) {
                if (buf[i] != '\n')
                        continue;
                if (buf[i + 1] == '\n') {
                        *ret_skip = 2;
                        return buf + i;
                }
                if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
                        *ret_skip = 3;
                        return buf + i;
                }
        }
        return NULL;
}

/* The request line: "METHOD TARGET HTTP/1.x". */
static int parse_request_line(const char *line, size_t n, HttpRequest *ret) {
        const char *sp1 = memchr(line, ' ', n), *sp2, *target, *version;
        size_t method_len, target_len, version_len;

        if (!sp1)
                return 400;
        method_len = (size_t) (sp1 - line);
        target = sp1 + 1;
        sp2 = memchr(target, ' ', n - method_len - 1);
        if (!sp2)
                return 400;
        target_len = (size_t) (sp2 - target);
        version = sp2 + 1;
        version_len = n - (size_t) (version - line);
        if (method_len == 0 || target_len == 0 || memchr(version, ' ', version_len))
                return 400;
        if (version_len != 8 || memcmp(version, "HTTP/1.", 7) != 0)
                return version_len >= 5 && memcmp(version, "HTTP/", 5) == 0 ? 505 : 400;
        if (version[7] != '0' && version[7] != '1')
                return 505;
        /* The path, without a query; an absolute URI's too. */
        if (target_len > 7 && strncasecmp(target, "http://", 7) == 0) {
                const char *slash = memchr(target + 7, '/', target_len - 7);

                if (!slash)
                        return 404;
                target_len -= (size_t) (slash - target);
                target = slash;
        }
        for (size_t i = 0; i < target_len; i++)
                if (target[i] == '?') {
                        target_len = i;
                        break;
                }
        if (method_len == 3 && memcmp(line, "GET", 3) == 0)
                ret->head = false;
        else if (method_len == 4 && memcmp(line, "HEAD", 4) == 0)
                ret->head = true;
        else
                return 405;
        return target_len == 8 && memcmp(target, "/metrics", 8) == 0 ? 200 : 404;
}

int http_parse_request(const char *buf, size_t len, HttpRequest *ret) {
        const char *end, *line, *eol;
        size_t skip;

        *ret = (HttpRequest) { .status = 400 };
        /* A few blank lines before a request are allowed (RFC 9112, 2.2). */
        while (len > 0 && (buf[0] == '\r' || buf[0] == '\n'))
                buf++, len--;
        end = headers_end(buf, len, &skip);
        if (!end) {
                if (len >= HTTP_REQUEST_MAX) {
                        ret->status = 431;
                        return 0;
                }
                return -EAGAIN;
        }
        if ((size_t) (end - buf) + skip > HTTP_REQUEST_MAX) {
                ret->status = 431;
                return 0;
        }
        for (const char *p = buf; p < end; p++)
                if (*p == '\0') /* no NUL in a request: a sign of something else talking */
                        return 0;

        eol = memchr(buf, '\n', (size_t) (end - buf) + 1);
        ret->status = parse_request_line(buf, (size_t) (eol - buf) - (eol > buf && eol[-1] == '\r'), ret);

        for (line = eol + 1; line < end + 1; line = eol + 1) {
                const char *colon, *value;
                size_t n, name_len, value_len;

                eol = memchr(line, '\n', (size_t) (end + 1 - line));
                n = (size_t) (eol - line) - (eol > line && eol[-1] == '\r');
                if (n == 0)
                        break;
                colon = memchr(line, ':', n);
                if (!colon || colon == line || is_space(line[0])) { /* no obsolete line folding */
                        ret->status = 400;
                        return 0;
                }
                name_len = (size_t) (colon - line);
                value = colon + 1;
                value_len = n - name_len - 1;
                trim(&value, &value_len);
                if (span_eq(line, name_len, "Accept"))
                        ret->openmetrics = http_accepts_openmetrics(value, value_len);
                else if (span_eq(line, name_len, "Accept-Encoding"))
                        ret->gzip = http_accepts_gzip(value, value_len);
        }
        return 0;
}

int http_gzip(const char *data, size_t len, char **ret, size_t *ret_len) {
        z_stream z = {};
        char *out;
        uLong bound;
        int r;

        if (len > UINT_MAX)
                return -E2BIG;
        /* Level 1: the metrics' text compresses nearly as well at a fraction of the time. */
        if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return -ENOMEM;
        bound = deflateBound(&z, len);
        out = malloc(bound);
        if (!out) {
                deflateEnd(&z);
                return -ENOMEM;
        }
        z.next_in = (Bytef *) data;
        z.avail_in = (uInt) len;
        z.next_out = (Bytef *) out;
        z.avail_out = (uInt) bound;
        r = deflate(&z, Z_FINISH);
        if (r != Z_STREAM_END) {
                deflateEnd(&z);
                free(out);
                return -EIO;
        }
        *ret_len = z.total_out;
        *ret = out;
        deflateEnd(&z);
        return 0;
}
