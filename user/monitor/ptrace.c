// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A system call or a function call run by one stopped thread of the
 * target: see ptrace.h.  The "syscall" instruction used is the one in the
 * target's own libc syscall(), and the way back libc's __restore_rt, so
 * nothing of ours runs there until our pages are mapped and sealed.
 */
#include <elf.h>
#include <errno.h>
#include <linux/audit.h>
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
#include "util/procstatus.h"

#define RED_ZONE 128		/* the x86-64 ABI's, below a leaf's rsp */
#define CALL_ROOM 16384		/* the stack a called function may use */
#define XSTATE_MAX 65536
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define SW_RESERVED 464		/* _fpx_sw_bytes in the xsave area */
#define UC_FLAGS 7		/* FP_XSTATE | SIGCONTEXT_SS | STRICT_RESTORE_SS */
#define SS_IGNORED 4		/* an ss_flags sigaltstack() refuses: untouched */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516
#define SIGRETURN_LEN 9		/* libc's mov $15, %rax; syscall */
#define RET_SIGRETURN 7		/* our return path's own, from its start */
#define RET_SIGRETURN_LEN 7	/* mov $15, %eax; syscall */

/* The kernel's x86-64 rt_sigreturn frame, as uapi asm/sigcontext.h has it. */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags, uc_link;
	struct {
		uint64_t ss_sp;
		int32_t ss_flags;
		uint32_t pad;
		uint64_t ss_size;
	} uc_stack;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

/*
 * The test build's kill points (PTCALL_KILL_AT=N: SIGKILL ourselves at
 * the Nth), one after each step that changes the thread or its memory.
 */
#ifdef PTCALL_STEPS
static void step(void)
{
	static int n, at = -1;

	if (at < 0)
		at = getenv("PTCALL_KILL_AT") ? atoi(getenv("PTCALL_KILL_AT")) : 0;
	if (getenv("PTCALL_COUNT"))
		fprintf(stderr, "step %d\n", n + 1);
	if (++n == at)
		raise(SIGKILL);
}

static void step_note(const char *what)
{
	if (getenv("PTCALL_COUNT"))
		fprintf(stderr, "%s\n", what);
}
#else
static inline void step(void)
{
}

static inline void step_note(const char *what)
{
	(void)what;
}
#endif

static int set_regs(pid_t tid, struct user_regs_struct *r)
{
	int err = ptrace(PTRACE_SETREGS, tid, 0, r) ? -errno : 0;

	step();
	return err;
}

static int resume(pid_t tid, int how, int sig)
{
	int err = ptrace(how, tid, 0, sig) ? -errno : 0;

	step();
	return err;
}

static int write_at(pid_t tid, uint64_t at, const void *p, size_t n)
{
	struct iovec l = { (void *)p, n }, r = { (void *)(uintptr_t)at, n };
	int err = process_vm_writev(tid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EIO;

	step();
	return err;
}

/* Where @pat first is in [lo, hi) of @pid's memory, or 0. */
static uint64_t find_in(pid_t pid, uint64_t lo, uint64_t hi,
			const unsigned char *pat, size_t n)
{
	static unsigned char buf[65536];

	for (uint64_t at = lo; at < hi; at += sizeof(buf) - n) {
		size_t want = hi - at < sizeof(buf) ? hi - at : sizeof(buf);
		struct iovec l = { buf, want }, r = { (void *)(uintptr_t)at, want };
		ssize_t got = process_vm_readv(pid, &l, 1, &r, 1, 0);

		for (ssize_t i = 0; i + (ssize_t)n <= got; i++)
			if (!memcmp(buf + i, pat, n))
				return at + i;
		if (got < (ssize_t)want)
			return 0;
	}
	return 0;
}

/* __restore_rt's body in an executable mapping of the target's libc. */
static uint64_t find_restore_rt(pid_t pid)
{
	static const unsigned char body[SIGRETURN_LEN] = {
		0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05 };
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
		found = find_in(pid, lo, hi, body, sizeof(body));
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * The syscall instruction of libc's syscall(), checked to be followed by
 * what our way back relies on: cmp $-4095, %rax; jae; ret.
 */
static uint64_t find_syscall_insn(pid_t pid, uint64_t fn)
{
	unsigned char code[48];
	struct iovec l = { code, sizeof(code) }, r = { (void *)(uintptr_t)fn, sizeof(code) };

	if (!fn || process_vm_readv(pid, &l, 1, &r, 1, 0) != sizeof(code))
		return 0;
	for (size_t i = 0; i + 11 <= sizeof(code); i++)
		if (code[i] == 0x0f && code[i + 1] == 0x05)
			return !memcmp(code + i + 2, "\x48\x3d\x01\xf0\xff\xff\x73", 7) &&
			       code[i + 10] == 0xc3 ? fn + i : 0;
	return 0;
}

/* Until @tid's next ptrace stop; its wait status's high part, or -1. */
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

static bool is_syscall_stop(int sig)
{
	return sig == (SIGTRAP | 0x80);
}

static bool is_event_stop(int sig)
{
	return sig >> 8 == PTRACE_EVENT_STOP;
}

/*
 * Into an interrupt's stop, where the thread waits before it could return
 * to user space: what its registers say then is what it resumes with,
 * should we die, and a syscall it was in is restarted from them.
 */
static int settle(struct ptcall *pc)
{
	int sig;

	if (ptrace(PTRACE_INTERRUPT, pc->tid, 0, 0))
		return -errno;
	step();
	for (;;) {
		if (resume(pc->tid, PTRACE_CONT, 0))
			return -ESRCH;
		sig = wait_stop(pc->tid);
		if (sig < 0)
			return -ESRCH;
		if (is_event_stop(sig))
			return 0;
		if (!is_syscall_stop(sig) && !(sig >> 8))
			pc->pending_sig = sig & 0xff;
	}
}

static void restarted(const struct user_regs_struct *in, struct k_sigcontext *mc)
{
	long rax = (long)in->rax;

	mc->r8 = in->r8, mc->r9 = in->r9, mc->r10 = in->r10, mc->r11 = in->r11;
	mc->r12 = in->r12, mc->r13 = in->r13, mc->r14 = in->r14, mc->r15 = in->r15;
	mc->rdi = in->rdi, mc->rsi = in->rsi, mc->rbp = in->rbp, mc->rbx = in->rbx;
	mc->rdx = in->rdx, mc->rax = in->rax, mc->rcx = in->rcx;
	mc->rsp = in->rsp, mc->rip = in->rip, mc->eflags = in->eflags;
	mc->cs = in->cs, mc->ss = in->ss;
	/* what the kernel would do as it returns, done now: sigreturn will not */
	if ((long)in->orig_rax < 0)
		return;
	if (rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND) {
		mc->rax = in->orig_rax;
		mc->rip -= 2;
	} else if (rax == -ERESTART_RESTARTBLOCK) {
		mc->rax = -EINTR;
	}
}

/* The thread's blocked signals, from its status. */
static int sig_blocked(pid_t tid, uint64_t *mask)
{
	char v[64];
	int err = proc_status(tid, "SigBlk", v, sizeof(v));

	if (!err)
		*mask = strtoull(v, NULL, 16);
	return err;
}

/*
 * Room for the frame (down to @frame) and a call below it (to @low), in
 * the stack mapping that holds @sp?  The main thread's [stack] grows as
 * the call touches it: only the frame, which we write, must be there.
 */
static bool stack_room(pid_t tid, uint64_t sp, uint64_t frame, uint64_t low)
{
	char path[64], line[4096];
	bool ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *name = strchr(line, '/') ?: strchr(line, '[');

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || sp < lo || sp >= hi)
			continue;
		/* a thread's own stack: [stack], or anonymous (not the heap) */
		ok = name && !strncmp(name, "[stack]", 7) ? frame >= lo :
		     !name && low >= lo;
		break;
	}
	if (f)
		fclose(f);
	return ok;
}

/* The mmap of our pages: never merged with the target's (see map_pages). */
static void map_args(size_t len, uint64_t map[6])
{
	map[0] = 0;
	map[1] = (len + 4095) & ~(size_t)4095;
	map[2] = PROT_READ | PROT_WRITE;
	map[3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	map[4] = (uint64_t)-1;
	map[5] = 0;
}

/*
 * May the thread's seccomp filters see it make syscall @nr(@args) at
 * @ip?  Only allow and log run it as asked; with @fail_ok, an errno (or
 * trace's ENOSYS, no tracer of the filter's being there) is the answer
 * the call gets, as a skipped rt_sigreturn or a refused mprotect may.
 * A kill, a SIGSYS or a supervisor's answer never is.
 */
static int filter_lets(struct ptcall *pc, long nr, const uint64_t args[6],
		       uint64_t ip, bool fail_ok, const char *what, char *why,
		       size_t why_len)
{
	struct seccomp_data d = {
		.nr = (int)nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip,
	};
	uint32_t ret, act;

	if (!pc->filters.n)
		return 0;
	memcpy(d.args, args, sizeof(d.args));
	ret = seccomp_run(&pc->filters, &d);
	act = ret & SECCOMP_RET_ACTION_FULL;
	if (act == SECCOMP_RET_ALLOW || act == SECCOMP_RET_LOG ||
	    (fail_ok && (act == SECCOMP_RET_ERRNO || act == SECCOMP_RET_TRACE)))
		return 0;
	if (act == SECCOMP_RET_ERRNO)
		snprintf(why, why_len, "process %d's seccomp filter answers errno %u (%s) to the %s the delivery has it make: not delivered",
			 pc->tid, ret & SECCOMP_RET_DATA, strerror(ret & SECCOMP_RET_DATA), what);
	else
		snprintf(why, why_len, "process %d's seccomp filter answers %s to the %s the delivery has it make: not delivered",
			 pc->tid, seccomp_action_name(ret), what);
	return -EPERM;
}

/*
 * What the thread may be made to do before any page of ours exists, and
 * after our death: libc's munmap by syscall() and __restore_rt's
 * rt_sigreturn, and the rt_sigreturns we skip (seen by the filters as
 * syscall -1, after our change).
 */
static int filters_let(struct ptcall *pc, char *why, size_t why_len)
{
	uint64_t none[6] = { 0 }, unmap[6] = { pc->saved.rsp & ~4095ULL, 4096 };
	uint64_t sys_ip = pc->syscall_insn + 2, rt_ip = pc->restore_rt + SIGRETURN_LEN;

	return filter_lets(pc, SYS_rt_sigreturn, none, rt_ip, false, "rt_sigreturn", why, why_len) ?:
	       filter_lets(pc, -1, none, rt_ip, true, "skipped rt_sigreturn (syscall -1)", why, why_len) ?:
	       filter_lets(pc, -1, none, sys_ip, true, "skipped rt_sigreturn (syscall -1)", why, why_len) ?:
	       filter_lets(pc, SYS_munmap, unmap, sys_ip, false, "munmap", why, why_len);
}

/*
 * The signal frame that brings the thread back as it was stopped, below
 * its red zone: the xsave area, 64-aligned, then the ucontext, 16-aligned,
 * with the slot a return pops just before it (pc->frame).
 */
static int write_frame(struct ptcall *pc, char *why, size_t why_len)
{
	uint64_t top = pc->saved.rsp - RED_ZONE;
	uint64_t xs = (top - pc->xstate_len - 4) & ~63ULL;
	uint64_t uc_at = (xs - sizeof(struct k_ucontext)) & ~15ULL;
	struct k_ucontext uc = { .uc_flags = UC_FLAGS };
	uint32_t sw[4], magic2 = FP_XSTATE_MAGIC2;
	unsigned char *x;
	uint64_t xcr0;
	int err;

	pc->frame = uc_at - 8;
	if (!stack_room(pc->tid, pc->saved.rsp, pc->frame - 8, pc->frame - CALL_ROOM)) {
		snprintf(why, why_len, "thread %d's stack has no room below it for a call (or it runs on a signal stack)",
			 pc->tid);
		return -ENOSPC;
	}
	uc.uc_stack.ss_flags = SS_IGNORED;
	restarted(&pc->saved, &uc.mc);
	uc.mc.fpstate = xs;
	err = sig_blocked(pc->tid, &uc.sigmask);
	if (err) {
		snprintf(why, why_len, "cannot read thread %d's signal mask", pc->tid);
		return err;
	}
	x = malloc(pc->xstate_len + 4);
	if (!x)
		return -ENOMEM;
	memcpy(x, pc->xstate, pc->xstate_len);
	/* ptrace gives XCR0 where a signal frame has its software bytes */
	memcpy(&xcr0, x + SW_RESERVED, 8);
	memset(x + SW_RESERVED, 0, 48);
	sw[0] = FP_XSTATE_MAGIC1;
	sw[1] = pc->xstate_len + 4;
	memcpy(x + SW_RESERVED, sw, 8);
	memcpy(x + SW_RESERVED + 8, &xcr0, 8);
	sw[2] = pc->xstate_len;
	memcpy(x + SW_RESERVED + 16, &sw[2], 4);
	memcpy(x + pc->xstate_len, &magic2, 4);
	err = write_at(pc->tid, xs, x, pc->xstate_len + 4) ?:
	      write_at(pc->tid, uc_at, &uc, sizeof(uc)) ?:
	      write_at(pc->tid, pc->frame, &pc->restore_rt, 8);
	free(x);
	if (err)
		snprintf(why, why_len, "cannot write on thread %d's stack", pc->tid);
	return err;
}

/*
 * Where the thread waits between our steps.  While a page of ours is
 * mapped and not handed over, its registers run libc's
 * syscall(SYS_munmap, page, len) and return through the frame: our death
 * there leaves nothing behind.  Otherwise they are its own.
 */
static void parked_regs(const struct ptcall *pc, struct user_regs_struct *r)
{
	*r = pc->saved;
	if (!pc->page)
		return;
	r->rip = pc->libc_syscall;
	r->rdi = SYS_munmap;
	r->rsi = pc->page;
	r->rdx = pc->page_len;
	r->rsp = pc->frame;
	r->rax = 0;
	r->orig_rax = -1;
}

/*
 * From a syscall's exit stop into an interrupt's stop, parked: the
 * interrupt is asked first, so that from the moment its registers are
 * its own, a return to user space goes by the kernel's restart.
 */
static int park(struct ptcall *pc)
{
	struct user_regs_struct r;
	struct iovec x = { pc->xstate, pc->xstate_len };
	int err;

	if (ptrace(PTRACE_INTERRUPT, pc->tid, 0, 0))
		return -errno;
	step();
	parked_regs(pc, &r);
	err = set_regs(pc->tid, &r);
	if (!err && ptrace(PTRACE_SETREGSET, pc->tid, NT_X86_XSTATE, &x))
		err = -errno;
	if (err)
		return err;
	for (;;) {
		int sig;

		if (resume(pc->tid, PTRACE_CONT, 0) || (sig = wait_stop(pc->tid)) < 0)
			return -ESRCH;
		if (is_event_stop(sig))
			return 0;
		if (!is_syscall_stop(sig) && !(sig >> 8))
			pc->pending_sig = sig & 0xff;
	}
}

int ptcall_stop(struct ptcall *pc, pid_t tid, char *why, size_t why_len)
{
	struct iovec x;
	int sig, err;

	memset(pc, 0, sizeof(*pc));
	pc->tid = tid;
	pc->libc_syscall = ptcall_symbol(tid, "/libc.so", "syscall") ?:
			   ptcall_symbol(tid, "/libc-2.", "syscall");
	pc->libc_munmap = ptcall_symbol(tid, "/libc.so", "munmap") ?:
			  ptcall_symbol(tid, "/libc-2.", "munmap");
	pc->syscall_insn = find_syscall_insn(tid, pc->libc_syscall);
	pc->restore_rt = find_restore_rt(tid);
	if (!pc->syscall_insn || !pc->libc_munmap || !pc->restore_rt) {
		snprintf(why, why_len, "thread %d's libc lacks the syscall(), munmap() or __restore_rt the delivery relies on",
			 tid);
		return -ENOEXEC;
	}
	pc->xstate = malloc(XSTATE_MAX);
	if (!pc->xstate)
		return -ENOMEM;
	/* no PTRACE_O_EXITKILL: our death detaches, and the target runs on */
	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD)) {
		snprintf(why, why_len, "cannot seize thread %d: %s", tid,
			 strerror(errno));
		err = -errno;
		ptcall_release(pc);
		return err;
	}
	pc->seized = true;
	pc->stopped_ns = mono_ns();
	/*
	 * An interrupt's stop, or a group-stop's (a launched Python held at
	 * the gate): then the first resume only reports the group-stop again,
	 * in place; settle() spends it, and later resumes run.
	 */
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
	    (sig = wait_stop(tid)) < 0 || !is_event_stop(sig) ||
	    ((sig & 0xff) != SIGTRAP && settle(pc))) {
		snprintf(why, why_len, "cannot stop thread %d", tid);
		ptcall_release(pc);
		return -ESRCH;
	}
	pc->stopped = true;
	x = (struct iovec){ pc->xstate, XSTATE_MAX };
	if (ptrace(PTRACE_GETREGS, tid, 0, &pc->saved) ||
	    ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &x)) {
		snprintf(why, why_len, "cannot read the registers of thread %d: %s",
			 tid, strerror(errno));
		ptcall_release(pc);
		return -EIO;
	}
	pc->xstate_len = x.iov_len;
	err = seccomp_read(tid, &pc->filters);
	if (err) {
		snprintf(why, why_len, "process %d runs under a seccomp filter that cannot be read (%s), so the system calls the delivery has it make could kill it: not delivered",
			 tid, strerror(-err));
		ptcall_release(pc);
		return -EPERM;
	}
	err = filters_let(pc, why, why_len) ?: write_frame(pc, why, why_len);
	if (err)
		ptcall_release(pc);
	return err;
}

int ptcall_filters_check(pid_t tid, char *why, size_t why_len)
{
	uint64_t map[6], prot[6] = { 0, 4096, PROT_READ | PROT_EXEC };
	struct ptcall pc;
	int err = ptcall_stop(&pc, tid, why, why_len);

	map_args(4096, map);
	if (!err)
		err = filter_lets(&pc, SYS_mmap, map, pc.syscall_insn + 2, false,
				  "mmap", why, why_len) ?:
		      filter_lets(&pc, SYS_mprotect, prot, pc.syscall_insn + 2, true,
				  "mprotect", why, why_len);
	ptcall_release(&pc);
	return err;
}

/*
 * Resumed by syscall stops until ours is done.  A syscall (@nr >= 0):
 * until its exit, *@ret its value, the thread left at that exit.  A call
 * (@nr < 0): until the rt_sigreturn of its way back begins (libc's
 * __restore_rt, or our pages' own); that sigreturn is skipped and the
 * thread left at its exit, its rip back at the way back's start so that
 * our death still takes it; *@r holds its registers as it began.
 */
static int run_back(struct ptcall *pc, long nr, int ms,
		    struct user_regs_struct *r, long *ret)
{
	uint64_t deadline = mono_ns() + (uint64_t)ms * 1000000;
	uint64_t ours = pc->page + RET_SIGRETURN + RET_SIGRETURN_LEN;
	struct __ptrace_syscall_info si;
	bool skipping = false;
	int st;

	if (resume(pc->tid, PTRACE_SYSCALL, 0))
		return -ESRCH;
	for (;;) {
		pid_t got = waitpid(pc->tid, &st, __WALL | WNOHANG);
		int sig;

		if (got < 0 && errno != EINTR)
			return -ESRCH;
		if (got <= 0) {
			if (mono_ns() > deadline && !skipping)
				return -ETIMEDOUT;
			usleep(20);
			continue;
		}
		if (!WIFSTOPPED(st))
			return -ESRCH;
		sig = st >> 8;
		if (is_syscall_stop(sig)) {
			if (ptrace(PTRACE_GET_SYSCALL_INFO, pc->tid, sizeof(si), &si) <= 0)
				return -EIO;
			if (si.op == PTRACE_SYSCALL_INFO_EXIT && (nr >= 0 || skipping)) {
				*ret = nr >= 0 ? si.exit.rval : *ret;
				return 0;
			}
			if (si.op == PTRACE_SYSCALL_INFO_ENTRY && nr < 0 &&
			    si.entry.nr == SYS_rt_sigreturn &&
			    (si.instruction_pointer == pc->restore_rt + SIGRETURN_LEN ||
			     (pc->page && si.instruction_pointer == ours))) {
				struct user_regs_struct skip;

				if (ptrace(PTRACE_GETREGS, pc->tid, 0, r))
					return -EIO;
				skip = *r;
				skip.orig_rax = -1;
				skip.rip -= skip.rip == ours ? RET_SIGRETURN_LEN : SIGRETURN_LEN;
				if (set_regs(pc->tid, &skip))
					return -ESRCH;
				skipping = true;
			}
		} else if (!(sig >> 8)) {
			pc->pending_sig = sig & 0xff;
		}
		if (resume(pc->tid, PTRACE_SYSCALL, 0))
			return -ESRCH;
	}
}

/* A syscall; @owned: an mmap whose pages are ours from its return on. */
static int remote_syscall(struct ptcall *pc, long nr, const uint64_t args[6],
			  bool owned, long *ret, char *why, size_t why_len)
{
	struct user_regs_struct r = pc->saved, back;
	uint64_t unmap = pc->libc_munmap;
	int err;

	/* a refused mprotect is W^X's answer: the delivery has its way round */
	err = filter_lets(pc, nr, args, pc->syscall_insn + 2, nr == SYS_mprotect,
			  nr == SYS_mmap ? "mmap" : nr == SYS_mprotect ? "mprotect" :
			  nr == SYS_munmap ? "munmap" : "system call", why, why_len);
	if (err)
		return err;
	r.rax = nr;
	r.rdi = args[0], r.rsi = args[1], r.rdx = args[2];
	r.r10 = args[3], r.r8 = args[4], r.r9 = args[5];
	r.rip = pc->syscall_insn;
	r.orig_rax = -1;
	r.rsp = pc->frame;
	/*
	 * While our pages are there, a syscall on them (rdi, rsi: the pages)
	 * returns through munmap(rdi, rsi) first, should we die meanwhile.
	 */
	if (pc->page && nr != SYS_munmap) {
		r.rsp -= 8;
		err = write_at(pc->tid, r.rsp, &unmap, 8);
		if (err)
			goto fail;
	}
	err = set_regs(pc->tid, &r) ?: run_back(pc, nr, 1000, &back, ret);
	if (err)
		goto fail;
	if (owned && *ret > 0) {
		pc->page = *ret;
		pc->page_len = args[1];
		step_note("mapped");
	}
	if (nr == SYS_munmap && !*ret && args[0] == pc->page)
		pc->page = 0;
	err = park(pc);
	if (!err)
		return 0;
fail:
	snprintf(why, why_len, "cannot run a system call in thread %d: %s",
		 pc->tid, strerror(-err));
	return -EIO;
}

int ptcall_syscall(struct ptcall *pc, long nr, const uint64_t args[6],
		   long *ret, char *why, size_t why_len)
{
	return remote_syscall(pc, nr, args, false, ret, why, why_len);
}

void ptcall_release(struct ptcall *pc)
{
	uint64_t took;

	if (pc->stopped && !pc->in_flight) {
		struct user_regs_struct r;
		struct iovec x = { pc->xstate, pc->xstate_len };

		/* a page still ours goes as the thread resumes */
		parked_regs(pc, &r);
		ptrace(PTRACE_SETREGS, pc->tid, 0, &r);
		if (pc->xstate_len)
			ptrace(PTRACE_SETREGSET, pc->tid, NT_X86_XSTATE, &x);
	}
	if (pc->seized)
		ptrace(PTRACE_DETACH, pc->tid, 0, pc->pending_sig);
	if (pc->stopped) {
		took = mono_ns() - pc->stopped_ns;
		if (took > pc->longest_ns)
			pc->longest_ns = took;
	}
	free(pc->xstate);
	pc->xstate = NULL;
	seccomp_free(&pc->filters);
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

/*
 * Pages of ours in the thread, readable and writable for now; no swap
 * reserved, so that they never merge with the target's own mappings
 * and can be told apart (smaps' "nr").
 */
static int map_pages(struct ptcall *pc, size_t len, char *why, size_t why_len)
{
	uint64_t map[6];
	long page = 0;
	int err;

	map_args(len, map);

	err = remote_syscall(pc, SYS_mmap, map, true, &page, why, why_len);
	if (err)
		return err;
	if (page < 0 && page > -4096) {
		snprintf(why, why_len, "thread %d cannot map a page: %s", pc->tid,
			 strerror(-page));
		return (int)page;
	}
	/* the way back in our pages ends in an rt_sigreturn of its own */
	page = pc->page + RET_SIGRETURN + RET_SIGRETURN_LEN;
	return filter_lets(pc, SYS_rt_sigreturn, map, page, false, "rt_sigreturn", why, why_len) ?:
	       filter_lets(pc, -1, map, page, true, "skipped rt_sigreturn (syscall -1)", why, why_len);
}

/*
 * The calls' way back, at our pages' start: a call that returned 0 gave
 * the pages away (a pending call holds them), so it goes straight to the
 * sigreturn; any other first unmaps them, by libc's syscall() returning
 * into __restore_rt.  %r12 keeps the call's value for us to read.
 */
static void make_ret(unsigned char *p, const struct ptcall *pc)
{
	static const unsigned char code[PTCALL_RET_LEN] = {
		0x49, 0x89, 0xc4,		/* mov %rax, %r12 */
		0x85, 0xc0,			/* test %eax, %eax */
		0x75, 0x07,			/* jne 1f */
		0xb8, 0x0f, 0, 0, 0,		/* mov $SYS_rt_sigreturn, %eax */
		0x0f, 0x05,			/* syscall */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, /* 1: movabs $restore_rt, %r11 */
		0x41, 0x53,			/* push %r11 */
		0xbf, SYS_munmap, 0, 0, 0,	/* mov $SYS_munmap, %edi */
		0x48, 0xbe, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $page, %rsi */
		0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $len, %rdx */
		0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $syscall, %r11 */
		0x41, 0xff, 0xe3,		/* jmp *%r11 */
	};
	uint64_t len = pc->page_len;

	memcpy(p, code, sizeof(code));
	memcpy(p + 16, &pc->restore_rt, 8);
	memcpy(p + 33, &pc->page, 8);
	memcpy(p + 43, &len, 8);
	memcpy(p + 53, &pc->libc_syscall, 8);
}

/*
 * @data into the pages, after the calls' way back, and the pages made
 * read and execute only.  A refusal (W^X) leaves them writable, pc->wx.
 */
static int seal_pages(struct ptcall *pc, const void *data, size_t len,
		      char *why, size_t why_len)
{
	uint64_t prot[6] = { pc->page, pc->page_len, PROT_READ | PROT_EXEC };
	unsigned char ret[PTCALL_RET_LEN];
	long rc = 0;
	int err;

	make_ret(ret, pc);
	err = write_at(pc->tid, pc->page, ret, sizeof(ret));
	if (!err && len)
		err = write_at(pc->tid, pc->page + sizeof(ret), data, len);
	if (err) {
		snprintf(why, why_len, "cannot write into thread %d's page",
			 pc->tid);
		return err;
	}
	err = remote_syscall(pc, SYS_mprotect, prot, false, &rc, why, why_len);
	if (!err && rc) {
		snprintf(why, why_len, "process %d refuses an executable page (W^X?): %s",
			 pc->tid, strerror(-rc));
		pc->wx = true;
		err = (int)rc;
	}
	return err;
}

/*
 * @fn(@args) with its return address @back, from the parked state: the
 * registers first (with __restore_rt still in the slot, our death
 * returns there), then the slot.
 */
static int remote_call(struct ptcall *pc, uint64_t fn, const uint64_t args[6],
		       uint64_t back, int ms, long *ret, char *why, size_t why_len)
{
	struct user_regs_struct r = pc->saved, at;
	int err;

	r.rdi = args[0], r.rsi = args[1], r.rdx = args[2];
	r.rcx = args[3], r.r8 = args[4], r.r9 = args[5];
	r.rax = 0;
	r.orig_rax = -1;
	r.rsp = pc->frame;
	r.rip = fn;
	err = set_regs(pc->tid, &r);
	if (!err && back != pc->restore_rt)
		err = write_at(pc->tid, pc->frame, &back, 8);
	if (!err)
		err = run_back(pc, -1, ms, &at, ret);
	if (err == -ETIMEDOUT) {
		snprintf(why, why_len, "the call in thread %d did not return within %d ms: left to finish on its own",
			 pc->tid, ms);
		/* stopped where it is, to be let go as it is */
		if (!ptrace(PTRACE_INTERRUPT, pc->tid, 0, 0)) {
			int sig;

			while ((sig = wait_stop(pc->tid)) >= 0 && !is_event_stop(sig))
				if (resume(pc->tid, PTRACE_CONT, 0))
					break;
		}
		pc->in_flight = true;
		pc->page = 0;
		return err;
	}
	if (err) {
		snprintf(why, why_len, "the call in thread %d did not return to us (%s)",
			 pc->tid, strerror(-err));
		return err;
	}
	/* our way back kept the value; libc's (W^X) did not */
	*ret = back == pc->restore_rt ? 0 : (long)at.r12;
	pc->page = 0;
	err = write_at(pc->tid, pc->frame, &pc->restore_rt, 8) ?: park(pc);
	if (err)
		snprintf(why, why_len, "cannot stop thread %d after the call", pc->tid);
	return err;
}

int ptcall_call(struct ptcall *pc, uint64_t fn, const uint64_t args[6],
		int ms, long *ret, char *why, size_t why_len)
{
	int err;

	if (!pc->page && ((err = map_pages(pc, PTCALL_RET_LEN, why, why_len)) ||
			  (err = seal_pages(pc, NULL, 0, why, why_len))))
		return err;
	return remote_call(pc, fn, args, pc->page, ms, ret, why, why_len);
}

int ptcall_unmap(struct ptcall *pc, char *why, size_t why_len)
{
	uint64_t unmap[6] = { pc->page, pc->page_len };
	long rc = 0;
	int err;

	if (!pc->page)
		return 0;
	err = remote_syscall(pc, SYS_munmap, unmap, false, &rc, why, why_len);
	if (!err && rc)
		err = (int)rc;
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

/* @code as the body of try/except BaseException, one space in. */
static char *wrapped(const char *code)
{
	size_t lines = 1, n = strlen(code);
	char *out, *o;

	for (const char *c = code; *c; c++)
		lines += *c == '\n';
	out = malloc(n + lines + 64);
	if (!out)
		return NULL;
	o = out + sprintf(out, "try:\n ");
	for (const char *c = code; *c; c++) {
		*o++ = *c;
		if (*c == '\n')
			*o++ = ' ';
	}
	strcpy(o, "\nexcept BaseException:\n pass\n");
	return out;
}

/* W^X: PyRun_SimpleString queued itself, on a wrapped copy of @code. */
static int pending_wx(struct ptcall *pc, uint64_t add, uint64_t run,
		      const char *code, char *why, size_t why_len)
{
	char *text = wrapped(code);
	uint64_t args[6] = { run, pc->page + PTCALL_RET_LEN };
	long ret;
	int err;

	if (!text)
		return -ENOMEM;
	if (strlen(text) + 1 > pc->page_len - PTCALL_RET_LEN) {
		free(text);
		snprintf(why, why_len, "the collector does not fit its page");
		return -E2BIG;
	}
	err = write_at(pc->tid, args[1], text, strlen(text) + 1);
	free(text);
	if (err) {
		snprintf(why, why_len, "cannot write into thread %d's page", pc->tid);
		return err;
	}
	err = remote_call(pc, add, args, pc->restore_rt, 1000, &ret, why, why_len);
	if (!err)
		pc->queued_page = args[1] & ~4095ULL;
	return err;
}

/* Stopped in a futex wait on the GIL's condition variables? */
static bool in_gil_wait(const struct ptcall *pc)
{
	return (long)pc->saved.orig_rax == SYS_futex && pc->lock.kind &&
	       pending_waits_on_gil(&pc->lock, pc->saved.rdi);
}

int ptcall_pending_run(struct ptcall *pc, const char *code, char *why,
		       size_t why_len)
{
	uint64_t add = ptcall_symbol(pc->tid, "python3", "Py_AddPendingCall");
	uint64_t run = ptcall_symbol(pc->tid, "python3", "PyRun_SimpleString");
	size_t n = strlen(code) + 1;
	unsigned char *data;
	uint64_t args[6] = {};
	uint64_t page;
	long ret;
	int err;

	if (!add || !run) {
		snprintf(why, why_len, "process %d exports no %s", pc->tid,
			 !add ? "Py_AddPendingCall" : "PyRun_SimpleString");
		return -ENOENT;
	}
	if (pc->page) {
		snprintf(why, why_len, "a page of ours is already in thread %d", pc->tid);
		return -EBUSY;
	}
	/*
	 * Held by another thread, it is given back soon; free, the stopped
	 * thread cannot take it before our call does: only its own hold
	 * would never end, and this reads it.
	 */
	err = pc->lock.kind ? pending_lock_held(pc->tid, &pc->lock) : 0;
	if (err < 0) {
		snprintf(why, why_len, "cannot read process %d's pending-calls lock",
			 pc->tid);
		return err;
	}
	if (err) {
		snprintf(why, why_len, "process %d's pending calls are busy (their lock is held)",
			 pc->tid);
		return -EAGAIN;
	}
	/*
	 * A PyMutex's holder may wait for the GIL before it lets go, so our
	 * call may wait for it: not while this thread is a waiter of the
	 * GIL's condition variable, whose signallers wait for it to leave.
	 */
	if (pc->lock.kind == PENDING_LOCK_MUTEX && in_gil_wait(pc)) {
		snprintf(why, why_len, "process %d's main thread waits for the GIL",
			 pc->tid);
		return -EINPROGRESS;
	}
	/* room for the wrapped copy too, should W^X ask for it */
	err = map_pages(pc, PTCALL_RET_LEN + PTCALL_STUB_MAX + 2 * n + 64, why, why_len);
	if (err)
		return err;
	data = calloc(1, PTCALL_STUB_MAX + n);
	if (!data)
		return -ENOMEM;
	make_stub(data, run, pc->libc_syscall, pc->page, pc->page_len);
	memcpy(data + PTCALL_STUB_MAX, code, n);
	err = seal_pages(pc, data, PTCALL_STUB_MAX + n, why, why_len);
	free(data);
	if (err && pc->wx)
		return pending_wx(pc, add, run, code, why, why_len);
	if (err)
		return err;
	page = pc->page;
	args[0] = page + PTCALL_RET_LEN;
	args[1] = page + PTCALL_RET_LEN + PTCALL_STUB_MAX;
	err = remote_call(pc, add, args, page, 1000, &ret, why, why_len);
	if (!err && (int)ret) {
		snprintf(why, why_len, "process %d's pending calls are full", pc->tid);
		err = -EAGAIN;
	}
	/* queued: the pages are the call's now, and go with it */
	if (!err)
		pc->queued_page = page;
	return err;
}

/*
 * The direct run's function, called on the thread itself: the GIL taken
 * by PyGILState_Ensure (the thread had let it go, in its syscall), the
 * code run, the GIL given back; it returns 1, so that our way back
 * unmaps the pages after it.
 */
static void make_direct(unsigned char *p, uint64_t ensure, uint64_t run,
			uint64_t release, uint64_t code)
{
	static const unsigned char body[PTCALL_DIRECT_LEN] = {
		0x53,				/* push %rbx: aligned */
		0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $ensure, %rax */
		0xff, 0xd0,			/* call *%rax */
		0x89, 0xc3,			/* mov %eax, %ebx: its state */
		0x48, 0xbf, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $code, %rdi */
		0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $run, %rax */
		0xff, 0xd0,			/* call *%rax */
		0x89, 0xdf,			/* mov %ebx, %edi */
		0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, /* movabs $release, %rax */
		0xff, 0xd0,			/* call *%rax */
		0x5b,				/* pop %rbx */
		0xb8, 1, 0, 0, 0,		/* mov $1, %eax */
		0xc3,				/* ret */
	};

	memcpy(p, body, sizeof(body));
	memcpy(p + 3, &ensure, 8);
	memcpy(p + 17, &code, 8);
	memcpy(p + 27, &run, 8);
	memcpy(p + 41, &release, 8);
}

int ptcall_direct_run(struct ptcall *pc, const char *code, int ms, char *why,
		      size_t why_len)
{
	uint64_t check = ptcall_symbol(pc->tid, "python3", "PyGILState_Check");
	uint64_t ensure = ptcall_symbol(pc->tid, "python3", "PyGILState_Ensure");
	uint64_t release = ptcall_symbol(pc->tid, "python3", "PyGILState_Release");
	uint64_t run = ptcall_symbol(pc->tid, "python3", "PyRun_SimpleString");
	long rax = (long)pc->saved.rax, held = 1, ret = 0;
	size_t n = strlen(code) + 1;
	uint64_t none[6] = {};
	unsigned char *data;
	int err;

	if (!check || !ensure || !release || !run) {
		snprintf(why, why_len, "process %d exports no PyGILState_*", pc->tid);
		return -ENOENT;
	}
	/* in a syscall the interrupt broke, so not inside the interpreter */
	if ((long)pc->saved.orig_rax < 0 ||
	    (rax != -ERESTARTSYS && rax != -ERESTARTNOINTR &&
	     rax != -ERESTARTNOHAND && rax != -ERESTART_RESTARTBLOCK)) {
		snprintf(why, why_len, "thread %d is not waiting in a system call",
			 pc->tid);
		return -EAGAIN;
	}
	/* PyGILState_Ensure would wait on it again, inside its own wait */
	if (!pc->lock.kind || in_gil_wait(pc)) {
		snprintf(why, why_len, "thread %d waits for the GIL", pc->tid);
		return -EAGAIN;
	}
	err = ptcall_call(pc, check, none, 1000, &held, why, why_len);
	if (err)
		return err;
	if (held) {
		snprintf(why, why_len, "thread %d waits in C holding the GIL",
			 pc->tid);
		return -EAGAIN;
	}
	err = map_pages(pc, PTCALL_RET_LEN + PTCALL_DIRECT_LEN + n, why, why_len);
	if (err)
		return err;
	data = malloc(PTCALL_DIRECT_LEN + n);
	if (!data)
		return -ENOMEM;
	make_direct(data, ensure, run, release,
		    pc->page + PTCALL_RET_LEN + PTCALL_DIRECT_LEN);
	memcpy(data + PTCALL_DIRECT_LEN, code, n);
	err = seal_pages(pc, data, PTCALL_DIRECT_LEN + n, why, why_len);
	free(data);
	if (err)
		return err;
	return remote_call(pc, pc->page + PTCALL_RET_LEN, none, pc->page, ms,
			   &ret, why, why_len);
}
