/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_FLEET_H
#define CTRACE_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include "cli.h"
#include "target/target.h"

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
/* @t runs a Python that cannot be traced: a note at the end, by binary. */
void fleet_not_traced(struct fleet *f, const struct target *t,
		      const char *why);
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
/* Stop counting everywhere at once, and read every binary's maps (once). */
void fleet_harvest(struct fleet *f);
/*
 * Each process has its own report through the fleet collector
 * (collector.h).  What is left: processes seen counting but never examined
 * (they exited first), each under a heading, or into @merged; then the
 * notes, of binaries that could not be traced and of counts lost.
 */
struct results;
void fleet_report_unexamined(struct fleet *f, struct results *merged,
			     FILE *out);
void fleet_notes(const struct fleet *f);
void fleet_free(struct fleet *f);

#endif
