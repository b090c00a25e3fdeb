/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-event.c: the decoder of ring buffer records (event.c). A record that decodes must
 * make an ExecEvent whose JSON (as written for clients) is valid, whose strings hold no NUL, and
 * whose arguments stay within their bounds. */

#include <json-c/json.h>
#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ExecEvent *e = NULL;
        struct json_tokener *tok;
        json_object *o, *name, *argv;
        Text t = {};

        if (exec_event_decode(data, size, 1700000000000000, true, NULL, &e) < 0)
                return 0;
        FUZZ_CHECK(strlen(e->comm) < sizeof(e->comm));
        FUZZ_CHECK(!e->has_filename || strlen(e->filename) == e->filename_len);
        FUZZ_CHECK(strlen(e->parent_comm) < sizeof(e->parent_comm));
        FUZZ_CHECK(e->argc <= EXECCOUNT_ARGS_MAX && e->argv_size <= EXECCOUNT_ARGV_MAX + 1);
        FUZZ_CHECK(e->has_argv || e->argc == 0);
        exec_event_write_json(&t, e, size % 2);
        FUZZ_CHECK(!t.oom && t.len <= EXEC_EVENT_JSON_MAX);
        /* As strictly as the Varlink parser reads it. */
        tok = json_tokener_new();
        FUZZ_CHECK(tok);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, t.p, (int) t.len);
        FUZZ_CHECK(o && json_tokener_get_error(tok) == json_tokener_success);
        FUZZ_CHECK(json_object_object_get_ex(o, "filename", &name));
        FUZZ_CHECK(e->has_filename ? json_object_is_type(name, json_type_string) : name == NULL);
        /* Half the inputs are written for a client that sees every UID. */
        if (e->has_argv && (size % 2 || !exec_event_argv_restricted(e)))
                FUZZ_CHECK(json_object_object_get_ex(o, "argv", &argv) && json_object_array_length(argv) == e->argc);
        else
                FUZZ_CHECK(!json_object_object_get_ex(o, "argv", &argv));
        json_object_put(o);
        json_tokener_free(tok);
        text_done(&t);
        exec_event_unref(e);
        return 0;
}
