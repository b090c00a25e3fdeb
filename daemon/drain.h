/* SPDX-License-Identifier: GPL-2.0-or-later */
/* drain.h: draining the BPF ring buffer of exec events from the event loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Drain Drain;

/* Called for each record; data is valid during the call only. Returns how many streams
 * the record went to, and one more if it was logged: the work it made, beside its own. */
typedef size_t (*DrainHandler)(const void *data, size_t size, void *userdata);

/* Tells the programs until when (CLOCK_BOOTTIME, ns; 0: no longer) the reader polls on
 * its timer, so that they need not wake it. */
typedef void (*DrainPollingFn)(uint64_t until_boot_ns, void *userdata);

/* Called after records were read: calls that wait for the ring to be read up to their
 * mark (drain_mark()) may look again. */
typedef void (*DrainReadFn)(void *userdata);

/* The BPF program wakes the reader at most once per interval; events submitted in between
 * are picked up by a timer interval_usec after each wakeup, which keeps firing while
 * events keep coming and stops once the ring stays empty. While it fires, polling tells
 * the programs, which then wake the reader only for a backlog. */
int drain_new(sd_event *e, int ringbuf_fd, uint64_t interval_usec, DrainHandler handler, DrainPollingFn polling,
              DrainReadFn read, void *userdata, Drain **ret);
Drain *drain_free(Drain *d);
DEFINE_POINTER_CLEANUP(Drain, drain_free);

/* Reads every record the ring buffer holds now, however many; returns how many. (The
 * loop reads them in batches, so that clients do not wait for a full ring.) */
int drain_now(Drain *d);
void drain_set_interval(Drain *d, uint64_t usec);

/* Where the programs have written up to now; drain_reached() says once everything
 * before it has been read. */
uint64_t drain_mark(const Drain *d);
bool drain_reached(const Drain *d, uint64_t mark);
/* Reads the next batch at the next turn of the loop, whatever the interval. */
void drain_soon(Drain *d);
