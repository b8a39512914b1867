/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_TALLY_H
#define CTRACE_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ctrace.h"

/*
 * What every collector fills: the counts as raw keys (the ABI's, whether
 * BPF maps or the in-target collector's reply produced them), not yet
 * named.  Naming (resolve.c) takes it from here.
 */
struct line_row { struct ctrace_line_key k; uint64_t n; };
struct func_row { struct ctrace_func_key k; uint64_t n; };
struct call_row { struct ctrace_call_key k; uint64_t n; };
struct str_row { struct ctrace_sref ref; char *s; };
struct class_row { struct ctrace_code k; struct ctrace_class v; };

/* A code's class as decided live, by names: see raw_class(). */
struct class_name {
	const char *file, *func;
	long firstlineno;
	char *trace_name;	/* Class.func, or NULL: the plain name */
	bool seen_only;		/* no verdict: only this code returned */
};

struct raw_tables {
	struct line_row *lines;
	size_t n_lines;
	struct func_row *funcs;
	size_t n_funcs;
	struct call_row *calls;
	size_t n_calls;
	struct str_row *strs;	/* sorted by ref */
	size_t n_strs;
	struct class_row *classes;
	size_t n_classes;
	struct class_name *class_names;	/* sorted by func, file, line */
	size_t n_class_names;
	uint64_t stats[CTRACE_STAT_NR];
	/* funcs' line is the code's first line, not where it returned */
	bool funcs_at_first_line;
	bool borrowed;	/* strs and class names belong to another table */
};

/* The strings sorted by reference, for raw_str(). */
void raw_sort_strs(struct raw_tables *t);
const char *raw_str(const struct raw_tables *t, struct ctrace_sref ref);
/* Name the class rows once the strings are in; sorts them for raw_class(). */
int raw_name_classes(struct raw_tables *t);
/*
 * The live verdict on the code @func of @file that starts at @firstlineno;
 * with @firstlineno < 0, the one verdict all such codes share, if they do.
 * NULL: none was made, and the source decides.
 */
const struct class_name *raw_class(const struct raw_tables *t, const char *file,
				   const char *func, long firstlineno);
void raw_tables_free(struct raw_tables *t);
/*
 * Process @tgid's rows of @all, in @out: its strings and classes are
 * @all's, so @out must be freed before @all.  Stats stay with @all.
 */
int raw_tables_select(const struct raw_tables *all, uint32_t tgid,
		      struct raw_tables *out);
/* The processes @t has rows of, sorted, and how many; NULL when none. */
uint32_t *raw_tables_tgids(const struct raw_tables *t, size_t *n);
/*
 * Warn of what was not counted (full maps, a full ring) and of @unnamed
 * events whose strings could not be read; @who prefixes each line.
 */
void raw_warn_lost(const struct raw_tables *t, uint64_t unnamed, const char *who);

#endif
