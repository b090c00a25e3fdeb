/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: execcountd's command line. */

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <systemd/sd-daemon.h>

#include "config.h"
#include "journal.h"
#include "log.h"
#include "manager.h"
#include "pins.h"
#include "protocol.h"
#include "state.h"

#ifndef CONFIG_FILE_DEFAULT
#error "CONFIG_FILE_DEFAULT must come from the build"
#endif

#define EXIT_USAGE 2

static const char *arg_config = CONFIG_FILE_DEFAULT;
static bool arg_check_config = false;
static bool arg_forget = false;
static bool arg_fdstore = false;
static const char *arg_boot_id = NULL;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "Counts every exec per UID with eBPF and serves the counts and recent execs over\n"
               "Varlink. See execcountd(8) and execcountd.conf(5).\n\n"
               "  -h --help              Show this help and exit\n"
               "     --version           Show the version and exit\n"
               "  -c --config=PATH       Configuration file (default: %s);\n"
               "                         drop-ins are read from PATH.d/*.conf\n"
               "     --probe=MODE        auto, fentry, kprobe or tracepoint\n"
               "     --socket=PATH       Serve on this socket (default: %s)\n"
               "     --pin-directory=DIR Keep the counts and probes pinned in DIR (in bpffs)\n"
               "     --fdstore           Keep the probes in systemd's fd store rather than pinned\n"
               "                         (FileDescriptorStoreMax= of the unit)\n"
               "     --boot-id=ID        The kernel's boot ID, where /proc/sys cannot be read\n"
               "                         (the service passes systemd's %%b)\n"
               "     --log-level=LEVEL   emerg, alert, crit, err, warning, notice, info or debug\n"
               "     --check-config      Check the configuration, print it and exit\n"
               "     --forget            Remove the pinned counts and probes and the state file,\n"
               "                         for good, and exit (the daemon must be stopped)\n",
               program_invocation_short_name, CONFIG_FILE_DEFAULT, EXECCOUNT_SOCKET_DEFAULT);
}

static int parse_argv(int argc, char *argv[], ConfigOverrides *o) {
        enum { ARG_VERSION = 0x100, ARG_PROBE, ARG_SOCKET, ARG_PIN_DIRECTORY, ARG_LOG_LEVEL, ARG_CHECK_CONFIG, ARG_FORGET,
               ARG_FDSTORE, ARG_BOOT_ID };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "config", required_argument, NULL, 'c' },
                { "probe", required_argument, NULL, ARG_PROBE },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "pin-directory", required_argument, NULL, ARG_PIN_DIRECTORY },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "forget", no_argument, NULL, ARG_FORGET },
                { "fdstore", no_argument, NULL, ARG_FDSTORE },
                { "boot-id", required_argument, NULL, ARG_BOOT_ID },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "hc:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("execcountd %s\n", PROJECT_VERSION);
                        return 0;
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_PROBE:
                        o->probe_mode = probe_mode_from_string(optarg);
                        if (o->probe_mode < 0) {
                                log_error("Invalid --probe=%s: expected auto, fentry, kprobe or tracepoint.", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_SOCKET:
                        if (optarg[0] != '/' || strlen(optarg) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
                                log_error("Invalid --socket=%s: expected an absolute path of at most 107 bytes.",
                                          optarg);
                                return -EINVAL;
                        }
                        o->socket_path = optarg;
                        break;
                case ARG_PIN_DIRECTORY:
                        if (optarg[0] != '\0' && optarg[0] != '/') {
                                log_error("Invalid --pin-directory=%s: expected an absolute path, or nothing for "
                                          "no pinning.",
                                          optarg);
                                return -EINVAL;
                        }
                        o->pin_dir = optarg;
                        break;
                case ARG_LOG_LEVEL:
                        o->log_level = log_level_from_string(optarg);
                        if (o->log_level < 0) {
                                log_error("Invalid --log-level=%s: " LOG_LEVEL_EXPECTED ".", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_FORGET:
                        arg_forget = true;
                        break;
                case ARG_FDSTORE:
                        arg_fdstore = true;
                        break;
                case ARG_BOOT_ID: {
                        uint8_t id[16];

                        if (state_parse_boot_id(optarg, id) < 0) {
                                log_error("Invalid --boot-id=%s: expected 32 hex digits, as in "
                                          "/proc/sys/kernel/random/boot_id.",
                                          optarg);
                                return -EINVAL;
                        }
                        arg_boot_id = optarg;
                        break;
                }
                case '?':
                        return -EINVAL;
                default:
                        abort();
                }

        if (optind < argc) {
                log_error("Unexpected argument '%s'; see --help.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* What systemd passed: the listening socket (execcountd.socket's, named "varlink"), or
 * -EBADF when not activated, and the links kept in the fd store ("link-PROGRAM"). Others
 * are closed, with a warning, and let go of in the fd store. */
static int fds_from_systemd(int *ret_fd, Links *links) {
        char **names = NULL;
        int n, fd = -EBADF, others = 0;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to take the file descriptors systemd passed: %m");
        for (int i = 0; i < n; i++) {
                int candidate = SD_LISTEN_FDS_START + i;

                if (links_is_fdname(names[i])) {
                        if (links_add_stored(links, names[i], candidate) < 0) {
                                safe_close(candidate);
                                log_oom();
                        }
                } else if (fd < 0 && (n == 1 || streq(names[i], "varlink")))
                        fd = candidate;
                else {
                        log_warning("Ignoring the file descriptor \"%s\" systemd passed; execcountd.socket's is "
                                    "named \"varlink\".",
                                    names[i]);
                        safe_close(candidate);
                        links_fdstore_remove(names[i]);
                        others++;
                }
                free(names[i]);
        }
        free(names);

        if (others > 0 && fd < 0) {
                log_error("systemd passed no socket named \"varlink\"; check FileDescriptorName= in execcountd.socket.");
                return -EINVAL;
        }
        if (fd >= 0 && sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
                log_error("The socket systemd passed is not a listening Unix stream socket; check ListenStream= "
                          "in execcountd.socket.");
                return -EINVAL;
        }
        *ret_fd = fd;
        return 0;
}

/* Removes everything that keeps counts: for package removal, or a clean slate. */
static int forget(const Config *c) {
        _cleanup_(closep) int lock_fd = -EBADF;
        int r, n = 0;

        if (!isempty(c->pin_dir) && (r = pins_dir_is_bpffs(c->pin_dir)) == 0)
                /* What is there is not ours, whatever its names. */
                printf("%s is not in a BPF file system, so it holds no pins: nothing removed there.\n", c->pin_dir);
        else if (!isempty(c->pin_dir) && r != -ENOENT) {
                if (r < 0)
                        return log_error_errno(r, "Failed to check %s: %m", c->pin_dir);
                /* A running daemon would go on counting into maps no one finds any more. */
                lock_fd = pins_lock(c->pin_dir);
                if (lock_fd == -EBUSY) {
                        log_error("execcountd is running (it holds %s); stop it first: systemctl stop "
                                  "execcountd.socket execcountd",
                                  c->pin_dir);
                        return lock_fd;
                }
                if (lock_fd < 0 && lock_fd != -ENOENT)
                        return log_error_errno(lock_fd, "Failed to lock %s: %m", c->pin_dir);
                n = pins_remove_all(c->pin_dir);
                if (n < 0)
                        return log_error_errno(n, "Failed to remove the pins in %s: %m", c->pin_dir);
                printf("Removed %d pinned objects from %s.\n", n, c->pin_dir);
        }
        if (!isempty(c->state_dir)) {
                _cleanup_(closep) int dfd = -EBADF;
                const char *reason = NULL;

                r = state_dir_open(c->state_dir, false, &dfd, &reason);
                if (r == -ENOENT)
                        return 0;
                if (r >= 0)
                        r = state_remove(dfd);
                if (r < 0)
                        return log_error_errno(r, "Failed to remove the state file in %s: %s", c->state_dir,
                                               reason ?: strerror(-r));
                printf("Removed the state file in %s, if there was one.\n", c->state_dir);
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        ConfigOverrides overrides = { .probe_mode = -1, .log_level = -1 };
        int r, listen_fd = -EBADF;

        log_set_prefix(program_invocation_short_name);
        if (journal_is_stderr())
                journal_log_open();
        r = parse_argv(argc, argv, &overrides);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        if (overrides.log_level >= 0)
                log_set_max_level(overrides.log_level);

        r = manager_new(arg_config, &overrides, &m);
        if (r < 0)
                return EXIT_FAILURE;

        if (arg_check_config) {
                config_format(&m->config, stdout);
                return EXIT_SUCCESS;
        }
        if (arg_forget)
                return forget(&m->config) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = fds_from_systemd(&listen_fd, &m->stored_links);
        if (r < 0)
                return EXIT_FAILURE;
        if (arg_fdstore && !getenv("NOTIFY_SOCKET")) {
                log_error("--fdstore keeps the probes in systemd's file descriptor store, but systemd does not run "
                          "execcountd ($NOTIFY_SOCKET is not set).");
                return EXIT_FAILURE;
        }
        m->fdstore = arg_fdstore;
        if (arg_boot_id) {
                (void) state_parse_boot_id(arg_boot_id, m->boot_id);
                m->has_boot_id = true;
        }
        r = manager_start(m, listen_fd);
        if (r < 0)
                return EXIT_FAILURE;
        /* Loading the programs parsed the kernel's BTF, megabytes that are free now: they go
         * back to the system rather than stay in the heap for the daemon's lifetime. Big
         * replies later are mapped and unmapped on their own, and a heap top left free
         * after them is given back soon, so that the daemon stays small. */
        (void) malloc_trim(0);
        (void) mallopt(M_MMAP_THRESHOLD, 64 * 1024);
        (void) mallopt(M_TRIM_THRESHOLD, 128 * 1024);

        r = manager_run(m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
