/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manager-events.c: what the manager does with each event read from the ring buffer:
 * names its unit, decodes it, and hands it to the three sinks. */

#include <errno.h>
#include <inttypes.h>

#include "execlog.h"
#include "history.h"
#include "log.h"
#include "manager-internal.h"
#include "time-util.h"
#include "watch.h"

/* The clock offset for events: read afresh at most every 10 ms (of the coarse clock,
 * which costs no clock read), not for each of thousands of events. */
static int64_t event_realtime_offset(Manager *m) {
        uint64_t now = now_usec(CLOCK_MONOTONIC_COARSE);

        if (m->event_offset_read_usec == 0 || now - m->event_offset_read_usec >= 10 * USEC_PER_MSEC) {
                m->event_offset = tally_realtime_offset(m->tally);
                m->event_offset_read_usec = now;
        }
        return m->event_offset;
}

size_t manager_on_record(const void *data, size_t size, void *userdata) {
        Manager *m = userdata;
        const char *unit = NULL;
        uint64_t cgroup_id;
        ExecEvent *e;
        size_t n;
        int r;

        /* Named as it is decoded, in one allocation. */
        if (exec_event_record_cgroup(data, size, &cgroup_id) && tally_event_unit(m->tally, cgroup_id, &unit) < 0)
                log_oom(); /* the event goes on without its unit */
        r = exec_event_decode(data, size, event_realtime_offset(m), m->config.capture_argv, unit, &e);
        if (r == -ENOMEM) {
                log_oom();
                return 0;
        }
        if (r < 0) {
                /* Only a mismatched BPF object could send these; say so once in a while. */
                if (m->events_malformed++ % 1000 == 0)
                        log_warning("Dropped a malformed event record of %zu bytes (%" PRIu64 " so far).", size,
                                    m->events_malformed);
                return 0;
        }

        /* To three sinks side by side: the Watch streams, the journal, the history. An
         * entry in the journal costs about what a stream does (its name escaped, its
         * arguments too with LogArgv=yes, and a write), and counts as one against the
         * drain's budget. */
        e->seq = ++m->events_received;
        n = watchers_push(m->watchers, e);
        n += exec_log_event(m->exec_log, e);
        history_push(m->history, e);
        return n;
}

void manager_on_drain_polling(uint64_t until_boot_ns, void *userdata) {
        Manager *m = userdata;

        /* A failure costs wakeups, not events. */
        (void) probe_set_reader_polling(m->probe, until_boot_ns);
}

void manager_on_drain_read(void *userdata) {
        Manager *m = userdata;

        watchers_read(m->watchers);
}
