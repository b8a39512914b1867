/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_DELIVER_H
#define CTRACE_DELIVER_H

#include <stddef.h>
#include <stdint.h>
#include "target/target.h"

/*
 * The ptrace delivery (3.8-3.13, or where asked): the interpreter of @t
 * is given @code to run at its next safe point, as a pending call queued
 * by its main thread, stopped for a moment (monitor/ptrace.h).  Refused,
 * in @why, where ptrace must not or cannot go: a process someone else
 * traces, kernel.yama.ptrace_scope=3, a seccomp filter (the system calls
 * we have it make could kill it), a free-threaded build.
 * @longest_ns: the longest stop of a thread of @t.
 */
int ptrace_deliver(const struct target *t, const char *code,
		   uint64_t *longest_ns, char *why, size_t why_len);

/* The same refusals, asked before anything is written for the target. */
int ptrace_refusal(const struct target *t, char *why, size_t why_len);

#endif
