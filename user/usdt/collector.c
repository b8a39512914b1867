// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The USDT collector: BPF programs on the interpreter's own probes, in
 * maps that are read in batches at the end; --trace through a ring.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "ctrace.h"
#include "ctrace.skel.h"
#include "session/collector.h"
#include "target/livepath.h"
#include "usdt/attach.h"
#include "usdt/binaries.h"
#include "usdt/collect.h"
#include "util/clock.h"
#include "util/log.h"


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

/* -p: one attachment, for its process */
struct usdt {
	struct usdt_bin bin;
	struct ring_buffer *rb;
	struct str_watch w;
	char **queue;		/* sources met, not analysed yet */
	size_t n_queue;
	struct live_reader lv;
};

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


static int on_ring(void *ctx, void *data, size_t len)
{
	return trace_stream_event(ctx, data, len);
}

static int usdt_start(struct collector *c, char *why, size_t why_len)
{
	const struct options *o = c->o;
	struct target *t = c->t;
	struct usdt *u;
	int err;

	u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	c->priv = u;
	c->raw = &u->bin.raw;
	err = usdt_bin_plan(&u->bin, o, c->fl, t, why, why_len);
	if (err)
		return err;
	u->bin.plan.small = c->many;
	test_delay("CTRACE_TEST_DELAY_ATTACH");
	err = usdt_bin_arm(&u->bin, t, why, why_len);
	if (err)
		return err;
	/* probes go in by PID number: the process must still be the one seen */
	err = target_still_ours(t, why, why_len);
	if (err)
		return err;
	if (u->bin.plan.trace) {
		u->rb = ring_buffer__new(bpf_map__fd(u->bin.tr.skel->maps.events),
					 on_ring, c->ts, NULL);
		if (!u->rb) {
			snprintf(why, why_len, "cannot open the ring buffer: %s",
				 strerror(errno));
			return -errno;
		}
	}
	if (!c->many)
		target_print_ready(t, u->bin.plan.from_main, NULL);
	if (t->launched) {
		err = target_release(t, why, why_len);
		if (err)
			return err;
	}
	live_init(&u->lv, c->fl, t);
	return 0;
}

static int usdt_pollfd(struct collector *c)
{
	struct usdt *u = c->priv;

	return u->rb ? ring_buffer__epoll_fd(u->rb) : -1;
}

static bool usdt_drain(struct collector *c, int *err, char *why,
		       size_t why_len)
{
	struct usdt *u = c->priv;

	(void)why;
	(void)why_len;
	*err = 0;
	if (u->rb)
		ring_buffer__poll(u->rb, 0);
	tracer_poll(&u->bin.tr);
	/* not before main has started; in Py_FinalizeEx sys is undone */
	if (!u->bin.tr.skel->bss->stopped && !tracer_before_main(&u->bin.tr))
		live_read(&u->lv, c->t, mono_ns());
	if (tracer_target_execd(&u->bin.tr)) {
		pr_err("note: process %d exec'd a new program: the trace ends at the exec",
		       c->t->pid);
		return true;
	}
	analyse_early(&u->bin.tr, c->rs, &u->w, &u->queue, &u->n_queue);
	return false;
}

static int usdt_stop(struct collector *c, char *why, size_t why_len)
{
	struct usdt *u = c->priv;
	uint64_t t0;
	int err;

	if (!u->bin.tr.skel->bss->stopped && !tracer_before_main(&u->bin.tr) &&
	    !target_gone(c->t))
		live_read(&u->lv, c->t, UINT64_MAX);
	if (u->bin.plan.from_main && tracer_before_main(&u->bin.tr))
		pr_err("note: the main module never started, so nothing was counted; --startup counts the interpreter's start-up too");
	/* the target is detached, and runs at full speed, while we report */
	t0 = mono_ns();
	usdt_bin_stop(&u->bin);
	if (u->rb)
		ring_buffer__consume(u->rb);
	fflush(stdout);
	err = usdt_bin_collect(&u->bin, why, why_len);
	/*
	 * The links are still being removed in the background (~0.1 s each:
	 * the kernel takes one grace period a uprobe link); the report does
	 * not wait for them, close does.
	 */
	pr_debug("collected in %.2f s", (mono_ns() - t0) / 1e9);
	if (err)
		return err;
	/* what the trace did not get to analyse: all cores at once */
	resolver_analyse_raw(c->rs, &u->bin.raw,
			     (int)sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}

static void usdt_warn(struct collector *c)
{
	struct usdt *u = c->priv;

	report_stats(&u->bin.raw, c->rs, c->ts->unnamed, &u->bin.plan);
}

static void usdt_close(struct collector *c)
{
	struct usdt *u = c->priv;
	uint64_t t0 = mono_ns();

	if (!u)
		return;
	ring_buffer__free(u->rb);
	usdt_bin_free(&u->bin);
	for (size_t i = 0; i < u->n_queue; i++)
		free(u->queue[i]);
	free(u->queue);
	str_watch_free(&u->w);
	pr_debug("maps and tables freed in %.2f s", (mono_ns() - t0) / 1e9);
	free(u);
	c->priv = NULL;
}

const struct collector_ops usdt_collector = {
	.name = "usdt",
	.start = usdt_start,
	.pollfd = usdt_pollfd,
	.drain = usdt_drain,
	.stop = usdt_stop,
	.warn = usdt_warn,
	.close = usdt_close,
};
