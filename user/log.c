// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include "log.h"
#include "term.h"

int log_level;

static void vlog(const char *fmt, va_list ap)
{
	/* One write per line, so lines from signal paths do not interleave. */
	char msg[4096], buf[4 * sizeof(msg) + 16];
	int n = snprintf(buf, sizeof(buf), "ctrace-bpf: ");
	int len = vsnprintf(msg, sizeof(msg), fmt, ap);

	/* names in messages come from the target: one line, nothing raw */
	if (len > (int)sizeof(msg) - 1)
		len = sizeof(msg) - 1;
	term_escape(buf + n, sizeof(buf) - n, msg, len > 0 ? len : 0, true);
	fprintf(stderr, "%s\n", buf);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 2)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
