/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_LOOKUP_H
#define CTRACE_LOOKUP_H

#include <stdbool.h>

/* What the --trace printer asks about sources and the interpreter. */
struct trace_lookup {
	/* the source line with its '\n', or NULL as linecache gives '' */
	const char *(*line_text)(void *ctx, const char *file, long line);
	bool (*first_line_missed)(void *ctx, const char *file, const char *func,
				  long line);
	bool (*ignored)(void *ctx, const char *file);
	bool repair_send_edge;
	bool spaced;		/* 3.13+'s format: "f.py(3):  text" */
	void *ctx;
};

#endif
