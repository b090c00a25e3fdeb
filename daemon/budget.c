/* SPDX-License-Identifier: GPL-2.0-or-later */
/* budget.c: the memory the daemon holds for its clients, per UID and in all. */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "budget.h"
#include "macro.h"

/* Every connection has a UID entry: as many as there are connections, at most. */
#define BUDGET_USERS_MAX (1u << 20)

int budget_init(Budget *b, size_t max, size_t max_per_uid) {
        *b = (Budget) { .max = max, .max_per_uid = max_per_uid };
        return uidmap_new(sizeof(BudgetUser *), BUDGET_USERS_MAX, &b->users);
}

void budget_done(Budget *b) {
        size_t i = 0;
        void *v;

        if (!b->users)
                return;
        while (uidmap_next(b->users, &i, NULL, &v))
                free(*(BudgetUser **) v);
        b->users = uidmap_free(b->users);
}

void budget_set_limits(Budget *b, size_t max, size_t max_per_uid, uint64_t rate_per_uid) {
        b->max = max;
        b->max_per_uid = max_per_uid;
        b->rate_per_uid = rate_per_uid;
}

BudgetUser *budget_user_get(Budget *b, uint32_t uid) {
        BudgetUser **slot = uidmap_get(b->users, uid), *u;

        if (slot) {
                (*slot)->n_connections++;
                return *slot;
        }
        u = calloc(1, sizeof(*u));
        if (!u)
                return NULL;
        slot = uidmap_put(b->users, uid);
        if (!slot) {
                free(u);
                return NULL;
        }
        *u = (BudgetUser) { .uid = uid, .exempt = uid == 0, .n_connections = 1 };
        *slot = u;
        return u;
}

void budget_user_put(Budget *b, BudgetUser *u) {
        assert(u->n_connections > 0);
        if (--u->n_connections > 0)
                return;
        assert(u->used == 0);
        uidmap_remove(b->users, u->uid);
        free(u);
}

BudgetUser *budget_user_find(const Budget *b, uint32_t uid) {
        BudgetUser **slot = uidmap_get(b->users, uid);

        return slot ? *slot : NULL;
}

/* The UID held to the budget that holds the most. */
static BudgetUser *biggest(const Budget *b) {
        BudgetUser *most = NULL;
        size_t i = 0;
        void *v;

        while (uidmap_next(b->users, &i, NULL, &v)) {
                BudgetUser *u = *(BudgetUser **) v;

                if (!u->exempt && (!most || u->used > most->used))
                        most = u;
        }
        return most;
}

int budget_charge(Budget *b, BudgetUser *u, size_t n, BudgetUser **ret_victim) {
        BudgetUser *victim;

        *ret_victim = NULL;
        if (u->exempt) {
                u->used += n;
                b->used_exempt += n;
                return 0;
        }
        if (u->used + n > b->max_per_uid)
                return -ENOBUFS;
        if (b->used + n > b->max) {
                /* Max-min fairness: only who holds more than u would gives back. */
                victim = biggest(b);
                if (!victim || victim == u || victim->used <= u->used + n)
                        return -ENOBUFS;
                *ret_victim = victim;
                return -EAGAIN;
        }
        u->used += n;
        b->used += n;
        return 0;
}

void budget_charge_force(Budget *b, BudgetUser *u, size_t n) {
        u->used += n;
        if (u->exempt)
                b->used_exempt += n;
        else
                b->used += n;
}

void budget_uncharge(Budget *b, BudgetUser *u, size_t n) {
        assert(u->used >= n);
        u->used -= n;
        if (u->exempt)
                b->used_exempt -= n;
        else
                b->used -= n;
}

bool budget_may_write(Budget *b, BudgetUser *u, uint64_t now, uint64_t *ret_wait_usec) {
        int64_t rate = (int64_t) MIN(b->rate_per_uid, (uint64_t) INT64_MAX / 2);

        *ret_wait_usec = 0;
        if (u->exempt || rate == 0)
                return true;
        /* A new entry starts with nothing saved up: a UID that closes all its clients and
         * comes back gains nothing by it. */
        if (!u->rate_started) {
                u->rate_tokens = 0;
                u->rate_started = true;
        } else if (now > u->rate_usec) {
                uint64_t elapsed = MIN(now - u->rate_usec, USEC_PER_SEC);

                u->rate_tokens = MIN(u->rate_tokens + (int64_t) (elapsed * (uint64_t) rate / USEC_PER_SEC), rate);
        }
        u->rate_usec = now;
        if (u->rate_tokens >= 0)
                return true;
        *ret_wait_usec = (uint64_t) -u->rate_tokens * USEC_PER_SEC / (uint64_t) rate + 1;
        return false;
}

void budget_wrote(Budget *b, BudgetUser *u, size_t n) {
        if (!u->exempt && b->rate_per_uid > 0)
                u->rate_tokens -= (int64_t) MIN(n, (size_t) INT64_MAX / 2);
}
