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
 * name, report; trace's reports.  Returns the exit status.
 */
int session_run(const struct options *o, struct target *t,
		const struct py_flavor *fl, const struct collector_ops *ops,
		volatile sig_atomic_t *stop);
/*
 * -p repeated, or -a: the same lifecycle for each process, a collector
 * each, and a report each (or one with --merge).
 */
int session_run_many(const struct options *o, volatile sig_atomic_t *stop);
/*
 * Which collector counts @t for the modes of @o (usdt where its probes
 * serve, else monitoring on 3.14+), and its flavour; NULL with @why.
 */
const struct collector_ops *collector_for(const struct options *o,
					  struct target *t,
					  const struct py_flavor **fl,
					  char *why, size_t why_len);

#endif
