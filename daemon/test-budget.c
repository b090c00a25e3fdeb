/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-budget.c: unit tests for budget.c: shares per UID, the whole budget, and who
 * gives back when it is used up. */

#include <errno.h>

#include "budget.h"
#include "test.h"

static void test_shares(void) {
        Budget b;
        BudgetUser *a, *a2, *c, *root, *victim;

        ASSERT_EQ(budget_init(&b, 100, 40), 0);
        a = budget_user_get(&b, 1000);
        a2 = budget_user_get(&b, 1000); /* a second connection, same UID, same entry */
        ASSERT(a == a2 && a->n_connections == 2);
        c = budget_user_get(&b, 1001);
        root = budget_user_get(&b, 0);

        ASSERT_EQ(budget_charge(&b, a, 40, &victim), 0);
        ASSERT_EQ(budget_charge(&b, a, 1, &victim), -ENOBUFS); /* over its share */
        ASSERT(!victim);
        ASSERT_EQ(budget_charge(&b, c, 40, &victim), 0);
        /* Root is not held to the budget, and does not use it up for the others. */
        ASSERT_EQ(budget_charge(&b, root, 1000, &victim), 0);
        ASSERT_EQ_U(b.used, 80);
        ASSERT_EQ_U(b.used_exempt, 1000);
        budget_uncharge(&b, root, 1000);

        budget_uncharge(&b, a, 40);
        budget_uncharge(&b, c, 40);
        ASSERT_EQ_U(b.used, 0);
        budget_user_put(&b, a);
        budget_user_put(&b, a2);
        budget_user_put(&b, c);
        budget_user_put(&b, root);
        ASSERT_EQ_U(uidmap_size(b.users), 0);
        budget_done(&b);
}

/* The whole budget used up by three UIDs: a fourth that holds little gets memory back
 * from the one that holds the most, never from one that holds less than it would. */
static void test_fairness(void) {
        Budget b;
        BudgetUser *u[4], *victim;

        ASSERT_EQ(budget_init(&b, 100, 40), 0);
        for (uint32_t i = 0; i < 4; i++)
                u[i] = budget_user_get(&b, 2000 + i);
        ASSERT_EQ(budget_charge(&b, u[0], 40, &victim), 0);
        ASSERT_EQ(budget_charge(&b, u[1], 35, &victim), 0);
        ASSERT_EQ(budget_charge(&b, u[2], 25, &victim), 0);
        ASSERT_EQ_U(b.used, 100);

        ASSERT_EQ(budget_charge(&b, u[3], 10, &victim), -EAGAIN);
        ASSERT(victim == u[0]);
        budget_uncharge(&b, victim, 40); /* the caller drops u[0]'s biggest client */
        ASSERT_EQ(budget_charge(&b, u[3], 10, &victim), 0);

        /* u[3] at 10 asks for 30 more; u[1] holds 35, u[2] 25, the budget has 30 left. */
        ASSERT_EQ(budget_charge(&b, u[3], 30, &victim), 0);
        /* Now full again, u[3] holds the most (40): u[2] (25) asking for 15 more would hold
         * as much; the one that holds the most gives only to one that holds less. */
        ASSERT_EQ_U(b.used, 100);
        ASSERT_EQ(budget_charge(&b, u[2], 15, &victim), -ENOBUFS);
        ASSERT(!victim);
        /* But 5 more (30, under u[3]'s 40) takes from u[3], the biggest. */
        ASSERT_EQ(budget_charge(&b, u[2], 5, &victim), -EAGAIN);
        ASSERT(victim == u[3]);
        /* And the biggest itself gets nothing when the budget is used up. */
        ASSERT_EQ(budget_charge(&b, u[3], 1, &victim), -ENOBUFS);

        budget_uncharge(&b, u[1], 35);
        budget_uncharge(&b, u[2], 25);
        budget_uncharge(&b, u[3], 40);
        for (int i = 0; i < 4; i++)
                budget_user_put(&b, u[i]);
        budget_done(&b);
}

/* The output rate: a UID starts with nothing saved up, may write while it owes nothing,
 * and saves up one second's worth at most; root is not held to it. */
static void test_rate(void) {
        Budget b;
        BudgetUser *u, *root;
        uint64_t wait, t = 1000 * USEC_PER_SEC;

        ASSERT_EQ(budget_init(&b, 100, 40), 0);
        budget_set_limits(&b, 100, 40, 1000); /* 1000 bytes a second */
        u = budget_user_get(&b, 3000);
        root = budget_user_get(&b, 0);
        ASSERT(budget_may_write(&b, u, t, &wait));
        budget_wrote(&b, u, 500); /* owes 500: half a second */
        ASSERT(!budget_may_write(&b, u, t, &wait));
        ASSERT(wait > 490 * USEC_PER_MSEC && wait <= 501 * USEC_PER_MSEC);
        ASSERT(!budget_may_write(&b, u, t + 400 * USEC_PER_MSEC, &wait));
        ASSERT(budget_may_write(&b, u, t + 500 * USEC_PER_MSEC, &wait));
        /* A long pause saves up one second's worth, no more. */
        ASSERT(budget_may_write(&b, u, t + 100 * USEC_PER_SEC, &wait));
        budget_wrote(&b, u, 1500);
        ASSERT(!budget_may_write(&b, u, t + 100 * USEC_PER_SEC, &wait));
        ASSERT(wait > 490 * USEC_PER_MSEC && wait <= 501 * USEC_PER_MSEC);
        budget_wrote(&b, root, 1000000);
        ASSERT(budget_may_write(&b, root, t, &wait));
        /* Gone and back: nothing saved up, nothing owed forgotten for long. */
        budget_user_put(&b, u);
        u = budget_user_get(&b, 3000);
        ASSERT(budget_may_write(&b, u, t + 200 * USEC_PER_SEC, &wait));
        budget_wrote(&b, u, 2000);
        ASSERT(!budget_may_write(&b, u, t + 200 * USEC_PER_SEC + 1500 * USEC_PER_MSEC, &wait));
        budget_user_put(&b, u);
        budget_user_put(&b, root);
        budget_done(&b);
}

int main(void) {
        test_shares();
        test_fairness();
        test_rate();
        return 0;
}
