/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_DELIVER_H
#define CTRACE_DELIVER_H

#include <stddef.h>
#include <stdint.h>
#include "target/target.h"

/* What a delivery did to the target, for -v and for the end. */
struct ptrace_stats {
	uint64_t longest_ns;	/* the longest stop of a thread */
	uint64_t page;		/* the pending call's pages, which it unmaps */
	size_t page_len;
	uint64_t left_page;	/* W^X: the code's page, which stays queued */
	size_t left_len;
};

/*
 * The ptrace delivery (3.8-3.13, or where asked): the interpreter of @t
 * is given @code to run at its next safe point, as a pending call queued
 * by its main thread, stopped for a moment (monitor/ptrace.h).  Refused,
 * in @why, where ptrace must not or cannot go: a process someone else
 * traces, kernel.yama.ptrace_scope=3, seccomp's strict mode, a seccomp
 * filter that would kill, signal or hand over one of the system calls we
 * have it make (ptrace.c runs its filters on each), a free-threaded build.  Where @t
 * refuses executable pages (W^X), @code is queued without our stub, and
 * its page is in @st->left_page until ptrace_remove_left().
 */
int ptrace_deliver(const struct target *t, const char *code,
		   struct ptrace_stats *st, char *why, size_t why_len);

/*
 * For a main thread that does not come back to Python (blocked in C, an
 * idle server): @code run on it at once, where it waits in a system call
 * without the GIL (monitor/ptrace.h's ptcall_direct_run()); -EAGAIN where
 * it does not.  The call queued before, if it runs later, finds the
 * collector there and does nothing.
 */
int ptrace_direct(const struct target *t, const char *code,
		  struct ptrace_stats *st, char *why, size_t why_len);

/* The W^X page, unmapped once its code has run (the collector started). */
int ptrace_remove_left(const struct target *t, struct ptrace_stats *st,
		       char *why, size_t why_len);

/* The same refusals, asked before anything is written for the target. */
int ptrace_refusal(const struct target *t, char *why, size_t why_len);

#endif
