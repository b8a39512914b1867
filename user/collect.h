/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_COLLECT_H
#define CTRACE_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ctrace.h"

struct ctrace_bpf;

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
};

/* The BPF maps, copied out in batches: raw probe keys, not yet named. */
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

int collect_all(struct ctrace_bpf *skel, struct raw_tables *t);

/* Strings already looked at by collect_new_sources(). */
struct str_watch {
	struct ctrace_sref *seen;	/* open addressing; ptr 0: empty */
	size_t n, cap;
};

/*
 * While the trace runs: the source file names (absolute paths, frozen
 * modules) among the strings the BPF side has read since the last call,
 * in @names (@n of them, each to be freed, and the array).
 */
int collect_new_sources(struct ctrace_bpf *skel, struct str_watch *w,
			char ***names, size_t *n);
void str_watch_free(struct str_watch *w);
/* Dump a map of any key/value size; exposed for the bench. */
int collect_map(int fd, size_t key_size, size_t value_size, size_t max,
		void **keys, void **values, size_t *n);
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
