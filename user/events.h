/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_EVENTS_H
#define CTRACE_EVENTS_H

#include <signal.h>
#include "cli.h"
#include "target.h"

/*
 * Run --gc, --imports and --audit on @t until *@stop, the duration, or the
 * target's end; print their reports.  Returns the exit status.
 */
int events_run(const struct options *o, struct target *t,
	       volatile sig_atomic_t *stop);

#endif
