/* SPDX-License-Identifier: GPL-2.0-or-later */
/* turn.h: work that continues at the next turn of the event loop, in turn with the rest.
 *
 * A time source armed for now, not a defer source: sd-event ranks a defer source as
 * pending since it was made, ahead of every source of its priority that became ready
 * since, so that work continued through one keeps the socket, the timers and the ring
 * buffer waiting for as long as there is more of it. */
#pragma once

#include <systemd/sd-event.h>
#include <time.h>

/* A source for turn_schedule(), off until then. */
static inline int turn_add(sd_event *e, sd_event_source **ret, sd_event_time_handler_t callback, void *userdata) {
        int r;

        /* 1 us accuracy: 0 would mean sd-event's default of 250 ms. */
        r = sd_event_add_time_relative(e, ret, CLOCK_MONOTONIC, 0, 1, callback, userdata);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(*ret, SD_EVENT_OFF);
}

/* Runs the source at the next turn, unless it is scheduled already. */
static inline void turn_schedule(sd_event_source *s) {
        int enabled = SD_EVENT_OFF;

        if (sd_event_source_get_enabled(s, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;
        (void) sd_event_source_set_time_relative(s, 0);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Takes back a turn_schedule() that the work being done has made needless: such a turn
 * would cost the loop a round (a timer set, a wakeup, and the timer set back) for
 * nothing. */
static inline void turn_cancel(sd_event_source *s) {
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
}
