/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_BINARIES_H
#define CTRACE_BINARIES_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include "naming/tally.h"
#include "target/pyversion.h"
#include "target/target.h"
#include "usdt/attach.h"
#include "util/fileid.h"

/*
 * One attachment of ctrace.bpf.o to an interpreter binary: its plan, its
 * tracer, and the tally read from its maps at the end.  -p attaches one,
 * for its process; -a one for each binary, for every process that maps
 * it, in a table by file (binaries_find).  The one sequence of a USDT
 * trace runs here: plan, arm, stop, collect, free.
 */
struct usdt_bin {
	struct file_id id;
	char path[PATH_MAX];	/* as first seen */
	struct pyelf elf;	/* as read then */
	const struct py_flavor *fl;
	struct plan plan;
	struct tracer tr;
	struct raw_tables raw;
	int refs;		/* the processes counted through it */
	bool armed, failed, harvested;
};

/* Its flavour and plan for @t under @o; @why says why it cannot be. */
int usdt_bin_plan(struct usdt_bin *b, const struct options *o,
		  const struct py_flavor *fl, const struct target *t,
		  char *why, size_t why_len);
/* Load and attach: counting runs when it returns 0; on failure, nothing stays. */
int usdt_bin_arm(struct usdt_bin *b, const struct target *t, char *why,
		 size_t why_len);
/* Stop counting at once; the links go in the background. */
void usdt_bin_stop(struct usdt_bin *b);
/* Its maps into b->raw, once stopped. */
int usdt_bin_collect(struct usdt_bin *b, char *why, size_t why_len);
void usdt_bin_free(struct usdt_bin *b);

/* The index of @st's binary among @n of them, rows @stride bytes apart. */
static inline int binaries_find(const struct usdt_bin *first, int n,
				size_t stride, const struct stat *st)
{
	return n ? file_id_find(&first->id, n, stride, file_id_of(st)) : -1;
}

#endif
