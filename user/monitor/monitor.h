/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_MONITOR_H
#define CTRACE_MONITOR_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include "monitor/deliver.h"
#include "monitor/inject.h"
#include "monitor/reply.h"
#include "target/target.h"

/*
 * The monitoring backend's collector: our script, run inside a 3.12+
 * target by PEP 768 or a pending call, counting with sys.monitoring.  Its
 * files live in a directory of ours in the target's /tmp: the script
 * (PEP 768's, removed once taken), and two FIFOs.  We hold CTL's write end: when we close it, or die, the
 * collector sees its end, sends its tables over OUT and removes its tool.
 */
enum mon_mode {
	MON_COUNT, MON_FUNCS, MON_CALLS, MON_TRACE,
	MON_TRACE_COUNT = MON_TRACE | 4,	/* --trace --count */
};

/* Where counting starts. */
enum mon_start {
	MON_NOW,	/* a running process: at once */
	MON_SCRIPT,	/* launched: the main module is starting (file, -c) */
	MON_MODULE,	/* launched with -m: when runpy starts __main__ */
};

/* How the collector gets in. */
enum mon_delivery {
	MON_BY_PEP768,	/* 3.14+: the interpreter's remote debugger interface */
	MON_BY_PTRACE,	/* a pending call queued by ptrace (monitor/deliver.h) */
};

struct monitor {
	struct target *t;
	enum mon_delivery via;
	struct pep768 pep;
	struct ptrace_stats ptrace;	/* the ptrace delivery's */
	char *boot;		/* its text, for a direct run (ptrace_direct()) */
	int tmp_fd, dir_fd, out_fd, ctl_fd;
	const char *base;	/* /tmp, or where else it went (make_dir()) */
	char name[40];		/* ctrace-bpf.XXXXXXXXXXXXXXXX in @base */
	bool script_left, fifos_left;
	uid_t uid;		/* the target's user, who owns the FIFOs */
	gid_t gid;
	char *buf;		/* what OUT has sent, not parsed yet */
	size_t len, cap, total;
	bool eof;
	struct mon_reply reply;
};

/*
 * Make the collector's channel in @t's /tmp and ask @t to run it, @via
 * PEP 768 (the script a file there, asked of every thread) or ptrace (its
 * text in the pending call's pages).
 */
int monitor_start(struct monitor *m, struct target *t, enum mon_delivery via,
		  enum mon_mode mode, enum mon_start start, bool executable,
		  char *why, size_t why_len);
/*
 * Wait until it counts (a stopped target must be let go first), or until
 * *@stop: a process whose threads all sit in C takes it when one wakes.
 */
int monitor_ready(struct monitor *m, volatile sig_atomic_t *stop, char *why,
		  size_t why_len);
/* fd that turns readable when the collector sends (it does at its exit). */
int monitor_pollfd(const struct monitor *m);
/* Take what it sent; true once it has sent everything (the target exits). */
bool monitor_poll(struct monitor *m, char *why, size_t why_len, int *err);
/*
 * Ask for the tables and read them (@timeout_s at most): the collector
 * turns its events off and frees its tool id first.
 */
int monitor_stop(struct monitor *m, double timeout_s, char *why,
		 size_t why_len);
/* Remove our files from the target's /tmp. */
void monitor_close(struct monitor *m);

#endif
