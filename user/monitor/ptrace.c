// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A system call run by one stopped thread of the target: see ptrace.h.
 * The "syscall" instruction used is one already in the target's libc
 * (glibc's syscall() holds one), so nothing of ours is executed there.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "monitor/ptrace.h"
#include "util/clock.h"

#define SCAN_CHUNK 65536

/* The first "syscall" (0f 05) in [lo, hi) of @pid's memory, or 0. */
static uint64_t find_syscall_in(pid_t pid, uint64_t lo, uint64_t hi)
{
	static unsigned char buf[SCAN_CHUNK];

	for (uint64_t at = lo; at < hi; at += SCAN_CHUNK - 1) {
		size_t n = hi - at < SCAN_CHUNK ? hi - at : SCAN_CHUNK;
		struct iovec l = { buf, n }, r = { (void *)(uintptr_t)at, n };
		ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);

		for (ssize_t i = 0; i + 1 < got; i++)
			if (buf[i] == 0x0f && buf[i + 1] == 0x05)
				return at + i;
		if (got <= 0)
			return 0;
	}
	return 0;
}

/* A syscall instruction in an executable mapping of the target's libc. */
static uint64_t find_syscall(pid_t pid)
{
	char path[64], line[4096];
	uint64_t found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		const char *file = strchr(line, '/');

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[2] != 'x' || !file || !strstr(file, "/libc"))
			continue;
		found = find_syscall_in(pid, lo, hi);
	}
	if (f)
		fclose(f);
	return found;
}

/* Until @tid's next ptrace stop; its signal, or -1 if it is gone. */
static int wait_stop(pid_t tid)
{
	int st;

	while (waitpid(tid, &st, __WALL) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFSTOPPED(st))
		return -1;
	return st >> 8;
}

/*
 * Out of the single-step's signal-delivery stop (whose SIGTRAP, were we
 * to die there, would kill the thread) into an interrupt's stop: the
 * SIGTRAP is suppressed by the restart, and the interrupt stops it again
 * before it returns to user space, its registers untouched.
 */
static int settle(pid_t tid)
{
	int sig;

	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) || ptrace(PTRACE_CONT, tid, 0, 0))
		return -1;
	sig = wait_stop(tid);
	return sig >> 8 == PTRACE_EVENT_STOP ? 0 : -1;
}

int ptcall_stop(struct ptcall *pc, pid_t tid, char *why, size_t why_len)
{
	int sig;

	memset(pc, 0, sizeof(*pc));
	pc->tid = tid;
	/* no PTRACE_O_EXITKILL: our death detaches, and the target runs on */
	if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
		snprintf(why, why_len, "cannot seize thread %d: %s", tid,
			 strerror(errno));
		return -errno;
	}
	pc->seized = true;
	pc->stopped_ns = mono_ns();
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
	    (sig = wait_stop(tid)) < 0 || (sig & 0xff) != SIGTRAP ||
	    sig >> 8 != PTRACE_EVENT_STOP) {
		snprintf(why, why_len, "cannot stop thread %d", tid);
		ptcall_release(pc);
		return -ESRCH;
	}
	pc->stopped = true;
	if (ptrace(PTRACE_GETREGS, tid, 0, &pc->saved)) {
		snprintf(why, why_len, "cannot read the registers of thread %d: %s",
			 tid, strerror(errno));
		ptcall_release(pc);
		return -EIO;
	}
	pc->syscall_insn = find_syscall(tid);
	if (!pc->syscall_insn) {
		snprintf(why, why_len, "no syscall instruction in the libc of thread %d",
			 tid);
		ptcall_release(pc);
		return -ENOEXEC;
	}
	return 0;
}

int ptcall_syscall(struct ptcall *pc, long nr, const uint64_t args[6],
		   long *ret, char *why, size_t why_len)
{
	struct user_regs_struct r = pc->saved;
	int sig;

	r.rax = nr;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	r.rip = pc->syscall_insn;
	/* not a syscall to restart: the kernel must not rewind our rip */
	r.orig_rax = -1;
	if (ptrace(PTRACE_SETREGS, pc->tid, 0, &r))
		goto fail;
	/* a signal that comes meanwhile is kept, and delivered at release */
	for (int tries = 0; tries < 8; tries++) {
		if (ptrace(PTRACE_SINGLESTEP, pc->tid, 0, 0) ||
		    (sig = wait_stop(pc->tid)) < 0)
			goto fail;
		if ((sig & 0xff) == SIGTRAP || sig >> 8)
			break;
		pc->pending_sig = sig & 0xff;
	}
	if (ptrace(PTRACE_GETREGS, pc->tid, 0, &r))
		goto fail;
	/*
	 * Its own registers back at once, and the step's SIGTRAP dropped: the
	 * thread waits in a plain stop again, as ptcall_stop() left it, so
	 * that should we die from here on the kernel lets it go unharmed.
	 */
	if (ptrace(PTRACE_SETREGS, pc->tid, 0, &pc->saved) || settle(pc->tid))
		goto fail;
	if ((sig & 0xff) != SIGTRAP || r.rip != pc->syscall_insn + 2) {
		snprintf(why, why_len, "thread %d stopped with signal %d, not after the system call",
			 pc->tid, sig & 0xff);
		return -EIO;
	}
	*ret = (long)r.rax;
	return 0;
fail:
	snprintf(why, why_len, "cannot run a system call in thread %d: %s",
		 pc->tid, strerror(errno));
	return -EIO;
}

void ptcall_release(struct ptcall *pc)
{
	uint64_t took;

	if (pc->stopped)
		ptrace(PTRACE_SETREGS, pc->tid, 0, &pc->saved);
	if (pc->seized)
		ptrace(PTRACE_DETACH, pc->tid, 0, pc->pending_sig);
	if (pc->stopped) {
		took = mono_ns() - pc->stopped_ns;
		if (took > pc->longest_ns)
			pc->longest_ns = took;
	}
	pc->stopped = pc->seized = false;
}
