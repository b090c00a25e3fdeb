/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pager.h: sending long output through less when stdout is a terminal, as systemctl does. */
#pragma once

/* Starts $PAGER (default "less") on stdout's behalf if stdout is a terminal and $PAGER is
 * not "cat" or empty. Without a pager, output just goes to stdout. */
void pager_open(void);
/* Flushes, closes the pipe and waits for the pager to quit. */
void pager_close(void);
