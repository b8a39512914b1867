/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPORT_H
#define CTRACE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "naming/source_lines.h"
#include "trace/results.h"
#include "trace/tracepy.h"

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
/* One source line with tabs expanded to 8 columns, counted in characters. */
void write_expanded(FILE *f, const char *line, bool utf8);

/* --listfuncs and --trackcalls, byte for byte as trace prints them. */
void report_funcs(const struct results *r, FILE *out);
void report_calls(const struct results *r, FILE *out);
/* The one of the two a -l or -T run prints, for each process of several. */
void report_listing(const struct results *r, enum count_kind kind, FILE *out);

#endif
