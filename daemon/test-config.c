/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-config.c: unit tests for config.c. */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "test.h"

/* Parses text over the defaults; returns the error message (or NULL) and the result. */
static int parse(const char *text, Config *c, char **error) {
        *error = NULL;
        config_init(c);
        return config_parse_string(c, "test.conf", text, error);
}

static void test_defaults(void) {
        Config c;

        ASSERT_EQ(config_init(&c), 0);
        ASSERT_EQ(c.probe_mode, PROBE_AUTO);
        ASSERT_EQ_U(c.max_uids, 65536);
        ASSERT_EQ_U(c.ring_buffer_size, 1 << 20);
        ASSERT_EQ_U(c.history_size, 1024);
        ASSERT_EQ_U(c.flush_interval_usec, 50000);
        ASSERT_STREQ(c.socket_path, "/run/execcountd/io.execcount");
        ASSERT_EQ(c.log_level, LOG_INFO);
        ASSERT(!c.log_execs);
        ASSERT_EQ_U(c.log_execs_interval_usec, 10 * USEC_PER_SEC);
        ASSERT_EQ_U(c.log_execs_burst, 1000);
        ASSERT_EQ_U(c.summary_interval_usec, 3600 * USEC_PER_SEC);
        config_done(&c);
}

static void test_all_keys(void) {
        Config c;
        char *error;

        ASSERT_EQ(parse("# comment\n"
                        "; another comment\n"
                        "[Probe]\n"
                        "Mode = tracepoint\n"
                        "\n"
                        "[Counts]\n"
                        "  MaxUIDs=100 ; inline comment\n"
                        "[Events]\n"
                        "RingBufferSize=256K\n"
                        "History=0\n"
                        "FlushIntervalSec=250ms\n"
                        "[Socket]\n"
                        "Path=/tmp/x.sock\n"
                        "[Journal]\n"
                        "LogExecs=yes\n"
                        "LogExecsRateLimitIntervalSec=0\n"
                        "LogExecsRateLimitBurst=5\n"
                        "SummaryIntervalSec=15min\n"
                        "[Daemon]\n"
                        "\tLogLevel=debug\n",
                        &c, &error),
                  0);
        ASSERT(!error);
        ASSERT_EQ(c.probe_mode, PROBE_TRACEPOINT);
        ASSERT_EQ_U(c.max_uids, 100);
        ASSERT_EQ_U(c.ring_buffer_size, 256 * 1024);
        ASSERT_EQ_U(c.history_size, 0);
        ASSERT_EQ_U(c.flush_interval_usec, 250000);
        ASSERT_STREQ(c.socket_path, "/tmp/x.sock");
        ASSERT_EQ(c.log_level, LOG_DEBUG);
        ASSERT(c.log_execs);
        ASSERT_EQ_U(c.log_execs_interval_usec, 0);
        ASSERT_EQ_U(c.log_execs_burst, 5);
        ASSERT_EQ_U(c.summary_interval_usec, 15 * 60 * USEC_PER_SEC);
        config_done(&c);
}

static void test_errors(void) {
        static const struct {
                const char *text;
                const char *error;
        } cases[] = {
                { "[Probe]\nMode=kretprobe\n",
                  "test.conf:2: invalid Mode=kretprobe: expected auto, fentry, kprobe or tracepoint" },
                { "[Counts]\nMaxUIDs=0\n", "test.conf:2: invalid MaxUIDs=0: expected a number of UIDs from 1 to 1048576" },
                { "[Counts]\nMaxUIDs=-5\n",
                  "test.conf:2: invalid MaxUIDs=-5: expected a number of UIDs from 1 to 1048576" },
                { "[Counts]\nMaxUIDs=1048577\n",
                  "test.conf:2: invalid MaxUIDs=1048577: expected a number of UIDs from 1 to 1048576" },
                { "\n\n[Events]\nRingBufferSize=3M\n",
                  "test.conf:4: invalid RingBufferSize=3M: expected a power of two from 4K to 1G, e.g. 1M" },
                { "[Events]\nRingBufferSize=2K\n",
                  "test.conf:2: invalid RingBufferSize=2K: expected a power of two from 4K to 1G, e.g. 1M" },
                { "[Events]\nHistory=1000001\n",
                  "test.conf:2: invalid History=1000001: expected a number of events from 0 to 1000000" },
                { "[Events]\nFlushIntervalSec=11s\n",
                  "test.conf:2: invalid FlushIntervalSec=11s: expected a duration from 0 to 10s, e.g. 50ms" },
                { "[Events]\nFlushIntervalSec=soon\n",
                  "test.conf:2: invalid FlushIntervalSec=soon: expected a duration from 0 to 10s, e.g. 50ms" },
                { "[Socket]\nPath=relative.sock\n", "test.conf:2: invalid Path=relative.sock: expected an absolute path" },
                { "[Socket]\nPath=/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaaaaaaaaaaa\n",
                  "test.conf:2: invalid Path=/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: path too long for a Unix socket (107 bytes at most)" },
                { "[Journal]\nLogExecs=sometimes\n", "test.conf:2: invalid LogExecs=sometimes: expected yes or no" },
                { "[Journal]\nSummaryIntervalSec=8d\n",
                  "test.conf:2: invalid SummaryIntervalSec=8d: expected a duration up to 7 days, e.g. 10s, 15min or 1h "
                  "(0 turns it off)" },
                { "[Journal]\nLogExecsRateLimitBurst=0\n",
                  "test.conf:2: invalid LogExecsRateLimitBurst=0: expected a number of entries, at least 1" },
                { "[Daemon]\nLogLevel=loud\n",
                  "test.conf:2: invalid LogLevel=loud: expected emerg, alert, crit, err, warning, notice, info or "
                  "debug, or 0 to 7" },
                /* inih would split at the colon; this format knows only '='. */
                { "[Counts]\nMaxUIDs:5\n",
                  "test.conf:2: expected Key=Value; ':' does not separate a key from its value" },
                { "[Counts]\n  MaxUIDs : 5\n",
                  "test.conf:2: expected Key=Value; ':' does not separate a key from its value" },
                { "[State]\nDirectory=/var/lib/a\tb\n",
                  "test.conf:2: invalid Directory=/var/lib/a\tb: control characters in a path" },
                { "[State]\nPinDirectory=/sys/fs/bpf/\x1b[2Jx\n",
                  "test.conf:2: invalid PinDirectory=/sys/fs/bpf/\x1b[2Jx: control characters in a path" },
                { "[Socket]\nPath=/run/x\x7f\n", "test.conf:2: invalid Path=/run/x\x7f: control characters in a path" },
                { "[Probe]\nMod=auto\n", "test.conf:2: unknown key 'Mod' in section [Probe]" },
                { "[Prob]\nMode=auto\n", "test.conf:2: unknown section [Prob]" },
                { "Mode=auto\n", "test.conf:1: 'Mode' is outside of any [Section]" },
                { "[Probe]\nMode auto\n", "test.conf:2: syntax error: expected [Section], Key=Value or a #comment" },
                { "[Probe\nMode=auto\n", "test.conf:1: syntax error: expected [Section], Key=Value or a #comment" },
                /* The first error is the one reported. */
                { "[Counts]\nMaxUIDs=x\n[Probe]\nMode=y\n",
                  "test.conf:2: invalid MaxUIDs=x: expected a number of UIDs from 1 to 1048576" },
                { "[Probe]\nbroken line\nMode=bad\n",
                  "test.conf:2: syntax error: expected [Section], Key=Value or a #comment" },
                { "[Probe]\nMode=bad\nbroken line\n",
                  "test.conf:2: invalid Mode=bad: expected auto, fentry, kprobe or tracepoint" },
        };
        Config c;
        char *error;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                ASSERT_EQ(parse(cases[i].text, &c, &error), -EINVAL);
                ASSERT_STREQ(error, cases[i].error);
                free(error);
                config_done(&c);
        }

        /* An overlong line is refused, not split into two. */
        char line[400] = "[Socket]\nPath=/";
        memset(line + strlen(line), 'x', 300);
        ASSERT_EQ(parse(line, &c, &error), -EINVAL);
        ASSERT_STREQ(error, "test.conf:2: line too long (at most 198 characters)");
        free(error);
        config_done(&c);

        /* The limit is the same for the last line, which has no newline: 198 characters
         * parse, 199 do not, with a newline or without. */
        for (size_t n = 198; n <= 199; n++)
                for (int newline = 0; newline <= 1; newline++) {
                        char text[300] = "[Access]\nGroup=";
                        size_t l = strlen(text);

                        memset(text + l, 'g', n - strlen("Group="));
                        l += n - strlen("Group=");
                        if (newline)
                                text[l++] = '\n';
                        text[l] = '\0';
                        error = NULL;
                        if (n == 198) {
                                ASSERT_EQ(parse(text, &c, &error), 0);
                                ASSERT_EQ(strlen(c.access_group), n - strlen("Group="));
                        } else {
                                ASSERT_EQ(parse(text, &c, &error), -EINVAL);
                                ASSERT_STREQ(error, "test.conf:2: line too long (at most 198 characters)");
                        }
                        free(error);
                        config_done(&c);
                }
}

static void write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        ASSERT(fd >= 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
}

static void test_load_with_dropins(void) {
        char dir[] = "/tmp/test-config-XXXXXX", path[64], dropins[80], p[160];
        Config c = {};
        char *error = NULL, *expected;

        ASSERT(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/execcountd.conf", dir);
        snprintf(dropins, sizeof(dropins), "%s.d", path);

        /* Neither file nor directory: the defaults. */
        ASSERT_EQ(config_load(path, &c, &error), 0);
        ASSERT_EQ_U(c.history_size, 1024);
        config_done(&c);

        write_file(path, "[Events]\nHistory=10\n[Counts]\nMaxUIDs=5\n");
        ASSERT_EQ(mkdir(dropins, 0755), 0);
        snprintf(p, sizeof(p), "%s/20-second.conf", dropins);
        write_file(p, "[Events]\nHistory=30\n");
        snprintf(p, sizeof(p), "%s/10-first.conf", dropins);
        write_file(p, "[Events]\nHistory=20\n[Probe]\nMode=kprobe\n");
        snprintf(p, sizeof(p), "%s/ignored.txt", dropins);
        write_file(p, "garbage\n");

        /* Drop-ins in lexical order, later ones winning; only *.conf. */
        ASSERT_EQ(config_load(path, &c, &error), 0);
        ASSERT_EQ_U(c.history_size, 30);
        ASSERT_EQ_U(c.max_uids, 5);
        ASSERT_EQ(c.probe_mode, PROBE_KPROBE);
        config_done(&c);

        /* A bad drop-in names itself, and the result is untouched. */
        snprintf(p, sizeof(p), "%s/30-bad.conf", dropins);
        write_file(p, "[Events]\n\nHistory=many\n");
        c.history_size = 4242;
        ASSERT_EQ(config_load(path, &c, &error), -EINVAL);
        ASSERT_EQ_U(c.history_size, 4242);
        ASSERT(asprintf(&expected, "%s:3: invalid History=many: expected a number of events from 0 to 1000000", p) > 0);
        ASSERT_STREQ(error, expected);
        free(expected);
        free(error);

        ASSERT_EQ(unlink(p), 0);

        /* Directories are no configuration files: not read as empty ones. */
        snprintf(p, sizeof(p), "%s/40-dir.conf", dropins);
        ASSERT_EQ(mkdir(p, 0755), 0);
        ASSERT_EQ(config_load(path, &c, &error), -EINVAL);
        ASSERT(asprintf(&expected, "%s: is a directory, not a configuration file", p) > 0);
        ASSERT_STREQ(error, expected);
        free(expected);
        free(error);
        ASSERT_EQ(rmdir(p), 0);
        ASSERT_EQ(config_load(dropins, &c, &error), -EINVAL);
        ASSERT(asprintf(&expected, "%s: is a directory, not a configuration file", dropins) > 0);
        ASSERT_STREQ(error, expected);
        free(expected);
        free(error);

        snprintf(p, sizeof(p), "%s/10-first.conf", dropins);
        ASSERT_EQ(unlink(p), 0);
        snprintf(p, sizeof(p), "%s/20-second.conf", dropins);
        ASSERT_EQ(unlink(p), 0);
        snprintf(p, sizeof(p), "%s/ignored.txt", dropins);
        ASSERT_EQ(unlink(p), 0);
        ASSERT_EQ(rmdir(dropins), 0);
        snprintf(p, sizeof(p), "%s/execcountd.conf", dir);
        ASSERT_EQ(unlink(p), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

static void test_overrides(void) {
        ConfigOverrides none = { .probe_mode = -1, .log_level = -1 };
        ConfigOverrides all = { .probe_mode = PROBE_KPROBE, .log_level = LOG_ERR, .socket_path = "/tmp/o.sock" };
        Config c;

        ASSERT_EQ(config_init(&c), 0);
        ASSERT_EQ(config_apply_overrides(&c, &none), 0);
        ASSERT_EQ(c.probe_mode, PROBE_AUTO);
        ASSERT_EQ(c.log_level, LOG_INFO);
        ASSERT_STREQ(c.socket_path, "/run/execcountd/io.execcount");
        ASSERT_EQ(config_apply_overrides(&c, &all), 0);
        ASSERT_EQ(c.probe_mode, PROBE_KPROBE);
        ASSERT_EQ(c.log_level, LOG_ERR);
        ASSERT_STREQ(c.socket_path, "/tmp/o.sock");
        config_done(&c);
}

/* Every level the man page lists is taken. */
static void test_log_levels(void) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "error", "warning", "notice", "info",
                                             "debug", "0", "7" };
        static const int levels[] = { LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_ERR, LOG_WARNING, LOG_NOTICE,
                                      LOG_INFO, LOG_DEBUG, 0, 7 };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char text[64];
                Config c;
                char *error;

                snprintf(text, sizeof(text), "[Daemon]\nLogLevel=%s\n", names[i]);
                ASSERT_EQ(parse(text, &c, &error), 0);
                ASSERT_EQ(c.log_level, levels[i]);
                config_done(&c);
        }
}

static void test_probe_mode_names(void) {
        for (int i = 0; i < _PROBE_MODE_MAX; i++)
                ASSERT_EQ(probe_mode_from_string(probe_mode_to_string(i)), i);
        ASSERT_EQ(probe_mode_from_string("Tracepoint"), -EINVAL);
        ASSERT_EQ(probe_mode_from_string(NULL), -EINVAL);
        ASSERT(!probe_mode_to_string(_PROBE_MODE_MAX));
}

/* The shipped file lists every setting, commented out at its default, and nothing else. */
static void test_shipped_file(const char *path) {
        _cleanup_(freep) char *defaults = NULL, *file = NULL;
        size_t size = 0;
        char *error = NULL, *line, *save = NULL;
        FILE *f;
        Config c;

        ASSERT_EQ(config_init(&c), 0);
        ASSERT_EQ(config_parse_file(&c, path, &error), 0);
        f = open_memstream(&defaults, &size);
        ASSERT(f);
        config_format(&c, f);
        fclose(f);
        config_done(&c);

        f = fopen(path, "re");
        ASSERT(f);
        file = calloc(1, 65536);
        ASSERT(file);
        ASSERT(fread(file, 1, 65535, f) > 0);
        fclose(f);

        for (line = strtok_r(defaults, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char want[256];

                if (line[0] == '[')
                        snprintf(want, sizeof(want), "\n%s\n", line);
                else
                        snprintf(want, sizeof(want), "\n#%s\n", line);
                if (!strstr(file, want))
                        TEST_FAIL("%s lacks the line %s", path, want + 1);
        }
}

int main(int argc, char *argv[]) {
        ASSERT_EQ(argc, 2);
        test_shipped_file(argv[1]);
        test_defaults();
        test_all_keys();
        test_errors();
        test_load_with_dropins();
        test_overrides();
        test_probe_mode_names();
        test_log_levels();
        return 0;
}
