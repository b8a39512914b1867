// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The analysis cache: a directory of the invoking user's (XDG_CACHE_HOME,
 * else ~/.cache, then ctrace-bpf/), used only when it is a real directory
 * owned by us and writable by no one else, since its records are read
 * back as analyses.  Each record is checked against its full key before
 * use, and parsed like any analyser output.  CTRACE_NO_CACHE turns it off.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "analysis_py.h"
#include "naming/analysis_cache.h"
#include "util/atomic_file.h"
#include "util/log.h"

#define CACHE_MAX (256u << 20)

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* A directory we may trust: ours, not a link, writable by us alone. */
static int trusted_dir(int at, const char *name, bool create)
{
	struct stat st;
	int fd;

	if (create && mkdirat(at, name, 0700) && errno != EEXIST)
		return -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -1;
	}
	return fd;
}

#define CACHE_KEEP 4096	/* records; past it the oldest half goes */

struct aged {
	struct timespec t;
	char name[40];
};

static int cmp_aged(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->t.tv_sec != y->t.tv_sec)
		return x->t.tv_sec < y->t.tv_sec ? -1 : 1;
	return (x->t.tv_nsec > y->t.tv_nsec) - (x->t.tv_nsec < y->t.tv_nsec);
}

/*
 * Keep the cache bounded: once it holds more than CACHE_KEEP records, the
 * least recently used half is removed (a hit refreshes a record's mtime).
 */
static void trim(int fd)
{
	struct aged *a = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int dfd = dup(fd);

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		size_t l = strlen(de->d_name);

		if (l < 5 || l >= sizeof(a->name) || strcmp(de->d_name + l - 4, ".cta") ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (n == cap) {
			struct aged *g = realloc(a, (cap ? cap * 2 : 1024) * sizeof(*g));

			if (!g)
				break;
			a = g;
			cap = cap ? cap * 2 : 1024;
		}
		a[n].t = st.st_mtim;
		snprintf(a[n++].name, sizeof(a->name), "%s", de->d_name);
	}
	closedir(d);
	if (n > CACHE_KEEP) {
		qsort(a, n, sizeof(*a), cmp_aged);
		for (size_t i = 0; i < n - CACHE_KEEP / 2; i++)
			unlinkat(fd, a[i].name, 0);
		pr_debug("analysis cache: %zu old records removed", n - CACHE_KEEP / 2);
	}
	free(a);
}

static int cache_dir(void)
{
	static int fd = -2;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int base;

	if (fd != -2)
		return fd;
	fd = -1;
	if (getenv("CTRACE_NO_CACHE"))
		return fd;
	if (xdg && xdg[0] == '/')
		base = open(xdg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (home && home[0] == '/') {
		int h = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		base = h < 0 ? -1 : trusted_dir(h, ".cache", true);
		if (h >= 0)
			close(h);
	} else {
		return fd;
	}
	if (base < 0)
		return fd;
	fd = trusted_dir(base, "ctrace-bpf", true);
	close(base);
	if (fd >= 0)
		trim(fd);
	return fd;
}

/* The key line a record starts with, and the file it lives in. */
static void key_of(const char *data, size_t len, const char *pyc,
		   size_t pyc_len, const char *filename, int level,
		   char *line, size_t line_len, char *name, size_t name_len)
{
	uint64_t hd = fnv(0xcbf29ce484222325ULL, data, len);
	uint64_t hp = fnv(0xcbf29ce484222325ULL, pyc, pyc_len);
	uint64_t ha = fnv(0xcbf29ce484222325ULL, analysis_py_src,
			  sizeof(analysis_py_src));
	uint64_t hf = fnv(0xcbf29ce484222325ULL, filename, strlen(filename));
	/* the compiler that made it: a libpython update recompiles */
	const char *ver = Py_GetVersion();
	uint64_t all;

	ha = fnv(ha, ver, strlen(ver));

	snprintf(line, line_len, "CTC1 %016llx %zu %016llx %zu %d %016llx %016llx\n",
		 (unsigned long long)hd, len, (unsigned long long)hp, pyc_len,
		 level, (unsigned long long)ha, (unsigned long long)hf);
	all = fnv(0xcbf29ce484222325ULL, line, strlen(line));
	snprintf(name, name_len, "%016llx.cta", (unsigned long long)all);
}

int analysis_cache_get(const char *data, size_t len, const char *pyc,
		       size_t pyc_len, const char *filename, int level,
		       char **rec, size_t *rec_len)
{
	char line[160], name[32], *buf;
	int dir = cache_dir(), fd;
	size_t kl, got = 0;
	struct stat st;
	ssize_t n;

	if (dir < 0)
		return -ENOENT;
	key_of(data, len, pyc, pyc_len, filename, level, line, sizeof(line),
	       name, sizeof(name));
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	kl = strlen(line);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= (off_t)kl ||
	    st.st_size > CACHE_MAX || !(buf = malloc(st.st_size))) {
		close(fd);
		return -ENOENT;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	if (got != (size_t)st.st_size || memcmp(buf, line, kl)) {
		free(buf);
		return -ENOENT;
	}
	memmove(buf, buf + kl, got - kl);
	/* used: the last to go when the cache is trimmed */
	utimensat(dir, name, NULL, AT_SYMLINK_NOFOLLOW);
	*rec = buf;
	*rec_len = got - kl;
	return 0;
}

void analysis_cache_put(const char *data, size_t len, const char *pyc,
			size_t pyc_len, const char *filename, int level,
			const char *rec, size_t rec_len)
{
	char line[160], name[32];
	struct atomic_file a;
	int dir = cache_dir();
	FILE *f;

	if (dir < 0 || rec_len > CACHE_MAX)
		return;
	key_of(data, len, pyc, pyc_len, filename, level, line, sizeof(line),
	       name, sizeof(name));
	f = atomic_open(&a, dir, name);
	if (!f)
		return;
	if (fputs(line, f) == EOF || fwrite(rec, 1, rec_len, f) != rec_len) {
		atomic_abort(&a);
		return;
	}
	if (atomic_commit(&a))
		pr_debug("cannot keep the analysis of '%s' in the cache", filename);
}
