// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A stand-in interpreter: it carries CPython 3.11's version constant and
 * fires python:line probes shaped like the real ones a known number of
 * times, from several threads at once, so counts can be checked exactly.
 *
 *   sdt_target FILE THREADS HITS [LINES]
 *       fire lines 1..LINES (default 3) of FILE, HITS times each per
 *       thread, after a line on stdin
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/* what ctrace-bpf reads to tell the version: 3.11.2 final */
const unsigned long Py_Version = 0x030b02f0;

/* the probes are gated on semaphores, as in CPython */
unsigned short python_line_semaphore __attribute__((section(".probes")));
unsigned short python_function__entry_semaphore __attribute__((section(".probes")));

static const char *file;
static long hits, lines = 3;

static void *fire(void *arg)
{
	const char *f = file;

	(void)arg;
	/* keep the argument in a register: libbpf parses no %rip operands */
	__asm__ volatile("" : "+r"(f));
	for (long i = 0; i < hits; i++) {
		for (long line = 1; line <= lines; line++)
			if (python_line_semaphore)
				STAP_PROBE3(python, line, f, "work", line);
		/* an entry per pass, except when the lines alone are the point */
		if (python_function__entry_semaphore && lines == 3)
			STAP_PROBE3(python, function__entry, f, "work", 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tids[64];
	int nthreads;
	char buf[16];

	if (argc != 4 && argc != 5)
		return 2;
	if (argc == 5)
		lines = atol(argv[4]);
	file = argv[1];
	nthreads = atoi(argv[2]);
	hits = atol(argv[3]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	printf("ready\n");
	fflush(stdout);
	if (!fgets(buf, sizeof(buf), stdin))
		return 1;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&tids[i], NULL, fire, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	printf("done\n");
	fflush(stdout);
	/* stay alive until the tracer has read its maps */
	fgets(buf, sizeof(buf), stdin);
	return 0;
}
