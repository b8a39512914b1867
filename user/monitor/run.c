// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The monitoring backend as a collector: see collector.h and monitor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "monitor/deliver.h"
#include "monitor/gate.h"
#include "monitor/monitor.h"
#include "monitor/run.h"
#include "target/syspath.h"
#include "session/collector.h"
#include "util/log.h"

bool monitor_possible(const struct pyelf *e)
{
	return py_has_collector(e);
}

static enum mon_delivery delivery_for(const struct options *o,
				      const struct pyelf *e)
{
	if (o->delivery == DELIVERY_PTRACE)
		return MON_BY_PTRACE;
	if (o->delivery == DELIVERY_PEP768 || py_has_remote_debug(e))
		return MON_BY_PEP768;
	return MON_BY_PTRACE;
}

static void on_record(void *ctx, const void *rec, size_t len)
{
	trace_stream_event(ctx, rec, len);
}

/* Launched: stop the Python where its main module starts, then ask. */
static int start_launched(struct collector *c, struct monitor *m,
			  enum mon_delivery via, enum mon_mode mode, char *why,
			  size_t why_len)
{
	struct target *t = c->t;
	enum mon_start start;
	struct gate g;
	int err;

	err = gate_arm(&g, t, c->o->startup, why, why_len);
	if (err)
		return err;
	err = target_release(t, why, why_len);
	if (!err)
		err = gate_wait(&g, t, &start, why, why_len);
	if (!err)
		err = monitor_start(m, t, via, mode, start, c->o->missing, why,
				    why_len);
	gate_open(&g, t);
	return err;
}

static int mon_start(struct collector *c, char *why, size_t why_len)
{
	const struct options *o = c->o;
	enum count_kind kind = options_counts(o);
	enum mon_mode mode = kind == COUNT_CALLS ? MON_CALLS :
			     kind == COUNT_FUNCS ? MON_FUNCS :
			     o->trace && o->count ? MON_TRACE_COUNT :
			     o->trace ? MON_TRACE : MON_COUNT;
	enum mon_delivery via = delivery_for(o, &c->t->elf);
	struct monitor *m;
	int err;

	/* a refusal is the one line said, without the note before it */
	if (via == MON_BY_PTRACE && (err = ptrace_refusal(c->t, why, why_len)))
		return err;
	if (via == MON_BY_PTRACE && o->backend == BACKEND_AUTO &&
	    o->delivery == DELIVERY_AUTO)
		pr_err("note: process %d (CPython %d.%d) has no probes for this mode and no remote debugger interface: a collector of ours runs inside it, delivered by ptrace; --backend=usdt forbids that",
		       c->t->pid, c->t->elf.major, c->t->elf.minor);
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	m->tmp_fd = m->dir_fd = m->out_fd = m->ctl_fd = -1;
	c->priv = m;
	c->raw = &m->reply.raw;
	/* --trace prints as the events come */
	if (o->trace) {
		m->reply.sink = on_record;
		m->reply.sink_ctx = c->ts;
	}
	if (c->t->launched)
		err = start_launched(c, m, via, mode, why, why_len);
	else
		err = monitor_start(m, c->t, via, mode, MON_NOW, o->missing,
				    why, why_len);
	if (!err)
		err = monitor_ready(m, c->stop, why, why_len);
	if (err)
		return err;
	if (m->reply.tool == 6)
		pr_info("collector: sys.settrace in process %d", c->t->pid);
	else
		pr_info("collector: sys.monitoring tool %d in process %d",
			m->reply.tool, c->t->pid);
	if (via == MON_BY_PTRACE)
		pr_info("ptrace: process %d's longest thread stop %.3f ms",
			c->t->pid, m->ptrace.longest_ns / 1e6);
	if (m->reply.untraced)
		pr_err("warning: %ld threads of process %d that were there before the collector are not traced (no ctypes in it to reach them): its main thread and new threads are",
		       m->reply.untraced, c->t->pid);
	if (m->ptrace.left_page)
		pr_err("note: process %d refuses executable pages (W^X): its collector was queued as PyRun_SimpleString of its code in try/except, whose page (%zu KB, not executable) is removed at the end",
			c->t->pid, m->ptrace.left_len / 1024);
	if (!c->many)
		target_print_ready(c->t, c->t->launched && !o->startup,
				   m->reply.tool == 6 ?
				   "by a sys.settrace collector inside it (delivered by ptrace)" :
				   via == MON_BY_PTRACE ?
				   "by a sys.monitoring collector inside it (delivered by ptrace)" :
				   "by a sys.monitoring collector inside it (PEP 768)");
	return 0;
}

static int mon_pollfd(struct collector *c)
{
	return monitor_pollfd(c->priv);
}

static bool mon_drain(struct collector *c, int *err, char *why,
		      size_t why_len)
{
	return monitor_poll(c->priv, why, why_len, err);
}

static int mon_stop(struct collector *c, char *why, size_t why_len)
{
	struct monitor *m = c->priv;
	int err = monitor_stop(m, 60, why, why_len);

	if (err)
		return err;
	pr_debug("collector: %zu bytes, %zu lines, %zu functions, %zu pairs",
		 m->total, m->reply.raw.n_lines, m->reply.raw.n_funcs,
		 m->reply.raw.n_calls);
	/*
	 * Names and --missing's executable lines come from the target itself:
	 * nothing is compiled here, and sources are read for .cover files.
	 */
	c->rs->want_executable = false;
	resolver_give_executable(c->rs, m->reply.exec, m->reply.n_exec);
	/* its own sys.path, where a derived one may be wrong (pyenv, uv) */
	for (size_t i = 0; i < m->reply.n_path; i++)
		if (m->reply.path[i] &&
		    syspath_add(&c->t->live_path, m->reply.path[i]))
			break;
	return 0;
}

static void mon_close(struct collector *c)
{
	if (!c->priv)
		return;
	monitor_close(c->priv);
	free(c->priv);
	c->priv = NULL;
}

const struct collector_ops monitor_collector = {
	.name = "monitoring",
	.start = mon_start,
	.pollfd = mon_pollfd,
	.drain = mon_drain,
	.stop = mon_stop,
	.close = mon_close,
};
