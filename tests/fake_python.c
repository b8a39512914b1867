// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Looks like a CPython of version PY_VERSION_HEX (default 3.11.2) for the
 * refusal tests.  Built plain, it has no probes at all, like a Python built
 * without --with-dtrace; with -DPROBES=1 it has the probes CPython 3.12-3.14
 * kept (gc, import, audit); with -DPROBES=2 also 3.15's function probes.
 */
#include <stdio.h>
#include <unistd.h>
#ifdef PROBES
#include <sys/sdt.h>
#endif

#ifndef PY_VERSION_HEX
#define PY_VERSION_HEX 0x030b02f0
#endif

const unsigned long Py_Version = PY_VERSION_HEX;

void Py_Initialize(void)
{
}

int main(int argc, char **argv)
{
	(void)argv;
	Py_Initialize();
#ifdef PROBES
	/* never taken: the probes only need to exist */
	if (argc > 99) {
		STAP_PROBE1(python, gc__start, argc);
		STAP_PROBE1(python, gc__done, argc);
		STAP_PROBE1(python, import__find__load__start, argv);
		STAP_PROBE2(python, import__find__load__done, argv, argc);
		STAP_PROBE2(python, audit, argv, argv);
#if PROBES > 1
		STAP_PROBE3(python, function__entry, argv, argv, argc);
		STAP_PROBE3(python, function__return, argv, argv, argc);
#endif
	}
#endif
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}
