/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CTRACE_ATTACH_H
#define CTRACE_ATTACH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "cli.h"
#include "target/pyversion.h"
#include "target/target.h"

struct ctrace_bpf;
struct bpf_link;
struct ring_buffer;

/* What a run needs from the kernel: derived from the modes and the version. */
struct plan {
	bool count;		/* line counts (+ entry repairs) */
	bool trace;		/* --trace stream */
	bool funcs;		/* --listfuncs */
	bool calls;		/* --trackcalls */
	bool entries;		/* function__entry attached */
	bool small;		/* one of many processes: smaller maps */
	bool from_main;		/* launched: count from the main module on */
	bool to_finalize;	/* stop at Py_FinalizeEx, where trace has ended */
	/*
	 * -a: attached to the binary for every process that maps it, now or
	 * later, filtered in the kernel by comm and cgroup (0: any)
	 */
	bool any_pid;
	char comm[16];
	uint64_t cgroup_id;
	int cgroup_level;
	int probes[5];		/* probe ids to attach, -1 terminated */
};

#define CTRACE_MAX_LINKS 8

struct tracer {
	struct ctrace_bpf *skel;
	struct bpf_link *links[CTRACE_MAX_LINKS];
	struct bpf_link *main_link;	/* the audit probe, until main starts */
	struct bpf_link *death_link;	/* code objects' deaths, see code_gen */
	uint64_t death_t0, death_n0;	/* when the rate was last looked at */
	pthread_t detacher;
	bool detaching;
	int n_links;
};

/*
 * trace's precedence: --trackcalls alone wins, then --listfuncs, then
 * --trace/--count.  Fails when the interpreter lacks a needed probe.
 */
int plan_make(const struct options *o, const struct py_flavor *fl,
	      const struct target *t, struct plan *p, char *why,
	      size_t why_len);
/* Open, size, load and attach; the probes are live when it returns 0. */
int tracer_attach(struct tracer *tr, const struct plan *p,
		  const struct py_flavor *fl, const struct target *t,
		  char *why, size_t why_len);
/* Remove the uprobes: the kernel drops the semaphores with them. */
/* Stop counting now and start detaching; tracer_detach() waits for it. */
void tracer_stop(struct tracer *tr);
void tracer_detach(struct tracer *tr);
/* libbpf speaks only for warnings, or with -vv. */
void quiet_libbpf(void);
/*
 * Once the main module has started, its audit probe goes; and the code
 * objects' deaths stop being watched if they are many.
 */
void tracer_poll(struct tracer *tr);
/* Launched, and the main module never started: nothing was counted. */
bool tracer_before_main(const struct tracer *tr);
/* The target exec'd: counting stopped there. */
bool tracer_target_execd(const struct tracer *tr);
void tracer_destroy(struct tracer *tr);
/* Refuse early, with the reason, when BPF or uprobes cannot work here. */
int check_kernel(char *why, size_t why_len);

#endif
