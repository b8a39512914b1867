// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ctrace-bpf: python -m trace's reports, counted by BPF programs on
 * CPython's USDT probes in a running (or freshly launched) process.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "naming/analysis.h"
#include "naming/resolve.h"
#include "report/output.h"
#include "session/session.h"
#include "target/pyversion.h"
#include "target/target.h"
#include "trace/pickle.h"
#include "trace/results.h"
#include "util/atomic_file.h"
#include "util/log.h"
#include "util/procstatus.h"
#include "util/term.h"

static volatile sig_atomic_t stop_requested;

/* The first signal ends the trace cleanly; SA_RESETHAND lets a second kill. */
/* The first Ctrl-C or SIGTERM ends the trace; a second one ends us. */
static void on_signal(int sig)
{
	if (stop_requested) {
		atomic_cleanup_from_signal();
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

extern char **environ;

/*
 * -r: python -m trace --report, from a counts file.  trace names the
 * .cover files against its own sys.path, that of "python3.11 -m trace"
 * in this directory (our analyser's Python): so do we.
 */
static int report_only(const struct options *o)
{
	static char *trace_argv[] = { "python3.11", "-m", "trace", NULL };
	struct target here = { .root_fd = -1, .argv = trace_argv, .argc = 3,
			       .env = environ };
	struct pyelf host = { .major = 3, .minor = 11 };
	const struct py_flavor *fl;
	struct results r;
	struct resolver rs;
	char why[512];
	int err;

	results_init(&r);
	err = pickle_read(o->file, &r, why, sizeof(why));
	if (err) {
		pr_err("cannot read counts file '%s': %s", o->file, why);
		results_free(&r);
		return 1;
	}
	while (environ[here.envc])
		here.envc++;
	if (!getcwd(here.cwd, sizeof(here.cwd)))
		here.cwd[0] = '\0';
	fl = here.cwd[0] ? py_flavor_for(&host, why, sizeof(why)) : NULL;
	resolver_init(&rs, NULL, -1, NULL, NULL, 0, NULL, 0);
	rs.want_executable = o->missing;
	err = write_reports(o, &r, &rs, &here, fl);
	resolver_free(&rs);
	results_free(&r);
	return err;
}

/* -v: our own peak memory, for the bench (analysis children not included) */
static void report_peak_rss(void)
{
	char v[64];

	if (!proc_status(0, "VmHWM", v, sizeof(v)))
		pr_info("peak RSS: %s", v);
}

int main(int argc, char **argv)
{
	struct options o;
	int ret;

	/* line-buffered, so a pipe reader sees --trace lines as they happen */
	setvbuf(stdout, NULL, _IOLBF, 0);
	term_guard_stdout();
	ret = cli_parse(argc, argv, &o);
	if (ret >= 0) {
		options_free(&o);
		return ret;
	}
	install_signals();
	if (o.report)
		ret = report_only(&o);
	else
		ret = session_run(&o, &stop_requested);
	analysis_shutdown();
	report_peak_rss();
	options_free(&o);
	return ret;
}
