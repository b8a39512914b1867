/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_GATE_H
#define CTRACE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include "monitor/monitor.h"
#include "target/target.h"

/*
 * Launch mode for the monitoring backend: the held Python runs until its
 * main module is about to start (bpf/gate.bpf.c stops it there), so that
 * the collector counts from the first line, as trace does.
 */
struct gate_bpf;
struct bpf_link;

struct gate {
	struct gate_bpf *skel;
	struct bpf_link *link;
	int watch_fd;		/* its child's pipe: see gate_arm() */
	pid_t watcher;
};

/*
 * Set the gate on @t's PySys_Audit, before it is released.  A child of
 * ours waits on a pipe meanwhile: if we die while the target is stopped
 * at the gate, it lets the target go on (SIGCONT through its pidfd).
 */
int gate_arm(struct gate *g, const struct target *t, bool at_first_import,
	     char *why, size_t why_len);
/*
 * Wait until @t has stopped at the gate; @start says where counting
 * starts.  -ESRCH when it exited first.
 */
int gate_wait(struct gate *g, struct target *t, enum mon_start *start,
	      char *why, size_t why_len);
/* Remove the gate and let the process go on. */
void gate_open(struct gate *g, const struct target *t);

#endif
