// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attaching to one python:* site, and the errors of opening and loading,
 * shared by every object that attaches to the interpreter's probes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "usdt/probe.h"

int bpf_open_failed(const char *what, char *why, size_t why_len)
{
	int err = -errno;

	snprintf(why, why_len, "cannot open %s: %s", what, strerror(-err));
	return err;
}

int bpf_load_failed(int err, char *why, size_t why_len)
{
	if (err == -EPERM || err == -EACCES)
		snprintf(why, why_len,
			 "cannot load BPF programs: permission denied; run as root (or with CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE)");
	else
		snprintf(why, why_len, "cannot load BPF programs: %s",
			 strerror(-err));
	return err;
}

struct bpf_link *usdt_attach_probe(struct bpf_program *prog,
				   const struct target *t, int probe,
				   bool any_pid, char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_usdt_opts, uo, .usdt_cookie = t->elf.probe_pc[probe]);
	struct bpf_link *l;
	int err;

	l = bpf_program__attach_usdt(prog, any_pid ? -1 : t->pid, t->elf.path,
				     "python", probe_names[probe], &uo);
	if (l)
		return l;
	err = errno;
	if (any_pid)
		snprintf(why, why_len,
			 "cannot attach to python:%s in '%s' for every process: %s",
			 probe_names[probe], t->elf.path, strerror(err));
	else
		snprintf(why, why_len,
			 "cannot attach to python:%s in '%s' (PID %d): %s",
			 probe_names[probe], t->elf.path, t->pid,
			 strerror(err));
	errno = err;	/* the caller's to return */
	return NULL;
}
