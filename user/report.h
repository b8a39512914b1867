/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPORT_H
#define CTRACE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "results.h"

/* A source file as trace's linecache and _find_executable_linenos see it. */
struct source_info {
	char **lines;		/* each ends in '\n', in the file's encoding */
	size_t n_lines;
	long *executable;	/* sorted */
	size_t n_executable;
	char *encoding;		/* Python's codec name, e.g. "utf-8" */
};

/*
 * Fills @out for @file with a view the provider keeps owning; returns 0, or a negative errno with @why set to a
 * short reason.  @want_executable is false when -m was not given.
 */
struct source_provider {
	int (*get)(void *ctx, const char *file, bool want_executable,
		   struct source_info *out, char *why, size_t why_len);
	void *ctx;
};

void source_info_free(struct source_info *s);

struct count_report_opts {
	bool missing, summary;
	bool percent_tenths;	/* the summary as 3.14+ prints it: 41.7% */
	const char *coverdir;
	/* the target's sys.path, for trace's _fullmodname() */
	const char *const *sys_path;
	size_t n_sys_path;
};

/*
 * Write <coverdir>/<module>.cover for every counted file and print the
 * summary on @out.  Returns the number of files that could not be written.
 */
int report_counts(const struct results *r, const struct source_provider *src,
		  const struct count_report_opts *o, FILE *out);
/* trace's _fullmodname() against @sys_path; caller frees. */
char *trace_fullmodname(const char *path, const char *const *sys_path,
			size_t n_sys_path);
/* trace's _Ignore.names() for one file. */
bool trace_ignored(const char *file, const char *mod, char *const *mods,
		   size_t n_mods, char *const *dirs, size_t n_dirs);
/* One source line with tabs expanded to 8 columns, counted in characters. */
void write_expanded(FILE *f, const char *line, bool utf8);

/* --listfuncs and --trackcalls, byte for byte as trace prints them. */
void report_funcs(const struct results *r, FILE *out);
void report_calls(const struct results *r, FILE *out);

#endif
