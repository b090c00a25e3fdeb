/* SPDX-License-Identifier: GPL-2.0-or-later */
/* counts-sort.c: the counts' pure helpers: sorting and finding UIDs, sorting login pairs. */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "counts.h"
#include "macro.h"

static int compare_uid(const void *a, const void *b) {
        const UserCount *x = a, *y = b;

        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

void counts_sort_by_uid(UserCount *u, size_t n) {
        if (n > 1)
                qsort(u, n, sizeof(*u), compare_uid);
}

int counts_order_by_uid(const uint32_t *uids, size_t n, uint32_t *ret_order) {
        _cleanup_(freep) uint64_t *a = NULL, *b = NULL;
        size_t counts[4][256] = {};

        assert(n <= UINT32_MAX);
        if (n == 0)
                return 0;
        a = malloc(n * sizeof(*a));
        b = malloc(n * sizeof(*b));
        if (!a || !b)
                return -ENOMEM;
        /* A radix sort of (UID, index) pairs, a byte of the UID a pass, least significant
         * first; a pass whose byte is the same for every UID is skipped (UIDs are often
         * close together). Each pass is stable, so the order is the UIDs'. */
        for (size_t i = 0; i < n; i++) {
                a[i] = (uint64_t) uids[i] << 32 | i;
                for (unsigned d = 0; d < 4; d++)
                        counts[d][(uids[i] >> (8 * d)) & 0xff]++;
        }
        for (unsigned d = 0; d < 4; d++) {
                size_t at = 0;
                uint64_t *swap;

                if (counts[d][(uids[0] >> (8 * d)) & 0xff] == n)
                        continue;
                for (unsigned v = 0; v < 256; v++) {
                        size_t c = counts[d][v];

                        counts[d][v] = at;
                        at += c;
                }
                for (size_t i = 0; i < n; i++)
                        b[counts[d][(a[i] >> (32 + 8 * d)) & 0xff]++] = a[i];
                swap = a;
                a = b;
                b = swap;
        }
        for (size_t i = 0; i < n; i++)
                ret_order[i] = (uint32_t) a[i];
        return 0;
}

static int compare_login(const void *a, const void *b) {
        const LoginCount *x = a, *y = b;

        if (x->login_uid != y->login_uid)
                return x->login_uid < y->login_uid ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

void counts_sort_logins(LoginCount *l, size_t n) {
        if (n > 1)
                qsort(l, n, sizeof(*l), compare_login);
}

UserCount *counts_find_uid(UserCount *u, size_t n, uint32_t uid) {
        UserCount key = { .uid = uid };

        return n > 0 ? bsearch(&key, u, n, sizeof(*u), compare_uid) : NULL;
}
