// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/atomic_file.h"

/* The one temporary file being written, for a second Ctrl-C to remove. */
static volatile sig_atomic_t inflight_dirfd = -1;
static char inflight_tmp[PATH_MAX + 32];

static void set_inflight(const struct atomic_file *a)
{
	inflight_dirfd = -1;
	if (a) {
		memcpy(inflight_tmp, a->tmp, sizeof(inflight_tmp));
		inflight_dirfd = a->dirfd;
	}
}

FILE *atomic_open(struct atomic_file *a, int dirfd, const char *name)
{
	struct timespec ts;
	int fd = -1;

	a->dirfd = dirfd;
	a->f = NULL;
	if (snprintf(a->name, sizeof(a->name), "%s", name) >= (int)sizeof(a->name)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (unsigned int i = 0; i < 16 && fd < 0; i++) {
		unsigned int salt = (unsigned int)ts.tv_nsec * 2654435761u + i;

		snprintf(a->tmp, sizeof(a->tmp), "%s.tmp-%d-%08x", name,
			 (int)getpid(), salt);
		fd = openat(dirfd, a->tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			return NULL;
	}
	if (fd < 0)
		return NULL;
	set_inflight(a);
	a->f = fdopen(fd, "w");
	if (!a->f) {
		int err = errno;

		close(fd);
		unlinkat(dirfd, a->tmp, 0);
		set_inflight(NULL);
		errno = err;
	}
	return a->f;
}

int atomic_commit(struct atomic_file *a)
{
	int err = ferror(a->f) ? -EIO : 0;

	if (fclose(a->f) && !err)
		err = -errno;
	a->f = NULL;
	if (!err && renameat(a->dirfd, a->tmp, a->dirfd, a->name))
		err = -errno;
	if (err)
		unlinkat(a->dirfd, a->tmp, 0);
	set_inflight(NULL);
	return err;
}

void atomic_abort(struct atomic_file *a)
{
	if (a->f)
		fclose(a->f);
	a->f = NULL;
	unlinkat(a->dirfd, a->tmp, 0);
	set_inflight(NULL);
}

void atomic_cleanup_from_signal(void)
{
	int dirfd = inflight_dirfd;

	if (dirfd != -1)
		unlinkat(dirfd, inflight_tmp, 0);
}
