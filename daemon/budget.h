/* SPDX-License-Identifier: GPL-2.0-or-later */
/* budget.h: the memory the daemon holds for its clients, per UID and in all.
 *
 * Every byte buffered for a client (its input, its output, the events and counts a reply
 * or a stream still has to send) is charged to the client's UID. A UID may hold at most
 * max_per_uid bytes; all UIDs together at most max. Root is not held to either (it
 * could stop the daemon anyway), but is still accounted for. When the whole budget is
 * used up, a UID that holds less than another gets its share back from that one: the
 * caller takes it away (drops the other's biggest client) and tries again. So one user
 * can never make another wait for memory, and nothing clients do takes the daemon past
 * max plus what root asks for. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "uidmap.h"

typedef struct Connection Connection;

typedef struct BudgetUser {
        uint32_t uid;
        Connection *connections; /* its live ones: the caller keeps this list */
        bool exempt; /* root */
        unsigned n_connections; /* that hold the entry */
        unsigned n_live; /* of them, not closed yet (the caller keeps this one) */
        size_t used;
        bool warned; /* the log said once that this UID went over its share */
        /* What its replies in parts may still write now (bytes; may be owed), and when
         * that was last topped up (CLOCK_MONOTONIC). */
        int64_t rate_tokens;
        uint64_t rate_usec;
        bool rate_started;
} BudgetUser;

typedef struct Budget {
        UidMap *users; /* uid -> BudgetUser *, while it has connections or charges */
        size_t used; /* by the UIDs held to the budget */
        size_t used_exempt;
        size_t max, max_per_uid;
        uint64_t rate_per_uid; /* bytes per second a UID's replies in parts write; 0: no limit */
} Budget;

int budget_init(Budget *b, size_t max, size_t max_per_uid);
void budget_done(Budget *b);
void budget_set_limits(Budget *b, size_t max, size_t max_per_uid, uint64_t rate_per_uid);

/* The UID's entry, made if missing, with one more connection; NULL when out of memory. */
BudgetUser *budget_user_get(Budget *b, uint32_t uid);
/* One connection less; the entry goes with the last one (all it held must be
 * uncharged by then). */
void budget_user_put(Budget *b, BudgetUser *u);
/* The UID's entry, or NULL. */
BudgetUser *budget_user_find(const Budget *b, uint32_t uid);

/* Charges n bytes to u. Returns 0 when they fit; -ENOBUFS when u would go over its share,
 * or the whole budget is used up and u holds the most; -EAGAIN with *ret_victim when the
 * whole budget is used up and the victim holds more than u would with n: take from the
 * victim, then try again. */
int budget_charge(Budget *b, BudgetUser *u, size_t n, BudgetUser **ret_victim);
/* Charges n bytes whatever the limits say: for the small error reply that ends a
 * client that went over them. */
void budget_charge_force(Budget *b, BudgetUser *u, size_t n);
void budget_uncharge(Budget *b, BudgetUser *u, size_t n);

/* The output rate: whether u may write now (it owes nothing: its tokens, topped up at
 * rate_per_uid up to one second's worth, starting from none, are not below zero); if
 * not, *ret_wait_usec says for how long not. */
bool budget_may_write(Budget *b, BudgetUser *u, uint64_t now, uint64_t *ret_wait_usec);
/* u wrote n bytes. */
void budget_wrote(Budget *b, BudgetUser *u, size_t n);
