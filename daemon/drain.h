/* SPDX-License-Identifier: GPL-2.0-or-later */
/* drain.h: draining the BPF ring buffer of exec events from the event loop. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Drain Drain;

/* Called for each record; data is valid during the call only. */
typedef void (*DrainHandler)(const void *data, size_t size, void *userdata);

/* The BPF program wakes the reader at most once per interval; events submitted in between
 * are picked up by a timer interval_usec after each wakeup, which keeps firing while
 * events keep coming and stops once the ring stays empty. */
int drain_new(sd_event *e, int ringbuf_fd, uint64_t interval_usec, DrainHandler handler, void *userdata,
              Drain **ret);
Drain *drain_free(Drain *d);
DEFINE_POINTER_CLEANUP(Drain, drain_free);

/* Reads every record the ring buffer holds now; returns how many. */
int drain_now(Drain *d);
void drain_set_interval(Drain *d, uint64_t usec);
