/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-metrics.c: unit tests for metrics.c (both formats, odd names, the series limit)
 * and http.c (requests, content negotiation).
 *
 *     test-metrics              runs the tests
 *     test-metrics print FORMAT prints the sample with odd names, for promtool */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http.h"
#include "macro.h"
#include "metrics.h"
#include "test.h"

/* Names a hostile or careless administrator could give: quotes, backslashes, line
 * feeds, bytes that are not UTF-8, braces and commas, a label-like text. */
static MetricsUser odd_users[] = {
        { .uid = 0, .user = "root", .execs = 10, .failed = 1, .privileged = 0 },
        { .uid = 1000, .user = "al\"ice", .execs = 5, .failed = 0, .privileged = 2 },
        { .uid = 1001, .user = "b\\ob\nx", .execs = 7, .failed = 3, .privileged = 0 },
        { .uid = 1002, .user = "c\xff\xfe", .execs = 1, .failed = 0, .privileged = 0 },
        { .uid = 1003, .user = NULL, .execs = 0, .failed = 9, .privileged = 0 },
        { .uid = 4294967294, .user = "x\",evil=\"1", .execs = 2, .failed = 0, .privileged = 1 },
};

static MetricsUnit odd_units[] = {
        { .unit = "(other)", .execs = 4, .failed = 0 },
        { .unit = "/weird\"cg\\roup\n", .execs = 3, .failed = 1 },
        { .unit = "cron.service", .execs = 12, .failed = 2 },
        { .unit = "user@1000.service/app-{x}.scope", .execs = 1, .failed = 0 },
};

static Metrics sample(MetricsUser *users, size_t n_users, MetricsUnit *units, size_t n_units) {
        return (Metrics) {
                .version = "0.1.0",
                .probe_mode = "tracepoint",
                .since_usec = 1700000000123456,
                .host_execs = 11,
                .host_failed = 12,
                .events_lost = 3,
                .events_held_back = 4,
                .map_full_execs = 5,
                .map_full_failed = 6,
                .uids = (int64_t) n_users,
                .uids_capacity = 65536,
                .probe_misses = 0,
                .units_full_execs = 7,
                .units_full_failed = 8,
                .users = users,
                .n_users = n_users,
                .has_privileged = true,
                .units = units,
                .n_units = n_units,
        };
}

static char *render(const Metrics *m, MetricsFormat f) {
        char *buf = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);

        ASSERT(out);
        ASSERT_EQ(metrics_write(m, f, out), 0);
        fclose(out);
        return buf;
}

static bool has_line(const char *text, const char *line) {
        size_t n = strlen(line);

        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

#define ASSERT_LINE(text, line)                                                   \
        do {                                                                      \
                if (!has_line(text, line))                                        \
                        TEST_FAIL("no line \"%s\" in:\n%s", line, text);          \
        } while (0)

static void test_escaping(void) {
        MetricsUser users[ELEMENTSOF(odd_users)];
        MetricsUnit units[ELEMENTSOF(odd_units)];
        Metrics m;
        char *out;

        memcpy(users, odd_users, sizeof(users));
        memcpy(units, odd_units, sizeof(units));
        m = sample(users, ELEMENTSOF(users), units, ELEMENTSOF(units));
        out = render(&m, METRICS_PROMETHEUS);
        ASSERT_LINE(out, "execcount_execs_total{uid=\"1000\",user=\"al\\\"ice\"} 5");
        ASSERT_LINE(out, "execcount_execs_total{uid=\"1001\",user=\"b\\\\ob\\nx\"} 7");
        /* Bytes that are not UTF-8 read as U+FFFD: label values must be UTF-8. */
        ASSERT_LINE(out, "execcount_execs_total{uid=\"1002\",user=\"c\xef\xbf\xbd\xef\xbf\xbd\"} 1");
        ASSERT_LINE(out, "execcount_failed_execs_total{uid=\"1003\",user=\"\"} 9");
        ASSERT_LINE(out, "execcount_privileged_execs_total{uid=\"4294967294\",user=\"x\\\",evil=\\\"1\"} 1");
        ASSERT_LINE(out, "execcount_unit_execs_total{unit=\"/weird\\\"cg\\\\roup\\n\"} 3");
        ASSERT_LINE(out, "execcount_unit_failed_execs_total{unit=\"user@1000.service/app-{x}.scope\"} 0");
        free(out);
}

static void test_prometheus_format(void) {
        MetricsUser users[] = { { .uid = 7, .user = "u", .execs = 1, .failed = 2, .privileged = 3 } };
        Metrics m = sample(users, 1, NULL, 0);
        char *out = render(&m, METRICS_PROMETHEUS);

        ASSERT_LINE(out, "# HELP execcount_execs_total Successful execve() and execveat() calls per real UID since "
                         "the counts were reset.");
        ASSERT_LINE(out, "# TYPE execcount_execs_total counter");
        ASSERT_LINE(out, "execcount_execs_total{uid=\"7\",user=\"u\"} 1");
        ASSERT_LINE(out, "execcount_failed_execs_total{uid=\"7\",user=\"u\"} 2");
        ASSERT_LINE(out, "execcount_privileged_execs_total{uid=\"7\",user=\"u\"} 3");
        ASSERT_LINE(out, "# TYPE execcount_unit_execs_total counter"); /* a family without series */
        ASSERT_LINE(out, "execcount_host_execs_total 11");
        ASSERT_LINE(out, "execcount_host_failed_execs_total 12");
        ASSERT_LINE(out, "execcount_events_lost_total 3");
        ASSERT_LINE(out, "execcount_events_held_back_total 4");
        ASSERT_LINE(out, "execcount_map_full_execs_total 5");
        ASSERT_LINE(out, "execcount_map_full_failed_execs_total 6");
        ASSERT_LINE(out, "execcount_unit_map_full_execs_total 7");
        ASSERT_LINE(out, "execcount_tracked_uids 1");
        ASSERT_LINE(out, "execcount_tracked_uids_limit 65536");
        ASSERT_LINE(out, "execcount_counts_reset_timestamp_seconds 1700000000.123456");
        ASSERT_LINE(out, "# TYPE execcount_build_info gauge");
        ASSERT_LINE(out, "execcount_build_info{version=\"0.1.0\",probe_mode=\"tracepoint\"} 1");
        ASSERT(!strstr(out, "_created"));
        ASSERT(!strstr(out, "# EOF"));
        ASSERT(!strstr(out, "{uid=\"other\"}"));
        free(out);

        /* What the daemon did not say is left out, not made up. */
        m.events_lost = m.map_full_execs = m.uids = METRICS_UNKNOWN;
        m.has_privileged = false;
        out = render(&m, METRICS_PROMETHEUS);
        ASSERT(!strstr(out, "execcount_events_lost"));
        ASSERT(!strstr(out, "execcount_map_full_execs"));
        ASSERT(!strstr(out, "execcount_tracked_uids "));
        ASSERT(!strstr(out, "execcount_privileged_execs"));
        ASSERT_LINE(out, "execcount_events_held_back_total 4");
        free(out);
}

static void test_openmetrics_format(void) {
        MetricsUser users[] = { { .uid = 7, .user = "u", .execs = 1, .failed = 2, .privileged = 3 } };
        MetricsUnit units[] = { { .unit = "a.service", .execs = 4, .failed = 5 } };
        Metrics m = sample(users, 1, units, 1);
        char *out = render(&m, METRICS_OPENMETRICS);
        size_t n = strlen(out);

        ASSERT_LINE(out, "# HELP execcount_execs Successful execve() and execveat() calls per real UID since the "
                         "counts were reset.");
        ASSERT_LINE(out, "# TYPE execcount_execs counter");
        ASSERT_LINE(out, "execcount_execs_total{uid=\"7\",user=\"u\"} 1");
        ASSERT_LINE(out, "execcount_execs_created{uid=\"7\",user=\"u\"} 1700000000.123456");
        ASSERT_LINE(out, "execcount_unit_failed_execs_total{unit=\"a.service\"} 5");
        ASSERT_LINE(out, "execcount_unit_failed_execs_created{unit=\"a.service\"} 1700000000.123456");
        ASSERT_LINE(out, "# TYPE execcount_events_lost counter");
        ASSERT_LINE(out, "execcount_events_lost_created 1700000000.123456");
        ASSERT_LINE(out, "# TYPE execcount_tracked_uids gauge");
        ASSERT_LINE(out, "# TYPE execcount_build info");
        ASSERT_LINE(out, "execcount_build_info{version=\"0.1.0\",probe_mode=\"tracepoint\"} 1");
        ASSERT_LINE(out, "execcount_probe_misses_total 0");
        ASSERT(!strstr(out, "execcount_probe_misses_created"));
        /* HELP is an escaped string in OpenMetrics, where a double quote must be escaped:
         * none is written. */
        for (const char *p = out; (p = strstr(p, "# HELP ")); p++)
                ASSERT(!memchr(p, '"', (size_t) (strchrnul(p, '\n') - p)));
        /* The last line, and only there. */
        ASSERT(n > 6 && streq(out + n - 6, "# EOF\n"));
        ASSERT(strstr(out, "# EOF") == out + n - 6);
        free(out);
}

static void test_limit(void) {
        MetricsUser users[ELEMENTSOF(odd_users)];
        MetricsUnit units[ELEMENTSOF(odd_units)];
        int64_t execs = 0, failed = 0, privileged = 0, unit_execs = 0, unit_failed = 0;
        Metrics m;
        char *out;

        memcpy(users, odd_users, sizeof(users));
        memcpy(units, odd_units, sizeof(units));
        for (size_t i = 0; i < ELEMENTSOF(users); i++)
                execs += users[i].execs, failed += users[i].failed, privileged += users[i].privileged;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                unit_execs += units[i].execs, unit_failed += units[i].failed;
        m = sample(users, ELEMENTSOF(users), units, ELEMENTSOF(units));

        /* Most active by execs, then failures: root (10), 1001 (7), 1000 (5); then
         * 4294967294 (2), 1002 (1) and 1003 (9 failures, no exec) go into "other".
         * Kept in UID order. */
        metrics_limit(&m, 3, 2);
        ASSERT_EQ_U(m.n_users, 3);
        ASSERT_EQ_U(m.users[0].uid, 0);
        ASSERT_EQ_U(m.users[1].uid, 1000);
        ASSERT_EQ_U(m.users[2].uid, 1001);
        ASSERT_EQ_U(m.other_users, 3);
        ASSERT_EQ(m.other_user.execs, 2 + 1 + 0);
        ASSERT_EQ(m.other_user.failed, 9);
        ASSERT_EQ(m.other_user.privileged, 1);
        /* The sums stay exact. */
        ASSERT_EQ(m.users[0].execs + m.users[1].execs + m.users[2].execs + m.other_user.execs, execs);
        ASSERT_EQ(m.users[0].failed + m.users[1].failed + m.users[2].failed + m.other_user.failed, failed);
        ASSERT_EQ(m.users[0].privileged + m.users[1].privileged + m.users[2].privileged + m.other_user.privileged,
                  privileged);
        /* Units: cron.service (12 execs) and (other) (4). */
        ASSERT_EQ_U(m.n_units, 2);
        ASSERT_STREQ(m.units[0].unit, "(other)");
        ASSERT_STREQ(m.units[1].unit, "cron.service");
        ASSERT_EQ_U(m.other_units, 2);
        ASSERT_EQ(m.units[0].execs + m.units[1].execs + m.other_unit.execs, unit_execs);
        ASSERT_EQ(m.units[0].failed + m.units[1].failed + m.other_unit.failed, unit_failed);

        out = render(&m, METRICS_PROMETHEUS);
        ASSERT_LINE(out, "execcount_execs_total{uid=\"other\"} 3");
        ASSERT_LINE(out, "execcount_failed_execs_total{uid=\"other\"} 9");
        ASSERT_LINE(out, "execcount_privileged_execs_total{uid=\"other\"} 1");
        ASSERT_LINE(out, "execcount_unit_execs_total{unit=\"other\"} 4");
        ASSERT_LINE(out, "execcount_unit_failed_execs_total{unit=\"other\"} 1");
        ASSERT_LINE(out, "execcount_other_uids 3");
        ASSERT_LINE(out, "execcount_other_units 2");
        ASSERT(!strstr(out, "uid=\"1003\""));
        free(out);

        /* In OpenMetrics, no _created for "other": its count starts again whenever its
         * UIDs change. */
        out = render(&m, METRICS_OPENMETRICS);
        ASSERT_LINE(out, "execcount_execs_total{uid=\"other\"} 3");
        ASSERT(!strstr(out, "execcount_execs_created{uid=\"other\"}"));
        ASSERT(!strstr(out, "execcount_unit_execs_created{unit=\"other\"}"));
        ASSERT_LINE(out, "execcount_execs_created{uid=\"0\",user=\"root\"} 1700000000.123456");
        free(out);

        /* No limit (0), or one above the count: every series, no "other". */
        memcpy(users, odd_users, sizeof(users));
        m = sample(users, ELEMENTSOF(users), units, 0);
        metrics_limit(&m, 0, 0);
        ASSERT_EQ_U(m.n_users, ELEMENTSOF(users));
        ASSERT_EQ_U(m.other_users, 0);
        metrics_limit(&m, ELEMENTSOF(users), 1);
        ASSERT_EQ_U(m.n_users, ELEMENTSOF(users));
        out = render(&m, METRICS_PROMETHEUS);
        ASSERT(!strstr(out, "\"other\"} "));
        ASSERT_LINE(out, "execcount_other_uids 0");
        free(out);

        /* Failures only break ties: many failures do not outrank one exec. */
        MetricsUser storm[] = { { .uid = 5, .execs = 0, .failed = 1000000 }, { .uid = 6, .execs = 1 },
                                { .uid = 7, .execs = 1, .failed = 1 } };
        m = sample(storm, 3, NULL, 0);
        metrics_limit(&m, 2, 0);
        ASSERT_EQ_U(m.n_users, 2);
        ASSERT_EQ_U(m.users[0].uid, 6);
        ASSERT_EQ_U(m.users[1].uid, 7);
        ASSERT_EQ(m.other_user.failed, 1000000);

        /* Equal activity: the lowest UIDs keep their series. */
        MetricsUser same[] = { { .uid = 30, .execs = 1 }, { .uid = 10, .execs = 1 }, { .uid = 20, .execs = 1 } };
        m = sample(same, 3, NULL, 0);
        metrics_limit(&m, 1, 0);
        ASSERT_EQ_U(m.n_users, 1);
        ASSERT_EQ_U(m.users[0].uid, 10);
        ASSERT_EQ(m.other_user.execs, 2);
}

static void expect_request(const char *text, int status, bool head, bool openmetrics, bool gzip) {
        HttpRequest req;

        if (http_parse_request(text, strlen(text), &req) != 0)
                TEST_FAIL("request not complete: %s", text);
        if (req.status != status || req.head != head || req.openmetrics != openmetrics || req.gzip != gzip)
                TEST_FAIL("%s: status %d head %d openmetrics %d gzip %d; expected %d %d %d %d", text, req.status,
                          req.head, req.openmetrics, req.gzip, status, head, openmetrics, gzip);
}

static void test_http_requests(void) {
        HttpRequest req;
        char *big;

        expect_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, false, false, false);
        expect_request("HEAD /metrics HTTP/1.0\r\n\r\n", 200, true, false, false);
        expect_request("GET /metrics?x=1 HTTP/1.1\n\n", 200, false, false, false);
        expect_request("\r\nGET http://host:9737/metrics HTTP/1.1\r\n\r\n", 200, false, false, false);
        /* What Prometheus 2.42 sends. */
        expect_request("GET /metrics HTTP/1.1\r\nHost: 10.0.0.2:9737\r\nUser-Agent: Prometheus/2.42.0\r\n"
                       "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                       "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
                       "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
                       200, false, true, true);
        expect_request("GET /metrics HTTP/1.1\r\naccept: */*\r\naccept-encoding: deflate, gzip;q=0\r\n\r\n", 200, false,
                       false, false);
        expect_request("GET / HTTP/1.1\r\n\r\n", 404, false, false, false);
        expect_request("GET /Metrics HTTP/1.1\r\n\r\n", 404, false, false, false);
        expect_request("GET /metrics/ HTTP/1.1\r\n\r\n", 404, false, false, false);
        expect_request("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\n", 405, false, false, false);
        expect_request("DELETE /metrics HTTP/1.1\r\n\r\n", 405, false, false, false);
        expect_request("OPTIONS * HTTP/1.1\r\n\r\n", 405, false, false, false);
        expect_request("GE /metrics HTTP/1.1\r\n\r\n", 405, false, false, false);
        expect_request("get /metrics HTTP/1.1\r\n\r\n", 405, false, false, false);
        expect_request("GET /metrics HTTP/2.0\r\n\r\n", 505, false, false, false);
        expect_request("GET /metrics HTTP/1.2\r\n\r\n", 505, false, false, false);
        expect_request("GET /metrics\r\n\r\n", 400, false, false, false);
        expect_request("GET  /metrics HTTP/1.1\r\n\r\n", 400, false, false, false);
        expect_request("GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", 400, false, false, false);
        expect_request("GET /metrics HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, false, false, false);
        expect_request("\x16\x03\x01\x02\x01\xfc\x03\x03\n\n", 400, false, false, false);

        /* Not yet complete; too big. */
        ASSERT_EQ(http_parse_request("GET /metrics HTTP/1.1\r\nHost: x\r\n", 31, &req), -EAGAIN);
        ASSERT_EQ(http_parse_request("", 0, &req), -EAGAIN);
        big = malloc(HTTP_REQUEST_MAX + 64);
        ASSERT(big);
        memset(big, 'a', HTTP_REQUEST_MAX + 64);
        memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
        ASSERT_EQ(http_parse_request(big, HTTP_REQUEST_MAX, &req), 0);
        ASSERT_EQ(req.status, 431);
        memcpy(big + HTTP_REQUEST_MAX + 60, "\r\n\r\n", 4);
        ASSERT_EQ(http_parse_request(big, HTTP_REQUEST_MAX + 64, &req), 0);
        ASSERT_EQ(req.status, 431);
        free(big);
}

static void test_negotiation(void) {
        static const struct {
                const char *accept;
                bool openmetrics;
        } accept[] = {
                { "application/openmetrics-text", true },
                { "application/openmetrics-text; version=1.0.0", true },
                { "Application/OpenMetrics-Text;q=0.9, text/plain;q=0.8", true },
                { "text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5", false },
                { "application/openmetrics-text;q=0.5,*/*;q=0.5", false }, /* a tie: the text format */
                { "application/openmetrics-text;q=0", false },
                { "application/openmetrics-text;q=2", false }, /* not a quality */
                { "application/openmetrics-text;q=0.5x", false },
                { "application/json", false },
                { "", false },
                { ",,, ;q=1", false },
        };
        static const struct {
                const char *encoding;
                bool gzip;
        } encodings[] = {
                { "gzip", true },    { "GZIP;q=0.001", true }, { "br, gzip, deflate", true }, { "*", true },
                { "gzip;q=0", false }, { "*;q=0", false },     { "deflate", false },       { "*, gzip;q=0", false },
                { "gzip;q=0.000", false }, { "x-gzip", true },  { "", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(accept); i++)
                if (http_accepts_openmetrics(accept[i].accept, strlen(accept[i].accept)) != accept[i].openmetrics)
                        TEST_FAIL("Accept: %s: expected %s", accept[i].accept,
                                  accept[i].openmetrics ? "OpenMetrics" : "the text format");
        for (size_t i = 0; i < ELEMENTSOF(encodings); i++)
                if (http_accepts_gzip(encodings[i].encoding, strlen(encodings[i].encoding)) != encodings[i].gzip)
                        TEST_FAIL("Accept-Encoding: %s: expected gzip %s", encodings[i].encoding,
                                  encodings[i].gzip ? "yes" : "no");
        ASSERT_STREQ(http_reason(431), "Request Header Fields Too Large");
}

static void test_gzip(void) {
        static const char text[] = "execcount_execs_total{uid=\"0\",user=\"root\"} 1\n";
        char *packed, out[256];
        size_t len;
        z_stream z = {};

        ASSERT_EQ(http_gzip(text, strlen(text), &packed, &len), 0);
        ASSERT(len > 18 && (unsigned char) packed[0] == 0x1f && (unsigned char) packed[1] == 0x8b);
        ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
        z.next_in = (Bytef *) packed;
        z.avail_in = (uInt) len;
        z.next_out = (Bytef *) out;
        z.avail_out = sizeof(out);
        ASSERT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
        ASSERT_EQ_U(z.total_out, strlen(text));
        ASSERT(memcmp(out, text, strlen(text)) == 0);
        inflateEnd(&z);
        free(packed);

        ASSERT_EQ(http_gzip("", 0, &packed, &len), 0);
        ASSERT(len > 0);
        free(packed);
}

int main(int argc, char *argv[]) {
        if (argc == 3 && streq(argv[1], "print")) {
                Metrics m = sample(odd_users, ELEMENTSOF(odd_users), odd_units, ELEMENTSOF(odd_units));

                metrics_limit(&m, 4, 2); /* with "other" series too */
                return metrics_write(&m, streq(argv[2], "openmetrics") ? METRICS_OPENMETRICS : METRICS_PROMETHEUS,
                                     stdout) < 0;
        }
        test_escaping();
        test_prometheus_format();
        test_openmetrics_format();
        test_limit();
        test_http_requests();
        test_negotiation();
        test_gzip();
        return 0;
}
