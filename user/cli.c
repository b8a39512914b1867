// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "util/log.h"
#include "version.h"

static const char usage_text[] =
"Usage: ctrace-bpf MODE... [MODIFIERS] [FILTERS] -p PID\n"
"       ctrace-bpf MODE... [MODIFIERS] [FILTERS] -- COMMAND [ARG...]\n"
"       ctrace-bpf -l|-T [FILTERS] -a | -p PID -p PID...\n"
"       ctrace-bpf --gc|--imports|--audit[=EVENT,...]... -p PID... | -a | -- COMMAND\n"
"       ctrace-bpf -r -f FILE [-C DIR] [-m] [-s]\n"
"\n"
"Trace a CPython process and print the reports that python -m trace prints,\n"
"without restarting it: through its USDT probes (no code in the target), or\n"
"on 3.12+ through a sys.monitoring collector run inside it, delivered by\n"
"the interpreter's own remote debugger interface (PEP 768, 3.14+) or by a\n"
"pending call queued with ptrace.\n"
"\n"
"Modes (at least one):\n"
"  -c, --count          count each line's executions; write <module>.cover\n"
"                       files into the cover directory\n"
"  -t, --trace          print each line as it runs\n"
"  -l, --listfuncs      list the functions that ran (not with -c or -t)\n"
"  -T, --trackcalls     list caller -> callee pairs\n"
"  -r, --report         report from a counts file (-f) without tracing\n"
"\n"
"Other probes (any of them, not with the modes above):\n"
"      --gc             per generation: collections, objects collected and a\n"
"                       histogram of their durations\n"
"      --imports        each module imported, with its find-and-load time\n"
"                       (nested imports included), slowest first\n"
"      --audit[=EVENT,...]  print audit events (PEP 578) as they happen, with\n"
"                       their str, int and bytes arguments; only the EVENTs\n"
"                       named, if any\n"
"\n"
"Modifiers:\n"
"  -f, --file FILE      accumulate counts in FILE, in python -m trace's pickle\n"
"                       format: each tool reads what the other wrote\n"
"  -R, --no-report      do not write .cover files or print reports\n"
"  -C, --coverdir DIR   where .cover files go (default: the current\n"
"                       directory, never beside the target's sources);\n"
"                       names follow trace's --coverdir naming, pkg.mod.cover\n"
"  -m, --missing        mark executable lines that never ran with '>>>>>>'\n"
"  -s, --summary        print a per-module summary (with -c or -r)\n"
"  -g, --timing         prefix traced lines with seconds since attach\n"
"\n"
"Outputs for other tools (each written whole, beside trace's reports):\n"
"      --coverage-file FILE  coverage.py's data file (SQLite), with -c\n"
"      --lcov FILE      an LCOV tracefile with real counts, with -c\n"
"      --json FILE      counts, functions and call pairs as JSON\n"
"      --callgraph FILE.dot|FILE.callgrind  -T's pairs with their counts,\n"
"                       for Graphviz or kcachegrind\n"
"\n"
"Filters (may repeat):\n"
"      --ignore-module MOD[,MOD...]  ignore these modules and submodules\n"
"      --ignore-dir DIR[:DIR...]     ignore files under these directories\n"
"\n"
"Target:\n"
"  -p, --pid PID        attach to a running process; repeat for several\n"
"  -a, --all            every Python process on the host, and those that\n"
"                       start while tracing (not with -c or -t)\n"
"  -- COMMAND [ARG...]  start COMMAND and trace it from the main module's\n"
"                       first bytecode (the script, -m module or -c code)\n"
"      --startup        with a COMMAND: trace the interpreter's start-up too\n"
"                       (site, encodings, .pth files)\n"
"  -d, --duration SECS  stop after SECS seconds\n"
"      --backend=KIND   how lines and calls are counted: usdt (BPF on the\n"
"                       interpreter's probes), monitoring (a collector in\n"
"                       a 3.12+ target, counting with sys.monitoring), or\n"
"                       auto (default: usdt where the mode's probes exist,\n"
"                       else monitoring)\n"
"      --delivery=HOW   how the collector gets in: pep768 (3.14+: the\n"
"                       interpreter's remote debugger interface), ptrace (a\n"
"                       pending call its main thread queues, stopped for a\n"
"                       millisecond or two), or auto (default: pep768 where\n"
"                       it exists, else ptrace)\n"
"\n"
"Many processes (with -a):\n"
"      --merge          one report for all the processes traced, not one\n"
"                       per process\n"
"      --comm NAME      only processes whose comm (ps -o comm) is NAME\n"
"      --exe PATH       only processes running the interpreter PATH, or\n"
"                       whose command line has PATH as a word\n"
"      --cgroup PATH    only processes under this cgroup v2 directory (a\n"
"                       systemd service, a container)\n"
"\n"
"Other:\n"
"  -v, --verbose        say more; -vv for debugging\n"
"  -h, --help           show this help\n"
"      --version        show the version\n"
"\n"
"The trace ends at Ctrl-C (SIGINT) or SIGTERM, when the duration is up, or\n"
"when the target exits; then the probes detach and the reports are printed.\n"
"A second Ctrl-C exits at once, without reports.\n"
"\n"
"Attached with -p, counting starts at attach: lines and calls that ran before\n"
"do not count, so code that ran only before attach shows as missed.  Launch\n"
"mode (-- COMMAND) counts from where python -m trace starts: the main\n"
"module's first bytecode.\n"
"\n"
"Examples:\n"
"  ctrace-bpf --count --missing --summary -p 1234\n"
"      count lines in process 1234 until Ctrl-C; .cover files in .\n"
"  ctrace-bpf -c -m -s -C cov -- python3.11 app.py\n"
"      run app.py and write its coverage into cov/\n"
"  ctrace-bpf --listfuncs -d 10 -p 1234\n"
"      list the functions process 1234 runs in the next 10 seconds\n"
"  ctrace-bpf --trackcalls -p 1234\n"
"      caller -> callee pairs, as python -m trace --trackcalls\n"
"  ctrace-bpf -a --listfuncs --merge --comm gunicorn -d 60\n"
"      every function any gunicorn worker runs in a minute, in one list\n"
"  ctrace-bpf --trace --timing -- python3.11 app.py\n"
"      print every line as it runs, with timestamps\n"
"  ctrace-bpf -c -R -f counts.pkl -p 1234; ctrace-bpf -r -f counts.pkl -m\n"
"      accumulate counts over runs, then report them\n"
"  ctrace-bpf -c --coverage-file app.db -p 1234; coverage html --data-file=app.db\n"
"      coverage.py's HTML report of a running process\n"
"\n"
"Exit status: 0, or the launched COMMAND's own status; 1 when the trace or a\n"
"report failed; 2 for a usage error.  See ctrace-bpf(8).\n";

enum {
	OPT_IGNORE_MODULE = 0x100,
	OPT_GC,
	OPT_IMPORTS,
	OPT_AUDIT,
	OPT_IGNORE_DIR,
	OPT_VERSION,
	OPT_STARTUP,
	OPT_MERGE,
	OPT_COMM,
	OPT_EXE,
	OPT_CGROUP,
	OPT_BACKEND,
	OPT_DELIVERY,
	OPT_COVERAGE_FILE,
	OPT_LCOV,
	OPT_JSON,
	OPT_CALLGRAPH,
};

static const struct option long_opts[] = {
	{ "count", no_argument, NULL, 'c' },
	{ "trace", no_argument, NULL, 't' },
	{ "listfuncs", no_argument, NULL, 'l' },
	{ "trackcalls", no_argument, NULL, 'T' },
	{ "report", no_argument, NULL, 'r' },
	{ "no-report", no_argument, NULL, 'R' },
	{ "file", required_argument, NULL, 'f' },
	{ "coverdir", required_argument, NULL, 'C' },
	{ "missing", no_argument, NULL, 'm' },
	{ "summary", no_argument, NULL, 's' },
	{ "timing", no_argument, NULL, 'g' },
	{ "ignore-module", required_argument, NULL, OPT_IGNORE_MODULE },
	{ "ignore-dir", required_argument, NULL, OPT_IGNORE_DIR },
	{ "gc", no_argument, NULL, OPT_GC },
	{ "imports", no_argument, NULL, OPT_IMPORTS },
	{ "audit", optional_argument, NULL, OPT_AUDIT },
	{ "pid", required_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "exe", required_argument, NULL, OPT_EXE },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "delivery", required_argument, NULL, OPT_DELIVERY },
	{ "coverage-file", required_argument, NULL, OPT_COVERAGE_FILE },
	{ "lcov", required_argument, NULL, OPT_LCOV },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "callgraph", required_argument, NULL, OPT_CALLGRAPH },
	{ "duration", required_argument, NULL, 'd' },
	{ "startup", no_argument, NULL, OPT_STARTUP },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n > m && !strcmp(s + n - m, tail);
}

static int usage_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	pr_err("%s (see --help)", msg);
	return 2;
}

/* Append the non-empty pieces of @arg split at @sep. */
static int split_into(char ***list, int *n, const char *arg, char sep)
{
	const char *p = arg;

	while (1) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char **grown;

		/* trace strips module names; dirs are kept as written */
		while (sep == ',' && len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (sep == ',' && len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		grown = realloc(*list, (*n + 1) * sizeof(**list));
		if (!grown)
			return -ENOMEM;
		*list = grown;
		(*list)[*n] = strndup(p, len);
		if (!(*list)[*n])
			return -ENOMEM;
		(*n)++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int parse_pid(const char *arg, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

static int parse_duration(const char *arg, double *secs)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > 1e9)
		return -1;
	*secs = v;
	return 0;
}

/* trace's own rules, in trace's order, with its wording. */
static int check_modes(const struct options *o)
{
	if (o->report && o->no_report)
		return usage_error("%sargument -R/--no-report: not allowed with argument -r/--report", "");
	if (o->report) {
		if (!o->file)
			return usage_error("%s-r/--report requires -f/--file", "");
		if (o->pid || o->command)
			return usage_error("%s-r/--report reads a counts file and takes no target", "");
		return -1;
	}
	if (o->gc || o->imports || o->audit) {
		if (o->trace || o->count || o->listfuncs || o->trackcalls)
			return usage_error("%s--gc, --imports and --audit do not combine with --count, --trace, --listfuncs or --trackcalls", "");
		if (o->file || o->summary || o->missing)
			return usage_error("%s-f, -m and -s belong to trace's modes, not to --gc, --imports or --audit", "");
	} else if (!o->trace && !o->count && !o->listfuncs && !o->trackcalls)
		return usage_error("%smust specify one of --trace, --count, --report, --listfuncs, or --trackcalls", "");
	if (o->listfuncs && (o->count || o->trace))
		return usage_error("%scannot specify both --listfuncs and (--trace or --count)", "");
	if (o->summary && !o->count)
		return usage_error("%s--summary can only be used with --count or --report", "");
	if ((o->pid && o->command) || (o->all && (o->pid || o->command)))
		return usage_error("%s-a/--all, -p/--pid and a COMMAND exclude each other", "");
	if (!o->pid && !o->command && !o->all)
		return usage_error("%sa target is required: -p PID, -a or -- COMMAND", "");
	if (o->startup && !o->command)
		return usage_error("%s--startup needs a COMMAND to launch: a process attached by PID started long ago", "");
	/* several processes: not the modes that turn on the line probe */
	if ((o->all || o->n_pids > 1) && (o->count || o->trace))
		return usage_error("%s--count and --trace take one process: with -a or several -p they would turn the line probe on in each, 40 times slower; use --listfuncs or --trackcalls across processes, or -p PID for one", "");
	if ((o->merge || o->comm || o->exe || o->cgroup) && !o->all)
		return usage_error("%s--merge, --comm, --exe and --cgroup choose among the processes of -a/--all", "");
	if (o->merge && (o->gc || o->imports || o->audit))
		return usage_error("%s--merge joins --listfuncs and --trackcalls reports, not --gc, --imports or --audit", "");
	if ((o->coverage_file || o->lcov) && !o->count && !o->report)
		return usage_error("%s--coverage-file and --lcov write line counts: they need -c/--count (or -r)", "");
	if (o->callgraph && !o->trackcalls)
		return usage_error("%s--callgraph draws --trackcalls' pairs: it needs -T/--trackcalls", "");
	if (o->callgraph && !ends_with(o->callgraph, ".dot") &&
	    !ends_with(o->callgraph, ".callgrind"))
		return usage_error("invalid --callgraph '%s': name it FILE.dot (Graphviz) or FILE.callgrind (kcachegrind)", o->callgraph);
	if ((o->coverage_file || o->lcov || o->json || o->callgraph) &&
	    (o->gc || o->imports || o->audit))
		return usage_error("%s--coverage-file, --lcov, --json and --callgraph belong to trace's modes", "");
	if (o->backend == BACKEND_MONITORING && (o->gc || o->imports || o->audit))
		return usage_error("%s--gc, --imports and --audit count on the interpreter's own probes: --backend=monitoring is for trace's modes", "");
	if (o->delivery && o->backend == BACKEND_USDT)
		return usage_error("%s--delivery is the monitoring backend's: --backend=usdt puts nothing into the target", "");
	if (o->delivery && o->all)
		return usage_error("%s--delivery puts a collector into a process: -a stays with the probes", "");
	if (o->backend == BACKEND_MONITORING && o->all)
		return usage_error("%s--backend=monitoring takes the processes named by -p or a COMMAND, not -a: it puts a collector into each", "");
	return -1;
}

int cli_parse(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->coverdir = ".";
	opterr = 0;
	/* '+' stops at the first non-option, so COMMAND's own flags are left alone */
	while ((c = getopt_long(argc, argv, "+:ctlTrRf:C:msgp:ad:vh", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'c': o->count = true; break;
		case 't': o->trace = true; break;
		case 'l': o->listfuncs = true; break;
		case 'T': o->trackcalls = true; break;
		case 'r': o->report = true; break;
		case 'R': o->no_report = true; break;
		case 'm': o->missing = true; break;
		case 's': o->summary = true; break;
		case 'g': o->timing = true; break;
		case 'v': o->verbose++; break;
		case 'f':
			if (!*optarg)
				return usage_error("%sinvalid -f/--file: empty name", "");
			o->file = optarg;
			break;
		case 'C':
			if (!*optarg)
				return usage_error("%sinvalid -C/--coverdir: empty name", "");
			o->coverdir = optarg;
			break;
		case OPT_IGNORE_MODULE:
			if (split_into(&o->ignore_mods, &o->n_ignore_mods, optarg, ','))
				return usage_error("%sout of memory", "");
			break;
		case OPT_IGNORE_DIR:
			if (split_into(&o->ignore_dirs, &o->n_ignore_dirs, optarg, ':'))
				return usage_error("%sout of memory", "");
			break;
		case OPT_GC: o->gc = true; break;
		case OPT_STARTUP: o->startup = true; break;
		case OPT_IMPORTS: o->imports = true; break;
		case OPT_AUDIT:
			o->audit = true;
			if (optarg && split_into(&o->audit_events,
						 &o->n_audit_events, optarg, ','))
				return usage_error("%sout of memory", "");
			for (int i = 0; i < o->n_audit_events; i++)
				if (!*o->audit_events[i] ||
				    strlen(o->audit_events[i]) >= 64)
					return usage_error("invalid --audit event '%s': 1 to 63 characters", o->audit_events[i]);
			break;
		case 'p': {
			pid_t pid;

			if (parse_pid(optarg, &pid))
				return usage_error("invalid -p/--pid '%s': expected a process ID", optarg);
			if (o->n_pids == CTRACE_MAX_PIDS)
				return usage_error("too many -p/--pid: at most %s", CTRACE_MAX_PIDS_STR);
			o->pids[o->n_pids++] = pid;
			o->pid = o->pids[0];
			break;
		}
		case 'a': o->all = true; break;
		case OPT_MERGE: o->merge = true; break;
		case OPT_COMM:
			if (!*optarg || strlen(optarg) > 15)
				return usage_error("invalid --comm '%s': a process's comm has 1 to 15 characters", optarg);
			o->comm = optarg;
			break;
		case OPT_EXE:
			if (!*optarg)
				return usage_error("invalid --exe '%s': expected a path or a word", optarg);
			o->exe = optarg;
			break;
		case OPT_COVERAGE_FILE:
		case OPT_LCOV:
		case OPT_JSON:
		case OPT_CALLGRAPH:
			if (!*optarg)
				return usage_error("invalid --%s: empty file name",
						   c == OPT_COVERAGE_FILE ? "coverage-file" :
						   c == OPT_LCOV ? "lcov" :
						   c == OPT_JSON ? "json" : "callgraph");
			*(c == OPT_COVERAGE_FILE ? &o->coverage_file :
			  c == OPT_LCOV ? &o->lcov :
			  c == OPT_JSON ? &o->json : &o->callgraph) = optarg;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "auto"))
				o->backend = BACKEND_AUTO;
			else if (!strcmp(optarg, "usdt"))
				o->backend = BACKEND_USDT;
			else if (!strcmp(optarg, "monitoring"))
				o->backend = BACKEND_MONITORING;
			else
				return usage_error("invalid --backend '%s': expected usdt, monitoring or auto", optarg);
			break;
		case OPT_DELIVERY:
			if (!strcmp(optarg, "auto"))
				o->delivery = DELIVERY_AUTO;
			else if (!strcmp(optarg, "pep768"))
				o->delivery = DELIVERY_PEP768;
			else if (!strcmp(optarg, "ptrace"))
				o->delivery = DELIVERY_PTRACE;
			else
				return usage_error("invalid --delivery '%s': expected pep768, ptrace or auto", optarg);
			break;
		case OPT_CGROUP:
			if (!*optarg)
				return usage_error("invalid --cgroup '%s': expected a cgroup directory", optarg);
			o->cgroup = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &o->duration))
				return usage_error("invalid -d/--duration '%s': expected seconds > 0", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("ctrace-bpf %s\n", CTRACE_VERSION);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		/* getopt leaves "--" consumed; anything else bare is a mistake */
		if (strcmp(argv[optind - 1], "--") != 0)
			return usage_error("unexpected argument '%s': put the command after --", argv[optind]);
		o->command = &argv[optind];
	}
	log_level = o->verbose;
	return check_modes(o);
}

enum count_kind options_counts(const struct options *o)
{
	if (o->trackcalls)
		return COUNT_CALLS;
	return o->listfuncs ? COUNT_FUNCS : COUNT_LINES;
}

void options_free(struct options *o)
{
	for (int i = 0; i < o->n_ignore_mods; i++)
		free(o->ignore_mods[i]);
	for (int i = 0; i < o->n_ignore_dirs; i++)
		free(o->ignore_dirs[i]);
	for (int i = 0; i < o->n_audit_events; i++)
		free(o->audit_events[i]);
	free(o->ignore_mods);
	free(o->ignore_dirs);
	free(o->audit_events);
}
