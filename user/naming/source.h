/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SOURCE_H
#define CTRACE_SOURCE_H

#include <stddef.h>

#define SOURCE_MAX_BYTES (64u << 20)

/*
 * Read @file as the target sees it: absolute names inside @root_fd (the
 * target's /proc/PID/root), relative ones from @cwd inside that root.
 * Symlinks cannot lead out of the root.  @root_fd < 0 reads our own view.
 */
/* open(2) of @path inside @root_fd, as source_read() opens: a new fd. */
int source_open(int root_fd, const char *path, int flags);
int source_read(int root_fd, const char *cwd, const char *file, char **data,
		size_t *len, char *why, size_t why_len);

#endif
