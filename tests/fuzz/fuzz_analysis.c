// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: hostile source through the whole analysis, CPython's compiler
 * in the forked child included.  Slow (a fork per input), so it runs on
 * its own.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "naming/analysis.h"

/* every input would otherwise be kept in the analysis cache */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("CTRACE_NO_CACHE", "1", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct file_analysis a;
	char why[256];

	if (!analysis_run((const char *)data, size, "/fuzz/input.py",
			  ANALYSIS_EXECUTABLE, &a, why, sizeof(why)))
		file_analysis_free(&a);
	return 0;
}
