/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-rows.c: unit tests for rows.c's radix order, against qsort. */

#include <stddef.h>
#include <stdlib.h>

#include "rows.h"
#include "test.h"

#define N 5000

typedef struct Row {
        int64_t a, b;
        uint32_t index;
} Row;

static Row rows[N];

/* a descending, then b ascending, then as they were. */
static int compare(const void *x, const void *y) {
        const Row *p = x, *q = y;

        if (p->a != q->a)
                return p->a > q->a ? -1 : 1;
        if (p->b != q->b)
                return p->b < q->b ? -1 : 1;
        return p->index < q->index ? -1 : p->index > q->index;
}

int main(void) {
        static const size_t offsets[] = { offsetof(Row, a), offsetof(Row, b) };
        /* Keys that differ in no byte, one, a few, all, and in sign: passes skipped or not. */
        static const uint64_t spreads[] = { 0, 1, 255, 65535, UINT64_MAX };
        uint32_t order[N];
        Row want[N];
        uint64_t seed = 7;

        ASSERT_EQ(rows_order(rows, sizeof(*rows), 0, offsets, 2, 1, order), 0);
        for (size_t i = 0; i < ELEMENTSOF(spreads); i++)
                for (size_t j = 0; j < ELEMENTSOF(spreads); j++) {
                        for (uint32_t k = 0; k < N; k++) {
                                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                                rows[k].a = (int64_t) (spreads[i] == UINT64_MAX ? seed : seed % (spreads[i] + 1));
                                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                                rows[k].b = (int64_t) (spreads[j] == UINT64_MAX ? seed : seed % (spreads[j] + 1)) - 3;
                                rows[k].index = k;
                                want[k] = rows[k];
                        }
                        ASSERT_EQ(rows_order(rows, sizeof(*rows), N, offsets, 2, 1, order), 0);
                        qsort(want, N, sizeof(*want), compare);
                        for (size_t k = 0; k < N; k++)
                                ASSERT_EQ_U(order[k], want[k].index);
                }
        return 0;
}
