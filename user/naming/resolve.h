/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_RESOLVE_H
#define CTRACE_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>
#include "naming/analysis.h"
#include "naming/lookup.h"
#include "naming/source_lines.h"
#include "trace/results.h"

/* resolve.c reads them: naming/tally.h, target/pyversion.h */
struct raw_tables;
struct py_flavor;

/*
 * Turning probe keys into trace's names.  Source files are read (inside the
 * target's root) and analysed once each, then shared by every report.
 */
/* A file's executable lines as another compiler found them (sorted). */
struct given_lines {
	const char *file;
	long *lines;
	size_t n;
};

struct resolver {
	const struct py_flavor *fl;
	int root_fd;
	const char *cwd;
	char *const *ignore_mods;
	size_t n_ignore_mods;
	char **ignore_dirs;	/* normalized as trace does */
	size_t n_ignore_dirs;
	struct resolved_file *files;
	size_t n_files, cap_files;
	size_t unresolved;	/* keys whose strings were never read */
	bool want_executable;	/* --missing: trace's executable lines too */
	bool early;		/* analysing while the trace runs */
	/*
	 * --missing's executable lines from the target's own compiler (the
	 * monitoring collector), before our analysis; sorted by file
	 */
	const struct given_lines *given;
	size_t n_given;
};

void resolver_init(struct resolver *rs, const struct py_flavor *fl,
		   int root_fd, const char *cwd, char *const *mods,
		   size_t n_mods, char *const *dirs, size_t n_dirs);
void resolver_free(struct resolver *rs);
/* The analysis of @file, or NULL with @why when it cannot be read. */
const struct file_analysis *resolver_file(struct resolver *rs, const char *file,
					  const char **why);
/* The same, analysed at least to @level. */
const struct file_analysis *resolver_file_at(struct resolver *rs,
					     const char *file,
					     enum analysis_level level,
					     const char **why);
/* trace's --ignore-module/--ignore-dir verdict for a file. */
bool resolver_ignored(const struct resolver *rs, const char *file);
/*
 * The name trace gives the code @func that holds @line in @file: the class
 * found live in @raw (may be NULL), else the source's answer.
 */
const char *resolver_func_name(struct resolver *rs, const struct raw_tables *raw,
			       const char *file, const char *func, long line,
			       bool exact_first);
/* Would the line probe skip the first line of this fresh frame? */
bool resolver_first_line_missed(struct resolver *rs, const char *file,
				const char *func, long line);

int resolve_counts(struct resolver *rs, const struct raw_tables *raw,
		   struct results *r);
int resolve_funcs(struct resolver *rs, const struct raw_tables *raw,
		  struct results *r);
int resolve_calls(struct resolver *rs, const struct raw_tables *raw,
		  struct results *r);
/* Pairs, functions or line counts: the table @kind names. */
int resolve_for_mode(struct resolver *rs, const struct raw_tables *raw,
		     enum count_kind kind, struct results *r);
/*
 * While the trace runs: analyse @files not analysed yet, for up to
 * @budget_ns, so that little is left to do after the end.  A file
 * analysed so is checked for changes when the report first uses it.
 * Returns how many of @files were dealt with (analysed, known, ignored).
 */
int resolver_prefetch(struct resolver *rs, char *const *files, size_t n,
		      uint64_t budget_ns);
/*
 * At the end: analyse every source @raw names that is not analysed yet,
 * @parallel compilers at a time.
 */
void resolver_analyse_raw(struct resolver *rs, const struct raw_tables *raw,
			  int parallel);
/* --trace's questions about sources, answered by @rs. */
struct trace_lookup resolver_trace_lookup(struct resolver *rs);
/* Executable lines the target's own compiler found: @g is sorted, kept. */
void resolver_give_executable(struct resolver *rs, struct given_lines *g,
			      size_t n);
/* A source provider for report_counts() backed by the resolver's cache. */
struct source_provider resolver_sources(struct resolver *rs);

#endif
