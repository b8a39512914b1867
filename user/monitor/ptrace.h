/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PTRACE_H
#define CTRACE_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#define PTCALL_TRAPS 16		/* int3s at the start of our pages */
#define PTCALL_STUB_LEN 60	/* the pending call's function, after them */
#define PTCALL_STUB_MAX 64

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
	uint64_t page;		/* ours, mapped in the target: an int3 to return to */
	size_t page_len;
	uint64_t queued_page;	/* the pending call's, which removes them */
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
/*
 * The address of @name in the target's mapping of a file whose path holds
 * @lib ("/libc.", "libpython3."), from that file's dynamic symbols; 0 if
 * none.  The file is read through /proc/PID/map_files: the one mapped.
 */
uint64_t ptcall_symbol(pid_t pid, const char *lib, const char *name);
/*
 * Call @fn(@args) in the stopped thread, on its own stack below the red
 * zone, returning into an int3 of a page of ours; *@ret is its rax.  The
 * page is mapped (read and execute only) at the first call.  @ms bounds
 * the wait: a function that blocks (a lock the thread held) is an error,
 * and the thread is left in it, to be let go by ptcall_release().
 */
int ptcall_call(struct ptcall *pc, uint64_t fn, const uint64_t args[6],
		int ms, long *ret, char *why, size_t why_len);
/*
 * Ask the interpreter to run @code at its next safe point: a pending call
 * (Py_AddPendingCall) of a stub in our pages that runs it with
 * PyRun_SimpleString and always returns 0.  Queued, the pages are the
 * call's: it unmaps them as it returns, and ptcall_unmap() leaves them.
 * If it is never run (the process exits first), they go with the process.
 */
int ptcall_pending_run(struct ptcall *pc, const char *code, char *why,
		       size_t why_len);
/* Unmap our pages, if any: the target holds nothing of ours after. */
int ptcall_unmap(struct ptcall *pc, char *why, size_t why_len);
/* Put every register back and let the thread go; safe to call twice. */
void ptcall_release(struct ptcall *pc);

#endif
