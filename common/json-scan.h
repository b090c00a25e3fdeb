/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json-scan.h: reading values out of JSON text in place, without building a tree.
 *
 * For the one reply that can be megabytes: GetStats with every UID. json-c makes a hash
 * table per object, and ten thousand of them cost more than everything else together. A
 * scan checks the syntax of what it skips and reads, but is not a validator: text that
 * json-c would refuse may be partly read before the error is found. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A piece of the text: one JSON value, or the rest of an array being walked. */
typedef struct JsonSpan {
        const char *p;
        size_t len;
} JsonSpan;

/* The end of the value starting at s (after leading whitespace), or NULL if it is not
 * well-formed. Nesting deeper than 64 levels counts as not well-formed. */
const char *json_scan_skip(const char *s, const char *end);

/* The value of member key in the object obj, in *ret. -ENOENT if it has none, -EBADMSG if
 * obj is not a well-formed object. Keys with escapes never match. */
int json_scan_member(JsonSpan obj, const char *key, JsonSpan *ret);

/* The members keys[0..n) of obj in one walk: ret[i] is the value of keys[i], or {NULL, 0}
 * if obj has none. -EBADMSG if obj is not a well-formed object. For several members of an
 * object that holds a long array: each json_scan_member() walks all of it. */
int json_scan_members(JsonSpan obj, const char *const *keys, JsonSpan *ret, size_t n);
/* The same for an object that starts obj, which may go on after it: its end is put in
 * *ret_end. */
int json_scan_members_end(JsonSpan obj, const char *const *keys, JsonSpan *ret, size_t n, const char **ret_end);

/* Where a walk over an array's elements or an object's members is. */
typedef struct JsonIter {
        const char *p, *end;
        bool started;
} JsonIter;

/* Starts walking the array a. -EBADMSG if it is not one. */
int json_scan_array_begin(JsonSpan a, JsonIter *iter);
/* The next element, in *ret: 1, or 0 at the end, or -EBADMSG. */
int json_scan_array_next(JsonIter *iter, JsonSpan *ret);

/* Walking an object's members in one pass, for objects with many keys of interest. */
int json_scan_object_begin(JsonSpan obj, JsonIter *iter);
/* The next member: 1 with its key (between the quotes, as written, escapes and all) and
 * value, 0 at the end, or -EBADMSG. */
int json_scan_object_next(JsonIter *iter, JsonSpan *ret_key, JsonSpan *ret_value);
/* Whether key, from json_scan_object_next(), is name. Keys with escapes never are. */
bool json_scan_key_is(JsonSpan key, const char *name);

/* An integer value within [min, max]: 0, or -EBADMSG if it is anything else. */
int json_scan_int64(JsonSpan v, int64_t min, int64_t max, int64_t *ret);
/* The integers of the array a, each within [min, max], into ret[0], ret[stride], ... (ret
 * NULL: only counted): how many, or -EBADMSG if a is not an array of such integers, or
 * holds more than n_max. In one pass: for arrays of many numbers, such as the columns of
 * GetStats, where a walk over the elements and a scan of each would read them twice.
 * With ret_end, a may go on after the array, whose end is put there. */
int json_scan_int64_array(JsonSpan a, int64_t min, int64_t max, int64_t *ret, size_t stride, size_t n_max,
                          const char **ret_end);

/* Walking an object whose values the caller reads itself, in one pass rather than a skip
 * and a read: the next member's key, and in *ret_rest the object's text from its value
 * on; 1, 0 at the end, or -EBADMSG. The caller then says where the value ended with
 * json_scan_object_resume(). */
int json_scan_object_next_key(JsonIter *iter, JsonSpan *ret_key, JsonSpan *ret_rest);
void json_scan_object_resume(JsonIter *iter, const char *value_end);
/* After a walk's last step (which returned 0): the end of the array or object walked, for
 * one that was begun on text that goes on after it. */
const char *json_scan_iter_end(const JsonIter *iter);
