/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units-live.c: the CPUs' slots: reading entries they add to (read_with_slots(), for the
 * per-unit counts here and the per-UID ones in units-counts.c), and changing them. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "counts.h"
#include "macro.h"
#include "units-internal.h"
#include "units.h"

/* ---- The CPUs' unit slots (struct exec_unit_slot) */

/* Times a reader tries, a millisecond apart (see units_read_live()). */
#define SLOT_READ_TRIES 8

/* Every CPU's slot; none without the map (slots_fd < 0). */
static int slots_read(int slots_fd, struct exec_unit_slot **ret, size_t *ret_n) {
        int n = libbpf_num_possible_cpus();
        _cleanup_(freep) struct exec_unit_slot *s = NULL;
        uint32_t zero = 0;

        if (slots_fd < 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (n < 0)
                return n;
        s = calloc(MAX(n, 1), sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (bpf_map_lookup_elem(slots_fd, &zero, s) < 0)
                return negative_errno();
        *ret = TAKE_PTR(s);
        *ret_n = (size_t) n;
        return 0;
}

static int slots_write(int slots_fd, const struct exec_unit_slot *s) {
        uint32_t zero = 0;

        return bpf_map_update_elem(slots_fd, &zero, s, BPF_ANY) < 0 ? negative_errno() : 0;
}

uint64_t unit_slot_failed(const struct exec_unit_slot *s) {
        return s->failed & EXEC_UNIT_SLOT_COUNT_MASK;
}

/* Whether a copy of a slot is of one moment: not changing hands, its count of its
 * generation. A copy is made field by field, while another CPU's programs may give the
 * slot to another key. */
static bool slot_whole(const struct exec_unit_slot *s) {
        return !(s->seq & 1) && s->failed >> EXEC_UNIT_SLOT_COUNT_BITS == ((s->seq >> 1) & EXEC_UNIT_SLOT_GENERATION_MASK);
}

/* The slot emptied, in the next generation, so that an add of the one before, by a
 * program still on its way, fails. */
struct exec_unit_slot unit_slot_emptied(const struct exec_unit_slot *s) {
        uint32_t seq = s->seq + 2;

        return (struct exec_unit_slot) {
                .seq = seq,
                .failed = ((seq >> 1) & EXEC_UNIT_SLOT_GENERATION_MASK) << EXEC_UNIT_SLOT_COUNT_BITS,
        };
}

static bool slots_changed(const struct exec_unit_slot *a, const struct exec_unit_slot *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!slot_whole(&b[i]) || a[i].seq != b[i].seq)
                        return true;
        return false;
}

static UnitLive *live_find(UnitLive *u, size_t n, uint64_t cgroup_id, uint32_t uid) {
        for (size_t i = 0; i < n; i++)
                if (u[i].cgroup_id == cgroup_id && u[i].uid == uid)
                        return &u[i];
        return NULL;
}

/* The map's entries, not its places. */
static int read_entries(int units_fd, size_t extra, UnitLive **ret, size_t *ret_n) {
        _cleanup_(freep) struct exec_unit_key *keys = NULL;
        _cleanup_(freep) struct exec_unit_count *values = NULL;
        UnitLive *u;
        size_t n, k = 0;
        int r;

        r = counts_read_map(units_fd, EXECCOUNT_UNITS_CAPACITY, sizeof(*keys), sizeof(*values), (void **) &keys,
                            (void **) &values, &n);
        if (r < 0)
                return r;
        u = calloc(n + extra + 1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (keys[i].cgroup_id == EXEC_UNIT_PLACES || keys[i].cgroup_id == EXEC_UNIT_RETURNED)
                        continue;
                u[k++] = (UnitLive) {
                        .cgroup_id = keys[i].cgroup_id,
                        .uid = keys[i].uid,
                        .execs = values[i].execs,
                        .failed = values[i].failed,
                        .last_exec_ns = values[i].last_exec_ns,
                };
        }
        *ret = u;
        *ret_n = k;
        return 0;
}

/* The entry of key in u (n of them), appended if missing. */
static UnitLive *live_get(UnitLive *u, size_t *n, uint64_t cgroup_id, uint32_t uid) {
        UnitLive *e = live_find(u, *n, cgroup_id, uid);

        if (!e) {
                e = &u[(*n)++];
                *e = (UnitLive) { .cgroup_id = cgroup_id, .uid = uid };
        }
        return e;
}

/* Reads entries between two looks at the slots. A slot that changed hands meanwhile
 * (once: its sequence count 2 more) moved its failures into its key's entries, before or
 * after they were read: they are read again, now that they hold them, and a third look
 * makes sure no slot changed hands since the second, which would leave its failures
 * counted twice or not at all. So a slot changing hands, at most once a second per CPU,
 * costs a lookup, not the whole read. -EBUSY if the slots kept changing hands. */
int read_with_slots(int slots_fd, const SlotReader *reader, void *userdata) {
        int r;

        for (int try = 0; try < SLOT_READ_TRIES; try++) {
                _cleanup_(freep) struct exec_unit_slot *before = NULL, *mid = NULL, *after = NULL;
                size_t n_cpus, n_mid, n_after;
                bool again = false;

                if (try > 0)
                        (void) usleep(1000);
                r = slots_read(slots_fd, &before, &n_cpus);
                if (r < 0)
                        return r;
                r = reader->read(userdata);
                if (r < 0)
                        return r;
                r = slots_read(slots_fd, &mid, &n_mid);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_cpus && i < n_mid && !again; i++) {
                        if (!slot_whole(&before[i]) || !slot_whole(&mid[i]) || (mid[i].seq != before[i].seq &&
                                                                                  mid[i].seq != before[i].seq + 2))
                                again = true;
                        else if (mid[i].seq != before[i].seq && before[i].cgroup_id != 0) {
                                r = reader->reread(&before[i], userdata);
                                if (r < 0)
                                        return r;
                        }
                }
                if (again || n_mid != n_cpus)
                        continue;
                r = slots_read(slots_fd, &after, &n_after);
                if (r < 0)
                        return r;
                if (n_after != n_mid || slots_changed(mid, after, n_mid))
                        continue;
                for (size_t i = 0; i < n_after; i++) {
                        if (after[i].cgroup_id == 0 || unit_slot_failed(&after[i]) == 0)
                                continue;
                        r = reader->add(&after[i], userdata);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return -EBUSY;
}

/* ---- The units map's entries with the slots' failures */

typedef struct UnitsRead {
        int units_fd;
        size_t extra; /* room for entries that only slots name */
        UnitLive *u;
        size_t n;
} UnitsRead;

static int units_read(void *userdata) {
        UnitsRead *x = userdata;

        free(x->u);
        x->u = NULL;
        return read_entries(x->units_fd, x->extra, &x->u, &x->n);
}

static int units_reread(const struct exec_unit_slot *former, void *userdata) {
        UnitsRead *x = userdata;
        struct exec_unit_key key = { .cgroup_id = former->cgroup_id, .uid = former->uid };
        struct exec_unit_count v;
        UnitLive *e;

        if (bpf_map_lookup_elem(x->units_fd, &key, &v) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        e = live_get(x->u, &x->n, key.cgroup_id, key.uid);
        e->execs = v.execs;
        e->failed = v.failed;
        e->last_exec_ns = v.last_exec_ns;
        return 0;
}

static int units_add(const struct exec_unit_slot *s, void *userdata) {
        UnitsRead *x = userdata;
        UnitLive *e = live_get(x->u, &x->n, s->cgroup_id, s->uid);

        e->failed += unit_slot_failed(s);
        e->last_exec_ns = MAX(e->last_exec_ns, s->last_exec_ns);
        return 0;
}

int units_read_live(int units_fd, int slots_fd, UnitLive **ret, size_t *ret_n) {
        static const SlotReader reader = { .read = units_read, .reread = units_reread, .add = units_add };
        int n_cpus = libbpf_num_possible_cpus();
        UnitsRead x = { .units_fd = units_fd };
        int r;

        if (slots_fd < 0)
                return read_entries(units_fd, 0, ret, ret_n);
        if (n_cpus < 0)
                return n_cpus;
        /* A reread and a slot can each name an entry the read did not have. */
        x.extra = 2 * (size_t) n_cpus;
        r = read_with_slots(slots_fd, &reader, &x);
        if (r < 0) {
                free(x.u);
                return r;
        }
        *ret = x.u;
        *ret_n = x.n;
        return 0;
}

int units_slots_held(int slots_fd, const UnitLive *gone, size_t n, bool *ret_held) {
        _cleanup_(freep) struct exec_unit_slot *s = NULL;
        size_t n_cpus;
        int r;

        for (size_t i = 0; i < n; i++)
                ret_held[i] = false;
        if (slots_fd < 0)
                return 0;
        r = slots_read(slots_fd, &s, &n_cpus);
        if (r < 0)
                return r;
        for (size_t c = 0; c < n_cpus; c++) {
                /* Changing hands: which key it leaves is not told. All wait. */
                bool all = !slot_whole(&s[c]);

                if (s[c].cgroup_id == 0 && !all)
                        continue;
                for (size_t i = 0; i < n; i++)
                        if (all || (gone[i].cgroup_id == s[c].cgroup_id && gone[i].uid == s[c].uid))
                                ret_held[i] = true;
        }
        return 0;
}

/* Empties the slots of uid (has_uid) or all, or (tat_only) makes them forget their tat. */
static int slots_change(int slots_fd, bool has_uid, uint32_t uid, bool tat_only) {
        _cleanup_(freep) struct exec_unit_slot *s = NULL;
        size_t n_cpus;
        int r;

        r = slots_read(slots_fd, &s, &n_cpus);
        if (r < 0 || n_cpus == 0)
                return r;
        for (size_t i = 0; i < n_cpus; i++) {
                if (has_uid && s[i].uid != uid)
                        continue;
                /* Frozen, a slot changes hands only if a program was still at it after
                 * the grace period: one that was preempted on a single CPU (where there
                 * is none). */
                if (!slot_whole(&s[i]))
                        return -EBUSY;
                if (tat_only)
                        s[i].tat_ns = 0;
                else
                        s[i] = unit_slot_emptied(&s[i]);
        }
        return slots_write(slots_fd, s);
}

int units_slots_clear(int slots_fd, bool has_uid, uint32_t uid) {
        return slots_change(slots_fd, has_uid, uid, false);
}

int units_slots_forget_tat(int slots_fd) {
        return slots_change(slots_fd, false, 0, true);
}
