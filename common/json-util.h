/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json-util.h: building JSON objects without losing allocation failures. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Adds value (consumed) under key. A NULL value means its allocation failed: false. */
bool json_add(json_object *o, const char *key, json_object *value);
/* Adds an explicit JSON null. */
bool json_add_null(json_object *o, const char *key);
/* Appends value (consumed) to an array; false on allocation failure. */
bool json_append(json_object *array, json_object *value);

/* Reads an integer member in [min, max]; false when absent, not an integer or out of range. */
bool json_get_int64(json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret);
/* A string member, or NULL. */
const char *json_get_string(json_object *o, const char *key);
