/* SPDX-License-Identifier: GPL-2.0-or-later */
/* compat-exec.c: a 32-bit program that execs through the compat syscalls.
 *
 *   compat-exec SUCCESSES FAILURES
 *
 * Forks and execs /bin/true SUCCESSES times, then makes FAILURES failing execve() calls
 * and one failing execveat() call, all of a missing file. Exits 0 if all went as planned. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MISSING "/nonexistent-execcount-test/compat"

extern char **environ;

int main(int argc, char *argv[]) {
        char *args[] = { (char *) "true", (char *) "compat arg", NULL };
        int successes, failures;

        if (argc != 3)
                return 64;
        successes = atoi(argv[1]);
        failures = atoi(argv[2]);

        for (int i = 0; i < successes; i++) {
                pid_t pid = fork();
                int status;

                if (pid < 0)
                        return 1;
                if (pid == 0) {
                        execve("/bin/true", args, environ);
                        _exit(127);
                }
                if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return 2;
        }
        for (int i = 0; i < failures; i++)
                if (execve(MISSING, args, environ) >= 0 || errno != ENOENT)
                        return 3;
        if (syscall(SYS_execveat, AT_FDCWD, MISSING, args, environ, 0) >= 0 || errno != ENOENT)
                return 4;
        return 0;
}
