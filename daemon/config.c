/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c: the settings of execcountd.conf: their defaults, a table of what each key
 * takes, and how each value is written back. config-file.c reads the files. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "protocol.h"

static const char *const probe_mode_names[_PROBE_MODE_MAX] = {
        [PROBE_AUTO] = "auto",
        [PROBE_FENTRY] = "fentry",
        [PROBE_KPROBE] = "kprobe",
        [PROBE_TRACEPOINT] = "tracepoint",
};

const char *probe_mode_to_string(ProbeMode m) {
        if (m < 0 || m >= _PROBE_MODE_MAX)
                return NULL;
        return probe_mode_names[m];
}

int probe_mode_from_string(const char *s) {
        for (int i = 0; i < _PROBE_MODE_MAX; i++)
                if (s && streq(s, probe_mode_names[i]))
                        return i;
        return -EINVAL;
}

int config_init(Config *c) {
        *c = (Config) {
                .probe_mode = PROBE_AUTO,
                .max_uids = CONFIG_MAX_UIDS_DEFAULT,
                .ring_buffer_size = CONFIG_RING_BUFFER_SIZE_DEFAULT,
                .history_size = CONFIG_HISTORY_DEFAULT,
                .flush_interval_usec = CONFIG_FLUSH_INTERVAL_USEC_DEFAULT,
                .failed_rate_interval_usec = CONFIG_FAILED_RATE_INTERVAL_USEC_DEFAULT,
                .failed_rate_burst = CONFIG_FAILED_RATE_BURST_DEFAULT,
                .capture_argv = true,
                .socket_path = strdup(EXECCOUNT_SOCKET_DEFAULT),
                .max_clients = CONFIG_MAX_CLIENTS_DEFAULT,
                .max_clients_per_uid = CONFIG_MAX_CLIENTS_PER_UID_DEFAULT,
                .reserved_clients = CONFIG_RESERVED_CLIENTS_DEFAULT,
                .idle_timeout_usec = CONFIG_IDLE_TIMEOUT_USEC_DEFAULT,
                .max_buffer = CONFIG_MAX_BUFFER_DEFAULT,
                .max_buffer_per_uid = CONFIG_MAX_BUFFER_PER_UID_DEFAULT,
                .output_rate_per_uid = CONFIG_OUTPUT_RATE_PER_UID_DEFAULT,
                .access_group = strdup(CONFIG_ACCESS_GROUP_DEFAULT),
                .state_dir = strdup(CONFIG_STATE_DIRECTORY_DEFAULT),
                .pin_dir = strdup(CONFIG_PIN_DIRECTORY_DEFAULT),
                .snapshot_interval_usec = CONFIG_SNAPSHOT_INTERVAL_USEC_DEFAULT,
                .log_execs_interval_usec = CONFIG_LOG_EXECS_INTERVAL_USEC_DEFAULT,
                .log_execs_burst = CONFIG_LOG_EXECS_BURST_DEFAULT,
                .log_execs_burst_per_uid = CONFIG_LOG_EXECS_BURST_PER_UID_DEFAULT,
                .summary_interval_usec = CONFIG_SUMMARY_INTERVAL_USEC_DEFAULT,
                .log_level = LOG_INFO,
        };
        return c->socket_path && c->access_group && c->state_dir && c->pin_dir ? 0 : -ENOMEM;
}

void config_done(Config *c) {
        if (!c)
                return;
        free(c->socket_path);
        free(c->access_group);
        free(c->state_dir);
        free(c->pin_dir);
        *c = (Config) {};
}

/* ---- The settings: one parser and one formatter per kind of value, and a table
 * (section, key, parser, field) in the order of the shipped file, as systemd's
 * configuration tables are written. */

typedef struct ConfigItem ConfigItem;

/* Parses value into the item's field: 0, or -EINVAL (the item's "expected" says why), or
 * -EINVAL with a reason of its own in *ret_why, or -ENOMEM. */
typedef int (*ConfigParser)(const ConfigItem *item, const char *value, void *field, const char **ret_why);
/* Writes the field as it would be written in the file. */
typedef void (*ConfigFormatter)(const void *field, FILE *f);

struct ConfigItem {
        const char *section;
        const char *key;
        ConfigParser parse;
        ConfigFormatter format;
        size_t offset; /* of the field in Config */
        uint64_t min, max; /* numbers, sizes and durations */
        bool zero_ok; /* 0 as well, below min: "no limit" */
        const char *expected; /* what a bad value is told */
};

static int parse_u32(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v < item->min || v > item->max)
                return -EINVAL;
        *(uint32_t *) field = v;
        return 0;
}

static int parse_size_u64(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || (v < item->min && !(item->zero_ok && v == 0)) || v > item->max)
                return -EINVAL;
        *(uint64_t *) field = v;
        return 0;
}

static int parse_size_pow2(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || v < item->min || v > item->max || (v & (v - 1)) != 0)
                return -EINVAL;
        *(uint32_t *) field = (uint32_t) v;
        return 0;
}

static int parse_duration(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        uint64_t v;

        if (parse_timespan_usec(value, &v) < 0 || v > item->max)
                return -EINVAL;
        *(uint64_t *) field = v;
        return 0;
}

static int parse_bool(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        return parse_boolean(value, field) < 0 ? -EINVAL : 0;
}

static int parse_probe_mode(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        int m = probe_mode_from_string(value);

        if (m < 0)
                return -EINVAL;
        *(ProbeMode *) field = m;
        return 0;
}

static int parse_log_level(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        int l = log_level_from_string(value);

        if (l < 0)
                return -EINVAL;
        *(int *) field = l;
        return 0;
}

static int replace_string(char **field, const char *value) {
        char *p = strdup(value);

        if (!p)
                return -ENOMEM;
        free(*field);
        *field = p;
        return 0;
}

/* Control characters in a path are a mistake or a trick: they show as something else in
 * every log line that names it. */
static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

static int parse_socket_path(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        if (value[0] != '/')
                return -EINVAL;
        if (has_control_chars(value))
                return *ret_why = "control characters in a path", -EINVAL;
        if (strlen(value) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return *ret_why = "path too long for a Unix socket (107 bytes at most)", -EINVAL;
        return replace_string(field, value);
}

/* An absolute directory, or "" for none. */
static int parse_directory(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        if (value[0] != '\0' && value[0] != '/')
                return -EINVAL;
        if (has_control_chars(value))
                return *ret_why = "control characters in a path", -EINVAL;
        if (strlen(value) > 1024)
                return *ret_why = "path too long", -EINVAL;
        return replace_string(field, value);
}

static int parse_group(const ConfigItem *item, const char *value, void *field, const char **ret_why) {
        for (const char *p = value; *p; p++)
                if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '.') || (p == value && *p == '-'))
                        return -EINVAL;
        return replace_string(field, value);
}

static void format_u32(const void *field, FILE *f) {
        fprintf(f, "%" PRIu32, *(const uint32_t *) field);
}

static void print_size(uint64_t v, FILE *f) {
        static const char units[] = { 'G', 'M', 'K' };

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                uint64_t factor = UINT64_C(1) << (10 * (ELEMENTSOF(units) - i));

                if (v >= factor && v % factor == 0) {
                        fprintf(f, "%" PRIu64 "%c", v / factor, units[i]);
                        return;
                }
        }
        fprintf(f, "%" PRIu64, v);
}

static void format_size_u64(const void *field, FILE *f) {
        print_size(*(const uint64_t *) field, f);
}

static void format_size_u32(const void *field, FILE *f) {
        print_size(*(const uint32_t *) field, f);
}

static void format_duration(const void *field, FILE *f) {
        uint64_t v = *(const uint64_t *) field;

        if (v == 0)
                fputs("0", f);
        else if (v % (3600 * USEC_PER_SEC) == 0)
                fprintf(f, "%" PRIu64 "h", v / (3600 * USEC_PER_SEC));
        else if (v % (60 * USEC_PER_SEC) == 0)
                fprintf(f, "%" PRIu64 "min", v / (60 * USEC_PER_SEC));
        else if (v % USEC_PER_SEC == 0)
                fprintf(f, "%" PRIu64 "s", v / USEC_PER_SEC);
        else if (v % USEC_PER_MSEC == 0)
                fprintf(f, "%" PRIu64 "ms", v / USEC_PER_MSEC);
        else
                fprintf(f, "%" PRIu64 "us", v);
}

static void format_bool(const void *field, FILE *f) {
        fputs(*(const bool *) field ? "yes" : "no", f);
}

static void format_string(const void *field, FILE *f) {
        fputs(*(char *const *) field, f);
}

static void format_probe_mode(const void *field, FILE *f) {
        fputs(probe_mode_to_string(*(const ProbeMode *) field), f);
}

static void format_log_level(const void *field, FILE *f) {
        fputs(log_level_to_string(*(const int *) field), f);
}

#define FIELD(name) offsetof(Config, name)
#define U32(lo, hi) parse_u32, format_u32, .min = (lo), .max = (hi)
#define DURATION(hi) parse_duration, format_duration, .max = (hi)
#define BUFFER parse_size_u64, format_size_u64, .min = CONFIG_MAX_BUFFER_MIN, .max = CONFIG_MAX_BUFFER_MAX
#define INTERVAL_EXPECTED "expected a duration up to 7 days, e.g. 10s, 15min or 1h (0 turns it off)"
#define DIRECTORY_EXPECTED "expected an absolute path, or nothing to turn it off"

static const ConfigItem config_items[] = {
        { "Probe", "Mode", parse_probe_mode, format_probe_mode, FIELD(probe_mode),
          .expected = "expected auto, fentry, kprobe or tracepoint" },
        { "Counts", "MaxUIDs", U32(1, CONFIG_MAX_UIDS_MAX), .offset = FIELD(max_uids),
          .expected = "expected a number of UIDs from 1 to 1048576" },
        { "Events", "RingBufferSize", parse_size_pow2, format_size_u32, FIELD(ring_buffer_size),
          CONFIG_RING_BUFFER_SIZE_MIN, CONFIG_RING_BUFFER_SIZE_MAX,
          .expected = "expected a power of two from 4K to 1G, e.g. 1M" },
        { "Events", "History", U32(0, CONFIG_HISTORY_MAX), .offset = FIELD(history_size),
          .expected = "expected a number of events from 0 to 1000000" },
        { "Events", "FlushIntervalSec", DURATION(CONFIG_FLUSH_INTERVAL_USEC_MAX), .offset = FIELD(flush_interval_usec),
          .expected = "expected a duration from 0 to 10s, e.g. 50ms" },
        { "Events", "FailedRateLimitIntervalSec", DURATION(CONFIG_INTERVAL_USEC_MAX),
          .offset = FIELD(failed_rate_interval_usec),
          .expected = "expected a duration up to 7 days, e.g. 1s (0 for no limit)" },
        { "Events", "FailedRateLimitBurst", U32(0, UINT32_MAX), .offset = FIELD(failed_rate_burst),
          .expected = "expected a number of events (0 for no limit)" },
        { "Events", "CaptureArgv", parse_bool, format_bool, FIELD(capture_argv), .expected = "expected yes or no" },
        { "Socket", "Path", parse_socket_path, format_string, FIELD(socket_path), .expected = "expected an absolute path" },
        { "Socket", "MaxClients", U32(1, CONFIG_MAX_CLIENTS_MAX), .offset = FIELD(max_clients),
          .expected = "expected a number of clients from 1 to 65536" },
        { "Socket", "MaxClientsPerUID", U32(1, CONFIG_MAX_CLIENTS_MAX), .offset = FIELD(max_clients_per_uid),
          .expected = "expected a number of clients from 1 to 65536" },
        { "Socket", "ReservedClients", U32(0, CONFIG_MAX_CLIENTS_MAX), .offset = FIELD(reserved_clients),
          .expected = "expected a number of clients from 0 to 65536" },
        { "Socket", "IdleTimeoutSec", DURATION(CONFIG_INTERVAL_USEC_MAX), .offset = FIELD(idle_timeout_usec),
          .expected = INTERVAL_EXPECTED },
        { "Socket", "MaxBuffer", BUFFER, .offset = FIELD(max_buffer), .expected = "expected a size from 256K to 1G, e.g. 8M" },
        { "Socket", "MaxBufferPerUID", BUFFER, .offset = FIELD(max_buffer_per_uid),
          .expected = "expected a size from 256K to 1G, e.g. 8M" },
        { "Socket", "OutputRatePerUID", BUFFER, .zero_ok = true, .offset = FIELD(output_rate_per_uid),
          .expected = "expected bytes per second from 256K to 1G, e.g. 32M (0 for no limit)" },
        { "Access", "Group", parse_group, format_string, FIELD(access_group),
          .expected = "expected a group name, or nothing for no group" },
        { "State", "Directory", parse_directory, format_string, FIELD(state_dir), .expected = DIRECTORY_EXPECTED },
        { "State", "PinDirectory", parse_directory, format_string, FIELD(pin_dir), .expected = DIRECTORY_EXPECTED },
        { "State", "SnapshotIntervalSec", DURATION(CONFIG_INTERVAL_USEC_MAX), .offset = FIELD(snapshot_interval_usec),
          .expected = INTERVAL_EXPECTED },
        { "Journal", "LogExecs", parse_bool, format_bool, FIELD(log_execs), .expected = "expected yes or no" },
        { "Journal", "LogArgv", parse_bool, format_bool, FIELD(log_argv), .expected = "expected yes or no" },
        { "Journal", "LogExecsRateLimitIntervalSec", DURATION(CONFIG_INTERVAL_USEC_MAX),
          .offset = FIELD(log_execs_interval_usec), .expected = INTERVAL_EXPECTED },
        { "Journal", "LogExecsRateLimitBurst", U32(1, UINT32_MAX), .offset = FIELD(log_execs_burst),
          .expected = "expected a number of entries, at least 1" },
        { "Journal", "LogExecsRateLimitBurstPerUID", U32(1, UINT32_MAX), .offset = FIELD(log_execs_burst_per_uid),
          .expected = "expected a number of entries, at least 1" },
        { "Journal", "SummaryIntervalSec", DURATION(CONFIG_INTERVAL_USEC_MAX), .offset = FIELD(summary_interval_usec),
          .expected = INTERVAL_EXPECTED },
        { "Daemon", "LogLevel", parse_log_level, format_log_level, FIELD(log_level), .expected = LOG_LEVEL_EXPECTED },
};

int config_set(Config *c, const char *section, const char *key, const char *value, const char **ret_why) {
        bool section_known = false;

        for (size_t i = 0; i < ELEMENTSOF(config_items); i++) {
                const ConfigItem *item = &config_items[i];
                int r;

                if (!streq(section, item->section))
                        continue;
                section_known = true;
                if (!streq(key, item->key))
                        continue;
                *ret_why = NULL;
                r = item->parse(item, value, (char *) c + item->offset, ret_why);
                if (r == -EINVAL && !*ret_why)
                        *ret_why = item->expected;
                return r;
        }
        return section_known ? -ENOENT : -ESRCH;
}

void config_format(const Config *c, FILE *f) {
        const char *section = NULL;

        for (size_t i = 0; i < ELEMENTSOF(config_items); i++) {
                const ConfigItem *item = &config_items[i];

                if (!section || !streq(section, item->section)) {
                        fprintf(f, "%s[%s]\n", section ? "\n" : "", item->section);
                        section = item->section;
                }
                fprintf(f, "%s=", item->key);
                item->format((const char *) c + item->offset, f);
                fputc('\n', f);
        }
}

int config_apply_overrides(Config *c, const ConfigOverrides *o) {
        if (o->probe_mode >= 0)
                c->probe_mode = o->probe_mode;
        if (o->log_level >= 0)
                c->log_level = o->log_level;
        if (o->socket_path && replace_string(&c->socket_path, o->socket_path) < 0)
                return -ENOMEM;
        if (o->pin_dir && replace_string(&c->pin_dir, o->pin_dir) < 0)
                return -ENOMEM;
        return 0;
}
