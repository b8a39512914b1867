// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lifecycle of a trace, whichever collector counts and however many
 * processes it covers: start, wait, stop, name, report.  One process (-p,
 * or a launched command) is the case N = 1, with trace's own reports.
 * Several (-p repeated, or -a: every Python process on the host, those
 * that start while we trace included) get one report each under a
 * "pid PID: COMMAND" heading, kept when the process exits before the end,
 * or one for all with --merge.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "events/events.h"
#include "monitor/run.h"
#include "report/output.h"
#include "report/report.h"
#include "session/execwatch.h"
#include "session/scan.h"
#include "session/session.h"
#include "trace/results.h"
#include "usdt/attach.h"
#include "usdt/fleet.h"
#include "util/clock.h"
#include "util/log.h"

static bool probes_mode(const struct options *o)
{
	return o->gc || o->imports || o->audit;
}

/* One process of the session, and the collector that counts it. */
struct member {
	struct target *t;
	struct target own_t;
	struct collector c;
	struct resolver rs;
	struct trace_lookup lk;
	struct trace_stream ts;
	bool stopped;	/* its counts are in */
	bool ended;	/* its collector has nothing more to give */
	bool gone;	/* its process exited */
};

struct session {
	const struct options *o;
	volatile sig_atomic_t *stop;
	bool one;		/* one process: trace's reports */
	struct hub hub;
	struct events ev;
	struct execwatch watch;	/* -a */
	bool watching;
	struct member **m;
	int n, cap;
	struct pollfd *pfd;
	int cap_pfd;
	struct scan scan;	/* -a */
	struct results merged;	/* --merge, --json, --callgraph of several */
};

/*
 * The one choice of backend.  @examined is what examining @t returned:
 * -ENODATA, a Python without probes, is served by the monitoring backend
 * where it can be, and stands (its @why kept) where it cannot.
 */
const struct collector_ops *collector_for(const struct options *o,
					  struct target *t, int examined,
					  const struct py_flavor **fl,
					  char *why, size_t why_len)
{
	const struct collector_ops *ops = &usdt_collector;
	struct plan plan;
	char flwhy[256];
	int err;

	*fl = NULL;
	if (examined == -ENODATA &&
	    (probes_mode(o) || o->backend == BACKEND_USDT ||
	     !monitor_possible(&t->elf)))
		return NULL;
	if (probes_mode(o))
		return &events_collector;
	/* a missing probe is the clearer refusal, so it is reported first */
	*fl = py_flavor_for(&t->elf, flwhy, sizeof(flwhy));
	err = o->backend == BACKEND_MONITORING ? -ENOTSUP :
	      plan_make(o, *fl, t, &plan, why, why_len);
	/* probes, but no table of this version's frames to read them with */
	if (!err && *fl && !py_usdt_layout(*fl)) {
		snprintf(why, why_len,
			 "ctrace-bpf cannot read CPython %d.%d's probes (it knows no layout of its frames); without --backend=usdt, the collector counts there",
			 t->elf.major, t->elf.minor);
		err = -ENOTSUP;
	}
	if (err && o->backend != BACKEND_USDT && monitor_possible(&t->elf))
		ops = &monitor_collector;
	else if (o->backend == BACKEND_MONITORING)
		snprintf(why, why_len,
			 "--backend=monitoring needs CPython 3.8 or later; process %d runs CPython %d.%d",
			 t->pid, t->elf.major, t->elf.minor);
	if (err && ops != &monitor_collector)
		return NULL;
	if (!*fl) {
		snprintf(why, why_len, "%s", flwhy);
		return NULL;
	}
	return ops;
}

static struct member *member_new(struct session *s)
{
	struct member *m;

	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct member **g = realloc(s->m, cap * sizeof(*g));

		if (!g)
			return NULL;
		s->m = g;
		s->cap = cap;
	}
	m = calloc(1, sizeof(*m));
	if (m)
		m->t = &m->own_t;
	return m;
}

static void member_free(struct member *m)
{
	if (m->c.ops)
		m->c.ops->close(&m->c);
	/* a launched program never let go, or still running at the end */
	if (m->t->launched && !m->t->reaped)
		target_abort(m->t);
	trace_stream_free(&m->ts);
	resolver_free(&m->rs);
	if (m->t == &m->own_t)
		target_close(m->t);
	free(m);
}

/* Counting starts in @m's process with @ops; it joins the session. */
static int member_start(struct session *s, struct member *m,
			const struct collector_ops *ops,
			const struct py_flavor *fl, char *why, size_t why_len)
{
	const struct options *o = s->o;
	struct target *t = m->t;
	int err;

	resolver_init(&m->rs, fl, t->root_fd, t->cwd, o->ignore_mods,
		      o->n_ignore_mods, o->ignore_dirs, o->n_ignore_dirs);
	m->rs.want_executable = o->missing;
	m->lk = resolver_trace_lookup(&m->rs);
	trace_stream_init(&m->ts, stdout, o->timing, mono_ns(), &m->lk);
	m->c = (struct collector){
		.ops = ops, .o = o, .t = t, .fl = fl, .rs = &m->rs,
		.ts = &m->ts, .stop = s->stop, .many = !s->one, .hub = &s->hub,
	};
	/* each collector checks the process is still the one it examined */
	err = ops->start(&m->c, why, why_len);
	if (err)
		return err;
	s->m[s->n++] = m;
	return 0;
}

static bool counting(const struct session *s, pid_t pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->m[i]->t->pid == pid && !s->m[i]->gone)
			return true;
	return false;
}

/*
 * Examine @pid into @m (0: launch the command), with the interpreter
 * already read under -a; @st names its executable for -a's cache.
 */
static int examine(struct session *s, struct member *m, pid_t pid, bool quiet,
		   const struct stat *st, char *why, size_t why_len)
{
	const struct pyelf *elf = NULL;

	if (!pid)
		return target_prepare_launch(s->o->command, m->t, why, why_len);
	if (quiet && s->hub.fleet)
		elf = fleet_elf_of(s->hub.fleet, st);
	return elf ? target_from_pid_elf(pid, elf, m->t, why, why_len) :
		     target_from_pid(pid, m->t, why, why_len);
}

static void announce(struct session *s, struct member *m,
		     const struct collector_ops *ops, const struct py_flavor *fl)
{
	struct target *t = m->t;
	char ver[64];

	if (ops == &fleet_collector) {
		pr_debug("counting PID %d: %s", t->pid, t->cmdline);
	} else if (!s->one) {
		pr_info("attached to PID %d: %s", t->pid, t->cmdline);
	} else if (fl) {
		pyelf_version_str(&t->elf, ver, sizeof(ver));
		pr_info("target PID %d, '%s', CPython %s, %s backend", t->pid,
			t->elf.path, ver, ops->name);
	}
}

/*
 * @m could not join: why is said (under -a, where most processes are not
 * Python, only as a note: once by binary for a Python we cannot trace,
 * under -v for the rest), and it goes.  0 under -a, else -1.
 */
static int refuse(struct session *s, struct member *m, bool quiet,
		  bool python, int err, const struct stat *st, const char *why)
{
	if (!quiet)
		pr_err("%s", why);
	else if (python)
		fleet_not_traced(s->hub.fleet, m->t, why);
	else
		pr_debug("PID %d: %s", m->t->pid, why);
	if (quiet && !python && err != -ESRCH)
		scan_not_python(&s->scan, st);
	member_free(m);
	return quiet ? 0 : -1;
}

/* Which collector counts @m, and with which flavour; NULL with @why. */
static const struct collector_ops *choose(struct session *s, struct member *m,
					  int examined,
					  const struct py_flavor **fl,
					  char *why, size_t why_len)
{
	*fl = NULL;
	if (s->hub.fleet && !probes_mode(s->o))
		return examined ? NULL : &fleet_collector;
	return collector_for(s->o, m->t, examined, fl, why, why_len);
}

/*
 * Start counting in @pid (0: the command to launch), whichever session
 * it joins; @quiet for -a, where a process that cannot be traced is only
 * noted.
 */
static int add_process(struct session *s, pid_t pid, bool quiet)
{
	const struct collector_ops *ops;
	const struct py_flavor *fl;
	struct member *m;
	struct stat st;
	char why[1024];
	int err;

	if (pid && (pid == getpid() || counting(s, pid)))
		return 0;
	if (quiet && scan_known_not_python(&s->scan, pid, &st))
		return 0;
	m = member_new(s);
	if (!m)
		return -ENOMEM;
	m->t->pid = pid;
	err = examine(s, m, pid, quiet, &st, why, sizeof(why));
	if (err && err != -ENODATA)
		return refuse(s, m, quiet, false, err, &st, why);
	if (s->hub.fleet && !fleet_wants(s->hub.fleet, m->t)) {
		member_free(m);
		return 0;
	}
	ops = choose(s, m, err, &fl, why, sizeof(why));
	if (!ops)
		return refuse(s, m, quiet, !err, err, &st, why);
	err = member_start(s, m, ops, fl, why, sizeof(why));
	if (err && ops == &fleet_collector) {
		pr_debug("not counting PID %d (%s): %s", pid, m->t->comm, why);
		member_free(m);
		return 0;
	}
	if (err)
		return refuse(s, m, quiet, true, err, &st, why);
	announce(s, m, ops, fl);
	return 0;
}

static void add_running(void *ctx, pid_t pid)
{
	add_process(ctx, pid, true);
}

/* Every collector's fd and every process's pidfd, for one poll(). */
static int poll_all(struct session *s, int ms)
{
	int n = 0;

	/* two a process, the events' ring and the exec watcher's */
	if (s->cap_pfd < 2 * s->n + 2) {
		int cap = 2 * s->cap + 2;
		struct pollfd *g = realloc(s->pfd, cap * sizeof(*g));

		if (!g)
			return poll(NULL, 0, ms);
		s->pfd = g;
		s->cap_pfd = cap;
	}
	if (s->hub.ev)
		s->pfd[n++] = (struct pollfd){
			.fd = events_pollfd(s->hub.ev), .events = POLLIN };
	if (s->watching)
		s->pfd[n++] = (struct pollfd){
			.fd = execwatch_pollfd(&s->watch), .events = POLLIN };
	for (int i = 0; i < s->n; i++) {
		struct member *m = s->m[i];
		int fd = m->ended ? -1 : m->c.ops->pollfd(&m->c);

		if (fd >= 0)
			s->pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		fd = m->gone ? -1 : target_pollfd(m->t);
		if (fd >= 0)
			s->pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	return poll(s->pfd, n, ms);
}

/*
 * Until Ctrl-C, the duration, or (but under -a) the end of every process
 * or of its collector; @by_target: the processes ended it.  Processes that
 * start under -a join as their exec is seen.
 */
static int wait_for_end(struct session *s, bool *by_target, char *why,
			size_t why_len)
{
	const struct options *o = s->o;
	uint64_t deadline = o->duration ? mono_ns() + o->duration * 1e9 : 0;

	*by_target = false;
	while (!*s->stop && !(deadline && mono_ns() >= deadline)) {
		bool left = false;

		poll_all(s, 100);
		if (s->hub.ev)
			events_poll(s->hub.ev, 0);
		if (s->watching) {
			execwatch_poll(&s->watch);
			/* a fresh exec may still be mapping its interpreter */
			for (int i = 0; i < s->watch.n; i++)
				add_process(s, s->watch.pids[i], true);
			s->watch.n = 0;
		}
		for (int i = 0; i < s->n; i++) {
			struct member *m = s->m[i];
			int err = 0;

			if (!m->ended)
				m->ended = m->c.ops->drain(&m->c, &err, why,
							   why_len);
			if (err && s->one)
				return err;
			if (err) {
				pr_err("PID %d: %s", m->t->pid, why);
				m->ended = true;
			}
			if (!m->gone && target_gone(m->t))
				m->gone = true;
			left = left || !(m->ended || m->gone);
		}
		if (!o->all && !left) {
			*by_target = true;
			break;
		}
	}
	return 0;
}

/* Every collector stops, before any is reported: one end for all. */
static int stop_all(struct session *s, char *why, size_t why_len)
{
	if (s->hub.ev)
		events_stop(s->hub.ev);
	for (int i = 0; i < s->n; i++) {
		struct member *m = s->m[i];
		int err = m->c.ops->stop(&m->c, why, why_len);

		if (err && s->one)
			return err;
		if (err)
			pr_err("PID %d: %s", m->t->pid, why);
		m->stopped = !err;
	}
	return 0;
}

/* @m's counts, named: false when they could not be. */
static bool name_member(struct session *s, struct member *m,
			enum count_kind kind, struct results *r)
{
	struct collector *c = &m->c;
	uint64_t t0 = mono_ns();
	int err;

	err = resolve_for_mode(c->rs, c->raw, kind, r);
	if (err && s->one)
		pr_err("out of memory resolving names");
	else if (err)
		pr_err("PID %d: out of memory resolving names", m->t->pid);
	if (err)
		return false;
	if (s->one)
		pr_info("named %zu keys in %.2f s",
			c->raw->n_lines + c->raw->n_funcs + c->raw->n_calls,
			(mono_ns() - t0) / 1e9);
	if (c->ops->warn)
		c->ops->warn(c);
	return true;
}

/* N = 1: trace's own reports, and its files. */
static int report_one(struct session *s)
{
	struct member *m = s->m[0];
	const struct options *o = s->o;
	struct results r;
	uint64_t t0;
	int ret = 1;

	if (m->c.ops->report) {
		m->c.ops->report(&m->c);
		return 0;
	}
	results_init(&r);
	if (name_member(s, m, options_counts(o), &r)) {
		merge_counts_file(o, &r);
		t0 = mono_ns();
		ret = write_reports(o, &r, m->c.rs, m->t, m->c.fl);
		pr_info("reports written in %.2f s", (mono_ns() - t0) / 1e9);
	}
	results_free(&r);
	return ret;
}

/* N > 1: a report for each, under its heading, or one for all. */
static void report_many(struct session *s)
{
	const struct options *o = s->o;
	uint64_t t0 = mono_ns();

	for (int i = 0; i < s->n; i++) {
		struct member *m = s->m[i];
		struct results r;

		if (m->c.ops->report) {
			m->c.ops->report(&m->c);
			continue;
		}
		if (!o->merge)
			report_heading(stdout, m->t->pid, m->t->cmdline);
		if (!m->stopped)
			continue;
		results_init(&r);
		/* several: -l or -T only (cli.c) */
		if (name_member(s, m, options_counts(o), &r)) {
			if (!o->merge)
				report_listing(&r, options_counts(o), stdout);
			/* --merge, --json and --callgraph take every one's */
			if ((o->merge || exports_wanted(o)) &&
			    results_merge(&s->merged, &r))
				pr_err("out of memory joining the processes' results");
		}
		results_free(&r);
		fflush(stdout);
	}
	if (s->hub.fleet)
		fleet_report_unexamined(s->hub.fleet,
					o->merge ? &s->merged : NULL, stdout);
	if (o->merge)
		report_listing(&s->merged, options_counts(o), stdout);
	fflush(stdout);
	if (!probes_mode(o))
		write_exports(o, &s->merged, NULL, NULL);
	if (s->hub.fleet)
		fleet_notes(s->hub.fleet);
	pr_info("%d processes reported in %.2f s", s->n,
		(mono_ns() - t0) / 1e9);
}

static void session_free(struct session *s)
{
	for (int i = 0; i < s->n; i++)
		member_free(s->m[i]);
	free(s->m);
	free(s->pfd);
	fleet_free(s->hub.fleet);
	if (s->hub.ev)
		events_close(s->hub.ev);
	if (s->watching)
		execwatch_close(&s->watch);
	results_free(&s->merged);
	free(s);
}

/* From the end to the last report byte: make bench reads the time. */
static int run(struct session *s)
{
	bool by_target = false;
	char why[1024];
	uint64_t t_end;
	int err, ret = 1;

	err = wait_for_end(s, &by_target, why, sizeof(why));
	t_end = mono_ns();
	if (!err)
		err = stop_all(s, why, sizeof(why));
	if (err) {
		pr_err("%s", why);
		return 1;
	}
	fflush(stdout);
	if (s->one) {
		ret = report_one(s);
	} else {
		report_many(s);
		ret = 0;
	}
	fflush(stdout);
	pr_info("end to report: %.3f s", (mono_ns() - t_end) / 1e9);
	if (s->one) {
		struct target *t = s->m[0]->t;

		/* a launched program's own status, once it is through its exit */
		for (int i = 0; by_target && t->launched && i < 100 &&
		     !target_gone(t); i++)
			usleep(20000);
		if (!ret && t->launched && t->reaped &&
		    WIFEXITED(t->exit_status))
			ret = WEXITSTATUS(t->exit_status);
	}
	return ret;
}

/* Each process traced holds a pidfd and its root open: thousands of them. */
static void raise_fd_limit(void)
{
	struct rlimit r;

	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/*
 * The hub: -a --listfuncs/--trackcalls count through one object per
 * binary (fleet.c); --gc, --imports and --audit through one object for
 * all.  -a watches execs with an object of its own, whatever the mode.
 */
static int open_hub(struct session *s, char *why, size_t why_len)
{
	const struct options *o = s->o;
	struct proc_filter pf = {};

	if (o->all) {
		s->hub.fleet = fleet_new(o, why, why_len);
		if (!s->hub.fleet)
			return -EINVAL;
		fleet_filter(s->hub.fleet, &pf);
		if (execwatch_open(&s->watch, why, why_len)) {
			execwatch_close(&s->watch);
			return -EINVAL;
		}
		s->watching = true;
	}
	if (!probes_mode(o))
		return 0;
	if (events_open(&s->ev, o, &pf, why, why_len)) {
		events_close(&s->ev);
		return -EINVAL;
	}
	s->hub.ev = &s->ev;
	return 0;
}

/* The processes of @o: the command, each -p, or -a's scan of the host. */
static int add_all(struct session *s)
{
	const struct options *o = s->o;

	if (o->all) {
		/* a busy host's first scan: armed at once, before any traps */
		fleet_defer(s->hub.fleet, true);
		scan_running(add_running, s);
		fleet_defer(s->hub.fleet, false);
		fleet_arm(s->hub.fleet);
		return 0;
	}
	if (!o->n_pids)
		return add_process(s, 0, false);
	for (int i = 0; i < o->n_pids; i++)
		if (add_process(s, o->pids[i], false))
			return -1;
	return 0;
}

int session_run(const struct options *o, volatile sig_atomic_t *stop)
{
	struct session *s = calloc(1, sizeof(*s));
	char why[1024];
	int ret = 1;

	if (!s) {
		pr_err("out of memory");
		return 1;
	}
	s->o = o;
	s->stop = stop;
	s->one = !o->all && o->n_pids <= 1;
	results_init(&s->merged);
	if (check_kernel(why, sizeof(why)) ||
	    (!s->one && open_hub(s, why, sizeof(why)))) {
		pr_err("%s", why);
		goto out;
	}
	if (!s->one)
		raise_fd_limit();
	if (add_all(s))
		goto out;
	if (!s->one) {
		if (o->audit)
			audit_header(stdout);
		fprintf(stderr, "Tracing %d Python process%s%s... Ctrl-C to end.\n",
			s->n, s->n == 1 ? "" : "es",
			o->all ? " and any that start" : "");
		fflush(stderr);
	}
	ret = run(s);
out:
	session_free(s);
	return ret;
}
