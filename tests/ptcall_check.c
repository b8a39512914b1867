// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tests/run-ptrace.sh's driver: stop thread TID of a live target, make it
 * map a page (mmap), write and read a word there, unmap it, and let it
 * go.  Prints the page's address and how long the thread was stopped.
 *
 *   ptcall_check TID
 *   ptcall_check TID call    calls getpid() and Py_IsInitialized() in it,
 *                            through a page of ours it unmaps after
 *   ptcall_check TID run CODE    has the interpreter run CODE at its next
 *                                safe point; prints the pages the call
 *                                takes with it
 *   ptcall_check TID unmap ADDR LEN   unmaps pages
 *   ptcall_check PID lock    prints where Py_AddPendingCall's lock is,
 *                            "sem ADDR" (the sem_t) or "mutex ADDR";
 *                            nothing stopped
 *
 * "run" queues only while that lock is free, as the delivery does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "monitor/ptrace.h"
#include "target/target.h"
#include "util/vm.h"

static int roundtrip(pid_t tid, uint64_t page)
{
	char out[] = "ctrace-bpf", in[sizeof(out)] = "";
	struct iovec l = { out, sizeof(out) };
	struct iovec r = { (void *)(uintptr_t)page, sizeof(out) };

	if (process_vm_writev(tid, &l, 1, &r, 1, 0) != sizeof(out))
		return 1;
	l.iov_base = in;
	if (process_vm_readv(tid, &l, 1, &r, 1, 0) != sizeof(in))
		return 1;
	return memcmp(in, out, sizeof(out)) != 0;
}

/* getpid() of libc and Py_IsInitialized() of the interpreter, called. */
static int calls(struct ptcall *pc, pid_t tid, char *why, size_t why_len)
{
	uint64_t none[6] = {};
	uint64_t getpid_at = ptcall_symbol(tid, "/libc.", "getpid");
	uint64_t init_at = ptcall_symbol(tid, "python3", "Py_IsInitialized");
	long pid = 0, init = 0;

	if (!getpid_at || !init_at) {
		snprintf(why, why_len, "symbols not found (getpid %#lx, Py_IsInitialized %#lx)",
			 (unsigned long)getpid_at, (unsigned long)init_at);
		return 1;
	}
	if (ptcall_call(pc, getpid_at, none, 1000, &pid, why, why_len) ||
	    ptcall_call(pc, init_at, none, 1000, &init, why, why_len))
		return 1;
	printf("page %lx\n", (unsigned long)pc->page);
	if (ptcall_unmap(pc, why, why_len))
		return 1;
	printf("getpid %ld Py_IsInitialized %ld\n", pid, init);
	return pid != tid || init != 1;
}

static int find_lock(pid_t pid, struct pending_lock *l, char *why,
		     size_t why_len)
{
	struct target t;
	int err = target_from_pid(pid, &t, why, why_len);

	if (err && err != -ENODATA)
		return err;
	err = pending_lock_find(&t, l, why, why_len);
	target_close(&t);
	return err;
}

static int print_lock(pid_t pid)
{
	struct pending_lock l;
	uint64_t sem = 0;
	char why[256];

	if (find_lock(pid, &l, why, sizeof(why)) ||
	    (l.kind == PENDING_LOCK_SEM && vm_read(pid, l.at, &sem, 8))) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	printf("%s %#llx\n", l.kind == PENDING_LOCK_SEM ? "sem" : "mutex",
	       (unsigned long long)(l.kind == PENDING_LOCK_SEM ? sem : l.at));
	return 0;
}

int main(int argc, char **argv)
{
	struct pending_lock lock = {};
	uint64_t map[6] = { 0, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
	uint64_t unmap[6] = { 0, 4096 };
	struct ptcall pc;
	char why[256];
	long page = 0, rc = -1;
	pid_t tid;
	int bad = 0;

	if (argc < 2 || argc > 5)
		return 2;
	tid = atoi(argv[1]);
	if (argc == 3 && !strcmp(argv[2], "lock"))
		return print_lock(tid);
	if (argc == 4 && !strcmp(argv[2], "run") &&
	    find_lock(tid, &lock, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	if (ptcall_stop(&pc, tid, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	if (argc == 4 && !strcmp(argv[2], "run")) {
		pc.lock = lock;
		bad = ptcall_pending_run(&pc, argv[3], why, sizeof(why));
		if (!bad)
			printf("pages %lx %zu\n", (unsigned long)pc.queued_page, pc.page_len);
	} else if (argc == 5 && !strcmp(argv[2], "unmap")) {
		pc.page = strtoull(argv[3], NULL, 16);
		pc.page_len = strtoull(argv[4], NULL, 10);
		bad = ptcall_unmap(&pc, why, sizeof(why));
	}
	if (argc >= 4) {
		ptcall_release(&pc);
		if (bad)
			fprintf(stderr, "%s\n", why);
		return bad != 0;
	}
	if (argc == 3) {
		bad = calls(&pc, tid, why, sizeof(why));
		ptcall_release(&pc);
		if (bad)
			fprintf(stderr, "%s\n", why);
		printf("stopped_us %llu\n", (unsigned long long)(pc.longest_ns / 1000));
		return bad;
	}
	bad = ptcall_syscall(&pc, SYS_mmap, map, &page, why, sizeof(why)) ||
	      page < 0 || roundtrip(tid, page);
	/* the test's window to SIGKILL us while the thread is stopped */
	if (getenv("PTCALL_HOLD_MS"))
		usleep(atoi(getenv("PTCALL_HOLD_MS")) * 1000);
	if (page > 0) {
		unmap[0] = page;
		bad |= ptcall_syscall(&pc, SYS_munmap, unmap, &rc, why, sizeof(why)) ||
		       rc != 0;
	}
	ptcall_release(&pc);
	if (bad) {
		fprintf(stderr, "remote mmap/munmap failed (%ld, %ld): %s\n",
			page, rc, why);
		return 1;
	}
	printf("page %#lx stopped_us %llu\n", page,
	       (unsigned long long)(pc.longest_ns / 1000));
	return 0;
}
