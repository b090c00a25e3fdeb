/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-uidmap.c: unit tests for uidmap.c, against a plain array as the reference. */

#include <errno.h>

#include "test.h"
#include "uidmap.h"

#define N 5000

typedef struct Value {
        uint64_t a;
        uint32_t b;
} Value;

static void test_against_reference(void) {
        static uint64_t reference[N]; /* UID i*7 (i < N) holds reference[i], 0: absent */
        UidMap *m;
        uint32_t seed = 42;

        ASSERT_EQ(uidmap_new(sizeof(Value), SIZE_MAX, &m), 0);
        for (int round = 0; round < 200000; round++) {
                size_t i, n;
                Value *v;

                seed = seed * 1103515245 + 12345;
                i = (seed >> 8) % N;
                if ((seed >> 4) % 3 == 0) {
                        uidmap_remove(m, (uint32_t) i * 7);
                        reference[i] = 0;
                } else {
                        v = uidmap_put(m, (uint32_t) i * 7);
                        ASSERT(v);
                        ASSERT_EQ_U(v->a, reference[i]);
                        v->a = reference[i] = (uint64_t) round + 1;
                        v->b = (uint32_t) i;
                }
                if (round % 9973 != 0)
                        continue;
                n = 0;
                for (size_t k = 0; k < N; k++) {
                        v = uidmap_get(m, (uint32_t) k * 7);
                        ASSERT_EQ_U(v ? v->a : 0, reference[k]);
                        ASSERT(!v || v->b == k);
                        n += reference[k] != 0;
                        ASSERT(!uidmap_get(m, (uint32_t) k * 7 + 1));
                }
                ASSERT_EQ_U(uidmap_size(m), n);
        }

        /* Iteration sees every entry once. */
        size_t it = 0, seen = 0;
        uint32_t uid;
        void *value;
        while (uidmap_next(m, &it, &uid, &value)) {
                ASSERT_EQ_U(uid % 7, 0);
                ASSERT_EQ_U(((Value *) value)->a, reference[uid / 7]);
                seen++;
        }
        ASSERT_EQ_U(seen, uidmap_size(m));

        uidmap_clear(m);
        ASSERT_EQ_U(uidmap_size(m), 0);
        ASSERT(!uidmap_get(m, 0));
        ASSERT(uidmap_put(m, 0));
        uidmap_free(m);
}

static void test_bound(void) {
        UidMap *m;

        ASSERT_EQ(uidmap_new(1, 3, &m), 0);
        ASSERT(uidmap_put(m, 1) && uidmap_put(m, 2) && uidmap_put(m, UINT32_MAX));
        ASSERT(!uidmap_put(m, 4)); /* full */
        ASSERT(uidmap_put(m, 2)); /* an existing one is found */
        uidmap_remove(m, 2);
        ASSERT(uidmap_put(m, 4));
        ASSERT_EQ_U(uidmap_size(m), 3);
        uidmap_free(m);
}

int main(void) {
        test_against_reference();
        test_bound();
        return 0;
}
