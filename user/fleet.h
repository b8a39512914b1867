/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_FLEET_H
#define CTRACE_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include "cli.h"
#include "target.h"

/*
 * -a with --listfuncs or --trackcalls: one BPF object per interpreter
 * binary (or libpython), attached once for every process that maps it, now
 * or later.  The kernel raises each process's semaphores when it maps the
 * binary and lowers them at detach, even if we are killed.  Counts are
 * keyed by process, so each keeps its own report.
 */
struct fleet;

/* Which processes count, as the kernel checks it (bpf/wanted.bpf.h). */
struct proc_filter {
	char comm[16];		/* all zero: any */
	uint64_t cgroup_id;	/* 0: any */
	int cgroup_level;
};

/* NULL with @why when a filter cannot be set up (a cgroup that is not there). */
struct fleet *fleet_new(const struct options *o, char *why, size_t why_len);
void fleet_filter(const struct fleet *f, struct proc_filter *pf);
/* Is @t one of the processes asked for (--comm, --cgroup, --exe)? */
bool fleet_wants(const struct fleet *f, const struct target *t);
/*
 * Count @t's process, one fleet_wants() chose: its binary is attached the
 * first time one of its
 * processes is seen.  A binary that cannot be traced is remembered with
 * its reason, and its processes are counted for one note at the end.
 * Returns its binary's index, or -ENOTSUP for a process not counted.
 */
int fleet_add(struct fleet *f, const struct target *t);
/*
 * The ELF of an attached binary whose file is @st (an executable's, from
 * /proc/PID/exe), or NULL: its processes need no search of their maps.
 */
const struct pyelf *fleet_elf_of(const struct fleet *f, const struct stat *st);
/*
 * While deferred, binaries met are only noted; fleet_arm() attaches them
 * all at once.  The first scan of a busy host runs so before any process
 * starts trapping.
 */
void fleet_defer(struct fleet *f, bool defer);
void fleet_arm(struct fleet *f);
/* Stop counting everywhere at once, and read every binary's maps. */
void fleet_harvest(struct fleet *f);
/*
 * The reports: one per process in @ts (in that order; @bins[i] is what
 * fleet_add() returned for it), then one per process seen counting but
 * never examined (it exited first); with --merge one for all.  Then the
 * notes of binaries that could not be traced.
 */
void fleet_report(struct fleet *f, struct target *const *ts, const int *bins,
		  size_t n, FILE *out);
void fleet_free(struct fleet *f);

#endif
