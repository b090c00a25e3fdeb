/* SPDX-License-Identifier: GPL-2.0-or-later */
/* varlink.h: the Varlink wire format (varlink.org): NUL-terminated JSON messages.
 *
 * Pure encoding and decoding, shared by the daemon and execcountctl; no I/O here. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* org.varlink.service errors, and the ones io.execcount declares. */
#define VARLINK_ERROR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define VARLINK_ERROR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VARLINK_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented"
#define VARLINK_ERROR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VARLINK_ERROR_PERMISSION_DENIED "org.varlink.service.PermissionDenied"
#define VARLINK_ERROR_EXPECTED_MORE "org.varlink.service.ExpectedMore"

/* Deeper JSON than this is refused while parsing: requests are flat. */
#define VARLINK_JSON_DEPTH_MAX 16
/* A call with more JSON values than this is refused before it is parsed: no method takes
 * more than a few parameters. */
#define VARLINK_CALL_VALUES_MAX 256

typedef struct VarlinkCall {
        char *method; /* "interface.Method" */
        json_object *parameters; /* always an object, empty when absent */
        bool more;
        bool oneway;
        bool upgrade;
} VarlinkCall;

typedef struct VarlinkReply {
        json_object *parameters; /* always an object, empty when absent */
        char *error; /* NULL unless the reply is an error */
        bool continues;
} VarlinkReply;

/* Parses one message (without its NUL). On failure returns -EBADMSG and, when
 * ret_reason is set, a static description of what was wrong. */
int varlink_call_parse(const char *text, size_t len, VarlinkCall *ret, const char **ret_reason);
void varlink_call_done(VarlinkCall *c);

int varlink_reply_parse(const char *text, size_t len, VarlinkReply *ret, const char **ret_reason);
void varlink_reply_done(VarlinkReply *r);

/* Each returns a malloc()ed message including its terminating NUL, its size in *ret_len.
 * parameters may be NULL for "no parameters". Returns -ENOMEM on failure. */
int varlink_call_format(const char *method, json_object *parameters, bool more, bool oneway,
                        char **ret, size_t *ret_len);
int varlink_reply_format(json_object *parameters, bool continues, char **ret, size_t *ret_len);
int varlink_error_format(const char *error, json_object *parameters, char **ret, size_t *ret_len);

/* Splits "a.b.Method" at the last dot. Returns false unless interface is a valid reverse
 * domain name and Method starts with an upper-case letter followed by letters and digits. */
bool varlink_method_valid(const char *method);
/* Length of the interface part of a valid method name. */
size_t varlink_method_interface_len(const char *method);

/* Declared parameter of a method, for varlink_parameters_check(). */
typedef struct VarlinkField {
        const char *name;
        json_type type; /* json_type_int, json_type_string, json_type_boolean, ... */
        bool required;
} VarlinkField;

/* Checks parameters against fields: every member must be declared, of its type (null is
 * accepted for optional ones), and required ones present. On failure returns -EINVAL and
 * the offending parameter's name in *ret_bad. */
int varlink_parameters_check(json_object *parameters, const VarlinkField *fields, size_t n_fields,
                             const char **ret_bad);

/* Reads an optional integer parameter in [min, max]; returns 0 and *ret_set = false when
 * absent or null, -EINVAL when of the wrong type, -ERANGE when out of range. */
int varlink_parameter_int(json_object *parameters, const char *name, int64_t min, int64_t max,
                          int64_t *ret, bool *ret_set);

DEFINE_POINTER_CLEANUP(json_object, json_object_put);
