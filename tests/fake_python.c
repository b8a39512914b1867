// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Looks like a CPython 3.11 built without --with-dtrace: no probes at all. */
#include <stdio.h>
#include <unistd.h>

const unsigned long Py_Version = 0x030b02f0;

void Py_Initialize(void)
{
}

int main(void)
{
	Py_Initialize();
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}
