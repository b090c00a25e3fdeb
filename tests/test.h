/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test.h: assertions for the C tests; a failed one prints where and what, and aborts. */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* meson treats exit code 77 as "skipped". */
#define EXIT_TEST_SKIP 77

#define TEST_FAIL(...)                                                          \
        do {                                                                    \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                 \
                fprintf(stderr, __VA_ARGS__);                                   \
                fputc('\n', stderr);                                            \
                abort();                                                        \
        } while (0)

#define ASSERT(expr)                                                            \
        do {                                                                    \
                if (!(expr))                                                    \
                        TEST_FAIL("assertion failed: %s", #expr);               \
        } while (0)

#define ASSERT_EQ(a, b)                                                         \
        do {                                                                    \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);              \
                if (_a != _b)                                                   \
                        TEST_FAIL("%s == %s: %jd != %jd", #a, #b, _a, _b);      \
        } while (0)

#define ASSERT_EQ_U(a, b)                                                       \
        do {                                                                    \
                uintmax_t _a = (uintmax_t) (a), _b = (uintmax_t) (b);           \
                if (_a != _b)                                                   \
                        TEST_FAIL("%s == %s: %ju != %ju", #a, #b, _a, _b);      \
        } while (0)

#define ASSERT_STREQ(a, b)                                                      \
        do {                                                                    \
                const char *_a = (a), *_b = (b);                                \
                if (!_a || !_b || strcmp(_a, _b) != 0)                          \
                        TEST_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,         \
                                  _a ? _a : "(null)", _b ? _b : "(null)");      \
        } while (0)

/* In CI a test that cannot run fails instead of skipping: the CI machine has what every
 * test needs, so a skip there hides a broken setup. */
#define TEST_SKIP_OR_FAIL(...)                                                  \
        do {                                                                    \
                fprintf(stderr, "%s: ", getenv("CI") ? "FAIL" : "SKIP");        \
                fprintf(stderr, __VA_ARGS__);                                   \
                fputc('\n', stderr);                                            \
                exit(getenv("CI") ? EXIT_FAILURE : EXIT_TEST_SKIP);             \
        } while (0)
