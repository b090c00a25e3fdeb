/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-varlink.c: unit tests for varlink.c. */

#include <errno.h>

#include "test.h"
#include "varlink.h"

#define PARSE_CALL(s, call, reason) varlink_call_parse((s), strlen(s), (call), (reason))

static void test_call_parse(void) {
        VarlinkCall call;
        const char *reason;
        json_object *v;

        ASSERT_EQ(PARSE_CALL("{\"method\":\"io.execcount.GetStats\",\"parameters\":{\"uid\":1000},\"more\":true}",
                             &call, &reason),
                  0);
        ASSERT_STREQ(call.method, "io.execcount.GetStats");
        ASSERT(call.more && !call.oneway && !call.upgrade);
        ASSERT(json_object_object_get_ex(call.parameters, "uid", &v));
        ASSERT_EQ(json_object_get_int64(v), 1000);
        varlink_call_done(&call);

        /* Absent or null parameters are an empty object. */
        ASSERT_EQ(PARSE_CALL("{\"method\":\"a.b.C\"}", &call, &reason), 0);
        ASSERT(json_object_is_type(call.parameters, json_type_object));
        ASSERT_EQ(json_object_object_length(call.parameters), 0);
        varlink_call_done(&call);
        ASSERT_EQ(PARSE_CALL("{\"method\":\"a.b.C\",\"parameters\":null,\"oneway\":true}", &call, &reason), 0);
        ASSERT(call.oneway);
        varlink_call_done(&call);

        static const struct {
                const char *text;
                const char *reason;
        } bad[] = {
                { "", "truncated JSON" },
                { "{\"method\":", "truncated JSON" },
                { "not json", "invalid JSON" },
                { "{'method':'a.b.C'}", "invalid JSON" },
                { "[1,2]", "message is not a JSON object" },
                { "42", "message is not a JSON object" },
                { "{\"method\":\"a.b.C\"} {}", "trailing data after JSON object" },
                { "{}", "\"method\" missing or not a string" },
                { "{\"method\":7}", "\"method\" missing or not a string" },
                { "{\"method\":\"GetStats\"}", "\"method\" is not a valid interface.Method name" },
                { "{\"method\":\"io.execcount.getStats\"}", "\"method\" is not a valid interface.Method name" },
                { "{\"method\":\"io..x.Get\"}", "\"method\" is not a valid interface.Method name" },
                { "{\"method\":\"io.execcount.Get-Stats\"}", "\"method\" is not a valid interface.Method name" },
                { "{\"method\":\"a.b.C\",\"parameters\":[]}", "\"parameters\" is not an object" },
                { "{\"method\":\"a.b.C\",\"more\":\"yes\"}", "message flag is not a boolean" },
                { "{\"method\":\"a.b.C\",\"more\":true,\"oneway\":true}", "\"more\" and \"oneway\" exclude each other" },
                { "{\"method\":\"a.b.C\",\"x\":\"\xff\"}", "invalid JSON" },
                /* json-c would take these; they are not JSON or not a finite number. */
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":NaN}}", "number is NaN, infinite or out of range" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":[1,-Infinity]}}", "number is NaN, infinite or out of range" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":{\"y\":Infinity}}}", "number is NaN, infinite or out of range" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":1e999}}", "number is NaN, infinite or out of range" },
                { "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
                  "{\"a\":{\"a\":{\"a\":1}}}}}}}}}}}}}}}}}",
                  "JSON nested deeper than 16 levels" },
                /* json-c's UTF-8 check passes these: overlong, surrogate, past U+10FFFF. */
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"\xc0\xaf\"}}", "string is not valid UTF-8" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":[\"\xed\xa0\x80\"]}}", "string is not valid UTF-8" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"\xf4\x90\x80\x80\"}}", "string is not valid UTF-8" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"\xc0\xaf\":1}}", "member name is not valid UTF-8" },
                /* A NUL would cut the string short where C reads it. */
                { "{\"method\":\"a.b.C\",\"parameters\":{\"interface\":\"io.execcount\\u0000junk\"}}",
                  "string holds a NUL character (\\u0000)" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"uid\\u0000x\":1}}", "string holds a NUL character (\\u0000)" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                reason = NULL;
                if (PARSE_CALL(bad[i].text, &call, &reason) != -EBADMSG)
                        TEST_FAIL("accepted bad call #%zu: %s", i, bad[i].text);
                ASSERT_STREQ(reason, bad[i].reason);
        }

        /* A backslash escaped before "u0000" is no NUL; nor is an escaped quote the end of a
         * string. */
        ASSERT_EQ(PARSE_CALL("{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"\\\\u0000\",\"y\":\"\\\"\\\\u0000\"}}",
                             &call, &reason),
                  0);
        ASSERT(json_object_object_get_ex(call.parameters, "x", &v));
        ASSERT_STREQ(json_object_get_string(v), "\\u0000");
        varlink_call_done(&call);
        ASSERT_EQ(PARSE_CALL("{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"\\\"\\u0000\"}}", &call, &reason), -EBADMSG);

        /* More values than any call has are refused before json-c builds them; commas and
         * brackets inside strings are no values. */
        char *many = malloc(65536), *p = many;
        p += sprintf(p, "{\"method\":\"a.b.C\",\"parameters\":{\"x\":[");
        for (int i = 0; i < 300; i++)
                p += sprintf(p, "%s{}", i ? "," : "");
        strcpy(p, "]}}");
        ASSERT_EQ(PARSE_CALL(many, &call, &reason), -EBADMSG);
        ASSERT_STREQ(reason, "more than 256 JSON values in a call");
        p = many + sprintf(many, "{\"method\":\"a.b.C\",\"parameters\":{\"x\":\"");
        for (int i = 0; i < 1000; i++)
                p += sprintf(p, "{[,");
        strcpy(p, "\"}}");
        ASSERT_EQ(PARSE_CALL(many, &call, &reason), 0);
        varlink_call_done(&call);
        free(many);

        /* An embedded NUL can never be part of a message. */
        ASSERT_EQ(varlink_call_parse("{\"method\":\"a.b.C\"}\0", 19, &call, &reason), -EBADMSG);
        ASSERT_STREQ(reason, "NUL byte inside message");
}

static void test_format_roundtrip(void) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();
        VarlinkReply reply;
        VarlinkCall call;
        char *m;
        size_t len;

        json_object_object_add(p, "uid", json_object_new_int64(4294967294));

        ASSERT_EQ(varlink_call_format("io.execcount.Watch", p, true, false, &m, &len), 0);
        ASSERT_EQ(m[len - 1], '\0');
        ASSERT_EQ_U(strlen(m), len - 1);
        ASSERT_EQ(varlink_call_parse(m, len - 1, &call, NULL), 0);
        ASSERT_STREQ(call.method, "io.execcount.Watch");
        ASSERT(call.more);
        ASSERT(json_object_equal(call.parameters, p));
        varlink_call_done(&call);
        free(m);

        ASSERT_EQ(varlink_reply_format(p, true, &m, &len), 0);
        ASSERT_STREQ(m, "{\"parameters\":{\"uid\":4294967294},\"continues\":true}");
        ASSERT_EQ(varlink_reply_parse(m, len - 1, &reply, NULL), 0);
        ASSERT(reply.continues && !reply.error);
        ASSERT(json_object_equal(reply.parameters, p));
        varlink_reply_done(&reply);
        free(m);

        ASSERT_EQ(varlink_reply_format(NULL, false, &m, &len), 0);
        ASSERT_STREQ(m, "{\"parameters\":{}}");
        free(m);

        ASSERT_EQ(varlink_error_format("org.varlink.service.ExpectedMore", NULL, &m, &len), 0);
        ASSERT_STREQ(m, "{\"error\":\"org.varlink.service.ExpectedMore\",\"parameters\":{}}");
        ASSERT_EQ(varlink_reply_parse(m, len - 1, &reply, NULL), 0);
        ASSERT_STREQ(reply.error, "org.varlink.service.ExpectedMore");
        varlink_reply_done(&reply);
        free(m);

        /* Slashes stay as they are: file names are full of them. */
        json_object_object_add(p, "filename", json_object_new_string("/usr/bin/true"));
        ASSERT_EQ(varlink_reply_format(p, false, &m, &len), 0);
        ASSERT(strstr(m, "\"/usr/bin/true\""));
        free(m);

        ASSERT_EQ(varlink_reply_parse("{\"error\":7}", 11, &reply, NULL), -EBADMSG);
        ASSERT_EQ(varlink_reply_parse("{\"error\":\"nodots\"}", 18, &reply, NULL), -EBADMSG);
        /* A reply is held to the same JSON as a call. */
        const char *reason = NULL;
        ASSERT_EQ(varlink_reply_parse("{\"parameters\":{\"n\":NaN}}", 24, &reply, &reason), -EBADMSG);
        ASSERT_STREQ(reason, "number is NaN, infinite or out of range");
}

static void test_method_names(void) {
        ASSERT(varlink_method_valid("io.execcount.GetStats"));
        ASSERT(varlink_method_valid("org.varlink.service.GetInfo"));
        ASSERT(varlink_method_valid("a-b.c.X1"));
        ASSERT(!varlink_method_valid("io.execcount."));
        ASSERT(!varlink_method_valid("io.GetStats.")); /* method part empty */
        ASSERT(!varlink_method_valid(".io.execcount.GetStats"));
        ASSERT(!varlink_method_valid("io.1execcount.GetStats"));
        ASSERT(!varlink_method_valid("Get"));
        ASSERT(!varlink_method_valid(NULL));
        ASSERT_EQ_U(varlink_method_interface_len("io.execcount.GetStats"), strlen("io.execcount"));
}

static void test_parameters(void) {
        static const VarlinkField fields[] = {
                { "uid", json_type_int, false },
                { "interface", json_type_string, true },
        };
        _cleanup_(json_object_putp) json_object *p = NULL;
        const char *bad = NULL;
        int64_t v;
        bool set;

        p = json_tokener_parse("{\"interface\":\"io.execcount\",\"uid\":null}");
        ASSERT_EQ(varlink_parameters_check(p, fields, 2, &bad), 0);
        ASSERT_EQ(varlink_parameter_int(p, "uid", 0, 10, &v, &set), 0);
        ASSERT(!set);
        json_object_put(p);

        p = json_tokener_parse("{\"uid\":5}");
        ASSERT_EQ(varlink_parameters_check(p, fields, 2, &bad), -EINVAL);
        ASSERT_STREQ(bad, "interface");
        ASSERT_EQ(varlink_parameter_int(p, "uid", 0, 10, &v, &set), 0);
        ASSERT(set);
        ASSERT_EQ(v, 5);
        ASSERT_EQ(varlink_parameter_int(p, "uid", 6, 10, &v, &set), -ERANGE);
        json_object_put(p);

        p = json_tokener_parse("{\"interface\":\"x\",\"uid\":\"5\"}");
        ASSERT_EQ(varlink_parameters_check(p, fields, 2, &bad), -EINVAL);
        ASSERT_STREQ(bad, "uid");
        ASSERT_EQ(varlink_parameter_int(p, "uid", 0, 10, &v, &set), -EINVAL);
        json_object_put(p);

        p = json_tokener_parse("{\"interface\":\"x\",\"colour\":1}");
        ASSERT_EQ(varlink_parameters_check(p, fields, 2, &bad), -EINVAL);
        ASSERT_STREQ(bad, "colour");
        json_object_put(p);

        p = json_tokener_parse("{\"interface\":null}");
        ASSERT_EQ(varlink_parameters_check(p, fields, 2, &bad), -EINVAL);
        ASSERT_STREQ(bad, "interface");
        json_object_put(p);

        /* Beyond INT64_MAX and below INT64_MIN are out of every range. */
        p = json_tokener_parse("{\"uid\":18446744073709551615}");
        ASSERT_EQ(varlink_parameter_int(p, "uid", 0, UINT32_MAX, &v, &set), -ERANGE);
        json_object_put(p);
        p = json_tokener_parse("{\"uid\":-1}");
        ASSERT_EQ(varlink_parameter_int(p, "uid", 0, UINT32_MAX, &v, &set), -ERANGE);
        json_object_put(p);
        p = json_tokener_parse("{\"uid\":1.5}");
        ASSERT_EQ(varlink_parameter_int(p, "uid", 0, UINT32_MAX, &v, &set), -EINVAL);
}

int main(void) {
        test_call_parse();
        test_format_roundtrip();
        test_method_names();
        test_parameters();
        return 0;
}
