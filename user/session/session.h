/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_SESSION_H
#define CTRACE_SESSION_H

#include <signal.h>
#include "cli.h"
#include "session/collector.h"
#include "target/pyversion.h"
#include "target/target.h"

/*
 * One trace, from attach to the last report byte: of the launched command
 * or one -p (trace's own reports), of -p repeated or -a (a report for
 * each, under its heading, or one with --merge).  Each process gets a
 * collector, started, waited on (Ctrl-C, -d, the processes' exits),
 * stopped, named and reported.  Returns the exit status.
 */
int session_run(const struct options *o, volatile sig_atomic_t *stop);
/*
 * Which collector counts @t for the modes of @o (usdt where its probes
 * serve, else monitoring on 3.14+), and its flavour; NULL with @why.
 * @examined: what examining @t returned (0, or -ENODATA for no probes).
 */
const struct collector_ops *collector_for(const struct options *o,
					  struct target *t, int examined,
					  const struct py_flavor **fl,
					  char *why, size_t why_len);

#endif
