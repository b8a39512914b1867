/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_LOG_H
#define CTRACE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_KEPT_MAX 64

extern int log_level;	/* 0 errors and notes, 1 -v, 2 -vv */

/* Every diagnostic is one line on stderr that starts "ctrace-bpf: ". */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first LOG_KEPT_MAX "warning: " and "note: " lines said, for --json. */
size_t log_kept(const char (**lines)[512]);

#endif
