/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_EVENTS_H
#define CTRACE_EVENTS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "cli.h"
#include "report/events.h"
#include "target/target.h"
#include "usdt/fleet.h"
#include "util/fileid.h"

#define EVENTS_MAX_LINKS 512	/* 5 probes for each of 64 -p, or per binary for -a */

struct imports {
	struct import_row *rows;
	size_t n, cap;
};

struct stream {
	struct imports imports;
	uint64_t t0;
};

/* One BPF object for any number of processes. */
struct events {
	const struct options *o;
	struct events_bpf *s;
	struct ring_buffer *rb;
	struct bpf_link *links[EVENTS_MAX_LINKS];
	int n_links, n_targets;
	struct stream st;
	/* -a: the binaries attached for every process, by (dev, inode) */
	struct file_id bins[EVENTS_MAX_LINKS];
	int n_bins;
};

/* @pf (or NULL) chooses the processes counted. */
int events_open(struct events *ev, const struct options *o,
		const struct proc_filter *pf, char *why, size_t why_len);
/*
 * Attach the modes' probes to @t; with @any_pid, to its binary for every
 * process that maps it, once per binary.
 */
int events_add(struct events *ev, struct target *t, bool any_pid, char *why,
	       size_t why_len);
int events_pollfd(struct events *ev);
void events_poll(struct events *ev, int ms);
/* Stop counting and print what is still streaming. */
void events_stop(struct events *ev);
/* @t's --gc and --imports reports under its heading. */
void events_report(struct events *ev, const struct target *t);
void events_close(struct events *ev);


#endif
