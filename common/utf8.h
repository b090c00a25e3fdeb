/* SPDX-License-Identifier: GPL-2.0-or-later */
/* utf8.h: making arbitrary kernel bytes (file names, comm) safe for JSON and terminals. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if none starts there. */
size_t utf8_sequence_len(const char *s, size_t n);
bool utf8_is_valid(const char *s, size_t n);

/* Copy of s[0..n) with every byte that is not part of valid UTF-8 replaced by U+FFFD.
 * Returns NULL on allocation failure. */
char *utf8_sanitize(const char *s, size_t n);

/* Copy of s for display on a terminal: control characters, backslashes, invalid UTF-8,
 * and characters that show as a space or nothing or reorder text (Unicode spaces but
 * U+0020, format characters such as bidirectional controls) become \xNN per byte (and
 * \n, \t, \\) so that a crafted name cannot move the cursor or pass for another. */
char *utf8_escape_for_terminal(const char *s);
