/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json-scan.c: reading values out of JSON text in place, without building a tree. */

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "json-scan.h"

#define MAX_DEPTH 64

static const char *skip_ws(const char *s, const char *end) {
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
                s++;
        return s;
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* s at the opening quote; the end of the string, or NULL. *ret_escaped: had a backslash. */
static const char *skip_string(const char *s, const char *end, bool *ret_escaped) {
        bool escaped = false;

        for (s++; s < end; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"') {
                        if (ret_escaped)
                                *ret_escaped = escaped;
                        return s + 1;
                }
                if (c < 0x20)
                        return NULL;
                if (c != '\\')
                        continue;
                escaped = true;
                if (++s >= end)
                        return NULL;
                if (*s == 'u') {
                        if (end - s < 5 || !is_hex(s[1]) || !is_hex(s[2]) || !is_hex(s[3]) || !is_hex(s[4]))
                                return NULL;
                        s += 4;
                } else if (!strchr("\"\\/bfnrt", *s) || *s == '\0')
                        return NULL;
        }
        return NULL;
}

static const char *skip_digits(const char *s, const char *end, bool *ret_any) {
        const char *start = s;

        while (s < end && *s >= '0' && *s <= '9')
                s++;
        *ret_any = s > start;
        return s;
}

static const char *skip_number(const char *s, const char *end) {
        bool any;

        if (s < end && *s == '-')
                s++;
        if (s < end && *s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
                return NULL; /* no leading zeros in JSON */
        s = skip_digits(s, end, &any);
        if (!any)
                return NULL;
        if (s < end && *s == '.') {
                s = skip_digits(s + 1, end, &any);
                if (!any)
                        return NULL;
        }
        if (s < end && (*s == 'e' || *s == 'E')) {
                s++;
                if (s < end && (*s == '+' || *s == '-'))
                        s++;
                s = skip_digits(s, end, &any);
                if (!any)
                        return NULL;
        }
        return s;
}

static const char *skip_literal(const char *s, const char *end, const char *word) {
        size_t n = strlen(word);

        return (size_t) (end - s) >= n && memcmp(s, word, n) == 0 ? s + n : NULL;
}

static const char *skip_value(const char *s, const char *end, int depth);

/* s at '{' or '['. */
static const char *skip_container(const char *s, const char *end, int depth) {
        char close = *s == '{' ? '}' : ']';
        bool object = *s == '{';

        if (depth >= MAX_DEPTH)
                return NULL;
        s = skip_ws(s + 1, end);
        if (s < end && *s == close)
                return s + 1;
        for (;;) {
                if (object) {
                        if (s >= end || *s != '"' || !(s = skip_string(s, end, NULL)))
                                return NULL;
                        s = skip_ws(s, end);
                        if (s >= end || *s != ':')
                                return NULL;
                        s++;
                }
                /* A number straight away: arrays of them are most of what is skipped. */
                if (!object && s < end && *s >= '0' && *s <= '9')
                        s = skip_number(s, end);
                else
                        s = skip_value(s, end, depth + 1);
                if (!s)
                        return NULL;
                s = skip_ws(s, end);
                if (s >= end)
                        return NULL;
                if (*s == close)
                        return s + 1;
                if (*s != ',')
                        return NULL;
                s = skip_ws(s + 1, end);
        }
}

static const char *skip_value(const char *s, const char *end, int depth) {
        s = skip_ws(s, end);
        if (s >= end)
                return NULL;
        switch (*s) {
        case '"':
                return skip_string(s, end, NULL);
        case '{':
        case '[':
                return skip_container(s, end, depth);
        case 't':
                return skip_literal(s, end, "true");
        case 'f':
                return skip_literal(s, end, "false");
        case 'n':
                return skip_literal(s, end, "null");
        default:
                return skip_number(s, end);
        }
}

const char *json_scan_skip(const char *s, const char *end) {
        return skip_value(s, end, 0);
}

/* Starts walking the container in span, which must open with open. */
static int iter_begin(JsonSpan span, char open, JsonIter *iter) {
        const char *s = skip_ws(span.p, span.p + span.len);

        if (s >= span.p + span.len || *s != open)
                return -EBADMSG;
        *iter = (JsonIter) { .p = s + 1, .end = span.p + span.len };
        return 0;
}

/* Steps past the separator before the next item: 1 with *ret at the item, 0 at close. */
static int iter_step(JsonIter *iter, char close, const char **ret) {
        const char *s = skip_ws(iter->p, iter->end);

        if (s >= iter->end)
                return -EBADMSG;
        if (*s == close) {
                iter->p = s;
                return 0;
        }
        if (iter->started) {
                if (*s != ',')
                        return -EBADMSG;
                s = skip_ws(s + 1, iter->end);
                if (s >= iter->end)
                        return -EBADMSG;
        }
        *ret = s;
        return 1;
}

/* s at a value: hands it out and moves the iterator past it. */
static int iter_take_value(JsonIter *iter, const char *s, JsonSpan *ret) {
        const char *end = skip_value(s, iter->end, 1);

        if (!end)
                return -EBADMSG;
        *ret = (JsonSpan) { s, (size_t) (end - s) };
        iter->p = end;
        iter->started = true;
        return 1;
}

int json_scan_array_begin(JsonSpan a, JsonIter *iter) {
        return iter_begin(a, '[', iter);
}

int json_scan_array_next(JsonIter *iter, JsonSpan *ret) {
        const char *s;
        int r = iter_step(iter, ']', &s);

        return r <= 0 ? r : iter_take_value(iter, s, ret);
}

int json_scan_object_begin(JsonSpan obj, JsonIter *iter) {
        return iter_begin(obj, '{', iter);
}

int json_scan_object_next(JsonIter *iter, JsonSpan *ret_key, JsonSpan *ret_value) {
        JsonSpan rest;
        int r = json_scan_object_next_key(iter, ret_key, &rest);

        return r <= 0 ? r : iter_take_value(iter, rest.p, ret_value);
}

int json_scan_member(JsonSpan obj, const char *key, JsonSpan *ret) {
        JsonSpan k, v;
        JsonIter iter;
        bool found = false;
        int r;

        r = json_scan_object_begin(obj, &iter);
        if (r < 0)
                return r;
        /* The whole object is walked, so that a malformed one is never half accepted. The
         * first of duplicate keys wins, json-c keeps the last: execcountd sends none. */
        while ((r = json_scan_object_next(&iter, &k, &v)) > 0)
                if (!found && json_scan_key_is(k, key)) {
                        *ret = v;
                        found = true;
                }
        return r < 0 ? r : found ? 0 : -ENOENT;
}

int json_scan_members(JsonSpan obj, const char *const *keys, JsonSpan *ret, size_t n) {
        return json_scan_members_end(obj, keys, ret, n, NULL);
}

int json_scan_members_end(JsonSpan obj, const char *const *keys, JsonSpan *ret, size_t n, const char **ret_end) {
        JsonSpan k, v;
        JsonIter iter;
        int r;

        for (size_t i = 0; i < n; i++)
                ret[i] = (JsonSpan) {};
        r = json_scan_object_begin(obj, &iter);
        if (r < 0)
                return r;
        while ((r = json_scan_object_next(&iter, &k, &v)) > 0)
                for (size_t i = 0; i < n; i++)
                        if (!ret[i].p && json_scan_key_is(k, keys[i])) {
                                ret[i] = v;
                                break;
                        }
        if (r < 0)
                return r;
        if (ret_end)
                *ret_end = json_scan_iter_end(&iter);
        return 0;
}

bool json_scan_key_is(JsonSpan key, const char *name) {
        size_t n = strlen(name);

        return key.len == n && memcmp(key.p, name, n) == 0 && !memchr(key.p, '\\', key.len);
}

/* One integer at s, in *ret: its end, or NULL if it is no JSON integer within [min, max]. */
static const char *scan_int64(const char *s, const char *end, int64_t min, int64_t max, int64_t *ret) {
        const char *digits;
        bool negative = false;
        uint64_t u = 0, limit;
        int64_t i;

        if (s < end && *s == '-') {
                negative = true;
                s++;
        }
        limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
        /* Eighteen digits cannot reach the limit: only those after them are checked. */
        for (digits = s; s < end && *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned) (*s - '0');

                if (s - digits >= 18 && u > (limit - d) / 10)
                        return NULL;
                u = u * 10 + d;
        }
        if (s == digits || (*digits == '0' && s - digits > 1))
                return NULL; /* no digits, or leading zeros */
        if (s < end && (*s == '.' || *s == 'e' || *s == 'E'))
                return NULL;
        i = negative ? (int64_t) (0 - u) : (int64_t) u;
        if (i < min || i > max)
                return NULL;
        *ret = i;
        return s;
}

int json_scan_int64(JsonSpan v, int64_t min, int64_t max, int64_t *ret) {
        const char *end = v.p + v.len, *s = scan_int64(skip_ws(v.p, end), end, min, max, ret);

        /* Nothing after it: not a fraction, an exponent, or no number at all. */
        return s && skip_ws(s, end) == end ? 0 : -EBADMSG;
}

int json_scan_int64_array(JsonSpan a, int64_t min, int64_t max, int64_t *ret, size_t stride, size_t n_max,
                          const char **ret_end) {
        const char *s = a.p, *end = a.p + a.len;
        size_t n = 0;

        s = skip_ws(s, end);
        if (s >= end || *s != '[')
                return -EBADMSG;
        s = skip_ws(s + 1, end);
        if (s < end && *s == ']')
                goto done;
        for (;;) {
                int64_t v;

                if (n >= n_max || n >= INT32_MAX || !(s = scan_int64(s, end, min, max, &v)))
                        return -EBADMSG;
                if (ret)
                        ret[n * stride] = v;
                n++;
                s = skip_ws(s, end);
                if (s >= end)
                        return -EBADMSG;
                if (*s == ']')
                        break;
                if (*s != ',')
                        return -EBADMSG;
                s = skip_ws(s + 1, end);
        }
done:
        if (ret_end) {
                *ret_end = s + 1;
                return (int) n;
        }
        return skip_ws(s + 1, end) == end ? (int) n : -EBADMSG;
}

int json_scan_object_next_key(JsonIter *iter, JsonSpan *ret_key, JsonSpan *ret_rest) {
        const char *s, *name;
        int r = iter_step(iter, '}', &s);

        if (r <= 0)
                return r;
        name = s;
        if (*s != '"' || !(s = skip_string(s, iter->end, NULL)))
                return -EBADMSG;
        *ret_key = (JsonSpan) { name + 1, (size_t) (s - name - 2) };
        s = skip_ws(s, iter->end);
        if (s >= iter->end || *s != ':')
                return -EBADMSG;
        s = skip_ws(s + 1, iter->end);
        *ret_rest = (JsonSpan) { s, (size_t) (iter->end - s) };
        return 1;
}

void json_scan_object_resume(JsonIter *iter, const char *value_end) {
        assert(value_end >= iter->p && value_end <= iter->end);
        iter->p = value_end;
        iter->started = true;
}

const char *json_scan_iter_end(const JsonIter *iter) {
        assert(iter->p < iter->end && (*iter->p == ']' || *iter->p == '}'));
        return iter->p + 1;
}
