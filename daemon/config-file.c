/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config-file.c: reading execcountd.conf and its drop-ins with libinih, line by line,
 * into the settings config.c knows. */

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "macro.h"

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
        /* The limit is on the line's characters, its newline aside: the last line of a file
         * has none, and must not be allowed one character more than the same line before
         * others. */
        if (len > 0 && p[len - 1] == '\n')
                len--;
        if (len > (size_t) size - 2) {
                context_error(ctx, -EINVAL, "line too long (at most %d characters)", size - 2);
                len = 0;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        return buf;
}

static int context_handler(void *userdata, const char *section, const char *key, const char *value) {
        ParseContext *ctx = userdata;
        const char *why;
        int r;

        if (isempty(section)) {
                context_error(ctx, -EINVAL, "'%s' is outside of any [Section]", key);
                return 0;
        }
        r = config_set(ctx->config, section, key, value, &why);
        if (r == -ENOENT)
                context_error(ctx, -EINVAL, "unknown key '%s' in section [%s]", key, section);
        else if (r == -ESRCH)
                context_error(ctx, -EINVAL, "unknown section [%s]", section);
        else if (r == -ENOMEM)
                context_error(ctx, r, "out of memory");
        else if (r < 0)
                context_error(ctx, r, "invalid %s=%s: %s", key, value, why);
        return r >= 0;
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
