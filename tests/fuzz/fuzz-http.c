/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-http.c: execcountd-metrics' request parser (ctl/http.c), which anybody who reaches
 * its port feeds. Whatever the input, no read outside it; a request is complete or not
 * whatever comes after its end, and the answer is one of the statuses the parser gives;
 * a prefix of a complete request is incomplete or answered alike, as the exporter reads
 * it a part at a time. */

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

static bool known_status(int status) {
        return status == 200 || status == 400 || status == 404 || status == 405 || status == 431 || status == 505;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A buffer of exactly the input: a read past it is an overflow for ASan. */
        char *text = malloc(size ? size : 1);
        HttpRequest req, prefix;
        int r;

        if (!text)
                return 0;
        memcpy(text, data, size);
        r = http_parse_request(text, size, &req);
        FUZZ_CHECK(r == 0 || r == -EAGAIN);
        if (r == -EAGAIN)
                FUZZ_CHECK(size < HTTP_REQUEST_MAX);
        else {
                FUZZ_CHECK(known_status(req.status));
                /* HEAD is a method the parser takes: a bad header may still make it a 400. */
                FUZZ_CHECK(!req.head || req.status != 405);
        }
        /* The first half: incomplete, or already what it is whole (a request complete in
         * its first half ends there), or 431. */
        if (r == 0 && http_parse_request(text, size / 2, &prefix) == 0)
                FUZZ_CHECK(prefix.status == req.status || prefix.status == 431 || req.status == 431);
        (void) http_accepts_openmetrics(text, size);
        (void) http_accepts_gzip(text, size);
        free(text);
        return 0;
}
