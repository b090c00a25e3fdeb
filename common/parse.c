/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parse.c: strict number, size, duration and boolean parsers. */

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "parse.h"

/* Parses the leading digits of s; *ret_end points past them. Refuses signs and spaces,
 * which strtoull would silently accept ("-1" becomes 2^64-1). */
static int parse_digits(const char *s, uint64_t *ret, const char **ret_end) {
        char *end;
        unsigned long long v;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        *ret = v;
        *ret_end = end;
        return 0;
}

int parse_uint64(const char *s, uint64_t *ret) {
        const char *end;
        uint64_t v;
        int r;

        r = parse_digits(s, &v, &end);
        if (r < 0)
                return r;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r;

        r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = {
                { "", 1 },
                { "K", 1ULL << 10 },
                { "M", 1ULL << 20 },
                { "G", 1ULL << 30 },
        };
        const char *end;
        uint64_t v;
        int r;

        r = parse_digits(s, &v, &end);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (strcasecmp(end, units[i].suffix) != 0)
                        continue;
                if (v > UINT64_MAX / units[i].factor)
                        return -ERANGE;
                *ret = v * units[i].factor;
                return 0;
        }
        return -EINVAL;
}

int parse_timespan_usec(const char *s, uint64_t *ret) {
        static const struct {
                const char *unit;
                uint64_t usec;
        } units[] = {
                /* Longest first, so that "ms" is not read as "m" + junk. */
                { "usec", 1 },
                { "msec", USEC_PER_MSEC },
                { "min", 60 * USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "us", 1 },
                { "ms", USEC_PER_MSEC },
                { "h", 3600 * USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "s", USEC_PER_SEC },
        };
        uint64_t total = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;

        while (*p) {
                const char *end;
                uint64_t v, factor = USEC_PER_SEC;
                size_t n = 0;
                int r;

                r = parse_digits(p, &v, &end);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].unit);

                        if (strncmp(end, units[i].unit, l) == 0 &&
                            (end[l] == '\0' || end[l] == ' ' || isdigit((unsigned char) end[l]))) {
                                factor = units[i].usec;
                                n = l;
                                break;
                        }
                }
                /* A bare number is seconds, but only as the whole string. */
                if (n == 0 && (p != s || *end != '\0'))
                        return -EINVAL;
                if (v > UINT64_MAX / factor || total > UINT64_MAX - v * factor)
                        return -ERANGE;
                total += v * factor;
                p = end + n;
                while (*p == ' ')
                        p++;
        }

        *ret = total;
        return 0;
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}
