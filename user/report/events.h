/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_REPORT_EVENTS_H
#define CTRACE_REPORT_EVENTS_H

#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "ctrace.h"

/* One process's collections of one generation. */
struct gc_row {
	uint32_t pid;
	uint32_t gen;
	struct ctrace_gc_gen g;
};

/* One module's find-and-load, summed over its imports. */
struct import_row {
	uint32_t pid;
	char name[CTRACE_NAME_MAX];
	uint64_t ns;
	uint32_t times, failed;
};

/* "pid PID: COMMAND LINE", the heading of each process's report. */
void report_heading(FILE *out, uint32_t pid, const char *cmdline);
/* @rows of one process, any order. */
void report_gc(FILE *out, struct gc_row *rows, size_t n);
/* @rows of one process, any order: printed slowest first. */
void report_imports(FILE *out, struct import_row *rows, size_t n);
/* The header line of the --audit stream, and one event's line. */
void audit_header(FILE *out);
void audit_line(FILE *out, const struct ctrace_audit_event *ev, uint64_t t0_ns);

#endif
