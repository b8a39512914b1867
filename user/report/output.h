/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPORT_OUT_H
#define CTRACE_REPORT_OUT_H

#include "cli.h"
#include "target/pyversion.h"
#include "target/target.h"
#include "trace/results.h"

/* sources and names: naming/resolve.h; a writer needs no more of it */
struct resolver;

/* -f: add what the counts file holds already, as trace does. */
void merge_counts_file(const struct options *o, struct results *r);
/* Is any output for other tools asked for? */
bool exports_wanted(const struct options *o);
/*
 * --coverage-file, --lcov, --json, --callgraph for @r; @rs and @t may be
 * NULL (many processes: no one source tree, no one target).  Returns 0,
 * or -1 once each failure has been said.
 */
int write_exports(const struct options *o, const struct results *r,
		  struct resolver *rs, const struct target *t);
/*
 * The counts file, then the reports trace prints for @o's mode, in the
 * format of @fl's version; @t (may be NULL) gives the sys.path.  Returns
 * the exit status.
 */
int write_reports(const struct options *o, struct results *r,
		  struct resolver *rs, const struct target *t,
		  const struct py_flavor *fl);

#endif
