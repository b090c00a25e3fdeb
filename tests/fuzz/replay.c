/* SPDX-License-Identifier: GPL-2.0-or-later */
/* replay.c: runs a fuzz target over files and directories of inputs (the seed corpus and
 * the regressions), without libFuzzer: the same checks in every build and test run.
 *
 *   fuzz-TARGET PATH... */

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static int run_file(const char *path) {
        FILE *f = fopen(path, "re");
        uint8_t *buf = NULL;
        size_t size = 0, alloc = 0, k;

        if (!f)
                return fprintf(stderr, "%s: %s\n", path, strerror(errno)), -1;
        do {
                if (alloc - size < 65536) {
                        alloc = alloc * 2 + 65536;
                        buf = realloc(buf, alloc);
                        if (!buf)
                                abort();
                }
                k = fread(buf + size, 1, alloc - size, f);
                size += k;
        } while (k > 0);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, size);
        free(buf);
        return 0;
}

static int compare(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char *argv[]) {
        size_t n = 0;

        LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++) {
                struct dirent **list;
                struct stat st;
                int m;

                if (stat(argv[i], &st) < 0)
                        return fprintf(stderr, "%s: %s\n", argv[i], strerror(errno)), EXIT_FAILURE;
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(argv[i]) < 0)
                                return EXIT_FAILURE;
                        n++;
                        continue;
                }
                m = scandir(argv[i], &list, NULL, compare);
                if (m < 0)
                        return fprintf(stderr, "%s: %s\n", argv[i], strerror(errno)), EXIT_FAILURE;
                for (int j = 0; j < m; j++) {
                        char path[4096];

                        snprintf(path, sizeof(path), "%s/%s", argv[i], list[j]->d_name);
                        if (list[j]->d_name[0] != '.' && run_file(path) < 0)
                                return EXIT_FAILURE;
                        n += list[j]->d_name[0] != '.';
                        free(list[j]);
                }
                free(list);
        }
        if (n == 0)
                return fprintf(stderr, "no inputs\n"), EXIT_FAILURE;
        printf("%zu inputs passed\n", n);
        return EXIT_SUCCESS;
}
