/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_PTRACE_H
#define CTRACE_PTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>
#include "monitor/seccomp.h"
#include "target/pending.h"

#define PTCALL_RET_LEN 64	/* the calls' return path, at our pages' start */
#define PTCALL_STUB_LEN 60	/* the pending call's function, after it */
#define PTCALL_STUB_MAX 64
#define PTCALL_DIRECT_LEN 58	/* the direct run's function */

/*
 * The ptrace delivery's first brick (3.8-3.13, where neither the probes
 * nor PEP 768 serve): one thread of the target stopped for a moment,
 * made to run a system call or a function of ours, and let go exactly as
 * it was.
 *
 * Seized without PTRACE_O_EXITKILL: if we die, the kernel detaches and
 * the thread runs on, so every state we leave it in must end well on its
 * own.  Whenever its registers are ours, the thread's way back is an
 * rt_sigreturn through a signal frame we wrote below its red zone at the
 * stop, which holds all its registers, its vector state and its signal
 * mask: the system call or function returns into libc's __restore_rt
 * (or into our pages' return path, which unmaps them first unless a call
 * took them), and the thread resumes as it was.  We stop it at that
 * rt_sigreturn's entry, skip it, and put its registers back ourselves, so
 * the syscall it was in (a read, a sleep, a futex wait) is restarted as
 * the kernel restarts it; only after our death does the frame serve,
 * and then a sleep that restarts by its restart block returns EINTR.
 */
struct ptcall {
	pid_t tid;
	struct user_regs_struct saved;
	unsigned char *xstate;	/* its FP and vector registers (NT_X86_XSTATE) */
	size_t xstate_len;
	uint64_t syscall_insn;	/* the "syscall" of libc's syscall() */
	uint64_t libc_syscall, libc_munmap, restore_rt;
	uint64_t frame;		/* the slot a return pops; the ucontext after it */
	uint64_t stopped_ns;	/* when the stop began */
	uint64_t longest_ns;	/* the longest stop so far */
	int pending_sig;	/* one that came while stopped, delivered at release */
	uint64_t page;		/* ours, mapped in the target: unmapped if we die */
	size_t page_len;
	uint64_t queued_page;	/* the pending call's, which removes them */
	bool wx;		/* executable pages refused: no stub, the page stays */
	struct seccomp_filters filters;	/* the thread's, read at the stop */
	bool seized, stopped;
	bool in_flight;		/* a call timed out: it finishes on its own */
	/*
	 * Py_AddPendingCall's, and where the GIL is: set after the stop for
	 * a queueing or a direct run; kind 0: none known
	 */
	struct pending_lock lock;
};

/* Seize @tid and stop it; its registers are saved, its frame written. */
int ptcall_stop(struct ptcall *pc, pid_t tid, char *why, size_t why_len);
/*
 * Would the seccomp filters of @tid (stopped for a moment to read them)
 * let the delivery's system calls through?  0 if so; else -EPERM and
 * why, the thread let go untouched.  ptcall_stop() reads them again,
 * and every syscall of ours is run on them before it is made.
 */
int ptcall_filters_check(pid_t tid, char *why, size_t why_len);
/*
 * Run syscall @nr with @args in the stopped thread; *@ret is its return
 * value (a negative errno on failure).  The thread stays stopped, with
 * its own registers again.
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
 * Call @fn(@args) in the stopped thread, on its own stack below the
 * frame; *@ret is its rax.  A page of ours is mapped (read and execute
 * only) for the return, and goes with the call unless it returns 0: a 0
 * hands the page to whoever the call gave it (a pending call).  @ms
 * bounds the wait: a function that blocks is an error, and is left to
 * finish and return on its own, the thread let go in it.
 */
int ptcall_call(struct ptcall *pc, uint64_t fn, const uint64_t args[6],
		int ms, long *ret, char *why, size_t why_len);
/*
 * Ask the interpreter to run @code at its next safe point: a pending call
 * (Py_AddPendingCall) of a stub in our pages that runs it with
 * PyRun_SimpleString and always returns 0.  Queued, the pages are the
 * call's: it unmaps them as it returns.  If it is never run (the process
 * exits first), they go with the process.  Where executable pages are
 * refused (W^X), PyRun_SimpleString itself is queued with @code wrapped
 * in try/except BaseException (so it returns 0); its page then stays
 * (pc->wx), readable and writable only.  -EAGAIN, nothing queued,
 * while pc->lock is held (or the queue is full); -EINPROGRESS while a
 * PyMutex's thread waits for the GIL (3.13+): a moment later it has it.
 */
int ptcall_pending_run(struct ptcall *pc, const char *code, char *why,
		       size_t why_len);
/*
 * Run @code now, on the stopped thread itself, where it waits in a system
 * call without the GIL (PyGILState_Check() says 0): PyGILState_Ensure,
 * PyRun_SimpleString, PyGILState_Release, called from our pages, which go
 * after.  For a main thread that would not reach a safe point (blocked in
 * C); -EAGAIN where that is not so.  @ms bounds the wait for the GIL and
 * the run.
 */
int ptcall_direct_run(struct ptcall *pc, const char *code, int ms, char *why,
		      size_t why_len);
/* Unmap our pages, if any: the target holds nothing of ours after. */
int ptcall_unmap(struct ptcall *pc, char *why, size_t why_len);
/* Put every register back and let the thread go; safe to call twice. */
void ptcall_release(struct ptcall *pc);

#endif
