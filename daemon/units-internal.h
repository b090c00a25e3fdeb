/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units-internal.h: reading entries that the CPUs' slots add to, shared by the readers of
 * the per-unit counts (units-live.c) and of the per-UID ones (units-counts.c). */
#pragma once

#include "execcount.h"

/* What a reader of entries that the slots add to does (see read_with_slots()). */
typedef struct SlotReader {
        int (*read)(void *userdata);                                        /* the entries, afresh */
        int (*reread)(const struct exec_unit_slot *former, void *userdata); /* a key's entries again */
        int (*add)(const struct exec_unit_slot *s, void *userdata);         /* a slot's failures */
} SlotReader;

/* Reads entries between looks at the slots (slots_fd), so that each failure is counted
 * once, in an entry or a slot; -EBUSY if the slots kept changing hands. */
int read_with_slots(int slots_fd, const SlotReader *reader, void *userdata);
