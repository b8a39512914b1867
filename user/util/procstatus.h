/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PROCSTATUS_H
#define CTRACE_PROCSTATUS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The value after "@key:" in /proc/@pid/status (@pid 0: our own), its
 * leading blanks and the newline cut, in @out; -ENOENT if the process or
 * the field is not there.
 */
int proc_status(pid_t pid, const char *key, char *out, size_t out_len);
/* The same field as a number in @base, or -1. */
long proc_status_num(pid_t pid, const char *key, int base);

#endif
