/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPORT_OUT_H
#define CTRACE_REPORT_OUT_H

#include "cli.h"
#include "pyversion.h"
#include "resolve.h"
#include "results.h"
#include "target.h"

/* -f: add what the counts file holds already, as trace does. */
void merge_counts_file(const struct options *o, struct results *r);
/*
 * The counts file, then the reports trace prints for @o's mode, in the
 * format of @fl's version; @t (may be NULL) gives the sys.path.  Returns
 * the exit status.
 */
int write_reports(const struct options *o, struct results *r,
		  struct resolver *rs, const struct target *t,
		  const struct py_flavor *fl);

#endif
