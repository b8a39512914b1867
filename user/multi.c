// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Several processes at once: -p given more than once, or -a for every
 * Python process on the host, those that start while we trace included.
 * -a --listfuncs/--trackcalls counts through one object per interpreter
 * binary (fleet.c); repeated -p gives each process its own object, armed
 * for it alone; --gc, --imports and --audit share one object.  Each
 * process gets its own report under a "pid PID: COMMAND" heading, kept
 * when the process exits before the end.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include "attach.h"
#include "clock.h"
#include "collect.h"
#include "ctrace.skel.h"
#include "events.h"
#include "fleet.h"
#include "log.h"
#include "collector.h"
#include "monitor/run.h"
#include "multi.h"
#include "report_out.h"
#include "pyversion.h"
#include "report.h"
#include "resolve.h"
#include "results.h"

#define MAX_SKIPPED 4096

struct session {
	struct target t;
	const struct py_flavor *fl;
	/* -p: this process's own collector (usdt, or monitoring on 3.14+) */
	struct collector c;
	bool have_c;
	struct resolver rs;
	struct trace_lookup lk;
	struct trace_stream ts;
	int bin;		/* -a: its binary in the fleet */
	bool gone;	/* exited: counting stopped, report kept */
	bool ended;	/* its collector has nothing more to give */
};

struct multi {
	const struct options *o;
	bool probes_mode;	/* --gc, --imports, --audit */
	struct events ev;
	bool have_ev;
	struct fleet *fleet;	/* -a: the filters, and the binaries */
	bool by_binary;		/* -a --listfuncs/--trackcalls: a fleet's objects */
	struct session **s;
	int n, cap;
	struct results *merged;	/* every process's, for --json, --callgraph */
	volatile sig_atomic_t *stop;
	/* executables already found not to be Python: (dev, inode) */
	struct { dev_t dev; ino_t ino; } skipped[MAX_SKIPPED];
	int n_skipped;
};

static bool known_not_python(struct multi *m, pid_t pid, struct stat *st)
{
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (stat(exe, st))
		return true;	/* gone, or a kernel thread */
	for (int i = 0; i < m->n_skipped; i++)
		if (m->skipped[i].dev == st->st_dev && m->skipped[i].ino == st->st_ino)
			return true;
	return false;
}

static bool tracing(const struct multi *m, pid_t pid)
{
	for (int i = 0; i < m->n; i++)
		if (m->s[i]->t.pid == pid && !m->s[i]->gone)
			return true;
	return false;
}

/*
 * -p, one of several: this process's own collector, chosen as for one
 * process (usdt where its probes serve the mode, else monitoring on 3.14+).
 */
static int start_collector(struct multi *m, struct session *s, char *why,
			   size_t why_len)
{
	const struct options *o = m->o;
	const struct collector_ops *ops = &usdt_collector;
	struct plan plan;
	char flwhy[256];
	int err;

	s->fl = py_flavor_for(&s->t.elf, flwhy, sizeof(flwhy));
	err = o->backend == BACKEND_MONITORING ? -ENOTSUP :
	      plan_make(o, s->fl, &s->t, &plan, why, why_len);
	if (err && o->backend != BACKEND_USDT && monitor_possible(&s->t.elf))
		ops = &monitor_collector;
	else if (err)
		return err;
	if (!s->fl) {
		snprintf(why, why_len, "%s", flwhy);
		return -ENOTSUP;
	}
	resolver_init(&s->rs, s->fl, s->t.root_fd, s->t.cwd, o->ignore_mods,
		      o->n_ignore_mods, o->ignore_dirs, o->n_ignore_dirs);
	s->lk = resolver_trace_lookup(&s->rs);
	trace_stream_init(&s->ts, stdout, false, mono_ns(), &s->lk);
	s->c = (struct collector){
		.ops = ops, .o = o, .t = &s->t, .fl = s->fl, .rs = &s->rs,
		.ts = &s->ts, .stop = m->stop, .many = true,
	};
	s->have_c = true;
	/* each collector checks the process is still the one it examined */
	return ops->start(&s->c, why, why_len);
}

static void close_collector(struct session *s)
{
	if (!s->have_c)
		return;
	s->c.ops->close(&s->c);
	trace_stream_free(&s->ts);
	resolver_free(&s->rs);
	s->have_c = false;
}

/* Take what each collector has: --trace's ring, the monitoring FIFO. */
static void drain_all(struct multi *m)
{
	char why[1024];

	for (int i = 0; i < m->n; i++) {
		struct session *s = m->s[i];
		int err = 0;

		if (!s->have_c || s->ended)
			continue;
		s->ended = s->c.ops->drain(&s->c, &err, why, sizeof(why));
		if (err)
			pr_err("PID %d: %s", s->t.pid, why);
	}
}

/* Start counting in @pid; @quiet for -a, where most processes are not Python. */
static int add_process(struct multi *m, pid_t pid, bool quiet)
{
	const struct pyelf *elf;
	struct session *s;
	struct stat st;
	char why[1024];
	int err;

	if (pid == getpid() || tracing(m, pid))
		return 0;
	if (m->n == m->cap) {
		int cap = m->cap ? m->cap * 2 : 256;
		struct session **g = realloc(m->s, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		m->s = g;
		m->cap = cap;
	}
	if (quiet && known_not_python(m, pid, &st))
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	elf = m->by_binary && quiet ? fleet_elf_of(m->fleet, &st) : NULL;
	if (elf)
		err = target_from_pid_elf(pid, elf, &s->t, why, sizeof(why));
	else
		err = target_from_pid(pid, &s->t, why, sizeof(why));
	if (err)
		pr_debug("PID %d: %s", pid, why);
	if (err) {
		if (quiet && err != -ESRCH && m->n_skipped < MAX_SKIPPED) {
			m->skipped[m->n_skipped].dev = st.st_dev;
			m->skipped[m->n_skipped++].ino = st.st_ino;
		}
		goto fail;
	}
	if (m->fleet && !fleet_wants(m->fleet, &s->t)) {
		target_close(&s->t);
		free(s);
		return 0;
	}
	if (m->by_binary) {
		/* its binary's note, if any, comes once at the end */
		s->bin = fleet_add(m->fleet, &s->t);
		if (s->bin < 0) {
			pr_debug("not counting PID %d (%s): not chosen, or its binary cannot be traced",
				 pid, s->t.comm);
			target_close(&s->t);
			free(s);
			return 0;
		}
		m->s[m->n++] = s;
		pr_debug("counting PID %d: %s", pid, s->t.cmdline);
		return 0;
	}
	if (m->probes_mode) {
		err = events_add(&m->ev, &s->t, m->o->all, why, sizeof(why));
	} else {
		err = start_collector(m, s, why, sizeof(why));
	}
	if (err) {
		/* a Python we cannot trace is worth a note, even under -a */
		if (quiet)
			pr_err("note: PID %d not traced: %s", pid, why);
		else
			pr_err("%s", why);
		goto fail_noted;
	}
	m->s[m->n++] = s;
	pr_info("attached to PID %d: %s", pid, s->t.cmdline);
	return 0;
fail:
	/* -a meets many processes that are not Python, or have no probes */
	if (!quiet)
		pr_err("%s", why);
fail_noted:
	close_collector(s);
	target_close(&s->t);
	free(s);
	return quiet ? 0 : -1;
}

static void add_running(struct multi *m)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		add_process(m, pid, true);
	}
	if (d)
		closedir(d);
}

/* A process that exited keeps what it counted; its probes go. */
static void reap_gone(struct multi *m)
{
	for (int i = 0; i < m->n; i++) {
		struct session *s = m->s[i];

		if (s->gone || !target_gone(&s->t))
			continue;
		s->gone = true;
	}
}

static bool all_gone(const struct multi *m)
{
	for (int i = 0; i < m->n; i++)
		if (!m->s[i]->gone)
			return false;
	return true;
}

static void report_session(struct multi *m, struct session *s)
{
	struct results r;
	char why[1024];
	int err;

	if (m->probes_mode) {
		events_report((struct events *)&m->ev, &s->t);
		return;
	}
	err = s->c.ops->stop(&s->c, why, sizeof(why));
	report_heading(stdout, s->t.pid, s->t.cmdline);
	if (err) {
		pr_err("PID %d: %s", s->t.pid, why);
		return;
	}
	results_init(&r);
	err = resolve_for_mode(&s->rs, s->c.raw, m->o->trackcalls, true, &r);
	if (s->c.ops->warn)
		s->c.ops->warn(&s->c);
	if (err)
		pr_err("PID %d: out of memory resolving names", s->t.pid);
	else if (m->o->trackcalls)
		report_calls(&r, stdout);
	else
		report_funcs(&r, stdout);
	fflush(stdout);
	/* --json and --callgraph take every process's, as one */
	if (!err && exports_wanted(m->o) && results_merge(m->merged, &r))
		pr_err("out of memory joining the processes' results");
	results_free(&r);
}

static void report_fleet(struct multi *m)
{
	struct target **ts = calloc(m->n + 1, sizeof(*ts));
	int *bins = calloc(m->n + 1, sizeof(*bins));
	uint64_t t0 = mono_ns();

	fleet_harvest(m->fleet);
	if (!ts || !bins) {
		pr_err("out of memory for the reports");
	} else {
		for (int i = 0; i < m->n; i++) {
			ts[i] = &m->s[i]->t;
			bins[i] = m->s[i]->bin;
		}
		fleet_report(m->fleet, ts, bins, m->n, stdout);
	}
	pr_info("%d processes reported in %.2f s", m->n, (mono_ns() - t0) / 1e9);
	free(ts);
	free(bins);
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

int multi_run(const struct options *o, volatile sig_atomic_t *stop)
{
	uint64_t deadline = o->duration ? mono_ns() + o->duration * 1e9 : 0;
	struct multi *m = calloc(1, sizeof(*m));
	char why[1024];
	int ret = 1;

	if (!m)
		return 1;
	if (check_kernel(why, sizeof(why))) {
		pr_err("%s", why);
		free(m);
		return 1;
	}
	m->o = o;
	m->stop = stop;
	m->probes_mode = o->gc || o->imports || o->audit;
	raise_fd_limit();
	if (o->all) {
		m->fleet = fleet_new(o, why, sizeof(why));
		if (!m->fleet) {
			pr_err("%s", why);
			goto out;
		}
		m->by_binary = !m->probes_mode;
	}
	/* the events object also watches execs for -a, whatever the mode */
	if (m->probes_mode || o->all) {
		struct proc_filter pf = {};

		if (m->fleet)
			fleet_filter(m->fleet, &pf);
		if (events_open(&m->ev, o, o->all, &pf, why, sizeof(why))) {
			pr_err("%s", why);
			goto out;
		}
		m->have_ev = true;
	}
	if (o->all) {
		if (m->by_binary)
			fleet_defer(m->fleet, true);
		add_running(m);
		if (m->by_binary) {
			fleet_defer(m->fleet, false);
			fleet_arm(m->fleet);
		}
	} else {
		for (int i = 0; i < o->n_pids; i++)
			if (add_process(m, o->pids[i], false))
				goto out;
	}
	if (o->audit)
		audit_header(stdout);
	fprintf(stderr, "Tracing %d Python process%s%s... Ctrl-C to end.\n", m->n,
		m->n == 1 ? "" : "es", o->all ? " and any that start" : "");
	fflush(stderr);
	while (!*stop && !(deadline && mono_ns() >= deadline)) {
		if (m->have_ev)
			events_poll(&m->ev, 100);
		else
			usleep(100 * 1000);
		/* a fresh exec may still be mapping its interpreter: retry once */
		for (int i = 0; i < m->ev.n_execs; i++)
			add_process(m, m->ev.execs[i], true);
		m->ev.n_execs = 0;
		drain_all(m);
		reap_gone(m);
		if (!o->all && all_gone(m))
			break;
	}
	if (m->have_ev && m->probes_mode)
		events_stop(&m->ev);
	if (m->by_binary) {
		report_fleet(m);
	} else {
		struct results merged;

		results_init(&merged);
		m->merged = &merged;
		for (int i = 0; i < m->n; i++)
			report_session(m, m->s[i]);
		if (!m->probes_mode)
			write_exports(o, &merged, NULL, NULL);
		results_free(&merged);
	}
	ret = 0;
out:
	for (int i = 0; i < m->n; i++) {
		close_collector(m->s[i]);
		target_close(&m->s[i]->t);
		free(m->s[i]);
	}
	free(m->s);
	fleet_free(m->fleet);
	if (m->have_ev)
		events_close(&m->ev);
	free(m);
	return ret;
}
