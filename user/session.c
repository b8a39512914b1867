// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lifecycle of one trace, whichever collector counts: start, wait,
 * stop, name, report.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "log.h"
#include "report_out.h"
#include "session.h"

/*
 * Until Ctrl-C, the duration, the target's exit, or the collector's end;
 * @by_target: the target ended it (its exit, an exec).
 */
static int wait_for_end(struct collector *c, bool *by_target, char *why,
			size_t why_len)
{
	uint64_t deadline = c->o->duration ?
			    mono_ns() + c->o->duration * 1e9 : 0;
	int err = 0;

	*by_target = false;
	while (!*c->stop && !(deadline && mono_ns() >= deadline)) {
		struct pollfd p[2] = {
			{ .fd = c->ops->pollfd(c), .events = POLLIN },
			{ .fd = target_pollfd(c->t), .events = POLLIN },
		};

		poll(p, 2, 100);
		if (c->ops->drain(c, &err, why, why_len) || err) {
			*by_target = !err;
			break;
		}
		if (target_gone(c->t)) {
			*by_target = true;
			break;
		}
	}
	return err;
}

static int name_and_report(struct collector *c)
{
	const struct options *o = c->o;
	struct results r;
	uint64_t t0 = mono_ns();
	int err, ret = 1;

	results_init(&r);
	err = resolve_for_mode(c->rs, c->raw, o->trackcalls, o->listfuncs, &r);
	if (err) {
		pr_err("out of memory resolving names");
		goto out;
	}
	pr_info("named %zu keys in %.2f s",
		c->raw->n_lines + c->raw->n_funcs + c->raw->n_calls,
		(mono_ns() - t0) / 1e9);
	if (c->ops->warn)
		c->ops->warn(c);
	merge_counts_file(o, &r);
	t0 = mono_ns();
	ret = write_reports(o, &r, c->rs, c->t, c->fl);
	pr_info("reports written in %.2f s", (mono_ns() - t0) / 1e9);
out:
	results_free(&r);
	return ret;
}

int session_run(const struct options *o, struct target *t,
		const struct py_flavor *fl, const struct collector_ops *ops,
		volatile sig_atomic_t *stop)
{
	struct trace_stream ts = {};
	struct trace_lookup lk;
	struct resolver rs;
	struct collector c = {
		.ops = ops, .o = o, .t = t, .fl = fl, .rs = &rs, .ts = &ts,
		.stop = stop,
	};
	bool by_target = false;
	uint64_t t_end;
	char why[1024];
	int err, ret = 1;

	resolver_init(&rs, fl, t->root_fd, t->cwd, o->ignore_mods,
		      o->n_ignore_mods, o->ignore_dirs, o->n_ignore_dirs);
	rs.want_executable = o->missing;
	lk = resolver_trace_lookup(&rs);
	trace_stream_init(&ts, stdout, o->timing, mono_ns(), &lk);
	err = ops->start(&c, why, sizeof(why));
	if (!err)
		err = wait_for_end(&c, &by_target, why, sizeof(why));
	t_end = mono_ns();
	if (!err)
		err = ops->stop(&c, why, sizeof(why));
	if (err) {
		pr_err("%s", why);
		goto out;
	}
	fflush(stdout);
	if (ops->report) {
		ops->report(&c);
		ret = 0;
	} else {
		ret = name_and_report(&c);
	}
	fflush(stdout);
	/* what the user waits for after the end: make bench reads it */
	pr_info("end to report: %.3f s", (mono_ns() - t_end) / 1e9);
	/* a launched program's own status, once it is through its exit */
	for (int i = 0; by_target && t->launched && i < 100 && !target_gone(t);
	     i++)
		usleep(20000);
	if (!ret && t->launched && t->reaped && WIFEXITED(t->exit_status))
		ret = WEXITSTATUS(t->exit_status);
out:
	ops->close(&c);
	trace_stream_free(&ts);
	resolver_free(&rs);
	return ret;
}
