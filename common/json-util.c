/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json-util.c: building JSON objects without losing allocation failures. */

#include "json-util.h"

bool json_add(json_object *o, const char *key, json_object *value) {
        if (!value)
                return false;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return false;
        }
        return true;
}

bool json_add_null(json_object *o, const char *key) {
        return json_object_object_add(o, key, NULL) == 0;
}

bool json_append(json_object *array, json_object *value) {
        if (!value)
                return false;
        if (json_object_array_add(array, value) < 0) {
                json_object_put(value);
                return false;
        }
        return true;
}

bool json_get_int64(json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret) {
        json_object *v;
        int64_t i;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        i = json_object_get_int64(v);
        if (i < min || i > max)
                return false;
        *ret = i;
        return true;
}

const char *json_get_string(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}
