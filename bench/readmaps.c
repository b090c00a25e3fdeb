/* SPDX-License-Identifier: GPL-2.0-or-later */
/* readmaps.c: what reading the counts whole costs the daemon, the way a GetStats of every
 * UID reads them (counts_read_all(): the kernel's batch interface on two maps, and the
 * order by UID): the floor of a GetStats of many UIDs on this kernel.
 *
 *   readmaps [--max-uids=N] [--uids=N] [--runs=N]
 *
 * Fills fresh maps of MaxUIDs=N (65,536 by default, as the daemon's; no program attached)
 * with --uids UIDs' counts (10,000 by default), privileged execs for one in ten, then
 * reads them all --runs times (21). Prints one line of JSON: the median and minimum in
 * ms. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counts.h"
#include "parse.h"
#include "probe.h"

static int compare_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Times runs reads of every UID's counts; the median and the minimum, or -errno. */
static int time_reads(CountsMaps m, unsigned runs, size_t want, double *ret_median, double *ret_min) {
        double *t = calloc(runs, sizeof(*t));

        if (!t)
                return -ENOMEM;
        for (unsigned i = 0; i < runs; i++) {
                double start = now_ms();
                UserCount *u;
                size_t n;
                int r = counts_read_all(m, &u, &n);

                if (r < 0) {
                        free(t);
                        return r;
                }
                t[i] = now_ms() - start;
                free(u);
                if (n != want) {
                        fprintf(stderr, "readmaps: read %zu UIDs, wrote %zu\n", n, want);
                        free(t);
                        return -EBADMSG;
                }
        }
        qsort(t, runs, sizeof(*t), compare_double);
        *ret_median = t[runs / 2];
        *ret_min = t[0];
        free(t);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "max-uids", required_argument, NULL, 'm' },
                { "uids", required_argument, NULL, 'u' },
                { "runs", required_argument, NULL, 'r' },
                {},
        };
        uint32_t max_uids = 65536, uids = 10000, runs = 21;
        double median, min;
        UserCount *in;
        size_t dropped;
        CountsMaps m;
        Probe *p;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                uint32_t *v = c == 'm' ? &max_uids : c == 'u' ? &uids : c == 'r' ? &runs : NULL;

                if (!v || parse_uint32(optarg, v) < 0 || *v == 0) {
                        fprintf(stderr, "Usage: readmaps [--max-uids=N] [--uids=N] [--runs=N], each N > 0\n");
                        return 2;
                }
        }
        if (uids > max_uids) {
                fprintf(stderr, "readmaps: --uids=%u is more than --max-uids=%u\n", uids, max_uids);
                return 2;
        }

        r = probe_new_unattached(&(ProbeOptions) { .mode = PROBE_TRACEPOINT, .max_uids = max_uids,
                                                   .ring_buffer_size = 4096 },
                                 &p);
        if (r < 0) {
                fprintf(stderr, "readmaps: making the maps failed: %s\n", strerror(-r));
                return 1;
        }
        in = calloc(uids, sizeof(*in));
        if (!in) {
                probe_free(p);
                return 1;
        }
        for (uint32_t i = 0; i < uids; i++)
                in[i] = (UserCount) { .uid = 3000000000u + i, .execs = i, .failed = 1, .last_exec_ns = 1000000000ull,
                                      .privileged = i % 10 == 0 };
        m = probe_get_counts_maps(p);
        r = counts_write(m, in, uids, &dropped);
        if (r < 0 || dropped > 0) {
                fprintf(stderr, "readmaps: filling the maps failed: %s\n", r < 0 ? strerror(-r) : "full");
                return 1;
        }

        r = time_reads(m, runs, uids, &median, &min);
        if (r < 0) {
                fprintf(stderr, "readmaps: reading the maps failed: %s\n", strerror(-r));
                return 1;
        }
        printf("{\"max_uids\":%u,\"uids\":%u,\"runs\":%u,\"median_ms\":%.3f,\"min_ms\":%.3f}\n", max_uids, uids, runs,
               median, min);
        free(in);
        probe_free(p);
        return 0;
}
