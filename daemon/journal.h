/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal.h: sending log messages to journald, with their fields, when it reads our stderr. */
#pragma once

#include <stdbool.h>

/* Message IDs of execcountd's journal entries, documented in execcountd(8) and the
 * catalog (systemd/execcountd.catalog). */
#define MESSAGE_ID_STARTED "a7310ee901524ace9b9b6a2d9c24f27f"
#define MESSAGE_ID_START_FAILED "f9ab5d07a8334f5f81cd02db2521c8c6"
#define MESSAGE_ID_RELOADED "a9fe13e9634b43f99878a7caeab604a6"
#define MESSAGE_ID_RELOAD_FAILED "9d87cbdcd8b543fbb4bcb849691bc935"
#define MESSAGE_ID_STOPPING "291fe7a3278f4c69bf887fb7d4baa8df"
#define MESSAGE_ID_EVENTS_LOST "59115ece2996498bb066283a1160df3a"
#define MESSAGE_ID_MAP_FULL "df21da333b334294a98c0b78734fb80c"
#define MESSAGE_ID_EVENTS_THROTTLED "50f72510c5754ff0bd20d2e1bd02925e"
#define MESSAGE_ID_PROBE_MISSES "a64fc82922464bed893ac893c0ed96c8"
#define MESSAGE_ID_CLIENT_PROTOCOL_ERROR "c6980bf0dca14491828d301ff4d7b07e"
#define MESSAGE_ID_EXEC "8783b7ad605e4d1d9c03096ae0974cf8"
#define MESSAGE_ID_EXECS_SUPPRESSED "4a44bf7e7e0f4c90b92a85e7bd733328"
#define MESSAGE_ID_SUMMARY "e1fa38b425fa46d391f4b2a6a3666a82"
#define MESSAGE_ID_STATE_RESTORED "038d991ae14a4774ba75521f9c5dfcf7"
#define MESSAGE_ID_STATE_DAMAGED "89c95452fe9543f796a2c801f9ac37ad"
#define MESSAGE_ID_COUNTS_DISCARDED "8896155fca794dc9a7851353de6b1692"
#define MESSAGE_ID_PROBES_REPLACED "489fe65718944e6aa71543dd1431fbc5"
#define MESSAGE_ID_COUNTS_CHOSEN "9c87ecfba55e4b48a6fd15425783bd99"
#define MESSAGE_ID_SNAPSHOT_FAILED "c7d6dd4c67ed486c9abd0b449638ba39"
#define MESSAGE_ID_CLIENTS_REFUSED "aa6640d6f85b4d15b60d964d69865ccd"
#define MESSAGE_ID_CLIENT_OVER_BUDGET "dc0a34d2592e4cc784d72e08ce81d79b"

/* Whether stderr is connected to journald ($JOURNAL_STREAM names it). */
bool journal_is_stderr(void);
/* Routes log.h's messages to the journal. */
void journal_log_open(void);
