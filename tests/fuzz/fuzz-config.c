/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-config.c: the configuration parser (config.c). A configuration that parses is
 * printed, parsed again and printed again: the two prints must be the same. */

#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "macro.h"

static char *format(const Config *c) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        FUZZ_CHECK(f);
        config_format(c, f);
        FUZZ_CHECK(fclose(f) == 0);
        return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = malloc(size + 1), *error = NULL, *first = NULL, *second = NULL;
        Config c, again;
        int r;

        FUZZ_CHECK(text);
        memcpy(text, data, size);
        text[size] = '\0';

        FUZZ_CHECK(config_init(&c) == 0);
        r = config_parse_string(&c, "fuzz.conf", text, &error);
        if (r < 0) {
                FUZZ_CHECK(error || r == -ENOMEM);
                config_done(&c);
                return 0;
        }
        FUZZ_CHECK(!error);
        first = format(&c);

        FUZZ_CHECK(config_init(&again) == 0);
        FUZZ_CHECK(config_parse_string(&again, "printed.conf", first, &error) == 0);
        second = format(&again);
        FUZZ_CHECK(strcmp(first, second) == 0);
        config_done(&again);
        config_done(&c);
        return 0;
}
