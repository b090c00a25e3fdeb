/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pager.c: sending long output through less when stdout is a terminal. */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "pager.h"

static pid_t pager_pid = 0;

void pager_open(void) {
        const char *pager = getenv("PAGER");
        int fds[2];
        pid_t pid;

        if (pager_pid > 0 || !isatty(STDOUT_FILENO))
                return;
        if (pager && (pager[0] == '\0' || streq(pager, "cat")))
                return;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;

        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                safe_close(fds[0]);
                safe_close(fds[1]);
                return;
        }
        if (pid == 0) {
                char buf[4096];
                ssize_t n;

                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                /* Quit at once if it fits, keep colors, don't clear the screen. */
                setenv("LESS", "FRXMK", 0);
                if (pager)
                        execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
                execlp("less", "less", (char *) NULL);
                execlp("more", "more", (char *) NULL);
                /* No pager installed: pass the output through. */
                while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
                        if (write(STDOUT_FILENO, buf, (size_t) n) != n)
                                break;
                _exit(EXIT_SUCCESS);
        }

        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                safe_close(fds[0]);
                safe_close(fds[1]);
                kill(pid, SIGTERM);
                (void) waitpid(pid, NULL, 0);
                return;
        }
        safe_close(fds[0]);
        safe_close(fds[1]);
        pager_pid = pid;
        /* The pager owns the terminal now: Ctrl-C is for it. */
        signal(SIGINT, SIG_IGN);
}

void pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        fclose(stdout);
        (void) waitpid(pager_pid, NULL, 0);
        pager_pid = 0;
}
