/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SCAN_H
#define CTRACE_SCAN_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "util/fileid.h"

#define SCAN_MAX_SKIPPED 4096

/*
 * -a: the processes of a host.  Most run no Python: an executable found
 * not to be one is remembered, so that its other processes and later
 * execs cost one stat().
 */
struct scan {
	struct file_id skipped[SCAN_MAX_SKIPPED];
	int n_skipped;
};

/* Fills @st with /proc/PID/exe's file; true when it is not worth a look. */
bool scan_known_not_python(const struct scan *sc, pid_t pid, struct stat *st);
void scan_not_python(struct scan *sc, const struct stat *st);
/* @fn for every process now running. */
void scan_running(void (*fn)(void *ctx, pid_t pid), void *ctx);

#endif
