// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Py_AddPendingCall's queue in user/target/pyversion.c, checked against
 * the internal headers of the CPython it is built with (a pyenv build's):
 * tests/run-pyenv.sh compiles it once per version.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#if PY_MINOR_VERSION == 8
#include <internal/pycore_pystate.h>
#else
#include <internal/pycore_runtime.h>
#include <internal/pycore_interp.h>
#endif
#include "target/pyversion.h"

/* pyversion.c's one reference outside it, which no check here reaches */
const char *const probe_names[PROBE_NR];

static int failures;

static void expect(const char *what, unsigned long got, unsigned long want)
{
	printf("%s - %d.%d pending %s: table %lu, headers %lu\n",
	       got == want ? "ok" : "not ok", PY_MAJOR_VERSION, PY_MINOR_VERSION,
	       what, got, want);
	failures += got != want;
}

int main(void)
{
	struct pyelf e = { .major = PY_MAJOR_VERSION, .minor = PY_MINOR_VERSION };
	const struct pending_layout *p;
	const struct py_flavor *fl;
	struct _pending_calls q;
	char why[256];

	fl = py_flavor_for(&e, why, sizeof(why));
	p = fl ? fl->pending : NULL;
	if (!p) {
		printf("not ok - %d.%d: no pending layout\n", e.major, e.minor);
		return 1;
	}
#if PY_MINOR_VERSION == 8
	expect("queue", p->queue, offsetof(_PyRuntimeState, ceval.pending));
#elif PY_MINOR_VERSION <= 11
	expect("interp_main", p->interp_main,
	       offsetof(_PyRuntimeState, interpreters.main));
	expect("queue", p->queue, offsetof(PyInterpreterState, ceval.pending));
#elif PY_MINOR_VERSION == 12
	expect("queue", p->queue,
	       offsetof(_PyRuntimeState, ceval.pending_mainthread));
#endif
#if PY_MINOR_VERSION <= 12
	expect("lock", p->lock, offsetof(struct _pending_calls, lock));
	expect("ring", p->ring, sizeof(q.calls) / sizeof(q.calls[0]));
	expect("last", p->last, offsetof(struct _pending_calls, last));
#else
	expect("queue", p->queue,
	       offsetof(_PyRuntimeState, ceval.pending_mainthread));
	expect("lock", p->lock, offsetof(struct _pending_calls, mutex));
	expect("npending", p->npending, offsetof(struct _pending_calls, npending));
	expect("max", p->max, offsetof(struct _pending_calls, max));
	expect("maxloop", p->maxloop, offsetof(struct _pending_calls, maxloop));
	expect("max_value", p->max_value, MAXPENDINGCALLS_MAIN);
	expect("ring", p->ring, sizeof(q.calls) / sizeof(q.calls[0]));
	expect("last", p->last, offsetof(struct _pending_calls, next));
	/* where it is found in a live 3.13: run-pyenv.sh compares */
	printf("# queue %zu\n", offsetof(_PyRuntimeState, ceval.pending_mainthread));
#endif
	expect("first", p->first, offsetof(struct _pending_calls, first));
	return failures != 0;
}
