// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "naming/source.h"

int source_open(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		/* openat2 refuses O_PATH with any flag it would ignore */
		.flags = flags & O_PATH ? flags | O_CLOEXEC :
			 flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		/* the target's symlinks resolve against its root, never ours */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	if (root_fd < 0)
		return open(path, how.flags);
	return syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

static int open_in_root(int root_fd, const char *path)
{
	return source_open(root_fd, path, O_RDONLY);
}

int source_read(int root_fd, const char *cwd, const char *file, char **data,
		size_t *len, char *why, size_t why_len)
{
	char path[PATH_MAX * 2];
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, err;

	if (file[0] == '/' || !cwd || !cwd[0])
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", cwd, file);
	fd = open_in_root(root_fd, path);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "cannot read source: %s", strerror(errno));
		return err;
	}
	/* a FIFO or device planted under a source name must not block us */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, why_len, "cannot read source: not a regular file");
		return -EINVAL;
	}
	if ((size_t)st.st_size > SOURCE_MAX_BYTES) {
		close(fd);
		snprintf(why, why_len, "source larger than %u MB", SOURCE_MAX_BYTES >> 20);
		return -EFBIG;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}
