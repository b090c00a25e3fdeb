/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ratelimit.c: at most burst events per interval, counting what was held back. */

#include "ratelimit.h"

uint64_t ratelimit_flush(RateLimit *r, uint64_t now) {
        uint64_t suppressed;

        if (r->interval_usec == 0 || now < r->begin_usec + r->interval_usec)
                return 0;
        suppressed = r->suppressed;
        r->begin_usec = now;
        r->count = 0;
        r->suppressed = 0;
        return suppressed;
}

bool ratelimit_pass(RateLimit *r, uint64_t now, uint64_t *ret_suppressed) {
        *ret_suppressed = ratelimit_flush(r, now);
        if (r->interval_usec == 0)
                return true;
        if (r->count < r->burst) {
                r->count++;
                return true;
        }
        r->suppressed++;
        return false;
}
