/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics-verb.c: "execcountctl metrics": the counts as Prometheus metrics, on stdout or
 * in a file replaced at once (for node_exporter's textfile collector). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "verbs.h"

/* Writes to a new file beside path, then renames it over path: a reader sees the old
 * file or the new one, whole, never a part. */
static int write_atomically(const Metrics *m, MetricsFormat f, const char *path) {
        _cleanup_(freep) char *tmp = NULL;
        const char *slash = strrchr(path, '/');
        FILE *out;
        int fd, r;

        if (asprintf(&tmp, "%.*s.%s.XXXXXX", slash ? (int) (slash - path + 1) : 0, path, slash ? slash + 1 : path) <
            0)
                return log_oom(), EXIT_FAILURE;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create a file beside %s: %m", path), EXIT_FAILURE;
        /* Readable by node_exporter, whichever user it runs as. */
        if (fchmod(fd, 0644) < 0 || !(out = fdopen(fd, "w"))) {
                r = -errno;
                close(fd);
                (void) unlink(tmp);
                return log_error_errno(r, "Failed to write %s: %m", tmp), EXIT_FAILURE;
        }
        r = metrics_write(m, f, out);
        if (r == 0 && fsync(fileno(out)) < 0)
                r = -errno;
        if (fclose(out) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return log_error_errno(r, "Failed to write %s: %m", path), EXIT_FAILURE;
        }
        return 0;
}

int verb_metrics(const Args *a) {
        MetricsFormat f = a->openmetrics ? METRICS_OPENMETRICS : METRICS_PROMETHEUS;
        MetricsSource s;
        int r;

        r = metrics_collect(a, &s);
        if (r != 0)
                return r;
        if (a->output)
                r = write_atomically(&s.metrics, f, a->output);
        else if (metrics_write(&s.metrics, f, stdout) < 0) {
                log_error_errno(errno ?: EIO, "Failed to write the metrics: %m");
                r = EXIT_FAILURE;
        }
        metrics_source_done(&s);
        return r;
}
