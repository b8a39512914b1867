/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PENDING_H
#define CTRACE_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct target;

/*
 * The lock Py_AddPendingCall takes (3.8-3.13).  The ptrace delivery makes
 * a stopped main thread call it; had the stop caught that thread popping
 * a call, lock in hand, the call would wait for the thread itself,
 * forever.  So the lock is found first, and the call made only while it
 * is free.
 */
struct pending_lock {
	enum { PENDING_LOCK_SEM = 1, PENDING_LOCK_MUTEX } kind;
	uint64_t at;	/* SEM: where the queue's sem_t * is; MUTEX: the PyMutex */
	/* _PyRuntime, where the main interpreter's GIL is: 0 if unknown */
	uint64_t runtime, runtime_len;
};

/*
 * Find it in @t from its version's layout (target/pyversion.c), checked
 * against what the live queue must look like: -ENOENT and @why where it
 * does not (a layout we do not know), since a call made blind could hang
 * the target.
 */
int pending_lock_find(const struct target *t, struct pending_lock *out,
		      char *why, size_t why_len);
/*
 * Is it held, as read now?  1 if so, 0 if not, -EFAULT.  A PyMutex counts
 * as held while it has a parked waiter too.
 */
int pending_lock_held(pid_t pid, const struct pending_lock *l);
/*
 * Was a thread, stopped in a futex wait on @uaddr, waiting on one of the
 * GIL's condition variables?  Code run on it then must not block: a
 * thread signalling that condition variable waits for this waiter to
 * leave it first (glibc's group switch), and a nested wait on it never
 * ends.
 */
bool pending_waits_on_gil(const struct pending_lock *l, uint64_t uaddr);

#endif
