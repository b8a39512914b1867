// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A program that embeds Debian's libpython3.11.so.1.0 and runs a Python
 * file, so the python:* probes live in a shared library, not in the
 * executable.
 *
 *   embed FILE [wait]   run FILE (its directory first on sys.path); with
 *                       "wait", print "ready" and wait for a stdin line first
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char dir[4096], cmd[8192], buf[16];
	FILE *f;
	int rc;

	if (argc < 2)
		return 2;
	Py_Initialize();
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	snprintf(cmd, sizeof(cmd), "import sys; sys.path.insert(0, %s%s%s)",
		 "'", dirname(dir), "'");
	PyRun_SimpleString(cmd);
	if (argc > 2 && !strcmp(argv[2], "wait")) {
		printf("ready\n");
		fflush(stdout);
		if (!fgets(buf, sizeof(buf), stdin))
			return 1;
	}
	f = fopen(argv[1], "r");
	if (!f)
		return 1;
	rc = PyRun_SimpleFileExFlags(f, argv[1], 1, NULL);
	if (argc > 2) {
		printf("done\n");
		fflush(stdout);
		if (!fgets(buf, sizeof(buf), stdin))
			return 1;
	}
	return Py_FinalizeEx() < 0 || rc ? 1 : 0;
}
