/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_ANALYSIS_H
#define CTRACE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include "naming/source_lines.h"

/* One code object compiled from the file. */
struct code_info {
	char *name;		/* co_name */
	char *trace_name;	/* what trace prints: Class.method or co_name */
	long firstlineno;
	bool first_line_missed;	/* the line probe skips its first line event */
	long *lines;		/* sorted line starts */
	size_t n_lines;
};

struct file_analysis {
	struct source_info src;
	struct code_info *codes;
	size_t n_codes;
	char *problem;		/* why codes/executable are missing, or NULL */
};

/*
 * Compile @data (never run it) in a child process of our own embedded
 * interpreter, so a source that crashes or hangs the compiler cannot take
 * the tracer with it.
 */
/* How much to find out: compiling is the slow part, the tokenizer next. */
enum analysis_level {
	ANALYSIS_LINES,		/* the source lines and encoding only */
	ANALYSIS_CODES,		/* + code objects: names, first lines */
	ANALYSIS_EXECUTABLE,	/* + trace's executable lines, for --missing */
};

int analysis_run(const char *data, size_t len, const char *filename,
		 enum analysis_level level, struct file_analysis *out,
		 char *why, size_t why_len);
/*
 * The same, with the target version's own compiled code (a 3.9 .pyc of
 * this very source) for the executable lines, as that version's trace
 * finds them.
 */
int analysis_run_pyc(const char *data, size_t len, const char *pyc,
		     size_t pyc_len, const char *filename,
		     enum analysis_level level, struct file_analysis *out,
		     char *why, size_t why_len);
void file_analysis_free(struct file_analysis *a);
/*
 * The code object named @name that holds @line: the innermost one whose
 * first line is at or before it.  With @exact_first, @line must be its first
 * line.  NULL when none.
 */
const struct code_info *analysis_find(const struct file_analysis *a,
				      const char *name, long line,
				      bool exact_first);
/* The same, among the codes @keep(code, @ctx) says yes to. */
const struct code_info *analysis_find_if(const struct file_analysis *a,
					 const char *name, long line,
					 bool exact_first,
					 bool (*keep)(const struct code_info *, void *),
					 void *ctx);
void analysis_shutdown(void);
/* One analysis of many, for analysis_run_many(). */
struct analysis_job {
	const char *data, *pyc, *filename;
	size_t len, pyc_len;
	enum analysis_level level;
	struct file_analysis *out;
	char *why;
	size_t why_len;
	int err;	/* set when done */
};

/* analysis_run_pyc() for each job, up to @parallel compilers at a time. */
void analysis_run_many(struct analysis_job *jobs, size_t n, int parallel);
/* Parse a serialized record; exposed for the unit tests. */
int analysis_parse(const char *buf, size_t len, struct file_analysis *out);

#endif
