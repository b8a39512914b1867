// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "util/log.h"
#include "util/term.h"

int log_level;

/* The notes and warnings said so far, for --json: fixed room, no malloc. */
static char kept[LOG_KEPT_MAX][512];
static size_t n_kept;

size_t log_kept(const char (**lines)[512])
{
	*lines = kept;
	return n_kept;
}

static void keep(const char *line)
{
	if (n_kept < LOG_KEPT_MAX &&
	    (!strncmp(line, "warning: ", 9) || !strncmp(line, "note: ", 6)))
		snprintf(kept[n_kept++], sizeof(kept[0]), "%s", line);
}

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
	keep(buf + n);
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
