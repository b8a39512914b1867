// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fields of /proc/PID/status: see procstatus.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/procstatus.h"

int proc_status(pid_t pid, const char *key, char *out, size_t out_len)
{
	char path[64], line[512];
	size_t n = strlen(key);
	int err = -ENOENT;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *v = line + n + 1;

		if (strncmp(line, key, n) || line[n] != ':')
			continue;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(out, out_len, "%s", v);
		err = 0;
		break;
	}
	if (f)
		fclose(f);
	return err;
}

long proc_status_num(pid_t pid, const char *key, int base)
{
	char v[64];

	if (proc_status(pid, key, v, sizeof(v)))
		return -1;
	return strtol(v, NULL, base);
}
