/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_COLLECT_H
#define CTRACE_COLLECT_H

#include <stddef.h>
#include "naming/tally.h"

struct ctrace_bpf;

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
#endif
