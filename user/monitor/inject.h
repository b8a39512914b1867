/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_INJECT_H
#define CTRACE_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "target/target.h"

/*
 * PEP 768, written from outside: ask a 3.14+ interpreter to run a script
 * file at its next safe point.  The request is a path and a flag in a
 * thread's state, and a bit of its eval breaker (Python/remote_debug.h).
 * Everything is found through the target's own _Py_DebugOffsets; nothing
 * of the target is run.
 */
#define PEP768_MAX_THREADS 256

struct pep768 {
	pid_t pid;
	uint64_t runtime;	/* _PyRuntime in the target */
	uint64_t interp;	/* the main interpreter */
	/* offsets, from _Py_DebugOffsets */
	uint64_t eval_breaker, support, pending, path, path_size;
	uint64_t tstate_next, tstate_native_id;
	uint64_t threads[PEP768_MAX_THREADS];	/* thread states */
	pid_t tids[PEP768_MAX_THREADS];
	size_t n_threads;
};

/*
 * Check that @t can take a request: a 3.14+ runtime whose debug offsets
 * are sane, remote debugging enabled.  Lists its threads.
 */
int pep768_open(const struct target *t, struct pep768 *p, char *why,
		size_t why_len);
/* Ask thread @i to run @path (as the target sees it). */
int pep768_send(const struct pep768 *p, size_t i, const char *path,
		char *why, size_t why_len);
/* Withdraw a request thread @i has not taken yet. */
void pep768_cancel(const struct pep768 *p, size_t i);

#endif
