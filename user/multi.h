/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_MULTI_H
#define CTRACE_MULTI_H

#include <signal.h>
#include "cli.h"

/* -a, or several -p: trace them all until *@stop; the exit status. */
int multi_run(const struct options *o, volatile sig_atomic_t *stop);

#endif
