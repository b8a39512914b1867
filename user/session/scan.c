// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* -a: finding the processes of a host. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include "session/scan.h"

bool scan_known_not_python(const struct scan *sc, pid_t pid, struct stat *st)
{
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (stat(exe, st))
		return true;	/* gone, or a kernel thread */
	return file_id_find(sc->skipped, sc->n_skipped, sizeof(sc->skipped[0]),
			    file_id_of(st)) >= 0;
}

void scan_not_python(struct scan *sc, const struct stat *st)
{
	if (sc->n_skipped == SCAN_MAX_SKIPPED)
		return;
	sc->skipped[sc->n_skipped++] = file_id_of(st);
}

void scan_running(void (*fn)(void *ctx, pid_t pid), void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (!*end && pid > 0)
			fn(ctx, pid);
	}
	if (d)
		closedir(d);
}
