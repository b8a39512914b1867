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
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "monitor/ptrace.h"
#include "target/livepath.h"
#include "target/pyelf.h"
#include "util/clock.h"

#define SCAN_CHUNK 65536
#define RED_ZONE 128	/* the x86-64 ABI's, below a leaf's rsp */

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

/*
 * @args into @r as a system call (@syscall) or a function call takes
 * them: they differ in the fourth, r10 against rcx.  Not a syscall to
 * restart: the kernel must not rewind the rip we set.
 */
static void load_args(struct user_regs_struct *r, const uint64_t args[6],
		      bool syscall)
{
	r->rdi = args[0];
	r->rsi = args[1];
	r->rdx = args[2];
	if (syscall)
		r->r10 = args[3];
	else
		r->rcx = args[3];
	r->r8 = args[4];
	r->r9 = args[5];
	r->orig_rax = -1;
}

/*
 * Its own registers back at once, and the trap that ended our step
 * dropped: the thread waits in a plain stop again, as ptcall_stop() left
 * it, so that should we die from here on the kernel lets it go unharmed.
 */
static int restore(struct ptcall *pc)
{
	return ptrace(PTRACE_SETREGS, pc->tid, 0, &pc->saved) || settle(pc->tid);
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
	/*
	 * An interrupt's stop, or a group-stop's (a launched Python held at
	 * the gate): then the first resume only reports the group-stop again,
	 * in place; settle() spends it, and later resumes run.
	 */
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
	    (sig = wait_stop(tid)) < 0 || sig >> 8 != PTRACE_EVENT_STOP ||
	    ((sig & 0xff) != SIGTRAP && settle(tid))) {
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

	load_args(&r, args, true);
	r.rax = nr;
	r.rip = pc->syscall_insn;
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
	if (restore(pc))
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

uint64_t ptcall_symbol(pid_t pid, const char *lib, const char *name)
{
	char path[64], line[4096], file[96];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	while (f && !v && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;
		const char *name_at = strchr(line, '/');

		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3 || off ||
		    !name_at || !strstr(name_at, lib))
			continue;
		/* the file mapped, whatever its name says in our view */
		snprintf(file, sizeof(file), "/proc/%d/map_files/%lx-%lx", pid, lo, hi);
		v = livepath_runtime(pid, file, pyelf_symbol(file, name));
	}
	if (f)
		fclose(f);
	return v;
}

/* Pages of ours in the thread, readable and writable for now. */
static int map_pages(struct ptcall *pc, size_t len, char *why, size_t why_len)
{
	size_t size = (PTCALL_TRAPS + len + 4095) & ~(size_t)4095;
	uint64_t map[6] = { 0, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
	long page;
	int err;

	err = ptcall_syscall(pc, SYS_mmap, map, &page, why, why_len);
	if (err)
		return err;
	if (page < 0 && page > -4096) {
		snprintf(why, why_len, "thread %d cannot map a page: %s", pc->tid,
			 strerror(-page));
		return (int)page;
	}
	pc->page = page;
	pc->page_len = size;
	return 0;
}

/*
 * @data into the pages, after a row of int3s at their start (returning
 * there traps), and the pages made read and execute only.
 */
static int seal_pages(struct ptcall *pc, const void *data, size_t len,
		      char *why, size_t why_len)
{
	uint64_t prot[6] = { pc->page, pc->page_len, PROT_READ | PROT_EXEC };
	unsigned char traps[PTCALL_TRAPS];
	struct iovec l[2] = { { traps, sizeof(traps) }, { (void *)data, len } };
	struct iovec r = { (void *)(uintptr_t)pc->page, sizeof(traps) + len };
	long rc;
	int err;

	memset(traps, 0xcc, sizeof(traps));
	if (process_vm_writev(pc->tid, l, len ? 2 : 1, &r, 1, 0) !=
	    (ssize_t)(sizeof(traps) + len)) {
		snprintf(why, why_len, "cannot write into thread %d's page: %s",
			 pc->tid, strerror(errno));
		return -EIO;
	}
	err = ptcall_syscall(pc, SYS_mprotect, prot, &rc, why, why_len);
	if (!err && rc) {
		snprintf(why, why_len, "process %d refuses an executable page (W^X?): %s",
			 pc->tid, strerror(-rc));
		err = (int)rc;
	}
	return err;
}

/* Until the call returns into the page, within @ms; other signals kept. */
static int wait_return(struct ptcall *pc, int ms, struct user_regs_struct *r)
{
	uint64_t deadline = mono_ns() + (uint64_t)ms * 1000000;
	int st;

	while (mono_ns() < deadline) {
		pid_t got = waitpid(pc->tid, &st, __WALL | WNOHANG);

		if (got < 0 && errno != EINTR)
			return -ESRCH;
		if (got <= 0) {
			usleep(50);
			continue;
		}
		if (!WIFSTOPPED(st))
			return -ESRCH;
		if (WSTOPSIG(st) == SIGTRAP && !(st >> 16))
			return ptrace(PTRACE_GETREGS, pc->tid, 0, r) ? -EIO : 0;
		if (!(st >> 16))
			pc->pending_sig = WSTOPSIG(st);
		if (ptrace(PTRACE_CONT, pc->tid, 0, 0))
			return -ESRCH;
	}
	return -ETIMEDOUT;
}

int ptcall_call(struct ptcall *pc, uint64_t fn, const uint64_t args[6],
		int ms, long *ret, char *why, size_t why_len)
{
	struct user_regs_struct r = pc->saved;
	uint64_t sp, back;
	struct iovec l = { &back, sizeof(back) }, rv;
	int err;

	if (!pc->page && ((err = map_pages(pc, 0, why, why_len)) ||
			  (err = seal_pages(pc, NULL, 0, why, why_len))))
		return err;
	/* its own stack, past the red zone, aligned as a call leaves it */
	sp = ((r.rsp - RED_ZONE - 256) & ~15ULL) - 8;
	back = pc->page;
	rv = (struct iovec){ (void *)(uintptr_t)sp, sizeof(back) };
	if (process_vm_writev(pc->tid, &l, 1, &rv, 1, 0) != sizeof(back)) {
		snprintf(why, why_len, "cannot write on thread %d's stack: %s",
			 pc->tid, strerror(errno));
		return -EIO;
	}
	load_args(&r, args, false);
	r.rsp = sp;
	r.rip = fn;
	r.rax = 0;
	if (ptrace(PTRACE_SETREGS, pc->tid, 0, &r) ||
	    ptrace(PTRACE_CONT, pc->tid, 0, 0)) {
		snprintf(why, why_len, "cannot start a call in thread %d: %s",
			 pc->tid, strerror(errno));
		return -EIO;
	}
	err = wait_return(pc, ms, &r);
	if (!err && r.rip != pc->page + 1)
		err = -EFAULT;
	if (err) {
		snprintf(why, why_len, "the call in thread %d did not return to us (%s)",
			 pc->tid, strerror(-err));
		/* stopped again, wherever it is: release puts its registers back */
		if (err == -ETIMEDOUT && !ptrace(PTRACE_INTERRUPT, pc->tid, 0, 0))
			wait_stop(pc->tid);
		return err;
	}
	*ret = (long)r.rax;
	if (restore(pc)) {
		snprintf(why, why_len, "cannot stop thread %d after the call", pc->tid);
		return -EIO;
	}
	return 0;
}

int ptcall_unmap(struct ptcall *pc, char *why, size_t why_len)
{
	uint64_t unmap[6] = { pc->page, pc->page_len };
	long rc = 0;
	int err;

	if (!pc->page)
		return 0;
	err = ptcall_syscall(pc, SYS_munmap, unmap, &rc, why, why_len);
	if (!err && rc)
		err = (int)rc;
	if (!err)
		pc->page = 0;
	return err;
}

/*
 * The pending call's function: int stub(void *code), which runs
 * PyRun_SimpleString(code) and returns 0 whatever it returned, since a
 * pending call that returns -1 with no exception set kills a 3.10 or a
 * 3.12 ("error return without exception set").  It returns through libc's
 * syscall(SYS_munmap, pages, len), jumped to with the interpreter's return
 * address on the stack: the pages that hold the stub and the code go with
 * the call, whoever is left to see it, and the 0 munmap returns is ours.
 */
static void make_stub(unsigned char *p, uint64_t run, uint64_t sys,
		      uint64_t page, uint64_t len)
{
	static const unsigned char code[PTCALL_STUB_LEN] = {
		0x48, 0x83, 0xec, 0x08,		/* sub $8, %rsp: aligned */
		0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $run, %rax */
		0xff, 0xd0,			/* call *%rax (rdi: the code) */
		0x48, 0x83, 0xc4, 0x08,		/* add $8, %rsp */
		0xbf, SYS_munmap, 0, 0, 0,	/* mov $SYS_munmap, %edi */
		0x48, 0xbe, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $page, %rsi */
		0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $len, %rdx */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $sys, %r11 */
		0x31, 0xc0,			/* xor %eax, %eax: no vector args */
		0x41, 0xff, 0xe3,		/* jmp *%r11 */
	};

	memcpy(p, code, sizeof(code));
	memcpy(p + 6, &run, 8);
	memcpy(p + 27, &page, 8);
	memcpy(p + 37, &len, 8);
	memcpy(p + 47, &sys, 8);
}

int ptcall_pending_run(struct ptcall *pc, const char *code, char *why,
		       size_t why_len)
{
	uint64_t add = ptcall_symbol(pc->tid, "python3", "Py_AddPendingCall");
	uint64_t run = ptcall_symbol(pc->tid, "python3", "PyRun_SimpleString");
	/* glibc before 2.34 maps libc-2.NN.so, then libc.so.6 */
	uint64_t sys = ptcall_symbol(pc->tid, "/libc.so", "syscall") ?:
		       ptcall_symbol(pc->tid, "/libc-2.", "syscall");
	size_t n = strlen(code) + 1;
	unsigned char *data;
	uint64_t args[6] = {};
	long ret;
	int err;

	if (!add || !run || !sys) {
		snprintf(why, why_len, "process %d exports no %s", pc->tid,
			 !add ? "Py_AddPendingCall" : !run ? "PyRun_SimpleString" :
			 "syscall() in its libc");
		return -ENOENT;
	}
	if (pc->page) {
		snprintf(why, why_len, "a page of ours is already in thread %d", pc->tid);
		return -EBUSY;
	}
	data = calloc(1, PTCALL_STUB_MAX + n);
	if (!data)
		return -ENOMEM;
	err = map_pages(pc, PTCALL_STUB_MAX + n, why, why_len);
	if (!err) {
		make_stub(data, run, sys, pc->page, pc->page_len);
		memcpy(data + PTCALL_STUB_MAX, code, n);
		err = seal_pages(pc, data, PTCALL_STUB_MAX + n, why, why_len);
	}
	free(data);
	if (err)
		return err;
	args[0] = pc->page + PTCALL_TRAPS;
	args[1] = pc->page + PTCALL_TRAPS + PTCALL_STUB_MAX;
	err = ptcall_call(pc, add, args, 1000, &ret, why, why_len);
	if (!err && (int)ret) {
		snprintf(why, why_len, "process %d's pending calls are full", pc->tid);
		err = -EAGAIN;
	}
	/* queued: the pages are the call's now, and go with it */
	if (!err) {
		pc->queued_page = pc->page;
		pc->page = 0;
	}
	return err;
}
