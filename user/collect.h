/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_COLLECT_H
#define CTRACE_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "ctrace.h"

struct ctrace_bpf;

struct line_row { struct ctrace_line_key k; uint64_t n; };
struct func_row { struct ctrace_func_key k; uint64_t n; };
struct call_row { struct ctrace_call_key k; uint64_t n; };
struct str_row { struct ctrace_sref ref; char *s; };

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
	uint64_t stats[CTRACE_STAT_NR];
};

int collect_all(struct ctrace_bpf *skel, struct raw_tables *t);
/* Dump a map of any key/value size; exposed for the bench. */
int collect_map(int fd, size_t key_size, size_t value_size, size_t max,
		void **keys, void **values, size_t *n);
const char *raw_str(const struct raw_tables *t, struct ctrace_sref ref);
void raw_tables_free(struct raw_tables *t);

#endif
