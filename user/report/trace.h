/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPORT_TRACE_H
#define CTRACE_REPORT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "ctrace.h"
#include "naming/lookup.h"

struct trace_thread;

struct trace_stream {
	FILE *out;
	bool timing;
	uint64_t t0_ns;
	const struct trace_lookup *lk;
	/* ring strings by pointer, open addressing */
	struct ctrace_sref *str_keys;
	char **str_vals;
	size_t n_strs, cap_strs;
	struct trace_thread *threads;
	size_t n_threads;
	uint64_t unnamed;	/* events whose strings never arrived */
};

void trace_stream_init(struct trace_stream *ts, FILE *out, bool timing,
		       uint64_t t0_ns, const struct trace_lookup *lk);
/* One ring record, printed as python -m trace --trace prints it. */
int trace_stream_event(struct trace_stream *ts, const void *data, size_t len);
void trace_stream_free(struct trace_stream *ts);

#endif
