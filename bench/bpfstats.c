/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bpfstats.c: the run counts and run times of every loaded BPF program, one JSON line:
 * what kernel.bpf_stats_enabled makes the kernel count. Takes the statistics on while it
 * runs a command (the kernel counts only as long as someone holds them on).
 *
 *   bpfstats                   the figures now
 *   bpfstats -- COMMAND...     the figures before and after COMMAND, with stats enabled */

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void dump(const char *label) {
        __u32 id = 0;
        int first = 1;

        printf("{\"when\":\"%s\",\"programs\":[", label);
        while (bpf_prog_get_next_id(id, &id) == 0) {
                struct bpf_prog_info info = {};
                __u32 len = sizeof(info);
                int fd = bpf_prog_get_fd_by_id(id);

                if (fd < 0)
                        continue;
                if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
                        printf("%s{\"id\":%u,\"name\":\"%s\",\"run_cnt\":%llu,\"run_time_ns\":%llu,"
                               "\"recursion_misses\":%llu}",
                               first ? "" : ",", id, info.name, (unsigned long long) info.run_cnt,
                               (unsigned long long) info.run_time_ns, (unsigned long long) info.recursion_misses);
                first = 0;
                close(fd);
        }
        printf("]}\n");
        fflush(stdout);
}

int main(int argc, char *argv[]) {
        int stats_fd, status;
        pid_t pid;

        if (argc == 1) {
                dump("now");
                return 0;
        }
        if (strcmp(argv[1], "--") != 0 || argc < 3) {
                fprintf(stderr, "Usage: bpfstats [-- COMMAND...]\n");
                return 2;
        }
        /* Like kernel.bpf_stats_enabled=1, for as long as the fd is open. */
        stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
        if (stats_fd < 0) {
                fprintf(stderr, "bpfstats: cannot enable BPF statistics: %s\n", strerror(errno));
                return 1;
        }
        dump("before");
        pid = fork();
        if (pid == 0) {
                close(stats_fd);
                dup2(STDERR_FILENO, STDOUT_FILENO); /* stdout is for the figures */
                execvp(argv[2], argv + 2);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return 1;
        dump("after");
        close(stats_fd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
