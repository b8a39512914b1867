// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ctrace-bpf: python -m trace's reports, counted by BPF programs on
 * CPython's USDT probes in a running (or freshly launched) process.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "analysis.h"
#include "atomic_file.h"
#include "attach.h"
#include "cli.h"
#include "events.h"
#include "collect.h"
#include "ctrace.skel.h"
#include "log.h"
#include "monitor/run.h"
#include "session.h"
#include "pickle.h"
#include "report.h"
#include "report_out.h"
#include "report_trace.h"
#include "resolve.h"
#include "livepath.h"
#include "syspath.h"
#include "target.h"
#include "term.h"

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

/* -r: python -m trace --report, from a counts file. */
static int report_only(const struct options *o)
{
	struct results r;
	struct resolver rs;
	struct target none = { .root_fd = -1 };
	char why[512];
	int err;

	results_init(&r);
	err = pickle_read(o->file, &r, why, sizeof(why));
	if (err) {
		pr_err("cannot read counts file '%s': %s", o->file, why);
		results_free(&r);
		return 1;
	}
	resolver_init(&rs, NULL, -1, NULL, NULL, 0, NULL, 0);
	rs.want_executable = o->missing;
	err = write_reports(o, &r, &rs, &none, NULL);
	resolver_free(&rs);
	results_free(&r);
	return err;
}

static int trace_target(const struct options *o)
{
	const struct collector_ops *ops;
	const struct py_flavor *fl;
	char why[1024];
	struct target t;
	int err, ret = 1;

	if (check_kernel(why, sizeof(why))) {
		pr_err("%s", why);
		return 1;
	}
	if (o->pid)
		err = target_from_pid(o->pid, &t, why, sizeof(why));
	else
		err = target_prepare_launch(o->command, &t, why, sizeof(why));
	/* a Python without probes: the monitoring backend may still serve */
	if (err == -ENODATA && !o->gc && !o->imports && !o->audit &&
	    o->backend != BACKEND_USDT && monitor_possible(&t.elf))
		err = 0;
	if (err) {
		pr_err("%s", why);
		target_close(&t);
		return 1;
	}
	ops = collector_for(o, &t, &fl, why, sizeof(why));
	if (!ops) {
		pr_err("%s", why);
		goto out;
	}
	if (fl) {
		pyelf_version_str(&t.elf, why, sizeof(why));
		pr_info("target PID %d, '%s', CPython %s, %s backend", t.pid,
			t.elf.path, why, ops->name);
	}
	ret = session_run(o, &t, fl, ops, &stop_requested);
out:
	if (t.launched && !t.reaped)
		target_abort(&t);
	target_close(&t);
	return ret;
}

/* -v: our own peak memory, for the bench (analysis children not included) */
static void report_peak_rss(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			pr_info("peak RSS:%s", strtok(line + 6, "\n"));
	if (f)
		fclose(f);
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
	else if (o.all || o.n_pids > 1)
		ret = session_run_many(&o, &stop_requested);
	else
		ret = trace_target(&o);
	analysis_shutdown();
	report_peak_rss();
	options_free(&o);
	return ret;
}
