/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SESSION_H
#define CTRACE_SESSION_H

#include <signal.h>
#include "cli.h"
#include "collector.h"
#include "pyversion.h"
#include "target.h"

/*
 * One trace of one process, from attach to the last report byte, with
 * the collector @ops: start, wait (Ctrl-C, -d, the target's exit), stop,
 * name, report.  Returns the exit status.
 */
int session_run(const struct options *o, struct target *t,
		const struct py_flavor *fl, const struct collector_ops *ops,
		volatile sig_atomic_t *stop);

#endif
