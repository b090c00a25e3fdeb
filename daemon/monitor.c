/* SPDX-License-Identifier: GPL-2.0-or-later */
/* monitor.c: the daemon's periodic look at itself. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "message-ids.h"
#include "monitor.h"
#include "event.h"
#include "summary.h"
#include "time-util.h"
#include "utf8.h"

/* One kind of trouble the kernel side counts: warned about at most once a minute. */
typedef struct Alarm {
        uint64_t seen; /* the counter at the last tick */
        uint64_t pending; /* increase not warned about yet */
        uint64_t pending_since_usec; /* CLOCK_REALTIME of the first tick that saw it */
        uint64_t warned_usec; /* CLOCK_MONOTONIC of the last warning */
} Alarm;

struct Monitor {
        Tally *tally;
        Probe *probe;
        ExecLog *exec_log;
        sd_event_source *tick;
        sd_event_source *summary_timer;
        uint64_t summary_interval_usec;
        uint64_t summary_since_usec; /* CLOCK_REALTIME */
        uint64_t summary_since_monotonic_usec;
        Summary summary;
        Alarm lost, map_full, logins_full, units_full, misses, throttled;
};

/* Adds the counter's growth; true when it is time to warn about what piled up. */
static bool alarm_update(Alarm *a, uint64_t value, uint64_t now_mono, uint64_t now_real) {
        if (value > a->seen) {
                if (a->pending == 0)
                        a->pending_since_usec = now_real;
                a->pending += value - a->seen;
        }
        a->seen = value;
        if (a->pending == 0 || (a->warned_usec != 0 && now_mono < a->warned_usec + MONITOR_WARN_INTERVAL_USEC))
                return false;
        a->warned_usec = now_mono;
        return true;
}

static void format_fields(char buf[3][24], const Alarm *a) {
        snprintf(buf[0], 24, "%" PRIu64, a->pending);
        snprintf(buf[1], 24, "%" PRIu64, a->seen);
        snprintf(buf[2], 24, "%" PRIu64, a->pending_since_usec);
}

static void warn_lost(Alarm *a) {
        char v[3][24], since[FORMAT_TIMESTAMP_MAX];

        format_fields(v, a);
        LogField f[] = { { "EVENTS_LOST", v[0] }, { "EVENTS_LOST_TOTAL", v[1] }, { "EVENTS_LOST_SINCE_USEC", v[2] } };
        log_struct(LOG_WARNING, MESSAGE_ID_EVENTS_LOST, f, ELEMENTSOF(f),
                   "Lost %s exec events since %s: the ring buffer was full. The counts are complete; a larger "
                   "RingBufferSize= or a shorter FlushIntervalSec= keeps more events.",
                   v[0], format_timestamp(since, a->pending_since_usec));
        a->pending = 0;
}

/* Names the UID that was held back the most, so far. */
static void warn_throttled(Alarm *a, const TallyEntry *list, size_t n) {
        char v[3][24], since[FORMAT_TIMESTAMP_MAX], top[16] = "?";
        const TallyEntry *most = NULL;

        for (size_t i = 0; i < n; i++)
                if (!most || list[i].events_throttled > most->events_throttled)
                        most = &list[i];
        if (most)
                snprintf(top, sizeof(top), "%" PRIu32, most->uid);
        format_fields(v, a);
        LogField f[] = { { "EVENTS_THROTTLED", v[0] }, { "EVENTS_THROTTLED_TOTAL", v[1] },
                         { "EVENTS_THROTTLED_SINCE_USEC", v[2] }, { "EVENTS_THROTTLED_TOP_UID", top } };
        log_struct(LOG_NOTICE, MESSAGE_ID_EVENTS_THROTTLED, f, ELEMENTSOF(f),
                   "Held back the events of %s execs since %s: their UIDs failed execs faster than "
                   "FailedRateLimitBurst= allows, or failures filled half of the ring buffer, or their events took "
                   "more than their share of a ring buffer more than three quarters full (UID %s the most). The counts are "
                   "complete.",
                   v[0], format_timestamp(since, a->pending_since_usec), top);
        a->pending = 0;
}

/* A kernel map that filled up: its message, and its fields for the execs since the last
 * warning, in all, and since when (MAP_CAPACITY besides). */
typedef struct FullMap {
        const char *message_id;
        const char *fields[3];
        const char *message; /* its %s: the capacity, then the execs */
} FullMap;

static const FullMap uids_full = {
        MESSAGE_ID_MAP_FULL,
        { "MAP_FULL_EXECS", "MAP_FULL_TOTAL", "MAP_FULL_SINCE_USEC" },
        "The UID map is full (%s UIDs): %s execs and failures of further UIDs were counted without a UID. "
        "Raise MaxUIDs=.",
};
static const FullMap logins_full = {
        MESSAGE_ID_LOGINS_MAP_FULL,
        { "LOGINS_MAP_FULL_EXECS", "LOGINS_MAP_FULL_TOTAL", "LOGINS_MAP_FULL_SINCE_USEC" },
        "The map of login pairs is full (%s entries): %s successful execs of further pairs were counted per UID "
        "but not per login. Raise MaxUIDs=.",
};
static const FullMap units_full = {
        MESSAGE_ID_UNITS_MAP_FULL,
        { "UNITS_MAP_FULL_EXECS", "UNITS_MAP_FULL_TOTAL", "UNITS_MAP_FULL_SINCE_USEC" },
        "The map of per-unit counts is full (%s entries): %s execs and failures in further cgroups were counted "
        "per UID but not per unit.",
};

static void warn_full(Alarm *a, const FullMap *m, uint32_t capacity) {
        char v[3][24], cap[16];

        format_fields(v, a);
        snprintf(cap, sizeof(cap), "%" PRIu32, capacity);
        LogField f[] = { { m->fields[0], v[0] }, { m->fields[1], v[1] }, { m->fields[2], v[2] },
                         { "MAP_CAPACITY", cap } };
        log_struct(LOG_WARNING, m->message_id, f, ELEMENTSOF(f), m->message, cap, v[0]);
        a->pending = 0;
}

static void warn_misses(Alarm *a) {
        char v[3][24];

        format_fields(v, a);
        LogField f[] = { { "PROBE_MISSES", v[0] }, { "PROBE_MISSES_TOTAL", v[1] } };
        log_struct(LOG_WARNING, MESSAGE_ID_PROBE_MISSES, f, ELEMENTSOF(f),
                   "The kernel skipped %s runs of the exec programs (the same program was already running on "
                   "that CPU): the counts may be short by as many.",
                   v[0]);
        a->pending = 0;
}

void monitor_tick(Monitor *mon) {
        _cleanup_(freep) TallyEntry *list = NULL;
        uint64_t execs, failed, throttled, misses, now_mono = now_usec(CLOCK_MONOTONIC),
                                                   now_real = now_usec(CLOCK_REALTIME);
        struct exec_attribution_stats a;
        struct exec_stats s;
        size_t n;

        exec_log_flush(mon->exec_log);

        if (tally_read_all(mon->tally, &list, &n) < 0 || tally_read_stats(mon->tally, &s) < 0 ||
            tally_read_attribution(mon->tally, &a) < 0 || probe_read_misses(mon->probe, &misses) < 0)
                return; /* the next tick tries again; methods report such errors to clients */
        tally_sum(list, n, &execs, &failed, &throttled);

        (void) sd_notifyf(false,
                          "STATUS=Counting execs with the %s probes: %" PRIu64 " execs, %" PRIu64
                          " failed, %zu UIDs",
                          probe_mode_to_string(probe_get_mode(mon->probe)), execs + (uint64_t) s.map_full_execs,
                          failed + (uint64_t) s.map_full_failed, n);

        if (alarm_update(&mon->lost, s.events_lost + s.scratch_busy, now_mono, now_real))
                warn_lost(&mon->lost);
        if (alarm_update(&mon->map_full, s.map_full_execs + s.map_full_failed, now_mono, now_real))
                warn_full(&mon->map_full, &uids_full, tally_capacity(mon->tally));
        if (alarm_update(&mon->logins_full, a.logins_full, now_mono, now_real))
                warn_full(&mon->logins_full, &logins_full, EXECCOUNT_LOGINS_CAPACITY(tally_capacity(mon->tally)));
        if (alarm_update(&mon->units_full, a.units_full_execs + a.units_full_failed, now_mono, now_real))
                warn_full(&mon->units_full, &units_full, EXECCOUNT_UNITS_CAPACITY);
        if (alarm_update(&mon->misses, misses, now_mono, now_real))
                warn_misses(&mon->misses);
        if (alarm_update(&mon->throttled, throttled, now_mono, now_real))
                warn_throttled(&mon->throttled, list, n);
}

static int on_tick(sd_event_source *source, uint64_t usec, void *userdata) {
        Monitor *mon = userdata;

        monitor_tick(mon);
        (void) sd_event_source_set_time_relative(source, MONITOR_TICK_USEC);
        return 0;
}

#define SUMMARY_TOP 10
#define SUMMARY_FIELDS 50
#define SUMMARY_TOP_UNITS 5
#define SUMMARY_UNIT_FIELDS 20

/* Each unit's execs since the last summary (its UIDs summed), most first. */
static int summary_units(Monitor *mon, SummaryUnit **ret, size_t *ret_n) {
        UnitRow *rows;
        size_t n;
        int r;

        r = tally_read_units(mon->tally, NULL, NULL, &rows, &n, NULL);
        if (r < 0)
                return r;
        r = summary_take_units(&mon->summary, rows, n, ret, ret_n);
        unit_rows_free(rows, n);
        return r;
}

static void log_summary(Monitor *mon, const SummaryEntry *e, size_t n, const SummaryUnit *u, size_t n_u,
                        uint64_t now_monotonic) {
        char uids[24], execs[24], failed[24], interval[24], since[24], top[SUMMARY_TOP * 48] = "";
        char entries[SUMMARY_FIELDS][64], units[SUMMARY_TOP_UNITS * 96] = "";
        _cleanup_(freep) char *unit_entries = NULL;
        LogField f[5 + SUMMARY_FIELDS + SUMMARY_UNIT_FIELDS];
        uint64_t total_execs = 0, total_failed = 0;
        size_t nf = 0, used = 0, at = 0;

        for (size_t i = 0; i < n; i++) {
                total_execs += e[i].execs;
                total_failed += e[i].failed;
        }
        for (size_t i = 0; i < n && i < SUMMARY_TOP && used < sizeof(top); i++)
                used += (size_t) snprintf(top + used, sizeof(top) - used, "%s%" PRIu32 ": %" PRIu64 "/%" PRIu64,
                                          i ? ", " : "", e[i].uid, e[i].execs, e[i].failed);
        snprintf(uids, sizeof(uids), "%zu", n);
        snprintf(execs, sizeof(execs), "%" PRIu64, total_execs);
        snprintf(failed, sizeof(failed), "%" PRIu64, total_failed);
        snprintf(interval, sizeof(interval), "%" PRIu64, now_monotonic - mon->summary_since_monotonic_usec);
        snprintf(since, sizeof(since), "%" PRIu64, mon->summary_since_usec);
        f[nf++] = (LogField) { "SUMMARY_UIDS", uids };
        f[nf++] = (LogField) { "SUMMARY_EXECS", execs };
        f[nf++] = (LogField) { "SUMMARY_FAILED", failed };
        f[nf++] = (LogField) { "SUMMARY_SINCE_USEC", since };
        f[nf++] = (LogField) { "SUMMARY_INTERVAL_USEC", interval };
        /* One SUMMARY_ENTRY=UID EXECS FAILED per UID, the most active first. */
        for (size_t i = 0; i < n && i < SUMMARY_FIELDS; i++) {
                snprintf(entries[i], sizeof(entries[i]), "%" PRIu32 " %" PRIu64 " %" PRIu64, e[i].uid, e[i].execs,
                         e[i].failed);
                f[nf++] = (LogField) { "SUMMARY_ENTRY", entries[i] };
        }
        /* One SUMMARY_UNIT=UNIT EXECS FAILED per unit, the busiest first; names come from
         * cgroups anyone may make: escaped in the message. */
        unit_entries = malloc(SUMMARY_UNIT_FIELDS * (UNIT_NAME_MAX + 48));
        for (size_t i = 0; unit_entries && i < n_u && i < SUMMARY_UNIT_FIELDS; i++) {
                char *entry = unit_entries + at;

                at += (size_t) snprintf(entry, UNIT_NAME_MAX + 48, "%.*s %" PRIu64 " %" PRIu64,
                                        UNIT_NAME_MAX, u[i].unit, u[i].execs, u[i].failed) + 1;
                f[nf++] = (LogField) { "SUMMARY_UNIT", entry };
        }
        used = 0;
        for (size_t i = 0; i < n_u && i < SUMMARY_TOP_UNITS && used < sizeof(units); i++) {
                _cleanup_(freep) char *shown = utf8_escape_for_terminal(u[i].unit);

                used += (size_t) snprintf(units + used, sizeof(units) - used, "%s%.60s: %" PRIu64 "/%" PRIu64,
                                          i ? ", " : "; busiest units: ", shown ?: "?", u[i].execs, u[i].failed);
        }
        log_struct(LOG_INFO, MESSAGE_ID_SUMMARY, f, nf,
                   "Since the last summary, %zu UIDs made %" PRIu64 " execs and %" PRIu64
                   " failed attempts (UID: execs/failed): %s%s%s%s",
                   n, total_execs, total_failed, top, n > SUMMARY_TOP ? ", ..." : "", units,
                   n_u > SUMMARY_TOP_UNITS ? ", ..." : ".");
}

static void summary_run(Monitor *mon) {
        _cleanup_(freep) TallyEntry *list = NULL;
        _cleanup_(freep) SummaryEntry *e = NULL;
        SummaryUnit *u = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME), now_monotonic = now_usec(CLOCK_MONOTONIC);
        size_t n, n_e, n_u = 0;
        int r;

        r = tally_read_all(mon->tally, &list, &n);
        if (r < 0) {
                log_warning_errno(r, "Failed to read the counts for the summary: %m");
                return;
        }
        r = summary_take(&mon->summary, list, n, &e, &n_e);
        if (r < 0) {
                log_oom();
                return;
        }
        r = summary_units(mon, &u, &n_u);
        if (r < 0)
                log_warning_errno(r, "Failed to read the per-unit counts for the summary: %m");
        /* A quiet interval logs nothing. */
        if (n_e > 0)
                log_summary(mon, e, n_e, u, n_u, now_monotonic);
        summary_units_free(u, n_u);
        mon->summary_since_usec = now;
        mon->summary_since_monotonic_usec = now_monotonic;
}

static int on_summary(sd_event_source *source, uint64_t usec, void *userdata) {
        Monitor *mon = userdata;

        summary_run(mon);
        (void) sd_event_source_set_time_relative(source, mon->summary_interval_usec);
        return 0;
}

int monitor_set_summary_interval(Monitor *mon, uint64_t usec) {
        uint64_t next;
        int r;

        /* A reload that keeps the interval keeps the countdown too. */
        if (usec == mon->summary_interval_usec)
                return 0;
        mon->summary_interval_usec = usec;
        if (usec == 0)
                return sd_event_source_set_enabled(mon->summary_timer, SD_EVENT_OFF);
        /* The next summary is one interval after the last, or now if that has passed. */
        next = MAX(mon->summary_since_monotonic_usec + usec, now_usec(CLOCK_MONOTONIC));
        r = sd_event_source_set_time(mon->summary_timer, next);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(mon->summary_timer, SD_EVENT_ON);
}

void monitor_forget(Monitor *mon, bool has_uid, uint32_t uid) {
        summary_forget(&mon->summary, has_uid, uid);
}

int monitor_new(sd_event *event, Tally *tally, Probe *probe, ExecLog *exec_log, uint64_t summary_interval_usec,
                Monitor **ret) {
        _cleanup_(monitor_freep) Monitor *mon = NULL;
        _cleanup_(freep) SummaryEntry *e = NULL;
        _cleanup_(freep) TallyEntry *list = NULL;
        size_t n, n_e;
        int r;

        mon = calloc(1, sizeof(*mon));
        if (!mon)
                return -ENOMEM;
        mon->tally = tally;
        mon->probe = probe;
        mon->exec_log = exec_log;
        mon->summary_since_usec = now_usec(CLOCK_REALTIME);
        mon->summary_since_monotonic_usec = now_usec(CLOCK_MONOTONIC);

        /* The first summary covers what happens from now on. */
        r = tally_read_all(tally, &list, &n);
        if (r < 0)
                return r;
        r = summary_take(&mon->summary, list, n, &e, &n_e);
        if (r >= 0) {
                SummaryUnit *u;
                size_t n_u;

                r = summary_units(mon, &u, &n_u);
                if (r >= 0)
                        summary_units_free(u, n_u);
        }
        if (r < 0)
                return r;

        /* What an earlier daemon already saw (the statistics are pinned with the counts) is
         * not news: only what grows from now on is warned about. */
        struct exec_stats s;
        uint64_t misses;
        if (tally_read_stats(tally, &s) >= 0) {
                mon->lost.seen = s.events_lost + s.scratch_busy;
                mon->map_full.seen = s.map_full_execs + s.map_full_failed;
        }
        struct exec_attribution_stats a;
        if (tally_read_attribution(tally, &a) >= 0) {
                mon->logins_full.seen = a.logins_full;
                mon->units_full.seen = a.units_full_execs + a.units_full_failed;
        }
        if (probe_read_misses(probe, &misses) >= 0)
                mon->misses.seen = misses;
        tally_sum(list, n, NULL, NULL, &mon->throttled.seen);

        r = sd_event_add_time_relative(event, &mon->tick, CLOCK_MONOTONIC, MONITOR_TICK_USEC, USEC_PER_SEC,
                                       on_tick, mon);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(mon->tick, "monitor-tick");
        r = sd_event_source_set_enabled(mon->tick, SD_EVENT_ON);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(event, &mon->summary_timer, CLOCK_MONOTONIC, USEC_PER_SEC, USEC_PER_SEC,
                                       on_summary, mon);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(mon->summary_timer, "summary");
        /* Off until an interval is set; 0 keeps it off. */
        r = sd_event_source_set_enabled(mon->summary_timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = monitor_set_summary_interval(mon, summary_interval_usec);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(mon);
        return 0;
}

Monitor *monitor_free(Monitor *mon) {
        if (!mon)
                return NULL;
        sd_event_source_disable_unref(mon->tick);
        sd_event_source_disable_unref(mon->summary_timer);
        summary_done(&mon->summary);
        free(mon);
        return NULL;
}
