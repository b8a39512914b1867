/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_MONITOR_RUN_H
#define CTRACE_MONITOR_RUN_H

#include <signal.h>
#include <stdbool.h>
#include "cli.h"
#include "pyelf.h"
#include "pyversion.h"
#include "target.h"

/* Can this interpreter take the monitoring backend's collector? */
bool monitor_possible(const struct pyelf *e);
/*
 * One trace through the monitoring backend, from attach to the reports;
 * returns the exit status.  @stop is set by the first Ctrl-C.
 */
int monitor_run(const struct options *o, struct target *t,
		const struct py_flavor *fl, volatile sig_atomic_t *stop);

#endif
