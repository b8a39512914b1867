/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_TARGET_H
#define CTRACE_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include "target/pyelf.h"
#include "target/syspath.h"

struct target {
	pid_t pid;
	bool launched;
	char comm[64];
	char cmdline[512];	/* its argv joined by spaces, control bytes escaped */
	struct pyelf elf;	/* the ELF that carries the python probes */
	int root_fd;		/* O_PATH of the target's root, for sources */
	char cwd[PATH_MAX];	/* the target's cwd, as seen inside its root */
	/* its command line and environment, for its sys.path */
	char **argv, **env, *args_buf, *env_buf;
	int argc, envc;
	/* its sys.path as last read from its memory; empty if never */
	struct syspath live_path;
	int pidfd;
	/* launch mode */
	pid_t child;		/* what we forked: env, sh, chroot or python */
	pid_t stopped;		/* the Python, held at its exec until attached */
	bool reaped;
	int exit_status;
};

/*
 * Find the Python ELF of a running process and check its probes exist.
 * -ENODATA: a Python without probes, fully described all the same (the
 * monitoring backend needs no probes).
 */
int target_from_pid(pid_t pid, struct target *t, char *why, size_t why_len);
/*
 * The same for a process whose executable is @elf, already read (-a meets
 * thousands of processes of one interpreter): its maps are not searched.
 */
int target_from_pid_elf(pid_t pid, const struct pyelf *elf, struct target *t,
			char *why, size_t why_len);
/*
 * Start the command and follow it (through env, sh -c, chroot...) until a
 * process execs a Python; that process is held right after its exec, so the
 * probes go on before its interpreter runs a single bytecode.
 */
int target_prepare_launch(char **argv, struct target *t, char *why,
			  size_t why_len);
/* Let the held Python run. */
int target_release(struct target *t, char *why, size_t why_len);
/* Attach failed: kill the held Python, reap the child. */
void target_abort(struct target *t);
/*
 * After arming something by PID number (probes, a remote-debug request):
 * -ESRCH with @why if the process examined has exited meanwhile, when the
 * number may already name another process.  A launched target is held.
 */
int target_still_ours(struct target *t, char *why, size_t why_len);
/* True once the target is gone; a launched child is reaped. */
bool target_gone(struct target *t);
/* The one "Tracing PID ..." line on stderr, once every probe is live. */
/* @backend: NULL for the USDT one, else how it counts (it runs inside). */
void target_print_ready(const struct target *t, bool from_main,
			const char *backend);
/* fd to poll for the target's exit, or -1 */
int target_pollfd(const struct target *t);
void target_close(struct target *t);

#endif
