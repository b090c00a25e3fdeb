/* SPDX-License-Identifier: GPL-2.0-or-later */
/* http.h: the little of HTTP/1.1 that execcountd-metrics speaks: one request read whole,
 * one answer, then the connection closes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The most a request's line and headers may take; beyond it, 431. */
#define HTTP_REQUEST_MAX 8192

typedef struct HttpRequest {
        /* What to answer: 200, or the error status. */
        int status;
        bool head;        /* HEAD: the headers without the body */
        bool openmetrics; /* the client prefers OpenMetrics to the text format */
        bool gzip;        /* the client accepts gzip */
} HttpRequest;

/* Reads the request in buf[0..len): -EAGAIN when its headers have not all come yet,
 * else 0 with ret->status set: 200 for GET or HEAD of /metrics, 400 for a malformed
 * request, 404 for another path, 405 for another method, 431 when the headers exceed
 * HTTP_REQUEST_MAX, 505 for a version other than HTTP/1.0 and 1.1. A body is not read. */
int http_parse_request(const char *buf, size_t len, HttpRequest *ret);

/* The reason phrase of status. */
const char *http_reason(int status);

/* Which format an Accept header's value asks for, by quality: OpenMetrics when
 * application/openmetrics-text ranks above text/plain (and the wildcards), else the text
 * format. */
bool http_accepts_openmetrics(const char *value, size_t len);
/* Whether an Accept-Encoding header's value allows gzip (or *) with a quality above 0. */
bool http_accepts_gzip(const char *value, size_t len);

/* data[0..len) compressed in the gzip format, in a new buffer; -ENOMEM, or -EIO. */
int http_gzip(const char *data, size_t len, char **ret, size_t *ret_len);
