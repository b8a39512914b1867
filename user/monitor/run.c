// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "gate.h"
#include "log.h"
#include "monitor.h"
#include "report_out.h"
#include "resolve.h"
#include "run.h"

bool monitor_possible(const struct pyelf *e)
{
	return e->major > 3 || (e->major == 3 && e->minor >= 14);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void on_record(void *ctx, const void *rec, size_t len)
{
	trace_stream_event(ctx, rec, len);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Launched: stop the Python where its main module starts, then ask. */
static int start_launched(const struct options *o, struct monitor *m,
			  struct target *t, enum mon_mode mode,
			  volatile sig_atomic_t *stop, char *why, size_t why_len)
{
	enum mon_start start;
	struct gate g;
	int err;

	err = gate_arm(&g, t, o->startup, why, why_len);
	if (err)
		return err;
	err = target_release(t, why, why_len);
	if (!err)
		err = gate_wait(&g, t, &start, why, why_len);
	if (!err)
		err = monitor_start(m, t, mode, start, o->missing, why, why_len);
	gate_open(&g, t);
	return err ? err : monitor_ready(m, stop, why, why_len);
}

/* Until Ctrl-C, the duration, or the collector's tables at the target's exit. */
static int wait_for_end(const struct options *o, struct monitor *m,
			struct target *t, volatile sig_atomic_t *stop,
			char *why, size_t why_len)
{
	double deadline = o->duration ? now_s() + o->duration : 0;
	int err = 0;

	while (!*stop && !(deadline && now_s() >= deadline)) {
		struct pollfd p[2] = {
			{ .fd = monitor_pollfd(m), .events = POLLIN },
			{ .fd = target_pollfd(t), .events = POLLIN },
		};

		poll(p, p[1].fd >= 0 ? 2 : 1, 100);
		if (monitor_poll(m, why, why_len, &err) || target_gone(t))
			break;
	}
	return err;
}

static int name_and_report(const struct options *o, struct monitor *m,
			   struct target *t, const struct py_flavor *fl)
{
	struct raw_tables *raw = &m->reply.raw;
	struct resolver rs;
	struct results r;
	int err = 0, ret = 1;

	results_init(&r);
	resolver_init(&rs, fl, t->root_fd, t->cwd, o->ignore_mods,
		      o->n_ignore_mods, o->ignore_dirs, o->n_ignore_dirs);
	/* --missing's lines come from the target's compiler, not ours */
	rs.want_executable = false;
	resolver_give_executable(&rs, m->reply.exec, m->reply.n_exec);
	/*
	 * Names and executable lines come from the target itself: nothing is
	 * compiled here, and sources are read only for the .cover files.
	 */
	if (o->trackcalls)
		err = resolve_calls(&rs, raw, &r);
	else if (o->listfuncs)
		err = resolve_funcs(&rs, raw, &r);
	else
		err = resolve_counts(&rs, raw, &r);
	if (err) {
		pr_err("out of memory resolving names");
	} else {
		merge_counts_file(o, &r);
		ret = write_reports(o, &r, &rs, t, fl);
	}
	resolver_free(&rs);
	results_free(&r);
	return ret;
}

int monitor_run(const struct options *o, struct target *t,
		const struct py_flavor *fl, volatile sig_atomic_t *stop)
{
	enum mon_mode mode = o->trackcalls ? MON_CALLS :
			     o->listfuncs ? MON_FUNCS :
			     o->trace && o->count ? MON_TRACE_COUNT :
			     o->trace ? MON_TRACE : MON_COUNT;
	struct trace_stream ts = {};
	struct trace_lookup lk;
	struct resolver rs;
	struct monitor m;
	char why[1024];
	int err, ret = 1;

	memset(&m, 0, sizeof(m));
	m.tmp_fd = m.dir_fd = m.out_fd = m.ctl_fd = -1;
	/* --trace prints as the events come: its sources are read meanwhile */
	resolver_init(&rs, fl, t->root_fd, t->cwd, o->ignore_mods,
		      o->n_ignore_mods, o->ignore_dirs, o->n_ignore_dirs);
	lk = resolver_trace_lookup(&rs);
	trace_stream_init(&ts, stdout, o->timing, mono_ns(), &lk);
	if (o->trace) {
		m.reply.sink = on_record;
		m.reply.sink_ctx = &ts;
	}
	if (t->launched)
		err = start_launched(o, &m, t, mode, stop, why, sizeof(why));
	else
		err = monitor_start(&m, t, mode, MON_NOW, o->missing, why,
				    sizeof(why)) ?:
		      monitor_ready(&m, stop, why, sizeof(why));
	if (err) {
		pr_err("%s", why);
		goto out;
	}
	pr_info("collector: sys.monitoring tool %d in process %d", m.reply.tool,
		t->pid);
	target_print_ready(t, t->launched && !o->startup,
			   "by a sys.monitoring collector inside it (PEP 768)");
	err = wait_for_end(o, &m, t, stop, why, sizeof(why));
	if (!err)
		err = monitor_stop(&m, 60, why, sizeof(why));
	if (err) {
		pr_err("%s", why);
		goto out;
	}
	pr_debug("collector: %zu bytes, %zu lines, %zu functions, %zu pairs",
		 m.total, m.reply.raw.n_lines, m.reply.raw.n_funcs,
		 m.reply.raw.n_calls);
	fflush(stdout);
	ret = name_and_report(o, &m, t, fl);
	/* a launched program's own status, once it is through its exit */
	if (t->launched)
		for (int i = 0; i < 100 && !target_gone(t); i++)
			usleep(20000);
	if (!ret && t->launched && t->reaped && WIFEXITED(t->exit_status))
		ret = WEXITSTATUS(t->exit_status);
out:
	monitor_close(&m);
	trace_stream_free(&ts);
	resolver_free(&rs);
	return ret;
}
