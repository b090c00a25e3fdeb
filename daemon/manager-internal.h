/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager-internal.h: what the parts of the manager share. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "manager.h"

/* manager-events.c: the drain's callbacks (userdata: the Manager). */
size_t manager_on_record(const void *data, size_t size, void *userdata);
void manager_on_drain_polling(uint64_t until_boot_ns, void *userdata);
void manager_on_drain_read(void *userdata);
