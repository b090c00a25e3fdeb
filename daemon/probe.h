/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.h: choosing a probe mode, loading the BPF programs of that mode and attaching them. */
#pragma once

#include <stdint.h>

#include "config.h"
#include "macro.h"

typedef struct ProbeOptions {
        ProbeMode mode; /* PROBE_AUTO tries fentry, kprobe, tracepoint in turn */
        uint32_t max_uids;
        uint32_t ring_buffer_size;
        uint64_t wakeup_interval_usec; /* 0: wake the reader for every event */
} ProbeOptions;

/* Why each mode that was tried did not work; NULL for modes not tried. */
typedef struct ProbeReport {
        char *rejected[_PROBE_MODE_MAX];
        /* Set when the kernel has no 32-bit compat exec entry points to hook. */
        bool no_compat;
} ProbeReport;

void probe_report_done(ProbeReport *r);

typedef struct Probe Probe;

/* Loads and attaches. Fills *report whether or not it succeeds (the caller logs it and
 * frees it with probe_report_done()). Fails with the error of the last mode tried. */
int probe_new(const ProbeOptions *opts, ProbeReport *report, Probe **ret);
Probe *probe_free(Probe *p);
DEFINE_POINTER_CLEANUP(Probe, probe_free);

ProbeMode probe_get_mode(const Probe *p);
int probe_get_counts_fd(const Probe *p);
int probe_get_stats_fd(const Probe *p);
int probe_get_events_fd(const Probe *p);
uint32_t probe_get_max_uids(const Probe *p);
uint32_t probe_get_ring_buffer_size(const Probe *p);
/* Runs of the programs the kernel skipped because the same program was already running on
 * that CPU (bpf_prog_info.recursion_misses): each may be an exec missing from the counts. */
int probe_read_misses(const Probe *p, uint64_t *ret);
/* How often at most the programs wake the event reader. */
void probe_set_wakeup_interval(Probe *p, uint64_t usec);

/* Routes libbpf's messages into log.h; call once before probe_new(). */
void probe_setup_libbpf_logging(void);
