/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_ATOMIC_FILE_H
#define CTRACE_ATOMIC_FILE_H

#include <limits.h>
#include <stdio.h>

/*
 * A file that appears whole or not at all: written under a fresh temporary
 * name beside it (O_EXCL | O_NOFOLLOW, so nothing planted there is
 * followed or truncated), then renamed over @name.
 */
struct atomic_file {
	int dirfd;
	char name[PATH_MAX];
	char tmp[PATH_MAX + 32];
	FILE *f;
};

/* Returns the stream to write, or NULL with errno set. */
FILE *atomic_open(struct atomic_file *a, int dirfd, const char *name);
/* Close and rename into place; 0 or a negative errno (then nothing left). */
int atomic_commit(struct atomic_file *a);
void atomic_abort(struct atomic_file *a);
/* From a fatal signal's handler: remove the file being written, if any. */
void atomic_cleanup_from_signal(void);

#endif
