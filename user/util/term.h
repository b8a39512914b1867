/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_TERM_H
#define CTRACE_TERM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Names and source lines come from the target, and a terminal acts on the
 * control bytes in them (cursor moves, title changes, OSC 52 clipboard
 * writes).  Such bytes are shown as \xNN: C0 controls but newline and tab
 * (and newline too when @one_line), DEL, and UTF-8-encoded C1 controls.
 * Writes at most @cap - 1 bytes and a NUL; returns the length written.
 */
size_t term_escape(char *dst, size_t cap, const char *src, size_t len,
		   bool one_line);
/* When stdout is a terminal, escape everything printed to it from now on. */
void term_guard_stdout(void);

#endif
