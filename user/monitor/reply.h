/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPLY_H
#define CTRACE_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include "naming/resolve.h"
#include "naming/tally.h"

/*
 * What the collector inside the target sends back (user/monitor/collector.py),
 * read as untrusted input: one record per line,
 *   H tool            installed, with that sys.monitoring tool id (6:
 *                     with sys.settrace, 3.8-3.11)
 *   R busy            refused: every tool id is taken
 *   R traced          refused: a trace function is set already (3.8-3.11)
 *   S hex             the next string (UTF-8, hex): strings are numbered 0..
 *   L file line n     line counts
 *   F file name first a code that ran (--listfuncs)
 *   K file name first class   trace's class for that code; class -1: none
 *   C cfile cname cfirst file name first n   caller -> callee (--trackcalls);
 *                     the caller "- - -" at the bottom of a stack
 *   X file line...    trace's executable lines of file (--missing)
 *   P dir             the next entry of its sys.path at the end, for
 *                     trace's module names (--count, --trace)
 *   V tid ns file line                 --trace: a line ran
 *   W tid ns file name first kind      --trace: a frame started (0) or resumed (1)
 *   E                 the end
 * turned into the same raw tables the BPF maps give, so naming and reports
 * never know which collector ran.
 */
struct mon_reply {
	struct raw_tables raw;
	struct given_lines *exec;
	size_t n_exec;
	const char **path;	/* P's, in order: strings of raw */
	size_t n_path;
	int tool;		/* -1 until H */
	bool busy;		/* R */
	bool traced;		/* R traced: settrace's, not a tool id */
	bool ended;		/* E */
	long untraced;		/* N: threads from before it could not hook */
	/*
	 * --trace: each string and event, as the ring's records, as they
	 * come (struct ctrace_str_event, struct ctrace_event)
	 */
	void (*sink)(void *ctx, const void *rec, size_t len);
	void *sink_ctx;
};

void reply_init(struct mon_reply *r);
/*
 * Parse @len bytes: complete lines only, the rest is left for the next
 * call (*@used says how much was taken).  Returns 0, or -EPROTO with @why.
 */
int reply_parse(struct mon_reply *r, const char *buf, size_t len, size_t *used,
		char *why, size_t why_len);
/* After E: name the classes. */
int reply_finish(struct mon_reply *r);
void reply_free(struct mon_reply *r);

#endif
