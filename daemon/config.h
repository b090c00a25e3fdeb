/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.h: execcountd.conf and its drop-ins, parsed into one plain struct. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ProbeMode {
        PROBE_AUTO,
        PROBE_FENTRY,
        PROBE_KPROBE,
        PROBE_TRACEPOINT,
        _PROBE_MODE_MAX,
} ProbeMode;

const char *probe_mode_to_string(ProbeMode m);
/* Returns the mode or -EINVAL. */
int probe_mode_from_string(const char *s);

#define CONFIG_MAX_UIDS_DEFAULT 65536u
#define CONFIG_MAX_UIDS_MAX (1u << 20)
#define CONFIG_RING_BUFFER_SIZE_DEFAULT (1u << 20)
#define CONFIG_RING_BUFFER_SIZE_MIN (1u << 12)
#define CONFIG_RING_BUFFER_SIZE_MAX (1u << 30)
#define CONFIG_HISTORY_DEFAULT 1024u
#define CONFIG_HISTORY_MAX 1000000u
#define CONFIG_FLUSH_INTERVAL_USEC_DEFAULT (50 * 1000ull)
#define CONFIG_FLUSH_INTERVAL_USEC_MAX (10 * 1000 * 1000ull)
#define CONFIG_FAILED_RATE_INTERVAL_USEC_DEFAULT (1000 * 1000ull)
#define CONFIG_FAILED_RATE_BURST_DEFAULT 10000u
#define CONFIG_LOG_EXECS_INTERVAL_USEC_DEFAULT (10 * 1000 * 1000ull)
#define CONFIG_LOG_EXECS_BURST_DEFAULT 1000u
#define CONFIG_LOG_EXECS_BURST_PER_UID_DEFAULT 100u
#define CONFIG_SUMMARY_INTERVAL_USEC_DEFAULT (3600 * 1000 * 1000ull)
#define CONFIG_INTERVAL_USEC_MAX (7 * 24 * 3600 * 1000 * 1000ull)
#define CONFIG_STATE_DIRECTORY_DEFAULT "/var/lib/execcountd"
#define CONFIG_PIN_DIRECTORY_DEFAULT "/sys/fs/bpf/execcountd"
#define CONFIG_SNAPSHOT_INTERVAL_USEC_DEFAULT (60 * 1000 * 1000ull)
#define CONFIG_ACCESS_GROUP_DEFAULT "execcount"
#define CONFIG_MAX_CLIENTS_DEFAULT 1024u
#define CONFIG_MAX_CLIENTS_MAX 65536u
#define CONFIG_MAX_CLIENTS_PER_UID_DEFAULT 64u
#define CONFIG_RESERVED_CLIENTS_DEFAULT 64u
#define CONFIG_IDLE_TIMEOUT_USEC_DEFAULT (60 * 1000 * 1000ull)
#define CONFIG_MAX_BUFFER_DEFAULT (32u << 20)
#define CONFIG_MAX_BUFFER_PER_UID_DEFAULT (8u << 20)
#define CONFIG_OUTPUT_RATE_PER_UID_DEFAULT (32u << 20)
#define CONFIG_MAX_BUFFER_MIN (256u << 10)
#define CONFIG_MAX_BUFFER_MAX (1u << 30)
/* CONFIG_FILE_DEFAULT comes from the build: SYSCONFDIR/execcountd/execcountd.conf. */

typedef struct Config {
        /* [Probe] */
        ProbeMode probe_mode;
        /* [Counts] */
        uint32_t max_uids;
        /* [Events] */
        uint32_t ring_buffer_size;
        uint32_t history_size;
        uint64_t flush_interval_usec;
        /* Per UID, events of failed execs: burst per interval; 0 for no limit. */
        uint64_t failed_rate_interval_usec;
        uint32_t failed_rate_burst;
        bool capture_argv; /* events carry the arguments */
        /* [Socket] */
        char *socket_path;
        uint32_t max_clients;
        uint32_t max_clients_per_uid; /* for UIDs other than 0 */
        uint32_t reserved_clients; /* of max_clients, for the access group only */
        uint64_t idle_timeout_usec; /* 0: none */
        uint64_t max_buffer; /* bytes held for clients other than root */
        uint64_t max_buffer_per_uid;
        uint64_t output_rate_per_uid; /* bytes per second; 0: no limit */
        /* [Access] */
        char *access_group; /* "" for none */
        /* [State] */
        char *state_dir; /* "" for none */
        char *pin_dir; /* "" for none */
        uint64_t snapshot_interval_usec;
        /* [Journal] */
        bool log_execs;
        bool log_argv; /* entries carry the arguments (EXEC_ARGV=) */
        uint64_t log_execs_interval_usec;
        uint32_t log_execs_burst;
        uint32_t log_execs_burst_per_uid;
        uint64_t summary_interval_usec;
        /* [Daemon] */
        int log_level;
} Config;

/* Settings given on the command line; they win over the files, at start and at reload. */
typedef struct ConfigOverrides {
        int probe_mode; /* -1 when not given */
        const char *socket_path; /* NULL when not given */
        const char *pin_dir; /* NULL when not given */
        int log_level; /* -1 when not given */
} ConfigOverrides;

/* Fills c with the built-in defaults. */
int config_init(Config *c);
void config_done(Config *c);

/* Applies the settings of one file (or of text, for tests) on top of c. On a bad line
 * returns -EINVAL with "path:line: what is wrong" in *ret_error; c may then hold some
 * settings of the file, so callers parse into a scratch copy. A missing file is -ENOENT
 * with no message. */
int config_parse_file(Config *c, const char *path, char **ret_error);
int config_parse_string(Config *c, const char *name, const char *text, char **ret_error);

/* Sets section's key to value: 0; -EINVAL with what is wrong in *ret_why; -ENOENT for a
 * key the section does not have, -ESRCH for an unknown section; -ENOMEM. */
int config_set(Config *c, const char *section, const char *key, const char *value, const char **ret_why);

/* Applies the overrides to c. */
int config_apply_overrides(Config *c, const ConfigOverrides *o);

/* Writes every setting as "[Section]" and "Key=Value" lines, as the file would say it. */
void config_format(const Config *c, FILE *f);

/* Loads the defaults, then path, then the "*.conf" files of the directory "<path>.d" in
 * lexical order; later settings win. A missing main file or directory is fine. On error
 * *ret is untouched and *ret_error says which file and line, and what is wrong. */
int config_load(const char *path, Config *ret, char **ret_error);
