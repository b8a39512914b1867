/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_COLLECTOR_H
#define CTRACE_COLLECTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "cli.h"
#include "naming/resolve.h"
#include "naming/tally.h"
#include "report/trace.h"
#include "target/pyversion.h"
#include "target/target.h"

/*
 * Where counts come from.  A session (session.c) starts one collector on
 * its target, polls it until the end, stops it and takes its counts as raw
 * tables: the BPF maps' shape, whichever collector filled them, so that
 * naming and reports never know which one ran.
 *
 *   usdt        BPF programs on the interpreter's probes (usdt.c)
 *   monitoring  our sys.monitoring collector inside a 3.14+ target,
 *               through PEP 768 (monitor/run.c)
 *   events      --gc, --imports, --audit on the interpreter's other probes
 *               (events.c): its own reports, not trace's
 *   fleet       -a --listfuncs/--trackcalls: one object per interpreter
 *               binary, for every process that maps it (fleet.c)
 *
 * A collector counts one process.  Those of several processes may share
 * one BPF object through the session's hub: events for every process of
 * a session, the fleet's objects for -a.
 */
struct collector;
struct events;
struct fleet;

/* What the collectors of one session share (session.c owns it). */
struct hub {
	struct events *ev;	/* several processes' events */
	struct fleet *fleet;	/* -a: its filters; for --listfuncs/--trackcalls, its objects */
};

struct collector_ops {
	const char *name;
	/*
	 * Attach to c->t and print the "Tracing" line; counting runs when it
	 * returns 0 (a launched target has been let go).
	 */
	int (*start)(struct collector *c, char *why, size_t why_len);
	/* fd that turns readable when there is something to drain, or -1 */
	int (*pollfd)(struct collector *c);
	/*
	 * Take what came; true when counting ended on its own (an exec).
	 * What comes through the hub, the session takes.
	 */
	bool (*drain)(struct collector *c, int *err, char *why, size_t why_len);
	/*
	 * Stop counting and take the counts: c->raw is valid after, and
	 * c->rs names them (a collector may name in a resolver it shares).
	 */
	int (*stop)(struct collector *c, char *why, size_t why_len);
	/* Optional: notes once the counts are named (drops, unread strings). */
	void (*warn)(struct collector *c);
	/*
	 * Optional: a collector whose reports are not trace's prints them
	 * itself, and leaves c->raw NULL.
	 */
	void (*report)(struct collector *c);
	void (*close)(struct collector *c);
};

struct collector {
	const struct collector_ops *ops;
	const struct options *o;
	struct target *t;
	const struct py_flavor *fl;
	struct resolver *rs;		/* sources, for early analysis */
	struct hub *hub;
	struct trace_stream *ts;	/* --trace: where events go */
	volatile sig_atomic_t *stop;	/* the first Ctrl-C */
	struct raw_tables *raw;		/* after stop() */
	bool many;			/* one of several: small maps, no Tracing line */
	void *priv;
};

extern const struct collector_ops usdt_collector;
extern const struct collector_ops monitor_collector;
extern const struct collector_ops events_collector;
extern const struct collector_ops fleet_collector;

#endif
