// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "gate.skel.h"
#include "monitor/gate.h"
#include "usdt/probe.h"

/*
 * The watcher: blocks until the pipe's write end is gone (gate_open(), or
 * our death), then continues the target, which may be stopped at the gate.
 */
static void start_watcher(struct gate *g, const struct target *t)
{
	int p[2];
	char c;

	g->watch_fd = -1;
	g->watcher = -1;
	if (t->pidfd < 0 || pipe2(p, O_CLOEXEC))
		return;
	g->watcher = fork();
	if (g->watcher == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		syscall(SYS_pidfd_send_signal, t->pidfd, SIGCONT, NULL, 0);
		_exit(0);
	}
	close(p[0]);
	if (g->watcher < 0) {
		close(p[1]);
		return;
	}
	g->watch_fd = p[1];
}

int gate_arm(struct gate *g, const struct target *t, bool at_first_import,
	     char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo,
		    .func_name = at_first_import ?
				 "PyImport_ImportModuleLevelObject" : "PySys_Audit");
	int err;

	memset(g, 0, sizeof(*g));
	start_watcher(g, t);
	g->skel = gate_bpf__open();
	if (!g->skel)
		return bpf_open_failed("the launch gate", why, why_len);
	g->skel->rodata->target_tgid = t->pid;
	g->skel->rodata->at_first_import = at_first_import;
	err = gate_bpf__load(g->skel);
	if (!err) {
		g->link = bpf_program__attach_uprobe_opts(g->skel->progs.on_audit,
							  t->pid, t->elf.path, 0,
							  &uo);
		err = g->link ? 0 : -errno;
	}
	if (err) {
		snprintf(why, why_len,
			 "cannot set the launch gate on %s in '%s': %s",
			 uo.func_name, t->elf.path, strerror(-err));
		gate_open(g, t);
	}
	return err;
}

static bool stopped(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool yes = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		yes = p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
	fclose(f);
	return yes;
}

int gate_wait(struct gate *g, struct target *t, enum mon_start *start,
	      char *why, size_t why_len)
{
	for (;;) {
		if (g->skel->bss->fired && stopped(t->pid))
			break;
		if (target_gone(t)) {
			snprintf(why, why_len, "process %d ended before its main module started",
				 t->pid);
			return -ESRCH;
		}
		usleep(2000);
	}
	/* for the tests only: a window in which to kill us at the gate */
	if (getenv("CTRACE_TEST_DELAY_GATE"))
		usleep(strtoul(getenv("CTRACE_TEST_DELAY_GATE"), NULL, 10) * 1000);
	if (!strcmp(g->skel->bss->event, "cpython.run_module"))
		*start = MON_MODULE;
	else if (!strncmp(g->skel->bss->event, "import", 6))
		*start = MON_NOW;
	else
		*start = MON_SCRIPT;
	return 0;
}

void gate_open(struct gate *g, const struct target *t)
{
	bool fired = g->skel && g->skel->bss->fired;

	bpf_link__destroy(g->link);
	gate_bpf__destroy(g->skel);
	if (fired)
		kill(t->pid, SIGCONT);
	/* the watcher's turn has passed: it wakes, continues nothing new */
	if (g->watch_fd >= 0)
		close(g->watch_fd);
	if (g->watcher > 0)
		waitpid(g->watcher, NULL, 0);
	memset(g, 0, sizeof(*g));
	g->watch_fd = -1;
}
