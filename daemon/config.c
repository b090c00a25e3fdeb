/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c: parsing execcountd.conf and its drop-ins with libinih. */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int replace_string(char **field, const char *value) {
        char *p = strdup(value);

        if (!p)
                return -ENOMEM;
        free(*field);
        *field = p;
        return 0;
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

/* Each setter returns 0, or -EINVAL with a static explanation in *ret_why. */
typedef int (*ConfigSetter)(Config *c, const char *value, const char **ret_why);

static int set_probe_mode(Config *c, const char *value, const char **ret_why) {
        int m = probe_mode_from_string(value);

        if (m < 0)
                return *ret_why = "expected auto, fentry, kprobe or tracepoint", -EINVAL;
        c->probe_mode = m;
        return 0;
}

static int set_max_uids(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v < 1 || v > CONFIG_MAX_UIDS_MAX)
                return *ret_why = "expected a number of UIDs from 1 to 1048576", -EINVAL;
        c->max_uids = v;
        return 0;
}

static int set_ring_buffer_size(Config *c, const char *value, const char **ret_why) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || v < CONFIG_RING_BUFFER_SIZE_MIN || v > CONFIG_RING_BUFFER_SIZE_MAX ||
            (v & (v - 1)) != 0)
                return *ret_why = "expected a power of two from 4K to 1G, e.g. 1M", -EINVAL;
        c->ring_buffer_size = (uint32_t) v;
        return 0;
}

static int set_history(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v > CONFIG_HISTORY_MAX)
                return *ret_why = "expected a number of events from 0 to 1000000", -EINVAL;
        c->history_size = v;
        return 0;
}

static int set_flush_interval(Config *c, const char *value, const char **ret_why) {
        uint64_t v;

        if (parse_timespan_usec(value, &v) < 0 || v > CONFIG_FLUSH_INTERVAL_USEC_MAX)
                return *ret_why = "expected a duration from 0 to 10s, e.g. 50ms", -EINVAL;
        c->flush_interval_usec = v;
        return 0;
}

static int set_failed_rate_interval(Config *c, const char *value, const char **ret_why) {
        uint64_t v;

        if (parse_timespan_usec(value, &v) < 0 || v > CONFIG_INTERVAL_USEC_MAX)
                return *ret_why = "expected a duration up to 7 days, e.g. 1s (0 for no limit)", -EINVAL;
        c->failed_rate_interval_usec = v;
        return 0;
}

static int set_failed_rate_burst(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0)
                return *ret_why = "expected a number of events (0 for no limit)", -EINVAL;
        c->failed_rate_burst = v;
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

static int set_socket_path(Config *c, const char *value, const char **ret_why) {
        if (value[0] != '/')
                return *ret_why = "expected an absolute path", -EINVAL;
        if (has_control_chars(value))
                return *ret_why = "control characters in a path", -EINVAL;
        if (strlen(value) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return *ret_why = "path too long for a Unix socket (107 bytes at most)", -EINVAL;
        return replace_string(&c->socket_path, value);
}

static int set_max_clients(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v < 1 || v > CONFIG_MAX_CLIENTS_MAX)
                return *ret_why = "expected a number of clients from 1 to 65536", -EINVAL;
        c->max_clients = v;
        return 0;
}

static int set_max_clients_per_uid(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v < 1 || v > CONFIG_MAX_CLIENTS_MAX)
                return *ret_why = "expected a number of clients from 1 to 65536", -EINVAL;
        c->max_clients_per_uid = v;
        return 0;
}

static int set_reserved_clients(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v > CONFIG_MAX_CLIENTS_MAX)
                return *ret_why = "expected a number of clients from 0 to 65536", -EINVAL;
        c->reserved_clients = v;
        return 0;
}

static int set_buffer_size(uint64_t *field, const char *value, const char **ret_why) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || v < CONFIG_MAX_BUFFER_MIN || v > CONFIG_MAX_BUFFER_MAX)
                return *ret_why = "expected a size from 256K to 1G, e.g. 8M", -EINVAL;
        *field = v;
        return 0;
}

static int set_max_buffer(Config *c, const char *value, const char **ret_why) {
        return set_buffer_size(&c->max_buffer, value, ret_why);
}

static int set_max_buffer_per_uid(Config *c, const char *value, const char **ret_why) {
        return set_buffer_size(&c->max_buffer_per_uid, value, ret_why);
}

static int set_output_rate_per_uid(Config *c, const char *value, const char **ret_why) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || (v != 0 && v < CONFIG_MAX_BUFFER_MIN) || v > CONFIG_MAX_BUFFER_MAX)
                return *ret_why = "expected bytes per second from 256K to 1G, e.g. 32M (0 for no limit)", -EINVAL;
        c->output_rate_per_uid = v;
        return 0;
}

static int set_access_group(Config *c, const char *value, const char **ret_why) {
        for (const char *p = value; *p; p++)
                if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-' || *p == '.') || (p == value && *p == '-'))
                        return *ret_why = "expected a group name, or nothing for no group", -EINVAL;
        return replace_string(&c->access_group, value);
}

/* An absolute directory, or "" for none. */
static int set_directory(char **field, const char *value, const char **ret_why) {
        if (value[0] != '\0' && value[0] != '/')
                return *ret_why = "expected an absolute path, or nothing to turn it off", -EINVAL;
        if (has_control_chars(value))
                return *ret_why = "control characters in a path", -EINVAL;
        if (strlen(value) > 1024)
                return *ret_why = "path too long", -EINVAL;
        return replace_string(field, value);
}

static int set_state_dir(Config *c, const char *value, const char **ret_why) {
        return set_directory(&c->state_dir, value, ret_why);
}

static int set_pin_dir(Config *c, const char *value, const char **ret_why) {
        return set_directory(&c->pin_dir, value, ret_why);
}


static int set_log_execs(Config *c, const char *value, const char **ret_why) {
        if (parse_boolean(value, &c->log_execs) < 0)
                return *ret_why = "expected yes or no", -EINVAL;
        return 0;
}

static int set_interval(uint64_t *field, const char *value, const char **ret_why) {
        uint64_t v;

        if (parse_timespan_usec(value, &v) < 0 || v > CONFIG_INTERVAL_USEC_MAX)
                return *ret_why = "expected a duration up to 7 days, e.g. 10s, 15min or 1h (0 turns it off)", -EINVAL;
        *field = v;
        return 0;
}

static int set_idle_timeout(Config *c, const char *value, const char **ret_why) {
        return set_interval(&c->idle_timeout_usec, value, ret_why);
}

static int set_log_execs_interval(Config *c, const char *value, const char **ret_why) {
        return set_interval(&c->log_execs_interval_usec, value, ret_why);
}

static int set_log_execs_burst(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v < 1)
                return *ret_why = "expected a number of entries, at least 1", -EINVAL;
        c->log_execs_burst = v;
        return 0;
}

static int set_log_execs_burst_per_uid(Config *c, const char *value, const char **ret_why) {
        uint32_t v;

        if (parse_uint32(value, &v) < 0 || v < 1)
                return *ret_why = "expected a number of entries, at least 1", -EINVAL;
        c->log_execs_burst_per_uid = v;
        return 0;
}

static int set_summary_interval(Config *c, const char *value, const char **ret_why) {
        return set_interval(&c->summary_interval_usec, value, ret_why);
}

static int set_snapshot_interval(Config *c, const char *value, const char **ret_why) {
        return set_interval(&c->snapshot_interval_usec, value, ret_why);
}

static int set_log_level(Config *c, const char *value, const char **ret_why) {
        int l = log_level_from_string(value);

        if (l < 0)
                return *ret_why = LOG_LEVEL_EXPECTED, -EINVAL;
        c->log_level = l;
        return 0;
}

/* Each getter writes the value as it would be written in the file. */
typedef void (*ConfigGetter)(const Config *c, FILE *f);

static void get_probe_mode(const Config *c, FILE *f) {
        fputs(probe_mode_to_string(c->probe_mode), f);
}

static void get_max_uids(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->max_uids);
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

static void get_ring_buffer_size(const Config *c, FILE *f) {
        print_size(c->ring_buffer_size, f);
}

static void get_history(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->history_size);
}

static void print_timespan(uint64_t v, FILE *f) {
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

static void get_flush_interval(const Config *c, FILE *f) {
        print_timespan(c->flush_interval_usec, f);
}

static void get_failed_rate_interval(const Config *c, FILE *f) {
        print_timespan(c->failed_rate_interval_usec, f);
}

static void get_failed_rate_burst(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->failed_rate_burst);
}

static void get_log_execs(const Config *c, FILE *f) {
        fputs(c->log_execs ? "yes" : "no", f);
}

static void get_log_execs_interval(const Config *c, FILE *f) {
        print_timespan(c->log_execs_interval_usec, f);
}

static void get_log_execs_burst(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->log_execs_burst);
}

static void get_log_execs_burst_per_uid(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->log_execs_burst_per_uid);
}

static void get_summary_interval(const Config *c, FILE *f) {
        print_timespan(c->summary_interval_usec, f);
}

static void get_socket_path(const Config *c, FILE *f) {
        fputs(c->socket_path, f);
}

static void get_max_clients(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->max_clients);
}

static void get_max_clients_per_uid(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->max_clients_per_uid);
}

static void get_reserved_clients(const Config *c, FILE *f) {
        fprintf(f, "%" PRIu32, c->reserved_clients);
}

static void get_idle_timeout(const Config *c, FILE *f) {
        print_timespan(c->idle_timeout_usec, f);
}

static void get_max_buffer(const Config *c, FILE *f) {
        print_size(c->max_buffer, f);
}

static void get_max_buffer_per_uid(const Config *c, FILE *f) {
        print_size(c->max_buffer_per_uid, f);
}

static void get_output_rate_per_uid(const Config *c, FILE *f) {
        print_size(c->output_rate_per_uid, f);
}

static void get_access_group(const Config *c, FILE *f) {
        fputs(c->access_group, f);
}

static void get_state_dir(const Config *c, FILE *f) {
        fputs(c->state_dir, f);
}

static void get_pin_dir(const Config *c, FILE *f) {
        fputs(c->pin_dir, f);
}

static void get_snapshot_interval(const Config *c, FILE *f) {
        print_timespan(c->snapshot_interval_usec, f);
}

static void get_log_level(const Config *c, FILE *f) {
        fputs(log_level_to_string(c->log_level), f);
}

/* Every setting, in the order of the shipped file. */
static const struct {
        const char *section;
        const char *key;
        ConfigSetter set;
        ConfigGetter get;
} config_keys[] = {
        { "Probe", "Mode", set_probe_mode, get_probe_mode },
        { "Counts", "MaxUIDs", set_max_uids, get_max_uids },
        { "Events", "RingBufferSize", set_ring_buffer_size, get_ring_buffer_size },
        { "Events", "History", set_history, get_history },
        { "Events", "FlushIntervalSec", set_flush_interval, get_flush_interval },
        { "Events", "FailedRateLimitIntervalSec", set_failed_rate_interval, get_failed_rate_interval },
        { "Events", "FailedRateLimitBurst", set_failed_rate_burst, get_failed_rate_burst },
        { "Socket", "Path", set_socket_path, get_socket_path },
        { "Socket", "MaxClients", set_max_clients, get_max_clients },
        { "Socket", "MaxClientsPerUID", set_max_clients_per_uid, get_max_clients_per_uid },
        { "Socket", "ReservedClients", set_reserved_clients, get_reserved_clients },
        { "Socket", "IdleTimeoutSec", set_idle_timeout, get_idle_timeout },
        { "Socket", "MaxBuffer", set_max_buffer, get_max_buffer },
        { "Socket", "MaxBufferPerUID", set_max_buffer_per_uid, get_max_buffer_per_uid },
        { "Socket", "OutputRatePerUID", set_output_rate_per_uid, get_output_rate_per_uid },
        { "Access", "Group", set_access_group, get_access_group },
        { "State", "Directory", set_state_dir, get_state_dir },
        { "State", "PinDirectory", set_pin_dir, get_pin_dir },
        { "State", "SnapshotIntervalSec", set_snapshot_interval, get_snapshot_interval },
        { "Journal", "LogExecs", set_log_execs, get_log_execs },
        { "Journal", "LogExecsRateLimitIntervalSec", set_log_execs_interval, get_log_execs_interval },
        { "Journal", "LogExecsRateLimitBurst", set_log_execs_burst, get_log_execs_burst },
        { "Journal", "LogExecsRateLimitBurstPerUID", set_log_execs_burst_per_uid, get_log_execs_burst_per_uid },
        { "Journal", "SummaryIntervalSec", set_summary_interval, get_summary_interval },
        { "Daemon", "LogLevel", set_log_level, get_log_level },
};

void config_format(const Config *c, FILE *f) {
        const char *section = NULL;

        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                if (!section || !streq(section, config_keys[i].section)) {
                        fprintf(f, "%s[%s]\n", section ? "\n" : "", config_keys[i].section);
                        section = config_keys[i].section;
                }
                fprintf(f, "%s=", config_keys[i].key);
                config_keys[i].get(c, f);
                fputc('\n', f);
        }
}

typedef struct ParseContext {
        Config *config;
        const char *name;
        /* Input: a FILE, or a string cursor. */
        FILE *file;
        const char *text;
        char *line;
        size_t line_size;
        unsigned line_number;
        /* First error found by the reader or the handler. */
        unsigned error_line;
        char *error;
        int error_code;
} ParseContext;

_printf_(3, 4) static void context_error(ParseContext *ctx, int code, const char *fmt, ...) {
        va_list ap;

        if (ctx->error_line != 0)
                return;
        ctx->error_line = ctx->line_number;
        ctx->error_code = code;
        va_start(ap, fmt);
        if (vasprintf(&ctx->error, fmt, ap) < 0)
                ctx->error = NULL;
        va_end(ap);
}

/* Feeds inih one line at a time with its leading whitespace stripped. That way indented
 * keys are keys (not inih's multi-line continuations), and the line number is ours. */
static char *context_reader(char *buf, int size, void *userdata) {
        ParseContext *ctx = userdata;
        const char *p;
        size_t len;

        if (ctx->file) {
                ssize_t n = getline(&ctx->line, &ctx->line_size, ctx->file);

                if (n < 0)
                        return NULL;
                p = ctx->line;
                len = (size_t) n;
        } else {
                const char *nl;

                if (!*ctx->text)
                        return NULL;
                p = ctx->text;
                nl = strchr(p, '\n');
                len = nl ? (size_t) (nl - p + 1) : strlen(p);
                ctx->text += len;
        }
        ctx->line_number++;

        while (len > 0 && (*p == ' ' || *p == '\t')) {
                p++;
                len--;
        }
        if (memchr(p, '\0', len)) {
                context_error(ctx, -EINVAL, "NUL byte in line");
                len = 0;
        } else if (len > 0 && !strchr("#;[\r\n", *p)) {
                /* inih also splits "Key:Value"; this format knows only '='. */
                size_t key = strcspn(p, "=:");

                if (key < len && p[key] == ':') {
                        context_error(ctx, -EINVAL, "expected Key=Value; ':' does not separate a key from its value");
                        len = 0;
                }
        }
        if (len + 1 > (size_t) size) {
                context_error(ctx, -EINVAL, "line too long (at most %d characters)", size - 2);
                len = 0;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        return buf;
}

static int context_handler(void *userdata, const char *section, const char *key, const char *value) {
        ParseContext *ctx = userdata;
        bool section_known = false;

        if (isempty(section)) {
                context_error(ctx, -EINVAL, "'%s' is outside of any [Section]", key);
                return 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const char *why = NULL;
                int r;

                if (!streq(section, config_keys[i].section))
                        continue;
                section_known = true;
                if (!streq(key, config_keys[i].key))
                        continue;

                r = config_keys[i].set(ctx->config, value, &why);
                if (r == -ENOMEM) {
                        context_error(ctx, r, "out of memory");
                        return 0;
                }
                if (r < 0) {
                        context_error(ctx, r, "invalid %s=%s: %s", key, value, why);
                        return 0;
                }
                return 1;
        }

        if (section_known)
                context_error(ctx, -EINVAL, "unknown key '%s' in section [%s]", key, section);
        else
                context_error(ctx, -EINVAL, "unknown section [%s]", section);
        return 0;
}

static int context_finish(ParseContext *ctx, int ini_result, char **ret_error) {
        int r = 0;

        if (ini_result == -2) {
                r = -ENOMEM;
        } else if (ini_result > 0 && (ctx->error_line == 0 || (unsigned) ini_result < ctx->error_line)) {
                /* inih found a line that is neither [Section], Key=Value nor a comment. */
                if (asprintf(ret_error, "%s:%d: syntax error: expected [Section], Key=Value or a #comment",
                             ctx->name, ini_result) < 0)
                        return -ENOMEM;
                r = -EINVAL;
        } else if (ctx->error_line > 0) {
                r = ctx->error_code;
                if (!ctx->error || asprintf(ret_error, "%s:%u: %s", ctx->name, ctx->error_line, ctx->error) < 0)
                        r = -ENOMEM;
        }

        free(ctx->error);
        free(ctx->line);
        return r;
}

int config_parse_file(Config *c, const char *path, char **ret_error) {
        ParseContext ctx = { .config = c, .name = path };
        _cleanup_(fclosep) FILE *f = NULL;

        struct stat st;

        f = fopen(path, "re");
        if (!f) {
                int r = negative_errno();

                if (r != -ENOENT && asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
                        return -ENOMEM;
                return r;
        }
        /* A directory opens, and reads as an empty file: all defaults, silently. */
        if (fstat(fileno(f), &st) < 0) {
                int r = negative_errno();

                return asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0 ? -ENOMEM : r;
        }
        if (!S_ISREG(st.st_mode))
                return asprintf(ret_error, "%s: %s", path,
                                S_ISDIR(st.st_mode) ? "is a directory, not a configuration file"
                                                    : "is not a regular file") < 0
                               ? -ENOMEM
                               : -EINVAL;
        ctx.file = f;
        return context_finish(&ctx, ini_parse_stream(context_reader, &ctx, context_handler, &ctx), ret_error);
}

int config_parse_string(Config *c, const char *name, const char *text, char **ret_error) {
        ParseContext ctx = { .config = c, .name = name, .text = text };

        return context_finish(&ctx, ini_parse_stream(context_reader, &ctx, context_handler, &ctx), ret_error);
}

static int dropin_filter(const struct dirent *de) {
        size_t l = strlen(de->d_name);

        return de->d_name[0] != '.' && l > 5 && streq(de->d_name + l - 5, ".conf");
}

int config_load(const char *path, Config *ret, char **ret_error) {
        _cleanup_(config_done) Config c = {};
        _cleanup_(freep) char *dir = NULL;
        struct dirent **list = NULL;
        int r, n;

        r = config_init(&c);
        if (r < 0)
                return r;

        r = config_parse_file(&c, path, ret_error);
        if (r < 0 && r != -ENOENT)
                return r;

        if (asprintf(&dir, "%s.d", path) < 0)
                return -ENOMEM;
        n = scandir(dir, &list, dropin_filter, alphasort);
        if (n < 0) {
                r = negative_errno();
                if (r == -ENOENT || r == -ENOTDIR)
                        n = 0;
                else if (asprintf(ret_error, "%s: %s", dir, strerror(-r)) < 0)
                        return -ENOMEM;
                else
                        return r;
        }

        r = 0;
        for (int i = 0; i < n; i++) {
                _cleanup_(freep) char *p = NULL;

                if (r >= 0) {
                        if (asprintf(&p, "%s/%s", dir, list[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = config_parse_file(&c, p, ret_error);
                        /* A drop-in that vanished since the directory was read is fine. */
                        if (r == -ENOENT)
                                r = 0;
                }
                free(list[i]);
        }
        free(list);
        if (r < 0)
                return r;

        *ret = c;
        c = (Config) {};
        return 0;
}
