/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_CLI_H
#define CTRACE_CLI_H

#include <stdbool.h>
#include <sys/types.h>
#include "trace/results.h"

#define CTRACE_MAX_PIDS 64
#define CTRACE_MAX_PIDS_STR "64"

enum backend { BACKEND_AUTO, BACKEND_USDT, BACKEND_MONITORING };
/* how the monitoring backend's collector gets into the target */
enum delivery { DELIVERY_AUTO, DELIVERY_PEP768, DELIVERY_PTRACE };

struct options {
	/* modes, as in python -m trace */
	bool count, trace, listfuncs, trackcalls, report;
	/* modifiers */
	bool no_report, missing, summary, timing;
	const char *file;
	const char *coverdir;
	/* filters, split on ',' and ':' as trace does */
	char **ignore_mods;
	int n_ignore_mods;
	char **ignore_dirs;
	int n_ignore_dirs;
	/* the interpreter's other probes */
	bool gc, imports, audit;
	char **audit_events;	/* --audit=A,B: only these */
	int n_audit_events;
	/* target */
	pid_t pid;		/* the first of pids */
	pid_t pids[CTRACE_MAX_PIDS];
	int n_pids;
	bool all;
	/* -a: one report for all, and which processes count */
	bool merge;
	const char *comm;	/* its comm, as ps -o comm shows it */
	const char *exe;	/* its interpreter, or a word of its command line */
	const char *cgroup;	/* under this cgroup (v2) directory */
	char **command;
	double duration;
	bool startup;		/* launch mode: count start-up too */
	enum backend backend;
	enum delivery delivery;
	/* outputs for other tools (report_export.c) */
	const char *coverage_file, *lcov, *json, *callgraph;
	int verbose;
};

/*
 * Parse argv into @o.  Returns -1 when the caller should go on, otherwise the
 * exit status: 0 after --help or --version, 2 after a usage error (already
 * reported on stderr).
 */
int cli_parse(int argc, char **argv, struct options *o);
/*
 * What is counted, in trace's precedence: --trackcalls wins over every
 * other mode, then --listfuncs over --count and --trace.
 */
enum count_kind options_counts(const struct options *o);
void options_free(struct options *o);

#endif
