// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Py_AddPendingCall's lock in a live target: see pending.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "target/livepath.h"
#include "target/pending.h"
#include "target/target.h"
#include "util/vm.h"

/* glibc's struct new_sem, the sem_t a 3.8-3.12 PyThread lock is */
struct glibc_sem {
	uint64_t data;	/* value in the low half, waiters in the high */
	int private;	/* 0 or FUTEX_PRIVATE_FLAG */
	int pad;
};

/* The semaphore whose pointer is at @at. */
static int read_sem(pid_t pid, uint64_t at, struct glibc_sem *s)
{
	uint64_t sem;

	return vm_read(pid, at, &sem, sizeof(sem)) ?:
	       vm_read(pid, sem, s, sizeof(*s));
}

static bool ring_end(pid_t pid, uint64_t at, unsigned int ring)
{
	int v;

	return !vm_read(pid, at, &v, sizeof(v)) && v >= 0 && (unsigned int)v < ring;
}

/* A semaphore's queue: a lock of 0 or 1 that nobody waits on for long. */
static bool sem_queue_ok(pid_t pid, const struct pending_layout *p,
			 uint64_t queue)
{
	struct glibc_sem s;

	if (read_sem(pid, queue + p->lock, &s))
		return false;
	return (uint32_t)s.data <= 1 && (s.private == 0 || s.private == 128) &&
	       ring_end(pid, queue + p->first, p->ring) &&
	       ring_end(pid, queue + p->last, p->ring);
}

#define RUNTIME_MAX (4 << 20)	/* a _PyRuntime bigger than this is not one */

static int32_t i32_at(const unsigned char *b, unsigned int at)
{
	int32_t v;

	memcpy(&v, b + at, sizeof(v));
	return v;
}

/* A PyMutex's queue (3.13+): a free or held mutex, a count within its
 * fixed bound, no loop bound, the ring's ends within it. */
static bool mutex_shape(const unsigned char *b, const struct pending_layout *p)
{
	int32_t n = i32_at(b, p->npending);

	return b[p->lock] < 4 && !b[p->lock + 1] &&
	       i32_at(b, p->max) == (int32_t)p->max_value &&
	       !i32_at(b, p->maxloop) && n >= 0 && n <= (int32_t)p->max_value &&
	       (uint32_t)i32_at(b, p->first) < p->ring &&
	       (uint32_t)i32_at(b, p->last) < p->ring;
}

/*
 * Where the table puts it, if it has the shape there; else the one place
 * in _PyRuntime that has it.  Other state can take the shape for a moment
 * (the GIL's, under contention), so a search that finds two reads again.
 */
static uint64_t mutex_queue(const struct target *t,
			    const struct pending_layout *p, uint64_t runtime)
{
	uint64_t size = t->elf.runtime_size, found = 0;
	unsigned char *b;
	int hits = 0;

	if (size < p->last + 4 || size > RUNTIME_MAX || !(b = malloc(size)))
		return 0;
	for (int tries = 0; tries < 3 && hits != 1; tries++) {
		if (vm_read(t->pid, runtime, b, size))
			break;
		if (p->queue + p->last + 4 <= size && mutex_shape(b + p->queue, p)) {
			found = runtime + p->queue;
			hits = 1;
			break;
		}
		hits = 0;
		for (uint64_t o = 0; o + p->last + 4 <= size; o += 8)
			if (mutex_shape(b + o, p)) {
				found = runtime + o;
				hits++;
			}
	}
	free(b);
	return hits == 1 ? found : 0;
}

int pending_lock_find(const struct target *t, struct pending_lock *out,
		      char *why, size_t why_len)
{
	const struct py_flavor *fl = py_flavor_for(&t->elf, why, why_len);
	const struct pending_layout *p = fl ? fl->pending : NULL;
	uint64_t runtime = 0, base, queue = 0;

	if (p)
		runtime = livepath_runtime(t->pid, t->elf.path, t->elf.runtime_sym);
	base = runtime;
	if (base && p->mutex) {
		queue = mutex_queue(t, p, base);
	} else if (base) {
		if (p->interp_main &&
		    vm_read(t->pid, base + p->interp_main, &base, sizeof(base)))
			base = 0;
		queue = base ? base + p->queue : 0;
		if (queue && !sem_queue_ok(t->pid, p, queue))
			queue = 0;
	}
	if (!queue) {
		snprintf(why, why_len,
			 "process %d: the pending-calls queue of its CPython %d.%d is not where this version keeps it, so queueing a call could hang it: not delivered",
			 t->pid, t->elf.major, t->elf.minor);
		return -ENOENT;
	}
	out->kind = p->mutex ? PENDING_LOCK_MUTEX : PENDING_LOCK_SEM;
	out->at = queue + p->lock;
	out->runtime = runtime;
	out->runtime_len = t->elf.runtime_size;
	return 0;
}

int pending_lock_held(pid_t pid, const struct pending_lock *l)
{
	struct glibc_sem s;
	uint8_t bits;

	/*
	 * A PyMutex with a thread parked on it may be handed to that thread,
	 * which may then wait for a lock the stopped one holds (the GIL's,
	 * as it detaches): free means no holder and nobody parked.
	 */
	if (l->kind == PENDING_LOCK_MUTEX)
		return vm_read(pid, l->at, &bits, 1) ? -EFAULT : bits != 0;
	if (read_sem(pid, l->at, &s))
		return -EFAULT;
	return (uint32_t)s.data == 0;
}

bool pending_waits_on_gil(const struct pending_lock *l, uint64_t uaddr)
{
	/* the size unknown: any futex wait may be one */
	if (!l->runtime_len)
		return true;
	return uaddr - l->runtime < l->runtime_len;
}
