/* SPDX-License-Identifier: GPL-2.0-or-later */
/* history.h: the most recent exec events, kept in memory for queries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "macro.h"

typedef struct History History;

int history_new(size_t capacity, History **ret);
History *history_free(History *h);
DEFINE_POINTER_CLEANUP(History, history_free);

/* Takes ownership of e; the oldest event goes when full (at once if capacity is 0). */
void history_push(History *h, ExecEvent *e);

size_t history_size(const History *h);
size_t history_capacity(const History *h);
/* Keeps the newest events that still fit. */
int history_set_capacity(History *h, size_t capacity);

/* The newest events (at most limit, of uid when has_uid) into out, oldest first. Pointers
 * stay valid until the next push or resize. Returns how many. */
size_t history_query(const History *h, bool has_uid, uint32_t uid, size_t limit, const ExecEvent **out);
