/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-ratelimit.c: unit tests for ratelimit.c. */

#include "ratelimit.h"
#include "test.h"

int main(void) {
        RateLimit r = { .interval_usec = 1000, .burst = 3 };
        uint64_t suppressed;

        /* Three pass, the rest of the interval is held back and counted. */
        for (int i = 0; i < 3; i++) {
                ASSERT(ratelimit_pass(&r, 5000 + i, &suppressed));
                ASSERT_EQ_U(suppressed, 0);
        }
        for (int i = 0; i < 5; i++) {
                ASSERT(!ratelimit_pass(&r, 5100 + i, &suppressed));
                ASSERT_EQ_U(suppressed, 0);
        }
        /* The next interval reports the 5 once and lets events through again. */
        ASSERT(ratelimit_pass(&r, 6000, &suppressed));
        ASSERT_EQ_U(suppressed, 5);
        ASSERT(ratelimit_pass(&r, 6001, &suppressed));
        ASSERT_EQ_U(suppressed, 0);

        /* Flushing reports held-back events when no further one comes. */
        ASSERT(ratelimit_pass(&r, 6002, &suppressed));
        ASSERT(!ratelimit_pass(&r, 6003, &suppressed));
        ASSERT_EQ_U(ratelimit_flush(&r, 6500), 0); /* the interval runs on */
        ASSERT_EQ_U(ratelimit_flush(&r, 7000), 1);
        ASSERT_EQ_U(ratelimit_flush(&r, 9000), 0);

        /* No interval: no limit. */
        RateLimit none = { .interval_usec = 0, .burst = 1 };
        for (int i = 0; i < 100; i++)
                ASSERT(ratelimit_pass(&none, (uint64_t) i, &suppressed));
        return 0;
}
