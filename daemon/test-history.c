/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-history.c: unit tests for history.c. */

#include "history.h"
#include "test.h"

static ExecEvent *event(uint64_t seq, uint32_t uid) {
        ExecEvent *e = calloc(1, sizeof(*e) + 1);

        ASSERT(e);
        e->n_ref = 1; /* the history's */
        e->seq = seq;
        e->uid = uid;
        return e;
}

/* Checks that the query returns exactly the given sequence numbers. */
static void expect(History *h, bool has_uid, uint32_t uid, size_t limit, const uint64_t *seqs, size_t n) {
        const ExecEvent *out[64];
        size_t got = history_query(h, has_uid, uid, limit, out);

        ASSERT_EQ_U(got, n);
        for (size_t i = 0; i < n; i++)
                ASSERT_EQ_U(out[i]->seq, seqs[i]);
}

int main(void) {
        History *h;

        ASSERT_EQ(history_new(4, &h), 0);
        expect(h, false, 0, 10, NULL, 0);
        for (uint64_t s = 1; s <= 3; s++)
                history_push(h, event(s, s % 2));
        expect(h, false, 0, 10, (uint64_t[]) { 1, 2, 3 }, 3);
        expect(h, false, 0, 2, (uint64_t[]) { 2, 3 }, 2);
        expect(h, true, 1, 10, (uint64_t[]) { 1, 3 }, 2);
        expect(h, true, 1, 1, (uint64_t[]) { 3 }, 1);
        expect(h, true, 7, 10, NULL, 0);
        expect(h, false, 0, 0, NULL, 0);

        /* Full: the oldest goes. */
        for (uint64_t s = 4; s <= 6; s++)
                history_push(h, event(s, s % 2));
        ASSERT_EQ_U(history_size(h), 4);
        expect(h, false, 0, 10, (uint64_t[]) { 3, 4, 5, 6 }, 4);
        expect(h, true, 0, 10, (uint64_t[]) { 4, 6 }, 2);

        /* Shrinking keeps the newest, growing keeps all. */
        ASSERT_EQ(history_set_capacity(h, 2), 0);
        expect(h, false, 0, 10, (uint64_t[]) { 5, 6 }, 2);
        ASSERT_EQ(history_set_capacity(h, 8), 0);
        ASSERT_EQ_U(history_capacity(h), 8);
        for (uint64_t s = 7; s <= 9; s++)
                history_push(h, event(s, 0));
        expect(h, false, 0, 10, (uint64_t[]) { 5, 6, 7, 8, 9 }, 5);

        /* Capacity 0 keeps nothing and frees what it is given. */
        ASSERT_EQ(history_set_capacity(h, 0), 0);
        history_push(h, event(10, 0));
        ASSERT_EQ_U(history_size(h), 0);
        expect(h, false, 0, 10, NULL, 0);
        history_free(h);
        return 0;
}
