/* SPDX-License-Identifier: GPL-2.0-or-later */
/* machines.c: systemd-machined's machines by unit, over the system bus (sd-bus), without
 * ever blocking the event loop: every call is asynchronous, and none starts machined. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "machines.h"
#include "macro.h"

#define MACHINED "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"
/* A call machined does not answer in this time is given up. */
#define CALL_TIMEOUT_USEC (10 * 1000 * 1000ULL)
/* Longer names than systemd makes are not kept. */
#define UNIT_NAME_LEN_MAX 256
#define MACHINE_NAME_LEN_MAX 255

typedef struct MachineEntry {
        char *unit;
        char *name;
        uint64_t added; /* order of addition, to drop the oldest */
} MachineEntry;

struct Machines {
        sd_bus *bus;
        sd_bus_slot *match; /* MachineNew */
        MachineEntry *entries; /* sorted by unit */
        size_t n;
        uint64_t added;
};

/* A Get of a machine's Unit property in flight. */
typedef struct UnitQuery {
        Machines *machines;
        char *name;
} UnitQuery;

static int compare_entry(const void *key, const void *entry) {
        return strcmp(key, ((const MachineEntry *) entry)->unit);
}

/* Where unit is, or would go. */
static size_t position(const Machines *m, const char *unit, bool *ret_found) {
        size_t lo = 0, hi = m->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = compare_entry(unit, &m->entries[mid]);

                if (c == 0) {
                        *ret_found = true;
                        return mid;
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        *ret_found = false;
        return lo;
}

static void drop(Machines *m, size_t i) {
        free(m->entries[i].unit);
        free(m->entries[i].name);
        memmove(&m->entries[i], &m->entries[i + 1], (m->n - i - 1) * sizeof(*m->entries));
        m->n--;
}

int machines_add(Machines *m, const char *unit, const char *name) {
        _cleanup_(freep) char *u = NULL, *n = NULL;
        bool found;
        size_t i;

        if (strlen(unit) > UNIT_NAME_LEN_MAX || strlen(name) > MACHINE_NAME_LEN_MAX || !*unit || !*name)
                return -EINVAL;
        n = strdup(name);
        if (!n)
                return -ENOMEM;
        i = position(m, unit, &found);
        if (found) {
                free(m->entries[i].name);
                m->entries[i].name = TAKE_PTR(n);
                m->entries[i].added = ++m->added;
                return 0;
        }
        u = strdup(unit);
        if (!u)
                return -ENOMEM;
        if (!m->entries) {
                m->entries = calloc(MACHINES_MAX, sizeof(*m->entries));
                if (!m->entries)
                        return -ENOMEM;
        }
        if (m->n == MACHINES_MAX) {
                size_t oldest = 0;

                for (size_t j = 1; j < m->n; j++)
                        if (m->entries[j].added < m->entries[oldest].added)
                                oldest = j;
                drop(m, oldest);
                i = position(m, unit, &found);
        }
        memmove(&m->entries[i + 1], &m->entries[i], (m->n - i) * sizeof(*m->entries));
        m->entries[i] = (MachineEntry) { .unit = TAKE_PTR(u), .name = TAKE_PTR(n), .added = ++m->added };
        m->n++;
        return 0;
}

const char *machines_lookup(const Machines *m, const char *unit) {
        bool found;
        size_t i;

        if (!m || m->n == 0)
                return NULL;
        i = position(m, unit, &found);
        return found ? m->entries[i].name : NULL;
}

static void unit_query_free(void *userdata) {
        UnitQuery *q = userdata;

        free(q->name);
        free(q);
}

static int on_unit(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitQuery *q = userdata;
        const char *unit;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                log_debug("systemd-machined did not tell the unit of machine %s: %s", q->name,
                          sd_bus_message_get_error(reply)->message);
                return 0;
        }
        r = sd_bus_message_read(reply, "v", "s", &unit);
        if (r >= 0)
                r = machines_add(q->machines, unit, q->name);
        if (r < 0)
                log_debug_errno(r, "Failed to keep the unit of machine %s: %m", q->name);
        else
                log_debug("Machine %s runs in %s.", q->name, unit);
        return 0;
}

/* Asks for the unit of machine name, at its object path. */
static int ask_unit(Machines *m, const char *name, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus_slot *slot;
        UnitQuery *q;
        int r;

        r = sd_bus_message_new_method_call(m->bus, &call, MACHINED, path, "org.freedesktop.DBus.Properties", "Get");
        if (r >= 0)
                r = sd_bus_message_append(call, "ss", "org.freedesktop.machine1.Machine", "Unit");
        if (r >= 0)
                r = sd_bus_message_set_auto_start(call, false);
        if (r < 0)
                return r;
        q = calloc(1, sizeof(*q));
        if (!q || !(q->name = strdup(name))) {
                free(q);
                return -ENOMEM;
        }
        q->machines = m;
        r = sd_bus_call_async(m->bus, &slot, call, on_unit, q, CALL_TIMEOUT_USEC);
        if (r < 0) {
                unit_query_free(q);
                return r;
        }
        /* The query goes with the slot, and the slot with the bus, which holds it once
         * floating: this reference is dropped. */
        (void) sd_bus_slot_set_destroy_callback(slot, unit_query_free);
        r = sd_bus_slot_set_floating(slot, true);
        sd_bus_slot_unref(slot);
        return r < 0 ? r : 0;
}

static int on_machine_new(sd_bus_message *signal, void *userdata, sd_bus_error *ret_error) {
        const char *name, *path;
        int r;

        r = sd_bus_message_read(signal, "so", &name, &path);
        if (r >= 0)
                r = ask_unit(userdata, name, path);
        if (r < 0)
                log_debug_errno(r, "Failed to ask systemd-machined about a new machine: %m");
        return 0;
}

static int on_list(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const char *name, *class, *service, *path;
        int r;

        /* Not running (and not started for this): it tells of machines as they come. */
        if (sd_bus_message_is_method_error(reply, NULL)) {
                log_debug("No machines from systemd-machined: %s", sd_bus_message_get_error(reply)->message);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'a', "(ssso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssso)", &name, &class, &service, &path)) > 0)
                r = ask_unit(userdata, name, path);
        if (r < 0)
                log_debug_errno(r, "Failed to read systemd-machined's machines: %m");
        return 0;
}

static int list_machines(Machines *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        int r;

        r = sd_bus_message_new_method_call(m->bus, &call, MACHINED, MACHINED_PATH, MACHINED_MANAGER, "ListMachines");
        if (r >= 0)
                r = sd_bus_message_set_auto_start(call, false);
        if (r >= 0)
                r = sd_bus_call_async(m->bus, NULL, call, on_list, m, CALL_TIMEOUT_USEC);
        return r;
}

int machines_new(sd_event *e, Machines **ret) {
        Machines *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        *ret = m;
        if (!e)
                return 0;
        r = sd_bus_open_system_with_description(&m->bus, "machined");
        if (r < 0) {
                log_debug_errno(r, "No system bus, so no machine names from systemd-machined: %m");
                return 0;
        }
        r = sd_bus_attach_event(m->bus, e, SD_EVENT_PRIORITY_NORMAL);
        /* Subscribed first, so that no machine comes unseen between the list and the
         * subscription; one in both is added twice, the same. */
        if (r >= 0)
                r = sd_bus_match_signal_async(m->bus, &m->match, MACHINED, MACHINED_PATH, MACHINED_MANAGER,
                                              "MachineNew", on_machine_new, NULL, m);
        if (r >= 0)
                r = list_machines(m);
        if (r < 0) {
                log_debug_errno(r, "Failed to ask systemd-machined for its machines: %m");
                m->match = sd_bus_slot_unref(m->match);
                m->bus = sd_bus_close_unref(m->bus);
        }
        return 0;
}

Machines *machines_free(Machines *m) {
        if (!m)
                return NULL;
        sd_bus_slot_unref(m->match);
        /* Closing the bus destroys the calls in flight, and their queries with them; not
         * flushed: nothing sent matters any more, and a hung bus must not hold a stop. */
        sd_bus_close_unref(m->bus);
        for (size_t i = 0; i < m->n; i++) {
                free(m->entries[i].unit);
                free(m->entries[i].name);
        }
        free(m->entries);
        free(m);
        return NULL;
}
