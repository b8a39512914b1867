/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * python -m trace's data model as plain tables: line counts keyed by
 * (filename, lineno), the set of called (filename, modulename, funcname), and
 * the set of caller/callee pairs.  Reports and the pickle codec work on these
 * alone, so they can be tested without privileges.
 */
#ifndef CTRACE_RESULTS_H
#define CTRACE_RESULTS_H

#include <stddef.h>
#include <stdint.h>

struct count_entry {
	const char *file;
	long line;
	uint64_t count;
};

struct func_name {
	const char *file;
	const char *mod;	/* NULL stands for Python's None */
	const char *func;
};

struct call_entry {
	struct func_name caller, callee;
	uint64_t count;		/* calls seen; trace keeps only the pair */
};

struct results {
	struct count_entry *counts;
	size_t n_counts, cap_counts;
	struct func_name *funcs;
	size_t n_funcs, cap_funcs;
	struct call_entry *calls;
	size_t n_calls, cap_calls;
	/* interned strings, owned by the results */
	char **strs;
	size_t n_strs, cap_strs;
	/* events the BPF side could not record because a map was full */
	uint64_t dropped;
};

/* Which of trace's tables a run fills: its pairs, its functions, its lines. */
enum count_kind { COUNT_CALLS, COUNT_FUNCS, COUNT_LINES };

void results_init(struct results *r);
void results_free(struct results *r);
/* Returns a copy owned by @r; equal strings share one copy. */
const char *results_intern(struct results *r, const char *s);
int results_add_count(struct results *r, const char *file, long line, uint64_t n);
int results_add_func(struct results *r, const struct func_name *f);
int results_add_call(struct results *r, const struct func_name *caller,
		     const struct func_name *callee);
/* The same, seen @n times. */
int results_add_call_n(struct results *r, const struct func_name *caller,
		       const struct func_name *callee, uint64_t n);
/* Sort every table in trace's order and merge duplicate keys. */
void results_normalize(struct results *r);
/* Add @src into @dst, as CoverageResults.update does. */
int results_merge(struct results *dst, const struct results *src);
#endif
