/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-event.c: the decoder of ring buffer records (event.c). A record that decodes must
 * make an ExecEvent whose JSON is valid and whose strings hold no NUL. */

#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ExecEvent *e = NULL;
        json_object *o, *back;
        const char *text;

        if (exec_event_decode(data, size, 1700000000000000, &e) < 0)
                return 0;
        FUZZ_CHECK(strlen(e->comm) < sizeof(e->comm));
        FUZZ_CHECK(!e->has_filename || strlen(e->filename) == e->filename_len);
        o = exec_event_to_json(e);
        FUZZ_CHECK(o);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        back = json_tokener_parse(text);
        FUZZ_CHECK(back && json_object_equal(back, o));
        json_object_put(back);
        json_object_put(o);
        exec_event_free(e);
        return 0;
}
