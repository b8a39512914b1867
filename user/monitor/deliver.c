// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The ptrace delivery: see deliver.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "monitor/deliver.h"
#include "monitor/ptrace.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/procstatus.h"

#define FULL_TRIES 50	/* a full or busy pending-call queue: 50 × 10 ms */
/* a 3.13 main thread that waits for the GIL each time we look: for 2 s */
#define GIL_WAIT_NS (2000ULL * 1000000)

static int yama_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int ptrace_refusal(const struct target *t, char *why, size_t why_len)
{
	long tracer = proc_status_num(t->pid, "TracerPid", 10);
	long seccomp = proc_status_num(t->pid, "Seccomp", 10);

	/* ours: a launched Python held at its exec until it is let go */
	if (tracer > 0 && tracer != getpid()) {
		snprintf(why, why_len,
			 "process %d is already traced by process %ld (its TracerPid): a debugger, strace or another tracer; the collector cannot be delivered by ptrace beside it",
			 t->pid, tracer);
		return -EBUSY;
	}
	if (yama_scope() >= 3) {
		snprintf(why, why_len,
			 "kernel.yama.ptrace_scope is 3: this kernel lets no process be traced, so the collector cannot be delivered into process %d",
			 t->pid);
		return -EPERM;
	}
	if (seccomp == 1) {
		snprintf(why, why_len,
			 "process %d runs in seccomp's strict mode, which kills it for any system call but read, write, exit and sigreturn: not delivered",
			 t->pid);
		return -EPERM;
	}
	/* biased reference counting exists in free-threaded builds alone */
	if (ptcall_symbol(t->pid, "python3", "_Py_MergeZeroLocalRefcount")) {
		snprintf(why, why_len,
			 "process %d runs a free-threaded CPython (no GIL): the collector's tables are not per-thread yet, so it is not delivered",
			 t->pid);
		return -ENOTSUP;
	}
	/* read and run on our calls, the thread stopped a moment (ptrace.c) */
	if (seccomp == 2)
		return ptcall_filters_check(t->pid, why, why_len);
	return 0;
}

/* What is done in one stop of the main thread. */
enum step { QUEUE, DIRECT, UNMAP };

/*
 * Stop the main thread, do @what, let it go; our pages out again if it
 * failed, its stop noted in @st.
 */
static int in_stop(const struct target *t, enum step what, const char *code,
		   const struct pending_lock *lock, struct ptrace_stats *st,
		   char *why, size_t why_len)
{
	struct ptcall pc;
	char why2[128];
	int err;

	err = ptcall_stop(&pc, t->pid, why, why_len);
	if (err)
		return err;
	if (lock)
		pc.lock = *lock;
	if (what == QUEUE) {
		err = ptcall_pending_run(&pc, code, why, why_len);
	} else if (what == DIRECT) {
		err = ptcall_direct_run(&pc, code, 3000, why, why_len);
	} else {
		pc.page = st->left_page;
		pc.page_len = st->left_len;
		err = ptcall_unmap(&pc, why, why_len);
	}
	if (err && pc.page)
		ptcall_unmap(&pc, why2, sizeof(why2));
	ptcall_release(&pc);
	if (pc.longest_ns > st->longest_ns)
		st->longest_ns = pc.longest_ns;
	if (!err && what == QUEUE) {
		st->page = pc.queued_page;
		st->page_len = pc.page_len;
		if (pc.wx) {
			st->left_page = pc.queued_page;
			st->left_len = pc.page_len;
		}
	}
	if (!err && what == UNMAP)
		st->left_page = 0;
	return err;
}

int ptrace_deliver(const struct target *t, const char *code,
		   struct ptrace_stats *st, char *why, size_t why_len)
{
	uint64_t until = mono_ns() + GIL_WAIT_NS;
	struct pending_lock lock;
	int err = ptrace_refusal(t, why, why_len) ?:
		  pending_lock_find(t, &lock, why, why_len);

	if (err)
		return err;
	for (int full = 0;;) {
		err = in_stop(t, QUEUE, code, &lock, st, why, why_len);
		if (err == -EAGAIN && full++ < FULL_TRIES) {
			usleep(10000);
		} else if (err == -EINPROGRESS && mono_ns() < until) {
			/* it holds the GIL a moment later: look again soon */
			usleep(1000);
		} else {
			break;
		}
	}
	if (err == -EINPROGRESS)
		err = -EAGAIN;
	if (!err)
		pr_info("ptrace: queued in process %d: our pages at %#llx (%zu KB), gone %s",
			t->pid, (unsigned long long)st->page, st->page_len / 1024,
			st->left_page ? "at the end (W^X)" : "with the pending call");
	return err;
}

int ptrace_remove_left(const struct target *t, struct ptrace_stats *st,
		       char *why, size_t why_len)
{
	return st->left_page ? in_stop(t, UNMAP, NULL, NULL, st, why, why_len) : 0;
}

int ptrace_direct(const struct target *t, const char *code,
		  struct ptrace_stats *st, char *why, size_t why_len)
{
	struct pending_lock lock;
	int err = pending_lock_find(t, &lock, why, why_len) ?:
		  in_stop(t, DIRECT, code, &lock, st, why, why_len);

	if (!err)
		pr_info("ptrace: process %d's main thread waits in C without the GIL: the collector run on it directly",
			t->pid);
	return err;
}
