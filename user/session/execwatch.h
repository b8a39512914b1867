/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_EXECWATCH_H
#define CTRACE_EXECWATCH_H

#include <stddef.h>
#include <sys/types.h>

#define EXECWATCH_MAX 4096

/* -a: the PIDs that exec'd, for the session to examine. */
struct execwatch {
	struct execwatch_bpf *skel;
	struct ring_buffer *rb;
	/* since the caller last emptied it */
	pid_t pids[EXECWATCH_MAX];
	int n;
};

int execwatch_open(struct execwatch *w, char *why, size_t why_len);
int execwatch_pollfd(struct execwatch *w);
/* Take what came, into pids[]. */
void execwatch_poll(struct execwatch *w);
void execwatch_close(struct execwatch *w);

#endif
