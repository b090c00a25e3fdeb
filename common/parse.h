/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parse.h: strict parsers for the numbers, sizes, durations and booleans users type. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* All return 0 and set *ret, or -EINVAL (not a number, junk after it) or -ERANGE, leaving
 * *ret untouched. Leading or trailing whitespace is refused. */
int parse_uint64(const char *s, uint64_t *ret);
int parse_uint32(const char *s, uint32_t *ret);
/* "4096", "64K", "1M", "1G" (powers of 1024). */
int parse_size(const char *s, uint64_t *ret);
/* "50ms", "2s", "1min 30s", "1h"; a bare number is seconds. */
int parse_timespan_usec(const char *s, uint64_t *ret);
/* yes/no, true/false, on/off, 1/0. */
int parse_boolean(const char *s, bool *ret);
