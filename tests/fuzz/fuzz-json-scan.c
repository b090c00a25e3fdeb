/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-json-scan.c: the in-place JSON scanner (json-scan.c), as execcountctl uses it on
 * GetStats replies. Whatever the input, no read outside it; a value the scanner takes
 * whole, json-c takes too; walks and lookups agree with each other. */

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "fuzz.h"
#include "json-scan.h"

static bool inside(JsonSpan outer, JsonSpan inner) {
        return inner.p >= outer.p && inner.p + inner.len <= outer.p + outer.len;
}

/* Walks value as execcountctl walks a reply: members, array elements, integers. */
static void walk(JsonSpan value, int depth) {
        JsonSpan key, v, first_key = {}, found, rest, k2, v2;
        JsonIter it, it2, it3;
        int64_t i;
        int r;

        (void) json_scan_int64(value, INT64_MIN, INT64_MAX, &i);
        if (depth > 4)
                return;
        if (json_scan_array_begin(value, &it) >= 0) {
                /* An array read in one pass (the columns of GetStats) holds what a walk
                 * over it finds, integers all. */
                int n = json_scan_int64_array(value, INT64_MIN, INT64_MAX, NULL, 0, SIZE_MAX, NULL), k = 0;

                while ((r = json_scan_array_next(&it, &v)) > 0) {
                        FUZZ_CHECK(inside(value, v) && v.len > 0);
                        FUZZ_CHECK(n < 0 || json_scan_int64(v, INT64_MIN, INT64_MAX, &i) == 0);
                        k++;
                        walk(v, depth + 1);
                }
                FUZZ_CHECK(n < 0 || (r == 0 && n == k));
                return;
        }
        if (json_scan_object_begin(value, &it) < 0)
                return;
        /* Walked a key at a time, each value skipped by the caller: the same keys. */
        it2 = it3 = it;
        while ((r = json_scan_object_next_key(&it2, &key, &rest)) > 0) {
                const char *end = json_scan_skip(rest.p, rest.p + rest.len);

                FUZZ_CHECK(inside(value, key) && inside(value, rest));
                FUZZ_CHECK(json_scan_object_next(&it3, &k2, &v2) == (end ? 1 : -EBADMSG));
                if (!end)
                        break;
                FUZZ_CHECK(k2.p == key.p && k2.len == key.len && v2.p == rest.p && v2.p + v2.len == end);
                json_scan_object_resume(&it2, end);
        }
        while ((r = json_scan_object_next(&it, &key, &v)) > 0) {
                FUZZ_CHECK(inside(value, key) && inside(value, v) && v.len > 0);
                if (!first_key.p)
                        first_key = key;
                walk(v, depth + 1);
        }
        /* Its members in one walk, over the object and whatever follows it: the same
         * outcome, and the end the walk reached (execcountctl reads GetStats' parameters
         * so, the rest of the reply after them). */
        {
                static const char *const keys[] = { "users", "columns" };
                JsonSpan m[2];
                const char *members_end = NULL;

                FUZZ_CHECK(json_scan_members_end(value, keys, m, 2, &members_end) == (r == 0 ? 0 : -EBADMSG));
                FUZZ_CHECK(r != 0 || members_end == json_scan_iter_end(&it));
                FUZZ_CHECK(r != 0 || members_end == json_scan_skip(value.p, value.p + value.len));
        }
        /* A whole object: its first key is found by lookup, unless written with escapes. */
        if (r == 0 && first_key.p && first_key.len < 64 && !memchr(first_key.p, '\\', first_key.len)) {
                char name[64];

                memcpy(name, first_key.p, first_key.len);
                name[first_key.len] = '\0';
                if (strlen(name) == first_key.len) {
                        FUZZ_CHECK(json_scan_member(value, name, &found) == 0);
                        FUZZ_CHECK(inside(value, found));
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A buffer of exactly the input: a read past it is an overflow for ASan. */
        char *text = malloc(size ? size : 1);
        const char *end;

        if (!text)
                return 0;
        memcpy(text, data, size);
        end = json_scan_skip(text, text + size);
        if (end) {
                FUZZ_CHECK(end > text && end <= text + size);
                /* What the scanner takes as one value, json-c takes too. */
                json_tokener *tok = json_tokener_new_ex(128); /* deeper than the scan goes */
                json_object *o;

                FUZZ_CHECK(tok != NULL);
                o = json_tokener_parse_ex(tok, text, (int) (end - text));
                /* A number at the very end may go on, for all json-c knows. */
                FUZZ_CHECK(o != NULL || json_tokener_get_error(tok) == json_tokener_continue);
                json_object_put(o);
                json_tokener_free(tok);
        }
        walk((JsonSpan) { text, size }, 0);
        free(text);
        return 0;
}
