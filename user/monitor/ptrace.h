/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PTRACE_H
#define CTRACE_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/*
 * The ptrace delivery's first brick (3.8-3.13, where neither the probes
 * nor PEP 768 serve): one thread of the target stopped for a moment,
 * made to run a system call of ours, and let go exactly as it was.
 *
 * Seized without PTRACE_O_EXITKILL: if we die, the kernel detaches and
 * the thread runs on.  The syscall it was in (a read, a sleep, a futex
 * wait) is restarted as the kernel would have restarted it, because its
 * registers, orig_rax included, are put back whole.
 */
struct ptcall {
	pid_t tid;
	struct user_regs_struct saved;
	uint64_t syscall_insn;	/* a "syscall" instruction in the target's libc */
	uint64_t stopped_ns;	/* when the stop began */
	uint64_t longest_ns;	/* the longest stop so far */
	int pending_sig;	/* one that came while stopped, delivered at release */
	bool seized, stopped;
};

/* Seize @tid and stop it; its registers are saved. */
int ptcall_stop(struct ptcall *pc, pid_t tid, char *why, size_t why_len);
/*
 * Run syscall @nr with @args in the stopped thread; *@ret is its return
 * value (a negative errno on failure).  The thread stays stopped, with
 * its own registers again: our changes last for the one instruction.
 */
int ptcall_syscall(struct ptcall *pc, long nr, const uint64_t args[6],
		   long *ret, char *why, size_t why_len);
/* Put every register back and let the thread go; safe to call twice. */
void ptcall_release(struct ptcall *pc);

#endif
