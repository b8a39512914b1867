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
#include "multi.h"
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

/*
 * For the tests only: pause at a named point, so a test can make the target
 * exit (and its PID be reused) exactly there.
 */
static void test_delay(const char *name)
{
	const char *ms = getenv(name);

	if (ms)
		usleep(strtoul(ms, NULL, 10) * 1000);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int on_ring(void *ctx, void *data, size_t len)
{
	return trace_stream_event(ctx, data, len);
}

/*
 * sys.path is read from the target as late as can be: every half second
 * while it runs, and at the end; a target that has exited keeps the last.
 */
struct live_reader {
	const struct live_path_layout *l;
	uint64_t runtime, next_ns;
};

static void live_init(struct live_reader *lv, const struct py_flavor *fl,
		      const struct target *t)
{
	memset(lv, 0, sizeof(*lv));
	lv->l = fl ? fl->live_path : NULL;
	if (lv->l)
		lv->runtime = livepath_runtime(t->pid, t->elf.path,
					       t->elf.runtime_sym);
	pr_debug("live sys.path: _PyRuntime at %#llx",
		 (unsigned long long)lv->runtime);
}

static void live_read(struct live_reader *lv, struct target *t, uint64_t now)
{
	if (!lv->runtime || now < lv->next_ns)
		return;
	lv->next_ns = now + 500000000ULL;
	if (!livepath_read(lv->l, t->pid, lv->runtime, &t->live_path))
		pr_debug("live sys.path: %zu entries", t->live_path.n);
}

/* Wait for the end: a signal, the duration, or the target's exit. */
/*
 * Analyse the sources the trace has met so far, a little at a time, so
 * that naming after the end has little left to do.
 */
static void analyse_early(struct tracer *tr, struct resolver *rs,
			  struct str_watch *w, char ***queue, size_t *n_queue)
{
	char **fresh;
	size_t n, done;

	if (!collect_new_sources(tr->skel, w, &fresh, &n) && !n)
		free(fresh);
	else if (n) {
		char **g = realloc(*queue, (*n_queue + n) * sizeof(*g));

		if (g) {
			memcpy(g + *n_queue, fresh, n * sizeof(*g));
			*queue = g;
			*n_queue += n;
		} else {
			for (size_t i = 0; i < n; i++)
				free(fresh[i]);
		}
		free(fresh);
	}
	if (!*n_queue)
		return;
	/* 30 ms of every 100: the ring and the target's exit come first */
	done = resolver_prefetch(rs, *queue, *n_queue, 30000000);
	for (size_t i = 0; i < done; i++)
		free((*queue)[i]);
	memmove(*queue, *queue + done, (*n_queue - done) * sizeof(**queue));
	*n_queue -= done;
}

static void run_until_done(const struct options *o, struct target *t,
			   struct tracer *tr, struct ring_buffer *rb,
			   struct live_reader *lv, struct resolver *rs)
{
	uint64_t deadline = o->duration ? mono_ns() + o->duration * 1e9 : 0;
	int pfd = target_pollfd(t);
	struct str_watch w = {};
	char **queue = NULL;
	size_t n_queue = 0;

	while (!stop_requested) {
		if (deadline && mono_ns() >= deadline)
			break;
		if (rb) {
			ring_buffer__poll(rb, 100);
		} else {
			struct pollfd p = { .fd = pfd, .events = POLLIN };

			if (pfd >= 0)
				poll(&p, 1, 100);
			else
				usleep(100 * 1000);
		}
		tracer_poll(tr);
		/* not before main has started; in Py_FinalizeEx sys is undone */
		if (!tr->skel->bss->stopped && !tracer_before_main(tr))
			live_read(lv, t, mono_ns());
		if (target_gone(t))
			break;
		if (tracer_target_execd(tr)) {
			pr_err("note: process %d exec'd a new program: the trace ends at the exec",
			       t->pid);
			break;
		}
		analyse_early(tr, rs, &w, &queue, &n_queue);
	}
	for (size_t i = 0; i < n_queue; i++)
		free(queue[i]);
	free(queue);
	str_watch_free(&w);
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

/* The sum of the u64 counts that end each row. */
static uint64_t sum_rows(const void *rows, size_t n, size_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)rows + (i + 1) * size - sizeof(v), sizeof(v));
		sum += v;
	}
	return sum;
}

static void report_stats(const struct raw_tables *raw, const struct resolver *rs,
			 uint64_t ring_unnamed, const struct plan *plan)
{
	uint64_t lines, funcs, calls;

	raw_warn_lost(raw, rs->unresolved + ring_unnamed, "");
	/* hits are not counted on the hot path: the maps' sums are the hits */
	lines = sum_rows(raw->lines, raw->n_lines, sizeof(*raw->lines)) +
		raw->stats[CTRACE_STAT_LINE_DROPS];
	funcs = sum_rows(raw->funcs, raw->n_funcs, sizeof(*raw->funcs)) +
		raw->stats[CTRACE_STAT_FUNC_DROPS];
	calls = sum_rows(raw->calls, raw->n_calls, sizeof(*raw->calls)) +
		raw->stats[CTRACE_STAT_CALL_DROPS];
	/* func_counts holds entries when they are attached, returns otherwise */
	pr_info("probe hits: %llu line, %llu function__entry, %llu function__return",
		(unsigned long long)lines,
		(unsigned long long)(plan->entries ? funcs : 0),
		(unsigned long long)(plan->entries ? 0 : funcs + calls));
	if (raw->stats[CTRACE_STAT_FRAME_FAULTS])
		pr_info("%llu frame reads failed",
			(unsigned long long)raw->stats[CTRACE_STAT_FRAME_FAULTS]);
}

static int trace_target(const struct options *o)
{
	const struct py_flavor *fl;
	struct ring_buffer *rb = NULL;
	struct trace_stream ts = {};	/* freed on every path out of attach */
	struct trace_lookup lk;
	struct raw_tables raw = {};
	struct resolver rs;
	struct results r;
	struct tracer tr = {};
	struct live_reader lv;
	struct target t;
	struct plan plan;
	char why[1024], flwhy[256];
	int err, ret = 1;
	uint64_t t0;

	results_init(&r);
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
	if (o->gc || o->imports || o->audit) {
		ret = events_run(o, &t, &stop_requested);
		goto out_abort;
	}
	/* a missing probe is the clearer refusal, so it is reported first */
	fl = py_flavor_for(&t.elf, flwhy, sizeof(flwhy));
	err = o->backend == BACKEND_MONITORING ? -ENOTSUP :
	      plan_make(o, fl, &t, &plan, why, sizeof(why));
	if (err && o->backend != BACKEND_USDT && monitor_possible(&t.elf)) {
		if (!fl) {
			pr_err("%s", flwhy);
			goto out_abort;
		}
		ret = monitor_run(o, &t, fl, &stop_requested);
		goto out_abort;
	}
	if (o->backend == BACKEND_MONITORING) {
		pr_err("--backend=monitoring needs CPython 3.14 or later (PEP 768); process %d runs CPython %d.%d",
		       t.pid, t.elf.major, t.elf.minor);
		goto out_abort;
	}
	if (err) {
		pr_err("%s", why);
		goto out_abort;
	}
	if (!fl) {
		pr_err("%s", flwhy);
		goto out_abort;
	}
	pyelf_version_str(&t.elf, why, sizeof(why));
	pr_info("target PID %d, '%s', CPython %s", t.pid, t.elf.path, why);
	resolver_init(&rs, fl, t.root_fd, t.cwd, o->ignore_mods,
		      o->n_ignore_mods, o->ignore_dirs, o->n_ignore_dirs);
	rs.want_executable = o->missing;
	lk = resolver_trace_lookup(&rs);
	test_delay("CTRACE_TEST_DELAY_ATTACH");
	if (tracer_attach(&tr, &plan, fl, &t, why, sizeof(why))) {
		pr_err("%s", why);
		goto out_detach;	/* what did attach goes, and the object */
	}
	/*
	 * Probes go in by PID number.  If the process we examined has exited
	 * meanwhile, the number may already name another process: leave it.
	 */
	if (!t.launched && target_gone(&t)) {
		pr_err("process %d exited before the probes were attached; nothing was traced",
		       t.pid);
		goto out_detach;
	}
	trace_stream_init(&ts, stdout, o->timing, mono_ns(), &lk);
	if (plan.trace) {
		rb = ring_buffer__new(bpf_map__fd(tr.skel->maps.events), on_ring,
				      &ts, NULL);
		if (!rb) {
			pr_err("cannot open the ring buffer: %s", strerror(errno));
			goto out_detach;
		}
	}
	target_print_ready(&t, plan.from_main, NULL);
	if (t.launched && target_release(&t, why, sizeof(why))) {
		pr_err("%s", why);
		goto out_detach;
	}
	live_init(&lv, fl, &t);
	run_until_done(o, &t, &tr, rb, &lv, &rs);
	if (!tr.skel->bss->stopped && !tracer_before_main(&tr) &&
	    !target_gone(&t))
		live_read(&lv, &t, UINT64_MAX);
	if (plan.from_main && tracer_before_main(&tr))
		pr_err("note: the main module never started, so nothing was counted; --startup counts the interpreter's start-up too");
	/* the target is detached, and runs at full speed, while we report */
	t0 = mono_ns();
	tracer_stop(&tr);
	if (rb)
		ring_buffer__consume(rb);
	fflush(stdout);
	err = collect_all(tr.skel, &raw);
	tracer_detach(&tr);
	pr_debug("collected and detached in %.2f s", (mono_ns() - t0) / 1e9);
	if (err) {
		pr_err("cannot read the BPF maps: %s", strerror(-err));
		goto out_detach;
	}
	/* what the trace did not get to analyse: all cores at once */
	resolver_analyse_raw(&rs, &raw, (int)sysconf(_SC_NPROCESSORS_ONLN));
	if (plan.count)
		err = resolve_counts(&rs, &raw, &r);
	else if (plan.funcs)
		err = resolve_funcs(&rs, &raw, &r);
	else if (plan.calls)
		err = resolve_calls(&rs, &raw, &r);
	if (err) {
		pr_err("out of memory resolving names");
		goto out_detach;
	}
	pr_info("read %zu keys and named them in %.2f s",
		raw.n_lines + raw.n_funcs + raw.n_calls, (mono_ns() - t0) / 1e9);
	report_stats(&raw, &rs, ts.unnamed, &plan);
	merge_counts_file(o, &r);
	t0 = mono_ns();
	ret = write_reports(o, &r, &rs, &t, fl);
	pr_info("reports written in %.2f s", (mono_ns() - t0) / 1e9);
	if (!ret && t.launched && t.reaped && WIFEXITED(t.exit_status))
		ret = WEXITSTATUS(t.exit_status);
out_detach:
	t0 = mono_ns();
	trace_stream_free(&ts);
	ring_buffer__free(rb);
	tracer_destroy(&tr);
	raw_tables_free(&raw);
	pr_debug("maps and tables freed in %.2f s", (mono_ns() - t0) / 1e9);
	resolver_free(&rs);
out_abort:
	if (t.launched && !t.reaped)
		target_abort(&t);
	target_close(&t);
	results_free(&r);
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
		ret = multi_run(&o, &stop_requested);
	else
		ret = trace_target(&o);
	analysis_shutdown();
	report_peak_rss();
	options_free(&o);
	return ret;
}
