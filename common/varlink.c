/* SPDX-License-Identifier: GPL-2.0-or-later */
/* varlink.c: parsing and formatting Varlink calls, replies and errors. */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "json-util.h"
#include "utf8.h"
#include "varlink.h"

DEFINE_POINTER_CLEANUP(struct json_tokener, json_tokener_free);

/* What json-c takes that no message may hold: NaN, Infinity and -Infinity, which are not
 * JSON, numbers too large for a double (json-c makes them infinite), and strings that are
 * not UTF-8 (json-c's check passes overlong forms, surrogates and code points past
 * U+10FFFF). None of them can be formatted back as JSON, or echoed in an error. Depth is
 * bounded by VARLINK_JSON_DEPTH_MAX. Returns the reason, or NULL. */
static const char *json_tree_check(json_object *obj) {
        const char *reason;

        switch (json_object_get_type(obj)) {
        case json_type_double:
                return isfinite(json_object_get_double(obj)) ? NULL : "number is NaN, infinite or out of range";
        case json_type_string:
                return utf8_is_valid(json_object_get_string(obj), (size_t) json_object_get_string_len(obj))
                               ? NULL
                               : "string is not valid UTF-8";
        case json_type_object: {
                json_object_object_foreach(obj, key, v) {
                        if (!utf8_is_valid(key, strlen(key)))
                                return "member name is not valid UTF-8";
                        reason = json_tree_check(v);
                        if (reason)
                                return reason;
                }
                return NULL;
        }
        case json_type_array:
                for (size_t i = 0, n = json_object_array_length(obj); i < n; i++) {
                        reason = json_tree_check(json_object_array_get_idx(obj, i));
                        if (reason)
                                return reason;
                }
                return NULL;
        default:
                return NULL;
        }
}

/* Whether a string of the JSON text, member names included, spells a NUL character
 * (\u0000): json-c keeps it in values and cuts member names at it, so that
 * "io.execcount\u0000junk" would pass for "io.execcount". Called on text json-c parsed. */
static bool json_text_has_nul_escape(const char *text, size_t len) {
        bool in_string = false;

        for (size_t i = 0; i < len; i++) {
                if (!in_string) {
                        in_string = text[i] == '"';
                        continue;
                }
                if (text[i] == '"')
                        in_string = false;
                else if (text[i] == '\\' && i + 1 < len) {
                        if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
                                return true;
                        i++; /* the escaped character, which cannot end the string */
                }
        }
        return false;
}

/* How many JSON values text holds at least (objects, arrays, and the members and elements
 * after their first), counted without parsing, as json-c would build them. */
static size_t json_text_values(const char *text, size_t len) {
        bool in_string = false;
        size_t n = 1;

        for (size_t i = 0; i < len; i++) {
                if (in_string) {
                        if (text[i] == '\\')
                                i++;
                        else if (text[i] == '"')
                                in_string = false;
                } else if (text[i] == '"')
                        in_string = true;
                else if (text[i] == '{' || text[i] == '[' || text[i] == ',')
                        n++;
        }
        return n;
}

/* Parses a complete JSON object from text; anything else is refused with a reason. At
 * most max_values values (0: no limit): json-c builds a tree of about 800 bytes per value,
 * and a message of 64 KiB of "{}," would cost 16 MiB of them. */
static int json_parse_object(const char *text, size_t len, size_t max_values, json_object **ret,
                             const char **ret_reason) {
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) json_object *obj = NULL;
        const char *reason;

        if (len > INT32_MAX)
                return *ret_reason = "message too large", -EBADMSG;
        if (memchr(text, '\0', len))
                return *ret_reason = "NUL byte inside message", -EBADMSG;
        if (max_values > 0 && json_text_values(text, len) > max_values)
                return *ret_reason = "more than " STRINGIFY(VARLINK_CALL_VALUES_MAX) " JSON values in a call", -EBADMSG;

        tok = json_tokener_new_ex(VARLINK_JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        /* Trailing data is allowed here only to be refused below with a clearer reason. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_ALLOW_TRAILING_CHARS);

        obj = json_tokener_parse_ex(tok, text, (int) len);
        if (!obj && json_tokener_get_error(tok) == json_tokener_continue) {
                /* All of text was taken and more is wanted. The message is complete,
                 * so say so with a NUL: that ends a bare number, but not an object. */
                obj = json_tokener_parse_ex(tok, "", 1);
                if (!obj)
                        return *ret_reason = "truncated JSON", -EBADMSG;
        } else if (!obj && json_tokener_get_error(tok) == json_tokener_error_depth)
                return *ret_reason = "JSON nested deeper than " STRINGIFY(VARLINK_JSON_DEPTH_MAX) " levels", -EBADMSG;
        else if (!obj || json_tokener_get_error(tok) != json_tokener_success)
                return *ret_reason = "invalid JSON", -EBADMSG;
        else if (json_tokener_get_parse_end(tok) != len)
                return *ret_reason = "trailing data after JSON object", -EBADMSG;
        if (!json_object_is_type(obj, json_type_object))
                return *ret_reason = "message is not a JSON object", -EBADMSG;
        reason = json_tree_check(obj);
        if (reason)
                return *ret_reason = reason, -EBADMSG;
        if (json_text_has_nul_escape(text, len))
                return *ret_reason = "string holds a NUL character (\\u0000)", -EBADMSG;

        *ret = TAKE_PTR(obj);
        return 0;
}

static int get_bool(json_object *obj, const char *key, bool *ret, const char **ret_reason) {
        json_object *v;

        if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return *ret_reason = "message flag is not a boolean", -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_parameters(json_object *obj, json_object **ret, const char **ret_reason) {
        json_object *v;

        if (!json_object_object_get_ex(obj, "parameters", &v) || json_object_is_type(v, json_type_null)) {
                *ret = json_object_new_object();
                return *ret ? 0 : -ENOMEM;
        }
        if (!json_object_is_type(v, json_type_object))
                return *ret_reason = "\"parameters\" is not an object", -EBADMSG;
        *ret = json_object_get(v);
        return 0;
}

static bool interface_valid(const char *s, size_t len) {
        bool dot = false;

        /* Reverse domain name: dot-separated labels of letters, digits and '-', each
         * starting with a letter, at least two labels. */
        if (len == 0 || len > 255)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                bool label_start = i == 0 || s[i - 1] == '.';

                if (c == '.') {
                        if (label_start || i == len - 1)
                                return false;
                        dot = true;
                } else if (label_start) {
                        if (!isalpha((unsigned char) c))
                                return false;
                } else if (!isalnum((unsigned char) c) && c != '-')
                        return false;
        }
        return dot;
}

bool varlink_method_valid(const char *method) {
        const char *dot = method ? strrchr(method, '.') : NULL;

        if (!dot || !interface_valid(method, (size_t) (dot - method)))
                return false;
        if (!isupper((unsigned char) dot[1]))
                return false;
        for (const char *p = dot + 2; *p; p++)
                if (!isalnum((unsigned char) *p))
                        return false;
        return true;
}

size_t varlink_method_interface_len(const char *method) {
        const char *dot = strrchr(method, '.');

        return dot ? (size_t) (dot - method) : 0;
}

int varlink_call_parse(const char *text, size_t len, VarlinkCall *ret, const char **ret_reason) {
        _cleanup_(json_object_putp) json_object *obj = NULL, *params = NULL;
        const char *dummy, *method;
        json_object *m;
        bool more, oneway, upgrade;
        int r;

        if (!ret_reason)
                ret_reason = &dummy;

        r = json_parse_object(text, len, VARLINK_CALL_VALUES_MAX, &obj, ret_reason);
        if (r < 0)
                return r;

        if (!json_object_object_get_ex(obj, "method", &m) || !json_object_is_type(m, json_type_string))
                return *ret_reason = "\"method\" missing or not a string", -EBADMSG;
        method = json_object_get_string(m);
        if (!varlink_method_valid(method))
                return *ret_reason = "\"method\" is not a valid interface.Method name", -EBADMSG;

        r = get_parameters(obj, &params, ret_reason);
        if (r < 0)
                return r;
        r = get_bool(obj, "more", &more, ret_reason);
        if (r < 0)
                return r;
        r = get_bool(obj, "oneway", &oneway, ret_reason);
        if (r < 0)
                return r;
        r = get_bool(obj, "upgrade", &upgrade, ret_reason);
        if (r < 0)
                return r;
        if (more && oneway)
                return *ret_reason = "\"more\" and \"oneway\" exclude each other", -EBADMSG;

        *ret = (VarlinkCall) {
                .method = strdup(method),
                .parameters = TAKE_PTR(params),
                .more = more,
                .oneway = oneway,
                .upgrade = upgrade,
        };
        if (!ret->method) {
                varlink_call_done(ret);
                return -ENOMEM;
        }
        return 0;
}

void varlink_call_done(VarlinkCall *c) {
        if (!c)
                return;
        free(c->method);
        json_object_put(c->parameters);
        *c = (VarlinkCall) {};
}

int varlink_reply_parse(const char *text, size_t len, VarlinkReply *ret, const char **ret_reason) {
        _cleanup_(json_object_putp) json_object *obj = NULL, *params = NULL;
        _cleanup_(freep) char *error = NULL;
        const char *dummy;
        json_object *e;
        bool continues;
        int r;

        if (!ret_reason)
                ret_reason = &dummy;

        r = json_parse_object(text, len, 0, &obj, ret_reason);
        if (r < 0)
                return r;

        r = get_parameters(obj, &params, ret_reason);
        if (r < 0)
                return r;
        r = get_bool(obj, "continues", &continues, ret_reason);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(obj, "error", &e)) {
                if (!json_object_is_type(e, json_type_string) || !varlink_method_valid(json_object_get_string(e)))
                        return *ret_reason = "\"error\" is not a valid error name", -EBADMSG;
                error = strdup(json_object_get_string(e));
                if (!error)
                        return -ENOMEM;
        }

        *ret = (VarlinkReply) {
                .parameters = TAKE_PTR(params),
                .error = TAKE_PTR(error),
                .continues = continues,
        };
        return 0;
}

void varlink_reply_done(VarlinkReply *r) {
        if (!r)
                return;
        json_object_put(r->parameters);
        free(r->error);
        *r = (VarlinkReply) {};
}

/* Serializes obj (consumed) with its terminating NUL. */
static int serialize(json_object *obj, char **ret, size_t *ret_len) {
        _cleanup_(json_object_putp) json_object *o = obj;
        const char *s;
        size_t len;
        char *copy;

        if (!o)
                return -ENOMEM;
        s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                              &len);
        if (!s)
                return -ENOMEM;
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, s, len + 1);
        *ret = copy;
        *ret_len = len + 1;
        return 0;
}

int varlink_call_format(const char *method, json_object *parameters, bool more, bool oneway,
                        char **ret, size_t *ret_len) {
        json_object *obj = json_object_new_object();

        if (!obj)
                return -ENOMEM;
        if (!json_add(obj, "method", json_object_new_string(method)) ||
            (parameters && !json_add(obj, "parameters", json_object_get(parameters))) ||
            (more && !json_add(obj, "more", json_object_new_boolean(true))) ||
            (oneway && !json_add(obj, "oneway", json_object_new_boolean(true)))) {
                json_object_put(obj);
                return -ENOMEM;
        }
        return serialize(obj, ret, ret_len);
}

int varlink_reply_format(json_object *parameters, bool continues, char **ret, size_t *ret_len) {
        json_object *obj = json_object_new_object();

        if (!obj)
                return -ENOMEM;
        if (!json_add(obj, "parameters", parameters ? json_object_get(parameters) : json_object_new_object()) ||
            (continues && !json_add(obj, "continues", json_object_new_boolean(true)))) {
                json_object_put(obj);
                return -ENOMEM;
        }
        return serialize(obj, ret, ret_len);
}

int varlink_error_format(const char *error, json_object *parameters, char **ret, size_t *ret_len) {
        json_object *obj = json_object_new_object();

        if (!obj)
                return -ENOMEM;
        if (!json_add(obj, "error", json_object_new_string(error)) ||
            !json_add(obj, "parameters", parameters ? json_object_get(parameters) : json_object_new_object())) {
                json_object_put(obj);
                return -ENOMEM;
        }
        return serialize(obj, ret, ret_len);
}

int varlink_parameters_check(json_object *parameters, const VarlinkField *fields, size_t n_fields,
                             const char **ret_bad) {
        json_object_object_foreach(parameters, key, value) {
                const VarlinkField *f = NULL;

                for (size_t i = 0; i < n_fields; i++)
                        if (streq(fields[i].name, key)) {
                                f = &fields[i];
                                break;
                        }
                if (!f)
                        return *ret_bad = key, -EINVAL;
                if (json_object_is_type(value, json_type_null) && !f->required)
                        continue;
                if (!json_object_is_type(value, f->type))
                        return *ret_bad = key, -EINVAL;
        }

        for (size_t i = 0; i < n_fields; i++) {
                json_object *v;

                if (fields[i].required &&
                    (!json_object_object_get_ex(parameters, fields[i].name, &v) ||
                     json_object_is_type(v, json_type_null)))
                        return *ret_bad = fields[i].name, -EINVAL;
        }
        return 0;
}

int varlink_parameter_int(json_object *parameters, const char *name, int64_t min, int64_t max,
                          int64_t *ret, bool *ret_set) {
        json_object *v;
        int64_t i;

        if (!json_object_object_get_ex(parameters, name, &v) || json_object_is_type(v, json_type_null)) {
                *ret_set = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return -EINVAL;
        /* Values above INT64_MAX are held as uint64 and read back clamped; both ends of the
         * clamp are out of every range used here. */
        i = json_object_get_int64(v);
        if (i < min || i > max)
                return -ERANGE;
        *ret = i;
        *ret_set = true;
        return 0;
}
