/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exporter-answer.c: execcountd-metrics' answers, from one reading of the counts a second. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "log.h"
#include "time-util.h"

Body *body_ref(Body *b) {
        if (b)
                b->refs++;
        return b;
}

Body *body_unref(Body *b) {
        if (b && --b->refs == 0)
                free(b);
        return NULL;
}

static Body *body_new(const char *data, size_t len) {
        Body *b = malloc(sizeof(*b) + len);

        if (!b)
                return NULL;
        b->refs = 1;
        b->len = len;
        memcpy(b->data, data, len);
        return b;
}

void snapshot_done(Snapshot *s) {
        metrics_source_done(&s->source);
        for (size_t i = 0; i < 2; i++)
                for (size_t k = 0; k < 2; k++)
                        s->bodies[i][k] = body_unref(s->bodies[i][k]);
        *s = (Snapshot) {};
}

void answer_done(Answer *a) {
        free(a->head);
        body_unref(a->body);
        *a = (Answer) {};
}

/* A new reading of the counts into *snap. Why the daemon does not answer is said once,
 * not at every scrape until it does. */
static void snapshot_take(Snapshot *snap, const Args *args, bool *daemon_down) {
        int level = log_get_max_level();
        int r;

        snapshot_done(snap);
        if (*daemon_down)
                log_set_max_level(LOG_CRIT);
        r = metrics_collect(args, &snap->source);
        log_set_max_level(level);
        snap->taken_usec = now_usec(CLOCK_MONOTONIC);
        snap->failed = r != 0;
        if (snap->failed && !*daemon_down)
                log_notice("Answering 503 to scrapes until execcountd answers.");
        else if (!snap->failed && *daemon_down)
                log_notice("execcountd answers again.");
        *daemon_down = snap->failed;
}

/* The body of the snapshot's metrics in the format and encoding asked for. */
static Body *snapshot_body(Snapshot *snap, bool openmetrics, bool gzip) {
        Body **slot = &snap->bodies[openmetrics][gzip];
        _cleanup_(freep) char *text = NULL, *packed = NULL;
        size_t len = 0, packed_len = 0;
        FILE *f;
        int r;

        if (*slot)
                return body_ref(*slot);
        f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        r = metrics_write(&snap->source.metrics, openmetrics ? METRICS_OPENMETRICS : METRICS_PROMETHEUS, f);
        if (fclose(f) != 0 || r < 0)
                return NULL;
        if (gzip && http_gzip(text, len, &packed, &packed_len) < 0)
                return NULL;
        *slot = gzip ? body_new(packed, packed_len) : body_new(text, len);
        return body_ref(*slot);
}

static Body *error_body(int status) {
        _cleanup_(freep) char *text = NULL;
        int n;

        n = asprintf(&text, "%d %s%s\n", status, http_reason(status),
                     status == 503   ? ": execcountd did not answer; see journalctl -u execcountd-metrics"
                     : status == 404 ? ": the metrics are at /metrics"
                                     : "");
        return n < 0 ? NULL : body_new(text, (size_t) n);
}

int answer_make(const HttpRequest *req, const Args *args, Snapshot *snap, bool *daemon_down, Answer *ret) {
        const char *type = "text/plain; charset=utf-8";
        int status = req->status, n;
        bool gzip = false;
        Body *body;

        if (status == 200) {
                if (snap->taken_usec == 0 || now_usec(CLOCK_MONOTONIC) - snap->taken_usec >= SNAPSHOT_USEC)
                        snapshot_take(snap, args, daemon_down);
                if (snap->failed)
                        status = 503;
        }
        if (status == 200) {
                gzip = req->gzip;
                type = req->openmetrics ? METRICS_CONTENT_TYPE_OPENMETRICS : METRICS_CONTENT_TYPE_PROMETHEUS;
                body = snapshot_body(snap, req->openmetrics, gzip);
        } else
                body = error_body(status);
        if (!body)
                return -ENOMEM;

        *ret = (Answer) {};
        n = asprintf(&ret->head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n"
                     "Vary: Accept, Accept-Encoding\r\nCache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                     status, http_reason(status), type, gzip ? "Content-Encoding: gzip\r\n" : "", body->len,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
        if (n < 0) {
                body_unref(body);
                return -ENOMEM;
        }
        ret->head_len = (size_t) n;
        if (req->head)
                body_unref(body);
        else
                ret->body = body;
        return 0;
}
