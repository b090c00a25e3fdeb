/* SPDX-License-Identifier: GPL-2.0-or-later */
/* drain.c: draining the BPF ring buffer of exec events from the event loop. */

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drain.h"
#include "log.h"
#include "time-util.h"
#include "turn.h"

/* Work done per turn of the loop at most, in records read and the streams and journal
 * entries they went to: a full ring of small records, or a few records for many streams,
 * would keep clients' calls (root's first) waiting. A turn costs wakeups and timer
 * updates of its own, which for a single stream taking every event cost more than the
 * events themselves when the batch was 64 records. About a millisecond of work. */
#define DRAIN_BUDGET 2048
/* A record's work grows with its size too (copied, escaped for each stream, logged): one
 * unit more per this many bytes. Most records are smaller and count once; the largest (a
 * 4 KiB name and 1 KiB of arguments, 5,216 bytes) 11 times, and 11 more for each stream
 * and the journal entry it goes to: a flood of them makes turns of 187 records with
 * neither, 94 with one, 63 with both (fewer with more streams), not 2,048, before root's
 * call. The turn stops after the record that uses up the budget. */
#define DRAIN_BYTES_PER_UNIT 512

struct Drain {
        struct ring_buffer *ring;
        /* The ring's positions, mapped read-only: how far the programs wrote, how far
         * the reader has read. */
        const volatile unsigned long *producer_pos, *consumer_pos;
        size_t page_size;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *more; /* the rest of a batch, at the next turn */
        unsigned batch; /* records read in this turn */
        size_t spent; /* work done in this turn, against DRAIN_BUDGET */
        bool whole; /* drain_now(): everything, however much */
        uint64_t interval_usec;
        unsigned idle_ticks;
        uint64_t polls_until_ns; /* as last told to the programs */
        DrainHandler handler;
        DrainPollingFn polling;
        DrainReadFn read;
        void *userdata;
};

static int on_record(void *ctx, void *data, size_t size) {
        Drain *d = ctx;

        d->spent += (1 + d->handler(data, size, d->userdata)) * (1 + size / DRAIN_BYTES_PER_UNIT);
        d->batch++;
        /* Stops the read after this record; what is left is read at the next turn. */
        return !d->whole && d->spent >= DRAIN_BUDGET ? -EAGAIN : 0;
}

int drain_now(Drain *d) {
        int r;

        d->whole = true;
        r = ring_buffer__consume(d->ring);
        d->whole = false;
        if (r > 0 && d->read)
                d->read(d->userdata);
        return r;
}

/* Reads a batch of records; returns how many, the rest being read at the next turn. */
static int drain_and_log(Drain *d) {
        int n;

        d->batch = 0;
        d->spent = 0;
        n = ring_buffer__consume(d->ring);
        if (n == -EAGAIN) {
                turn_schedule(d->more);
                n = (int) d->batch;
        } else if (n < 0)
                log_error_errno(n, "Failed to read the event ring buffer: %m");
        if (n > 0 && d->read)
                d->read(d->userdata);
        return n;
}

uint64_t drain_mark(const Drain *d) {
        return __atomic_load_n(d->producer_pos, __ATOMIC_ACQUIRE);
}

bool drain_reached(const Drain *d, uint64_t mark) {
        return __atomic_load_n(d->consumer_pos, __ATOMIC_ACQUIRE) >= mark;
}

void drain_soon(Drain *d) {
        turn_schedule(d->more);
}

static int on_more(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) drain_and_log(userdata);
        return 0;
}

static void timer_arm(Drain *d);

void drain_set_interval(Drain *d, uint64_t usec) {
        int enabled = SD_EVENT_OFF;
        uint64_t next;

        /* Setting the same interval again changes nothing: the timer keeps its time rather
         * than being put off, however often a client makes the manager ask. */
        if (usec == d->interval_usec)
                return;
        d->interval_usec = usec;
        (void) sd_event_source_get_enabled(d->timer, &enabled);
        if (!enabled)
                return;
        if (usec > 0) {
                /* A running timer takes a shorter interval now, not after a long old one,
                 * and a longer one after its next tick, never later. */
                if (sd_event_source_get_time(d->timer, &next) >= 0 && next <= now_usec(CLOCK_MONOTONIC) + usec)
                        return;
                d->polls_until_ns = 0;
                timer_arm(d);
                return;
        }
        d->polls_until_ns = 0;
        /* Every event wakes the loop from now on: no more polling, and what the programs
         * left for the timer is read now. */
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        if (d->polling)
                d->polling(0, d->userdata);
        (void) drain_and_log(d);
}

static void timer_arm(Drain *d) {
        int r;

        r = sd_event_source_set_time_relative(d->timer, d->interval_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_warning_errno(r, "Failed to arm the event drain timer, events may be late: %m");
                return;
        }
        /* Told for ten intervals at a time, again when half of them are gone: a map
         * update per tick would cost as much as the wakeups it saves. Should this daemon
         * die, the programs go back to waking the next one within a second or so. */
        if (d->polling) {
                uint64_t now = now_usec(CLOCK_BOOTTIME) * NSEC_PER_USEC, span = d->interval_usec * NSEC_PER_USEC;

                if (d->polls_until_ns < now + 5 * span) {
                        d->polls_until_ns = now + 10 * span;
                        d->polling(d->polls_until_ns, d->userdata);
                }
        }
}

/* The programs wake the loop at most once per interval (and early for a backlog); events
 * that come without a wakeup wait for this timer, which runs while events flow and stops
 * after two empty ticks. */
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Drain *d = userdata;

        /* One empty tick more than needed: an event whose wakeup was skipped may still be
         * committing when the first empty tick runs. */
        if (drain_and_log(d) > 0)
                d->idle_ticks = 0;
        else if (++d->idle_ticks >= 2) {
                /* Wakeups again from now; what came in before the programs knew is read
                 * here, or it would wait for the next exec. */
                if (d->polling) {
                        d->polls_until_ns = 0;
                        d->polling(0, d->userdata);
                }
                if (drain_and_log(d) <= 0)
                        return 0;
                d->idle_ticks = 0;
        }
        timer_arm(d);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Drain *d = userdata;
        int enabled = SD_EVENT_OFF;

        (void) drain_and_log(d);
        if (d->interval_usec == 0)
                return 0; /* every event wakes the loop, as configured */
        d->idle_ticks = 0;
        (void) sd_event_source_get_enabled(d->timer, &enabled);
        if (!enabled)
                timer_arm(d);
        return 0;
}

int drain_new(sd_event *e, int ringbuf_fd, uint64_t interval_usec, DrainHandler handler, DrainPollingFn polling,
              DrainReadFn read, void *userdata, Drain **ret) {
        _cleanup_(drain_freep) Drain *d = NULL;
        void *p;
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->interval_usec = interval_usec;
        d->handler = handler;
        d->polling = polling;
        d->read = read;
        d->userdata = userdata;
        d->page_size = (size_t) sysconf(_SC_PAGESIZE);

        d->ring = ring_buffer__new(ringbuf_fd, on_record, d, NULL);
        if (!d->ring)
                return negative_errno();
        /* The consumer position is on the ring's first page, the producer's on the second
         * (the kernel's layout, which libbpf maps the same way). */
        p = mmap(NULL, d->page_size, PROT_READ, MAP_SHARED, ringbuf_fd, 0);
        if (p == MAP_FAILED)
                return negative_errno();
        d->consumer_pos = p;
        p = mmap(NULL, d->page_size, PROT_READ, MAP_SHARED, ringbuf_fd, (off_t) d->page_size);
        if (p == MAP_FAILED)
                return negative_errno();
        d->producer_pos = p;

        /* Edge-triggered on the map itself: the loop wakes when a program wakes the reader,
         * not whenever unread data sits in the ring, which would make it spin in a storm. */
        r = sd_event_add_io(e, &d->io, ringbuf_fd, EPOLLIN | EPOLLET, on_io, d);
        if (r < 0)
                return r;
        /* 1ms accuracy: 0 would mean sd-event's default of 250ms. */
        r = sd_event_add_time_relative(e, &d->timer, CLOCK_MONOTONIC, interval_usec, USEC_PER_MSEC, on_timer, d);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = turn_add(e, &d->more, on_more, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(d->io, "ring-buffer");
        (void) sd_event_source_set_description(d->timer, "drain-timer");
        (void) sd_event_source_set_description(d->more, "drain-more");

        *ret = TAKE_PTR(d);
        return 0;
}

Drain *drain_free(Drain *d) {
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->io);
        sd_event_source_disable_unref(d->timer);
        sd_event_source_disable_unref(d->more);
        if (d->consumer_pos)
                (void) munmap((void *) d->consumer_pos, d->page_size);
        if (d->producer_pos)
                (void) munmap((void *) d->producer_pos, d->page_size);
        ring_buffer__free(d->ring);
        free(d);
        return NULL;
}
