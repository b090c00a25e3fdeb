/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-varlink.c: the Varlink message parser (varlink.c), as the daemon and execcountctl
 * use it on what comes over the socket. What parses must format back to the same call. */

#include <string.h>

#include "fuzz.h"
#include "macro.h"
#include "varlink.h"

static void check_call(const VarlinkCall *c) {
        static const VarlinkField fields[] = {
                { "uid", json_type_int, false },
                { "limit", json_type_int, false },
                { "interface", json_type_string, false },
        };
        const char *bad = NULL;
        char *text;
        size_t len;
        int64_t v;
        bool set;
        VarlinkCall again;

        FUZZ_CHECK(varlink_method_valid(c->method));
        FUZZ_CHECK(json_object_is_type(c->parameters, json_type_object));
        FUZZ_CHECK(varlink_method_interface_len(c->method) < strlen(c->method));
        if (varlink_parameters_check(c->parameters, fields, ELEMENTSOF(fields), &bad) < 0)
                FUZZ_CHECK(bad);
        (void) varlink_parameter_int(c->parameters, "uid", 0, UINT32_MAX - 1, &v, &set);

        FUZZ_CHECK(varlink_call_format(c->method, c->parameters, c->more, c->oneway, &text, &len) == 0);
        FUZZ_CHECK(len > 0 && text[len - 1] == '\0' && strlen(text) == len - 1);
        FUZZ_CHECK(varlink_call_parse(text, len - 1, &again, NULL) == 0);
        FUZZ_CHECK(strcmp(again.method, c->method) == 0 && again.more == c->more && again.oneway == c->oneway);
        FUZZ_CHECK(json_object_equal(again.parameters, c->parameters));
        varlink_call_done(&again);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *reason = NULL;
        VarlinkCall call;
        VarlinkReply reply;

        if (varlink_call_parse((const char *) data, size, &call, &reason) == 0) {
                check_call(&call);
                varlink_call_done(&call);
        } else
                FUZZ_CHECK(reason);

        reason = NULL;
        if (varlink_reply_parse((const char *) data, size, &reply, &reason) == 0) {
                FUZZ_CHECK(json_object_is_type(reply.parameters, json_type_object));
                varlink_reply_done(&reply);
        } else
                FUZZ_CHECK(reason);
        return 0;
}
