/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPORT_EXPORT_H
#define CTRACE_REPORT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "trace/results.h"

/* sources and names: naming/resolve.h; a writer needs no more of it */
struct resolver;

/*
 * Outputs for the tools users already have, beside trace's reports.  Each
 * file appears whole or not at all.  Paths are made absolute against
 * @cwd, the target's working directory, as the target sees them.
 */
struct export_info {
	const char *cwd;	/* the target's, for relative co_filenames */
	const char *context;	/* coverage.py context: "" or "pid N COMMAND" */
	const char *command;	/* the target's command line */
	int pid;
	const char *python;	/* "3.11.2" */
	struct resolver *rs;	/* sources: executable lines, functions */
	bool executable;	/* --missing: executable lines known */
};

/* coverage.py's data file (SQLite, schema 7): lines, no arcs. */
int export_coverage(const char *path, const struct results *r,
		    const struct export_info *x, char *why, size_t why_len);
/* LCOV: DA with real counts, FN/FNDA from the sources' functions. */
int export_lcov(const char *path, const struct results *r,
		const struct export_info *x, char *why, size_t why_len);
/* Everything in one JSON document (schema in the README). */
int export_json(const char *path, const struct results *r,
		const struct export_info *x, char *why, size_t why_len);
/* --trackcalls' pairs with counts: Graphviz (.dot) or callgrind. */
int export_callgraph(const char *path, const struct results *r,
		     const struct export_info *x, char *why, size_t why_len);

#endif
