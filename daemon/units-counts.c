/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units-counts.c: the per-UID counts with the failures the CPUs' slots hold for the UIDs
 * (see struct exec_unit_slot): as failures, and as events held back. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

#include "counts.h"
#include "macro.h"
#include "units-internal.h"
#include "units.h"

/* A slot's failures sent no event: they are the UID's failures and its events held back. */
static void user_add(UserCount *c, const struct exec_unit_slot *s) {
        c->failed += unit_slot_failed(s);
        c->events_throttled += unit_slot_failed(s);
        c->last_exec_ns = MAX(c->last_exec_ns, s->last_exec_ns);
}

static void user_set(UserCount *c, const struct exec_count *v) {
        c->execs = v->execs;
        c->failed = v->failed;
        c->last_exec_ns = v->last_exec_ns;
        c->events_throttled = v->events_throttled;
}

typedef struct UsersRead {
        CountsMaps maps;
        UserCount *u; /* the first n_sorted sorted by UID, then the appended ones */
        size_t n, n_sorted;
        size_t extra; /* room left for appending */
} UsersRead;

static UserCount *users_find(UsersRead *x, uint32_t uid) {
        for (size_t i = x->n_sorted; i < x->n; i++)
                if (x->u[i].uid == uid)
                        return &x->u[i];
        return counts_find_uid(x->u, x->n_sorted, uid);
}

/* The UID's count, appended if missing (never so: a slot's UID keeps its entry). */
static UserCount *users_get(UsersRead *x, uint32_t uid) {
        UserCount *c = users_find(x, uid);

        if (c || x->extra == 0)
                return c;
        x->extra--;
        x->u[x->n] = (UserCount) { .uid = uid };
        return &x->u[x->n++];
}

static int users_read(void *userdata) {
        UsersRead *x = userdata;
        int n_cpus = libbpf_num_possible_cpus();
        UserCount *u;
        size_t n;
        int r;

        if (n_cpus < 0)
                return n_cpus;
        free(x->u);
        x->u = NULL;
        r = counts_read_all(x->maps, &u, &n);
        if (r < 0)
                return r;
        x->extra = 2 * (size_t) n_cpus;
        x->u = reallocarray(u, n + x->extra, sizeof(*u));
        if (!x->u) {
                free(u);
                return -ENOMEM;
        }
        x->n = x->n_sorted = n;
        return 0;
}

static int users_reread(const struct exec_unit_slot *former, void *userdata) {
        UsersRead *x = userdata;
        struct exec_count v;
        UserCount *c;

        if (bpf_map_lookup_elem(x->maps.counts_fd, &former->uid, &v) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        c = users_get(x, former->uid);
        if (c)
                user_set(c, &v);
        return 0;
}

static int users_add(const struct exec_unit_slot *s, void *userdata) {
        UserCount *c = users_get(userdata, s->uid);

        if (c)
                user_add(c, s);
        return 0;
}

int counts_read_all_live(CountsMaps m, int slots_fd, UserCount **ret, size_t *ret_n) {
        static const SlotReader reader = { .read = users_read, .reread = users_reread, .add = users_add };
        UsersRead x = { .maps = m };
        int r;

        if (slots_fd < 0)
                return counts_read_all(m, ret, ret_n);
        r = read_with_slots(slots_fd, &reader, &x);
        if (r < 0) {
                free(x.u);
                return r;
        }
        if (x.n > x.n_sorted)
                counts_sort_by_uid(x.u, x.n);
        *ret = x.u;
        *ret_n = x.n;
        return 0;
}

typedef struct UserRead {
        CountsMaps maps;
        uint32_t uid;
        UserCount c;
        bool found;
} UserRead;

static int user_read(void *userdata) {
        UserRead *x = userdata;
        int r = counts_read_one(x->maps, x->uid, &x->c);

        x->found = r >= 0;
        return r == -ENOENT ? 0 : r;
}

static int user_reread(const struct exec_unit_slot *former, void *userdata) {
        UserRead *x = userdata;

        return former->uid == x->uid ? user_read(x) : 0;
}

static int user_add_one(const struct exec_unit_slot *s, void *userdata) {
        UserRead *x = userdata;

        if (s->uid != x->uid)
                return 0;
        /* Never so but after MaxUIDs= shrank: a slot's UID keeps its entry. Counted as
         * counts_read_all_live() counts it. */
        if (!x->found) {
                x->c = (UserCount) { .uid = x->uid };
                x->found = true;
        }
        user_add(&x->c, s);
        return 0;
}

int counts_read_one_live(CountsMaps m, int slots_fd, uint32_t uid, UserCount *ret) {
        static const SlotReader reader = { .read = user_read, .reread = user_reread, .add = user_add_one };
        UserRead x = { .maps = m, .uid = uid };
        int r;

        if (slots_fd < 0)
                return counts_read_one(m, uid, ret);
        r = read_with_slots(slots_fd, &reader, &x);
        if (r < 0)
                return r;
        if (!x.found)
                return -ENOENT;
        *ret = x.c;
        return 0;
}
