/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.c: the counts on disk, so that they survive a reboot. */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "macro.h"
#include "state.h"
#include "time-util.h"

#define MAGIC "EXECCNT\n"
/* 2 added each UID's privileged execs, 3 the section of login pairs, 4 the per-unit
 * counts; files of earlier versions are read as having none. */
#define VERSION 4u

struct header {
        char magic[8];
        uint32_t version;
        uint32_t n_entries;
        uint64_t since_usec;
        uint64_t saved_usec;
        uint8_t boot_id[16];
        uint64_t map_full_execs;
        uint64_t map_full_failed;
        uint32_t crc32; /* of the whole file with this field 0 */
        uint32_t counts_map_id; /* 0 in files of earlier versions, which had it reserved */
};

struct entry {
        uint32_t uid;
        uint32_t reserved;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_usec;
        uint64_t privileged; /* from version 2: entries of version 1 end before it */
};

#define ENTRY_SIZE_V1 offsetof(struct entry, privileged)

/* From version 3, after the entries. */
struct logins_header {
        uint32_t n_logins;
        uint32_t reserved;
        uint64_t logins_full;
};

struct login_entry {
        uint32_t login_uid;
        uint32_t uid;
        uint64_t execs;
};

/* From version 4, after the login pairs. */
struct units_header {
        uint32_t n_units;
        uint32_t rows_size; /* of the rows after it, their names included */
        uint64_t units_full_execs;
        uint64_t units_full_failed;
        uint64_t names_full;
};

/* Each is followed by name_len bytes of the unit's name (no NUL), then zeros up to a
 * multiple of 8 bytes. */
struct unit_entry {
        uint32_t uid;
        uint16_t name_len;
        uint16_t flags; /* UNIT_ENTRY_LIVE */
        uint64_t cgroup_id;
        uint64_t execs;
        uint64_t failed;
        uint64_t last_exec_usec;
};

#define UNIT_ENTRY_LIVE 1u
#define UNIT_NAME_ROOM(len) (((size_t) (len) + 7) & ~(size_t) 7)

_Static_assert(sizeof(struct units_header) == 32 && sizeof(struct unit_entry) == 40, "nor the units section");
_Static_assert(sizeof(struct header) == 72, "the file format does not change with the compiler");
_Static_assert(sizeof(struct entry) == 40, "the file format does not change with the compiler");
_Static_assert(ENTRY_SIZE_V1 == 32, "version 1 entries are 32 bytes");
_Static_assert(sizeof(struct logins_header) == 16 && sizeof(struct login_entry) == 16, "nor does the logins section");

/* The largest file there can be. */
#define STATE_SIZE_MAX                                                                                \
        (sizeof(struct header) + (size_t) STATE_ENTRIES_MAX * sizeof(struct entry) +                 \
         sizeof(struct logins_header) + (size_t) STATE_ENTRIES_MAX * sizeof(struct login_entry) +   \
         sizeof(struct units_header) +                                                             \
         (size_t) STATE_ENTRIES_MAX * (sizeof(struct unit_entry) + UNIT_NAME_ROOM(STATE_UNIT_NAME_MAX)))

size_t state_size_max(void) {
        return STATE_SIZE_MAX;
}

void state_snapshot_done(StateSnapshot *s) {
        free(s->entries);
        free(s->logins);
        for (size_t i = 0; i < s->n_units; i++)
                free(s->units[i].unit);
        free(s->units);
        *s = (StateSnapshot) {};
}

int state_encode(const StateSnapshot *s, void **ret, size_t *ret_size) {
        size_t logins_at = sizeof(struct header) + s->n * sizeof(struct entry);
        size_t units_at = logins_at + sizeof(struct logins_header) + s->n_logins * sizeof(struct login_entry);
        size_t rows_at = units_at + sizeof(struct units_header), size = rows_at, at;
        struct units_header uh = { .n_units = (uint32_t) s->n_units,
                                   .units_full_execs = s->units_full_execs,
                                   .units_full_failed = s->units_full_failed,
                                   .names_full = s->names_full };
        struct logins_header lh = { .n_logins = (uint32_t) s->n_logins, .logins_full = s->logins_full };
        struct header h = {
                .version = VERSION,
                .n_entries = (uint32_t) s->n,
                .since_usec = s->since_usec,
                .saved_usec = s->saved_usec,
                .map_full_execs = s->map_full_execs,
                .map_full_failed = s->map_full_failed,
                .counts_map_id = s->counts_map_id,
        };
        uint8_t *buf;

        if (s->n > STATE_ENTRIES_MAX || s->n_logins > STATE_ENTRIES_MAX || s->n_units > STATE_ENTRIES_MAX)
                return -E2BIG;
        for (size_t i = 0; i < s->n_units; i++) {
                size_t len = strlen(s->units[i].unit);

                if (len > STATE_UNIT_NAME_MAX)
                        return -ENAMETOOLONG;
                size += sizeof(struct unit_entry) + UNIT_NAME_ROOM(len);
        }
        uh.rows_size = (uint32_t) (size - rows_at);
        buf = calloc(1, size);
        if (!buf)
                return -ENOMEM;
        memcpy(h.magic, MAGIC, sizeof(h.magic));
        memcpy(h.boot_id, s->boot_id, sizeof(h.boot_id));
        for (size_t i = 0; i < s->n; i++) {
                struct entry e = {
                        .uid = s->entries[i].uid,
                        .execs = s->entries[i].execs,
                        .failed = s->entries[i].failed,
                        .last_exec_usec = s->entries[i].last_exec_usec,
                        .privileged = s->entries[i].privileged,
                };

                memcpy(buf + sizeof(h) + i * sizeof(e), &e, sizeof(e));
        }
        memcpy(buf + logins_at, &lh, sizeof(lh));
        for (size_t i = 0; i < s->n_logins; i++) {
                struct login_entry e = {
                        .login_uid = s->logins[i].login_uid,
                        .uid = s->logins[i].uid,
                        .execs = s->logins[i].execs,
                };

                memcpy(buf + logins_at + sizeof(lh) + i * sizeof(e), &e, sizeof(e));
        }
        memcpy(buf + units_at, &uh, sizeof(uh));
        at = units_at + sizeof(uh);
        for (size_t i = 0; i < s->n_units; i++) {
                const StateUnit *u = &s->units[i];
                struct unit_entry e = {
                        .uid = u->uid,
                        .name_len = (uint16_t) strlen(u->unit),
                        .flags = u->live ? UNIT_ENTRY_LIVE : 0,
                        .cgroup_id = u->cgroup_id,
                        .execs = u->execs,
                        .failed = u->failed,
                        .last_exec_usec = u->last_exec_usec,
                };

                memcpy(buf + at, &e, sizeof(e));
                memcpy(buf + at + sizeof(e), u->unit, e.name_len);
                at += sizeof(e) + UNIT_NAME_ROOM(e.name_len);
        }
        memcpy(buf, &h, sizeof(h));
        h.crc32 = (uint32_t) crc32(0, buf, (uInt) size);
        memcpy(buf, &h, sizeof(h));

        *ret = buf;
        *ret_size = size;
        return 0;
}

int state_decode(const void *data, size_t size, StateSnapshot *ret, const char **ret_reason) {
        const uint8_t *buf = data;
        _cleanup_(freep) uint8_t *copy = NULL;
        _cleanup_(freep) StateEntry *entries = NULL;
        _cleanup_(freep) StateLogin *logins = NULL;
        _cleanup_(state_snapshot_done) StateSnapshot units = {};
        struct logins_header lh = {};
        struct units_header uh = {};
        struct header h;
        uint32_t crc;
        size_t entry_size, logins_at, units_at = 0, end;

        if (size < sizeof(h))
                return *ret_reason = "shorter than its header", -EBADMSG;
        memcpy(&h, buf, sizeof(h));
        if (memcmp(h.magic, MAGIC, sizeof(h.magic)) != 0)
                return *ret_reason = "not an execcountd state file", -EBADMSG;
        if (h.version < 1 || h.version > VERSION)
                return *ret_reason = "of an unknown version", -EBADMSG;
        entry_size = h.version == 1 ? ENTRY_SIZE_V1 : sizeof(struct entry);
        if (h.n_entries > STATE_ENTRIES_MAX)
                return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
        logins_at = sizeof(h) + (size_t) h.n_entries * entry_size;
        if (h.version >= 3) {
                if (size < logins_at + sizeof(lh))
                        return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
                memcpy(&lh, buf + logins_at, sizeof(lh));
                if (lh.n_logins > STATE_ENTRIES_MAX)
                        return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
                end = units_at = logins_at + sizeof(lh) + (size_t) lh.n_logins * sizeof(struct login_entry);
                if (h.version >= 4) {
                        if (size < units_at + sizeof(uh))
                                return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
                        memcpy(&uh, buf + units_at, sizeof(uh));
                        if (uh.n_units > STATE_ENTRIES_MAX)
                                return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
                        end = units_at + sizeof(uh) + uh.rows_size;
                }
                if (size != end)
                        return *ret_reason = "truncated, or of the wrong length", -EBADMSG;
        } else if (size != logins_at)
                return *ret_reason = "truncated, or of the wrong length", -EBADMSG;

        copy = malloc(size);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, buf, size);
        memset(copy + offsetof(struct header, crc32), 0, sizeof(h.crc32));
        crc = (uint32_t) crc32(0, copy, (uInt) size);
        if (crc != h.crc32)
                return *ret_reason = "damaged (checksum mismatch)", -EBADMSG;

        entries = calloc(h.n_entries ? h.n_entries : 1, sizeof(*entries));
        logins = calloc(lh.n_logins ? lh.n_logins : 1, sizeof(*logins));
        if (!entries || !logins)
                return -ENOMEM;
        for (size_t i = 0; i < h.n_entries; i++) {
                struct entry e = {};

                memcpy(&e, buf + sizeof(h) + i * entry_size, entry_size);
                entries[i] = (StateEntry) {
                        .uid = e.uid,
                        .execs = e.execs,
                        .failed = e.failed,
                        .last_exec_usec = e.last_exec_usec,
                        .privileged = e.privileged,
                };
        }
        for (size_t i = 0; i < lh.n_logins; i++) {
                struct login_entry e;

                memcpy(&e, buf + logins_at + sizeof(lh) + i * sizeof(e), sizeof(e));
                logins[i] = (StateLogin) { .login_uid = e.login_uid, .uid = e.uid, .execs = e.execs };
        }
        units.units = calloc(uh.n_units ? uh.n_units : 1, sizeof(*units.units));
        if (!units.units)
                return -ENOMEM;
        /* The rows must fill their section exactly: a file that says otherwise under a
         * good checksum was written wrong. */
        end = units_at + sizeof(uh);
        for (size_t i = 0; i < uh.n_units; i++) {
                struct unit_entry e;
                char *name;

                if (size - end < sizeof(e))
                        return *ret_reason = "damaged (its units do not fill their section)", -EBADMSG;
                memcpy(&e, buf + end, sizeof(e));
                end += sizeof(e);
                if (e.name_len > STATE_UNIT_NAME_MAX || size - end < UNIT_NAME_ROOM(e.name_len))
                        return *ret_reason = "damaged (its units do not fill their section)", -EBADMSG;
                if (memchr(buf + end, '\0', e.name_len))
                        return *ret_reason = "damaged (a unit name holds a NUL)", -EBADMSG;
                name = strndup((const char *) buf + end, e.name_len);
                if (!name)
                        return -ENOMEM;
                units.units[units.n_units++] = (StateUnit) {
                        .unit = name,
                        .uid = e.uid,
                        .live = e.flags & UNIT_ENTRY_LIVE,
                        .cgroup_id = e.cgroup_id,
                        .execs = e.execs,
                        .failed = e.failed,
                        .last_exec_usec = e.last_exec_usec,
                };
                end += UNIT_NAME_ROOM(e.name_len);
        }
        if (h.version >= 4 && end != size)
                return *ret_reason = "damaged (its units do not fill their section)", -EBADMSG;

        *ret = (StateSnapshot) {
                .since_usec = h.since_usec,
                .saved_usec = h.saved_usec,
                .map_full_execs = h.map_full_execs,
                .map_full_failed = h.map_full_failed,
                .counts_map_id = h.counts_map_id,
                .n = h.n_entries,
                .entries = TAKE_PTR(entries),
                .logins_full = lh.logins_full,
                .n_logins = lh.n_logins,
                .logins = TAKE_PTR(logins),
                .units_full_execs = uh.units_full_execs,
                .units_full_failed = uh.units_full_failed,
                .names_full = uh.names_full,
                .n_units = units.n_units,
                .units = TAKE_PTR(units.units),
        };
        units.n_units = 0;
        memcpy(ret->boot_id, h.boot_id, sizeof(h.boot_id));
        return 0;
}
