// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attaching: choose the probes a mode needs, size the maps for it, load the
 * BPF object and attach to the target's python:* USDT sites.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "ctrace.h"
#include "ctrace.skel.h"
#include "usdt/attach.h"
#include "usdt/probe.h"
#include "util/clock.h"
#include "util/log.h"

static bool need_probe(const struct pyelf *e, int probe, char *why,
		       size_t why_len, const char *mode)
{
	if (e->has_probe[probe])
		return true;
	py_explain_missing(e, probe, mode, why, why_len);
	return false;
}

int plan_make(const struct options *o, const struct py_flavor *fl,
	      const struct target *t, struct plan *p, char *why,
	      size_t why_len)
{
	const struct pyelf *e = &t->elf;
	int n = 0;

	memset(p, 0, sizeof(*p));
	if (options_counts(o) == COUNT_CALLS) {
		p->calls = true;
		if (!need_probe(e, PROBE_RETURN, why, why_len, "--trackcalls"))
			return -ENOTSUP;
		p->probes[n++] = PROBE_RETURN;
	} else if (options_counts(o) == COUNT_FUNCS) {
		p->funcs = true;
		if (!need_probe(e, PROBE_RETURN, why, why_len, "--listfuncs"))
			return -ENOTSUP;
		p->probes[n++] = PROBE_RETURN;
	} else {
		const char *mode = o->trace ? "--trace" : "--count";

		p->count = o->count;
		p->trace = o->trace;
		if (!need_probe(e, PROBE_LINE, why, why_len, mode))
			return -ENOTSUP;
		p->probes[n++] = PROBE_LINE;
		/* entries drive the repairs and trace's "--- modulename" lines */
		if (p->trace || !fl || fl->repair_first_line || fl->repair_send_edge) {
			if (!need_probe(e, PROBE_ENTRY, why, why_len, mode))
				return -ENOTSUP;
			p->entries = true;
			p->probes[n++] = PROBE_ENTRY;
		}
	}
	/*
	 * trace starts at the main module's first bytecode.  Without the
	 * audit probe that announces it (before 3.8), start-up is counted,
	 * and so it is in a program that embeds Python: it has no main module.
	 */
	p->to_finalize = !o->startup;
	if (t->launched && !o->startup && e->has_probe[PROBE_AUDIT] &&
	    !strncmp(t->comm, "python", 6)) {
		p->from_main = true;
		p->probes[n++] = PROBE_AUDIT;
	}
	p->probes[n] = -1;
	return 0;
}

int check_kernel(char *why, size_t why_len)
{
	if (access("/sys/bus/event_source/devices/uprobe", F_OK)) {
		snprintf(why, why_len,
			 "this kernel has no uprobe support (no /sys/bus/event_source/devices/uprobe); it needs CONFIG_UPROBE_EVENTS");
		return -ENOTSUP;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, why_len,
			 "this kernel exposes no BTF (/sys/kernel/btf/vmlinux); it needs CONFIG_DEBUG_INFO_BTF");
		return -ENOTSUP;
	}
	return 0;
}


/* -vv: the offsets the programs will use, for reports against new builds */
static void log_layout(const volatile struct ctrace_layout *l)
{
	pr_debug("layout: _PyRuntime %#llx, tstate current %u cframe %u/%u, threads %u/%u next %u native id %u frame %u",
		 (unsigned long long)l->runtime_sym, l->tstate_current,
		 l->tstate_cframe, l->cframe_current, l->interp_head,
		 l->interp_threads, l->tstate_next, l->tstate_native_id,
		 l->tstate_frame);
	pr_debug("layout: frame code %u previous %u prev_instr %u owner %u (shims from %u), code file %u name %u first line %u",
		 l->frame_code, l->frame_previous, l->frame_prev_instr,
		 l->frame_owner, l->owner_cstack, l->code_filename,
		 l->code_name, l->code_firstlineno);
	pr_debug("layout: read at once: frame %u+%u, thread state %u+%u",
		 l->frame_lo, l->frame_span, l->tstate_lo, l->tstate_span);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (log_level < 2 && level != LIBBPF_WARN)
		return 0;
	if (log_level < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void quiet_libbpf(void)
{
	libbpf_set_print(libbpf_quiet);
}

/* The identity tag the BPF side gives every string equal to @s. */
static __u64 str_tag(const char *s)
{
	struct ctrace_str b = {};

	snprintf(b.s, sizeof(b.s), "%s", s);
	return ctrace_fingerprint(&b, strlen(b.s) + 1);
}

/* Maps a mode does not use shrink to one entry instead of ~100 MB. */
static void size_maps(struct ctrace_bpf *s, const struct plan *p)
{
	if (!p->count) {
		bpf_map__set_max_entries(s->maps.line_index, 1);
		bpf_map__set_max_entries(s->maps.line_keys, 1);
		bpf_map__set_max_entries(s->maps.line_hits, 1);
	}
	if (!p->funcs && !p->entries)
		bpf_map__set_max_entries(s->maps.func_counts, 1);
	if (!p->calls)
		bpf_map__set_max_entries(s->maps.call_counts, 1);
	if (!p->calls && !p->funcs)
		bpf_map__set_max_entries(s->maps.code_class, 1);
	if (!p->trace)
		bpf_map__set_max_entries(s->maps.events, getpagesize());
	/* preallocated maps for each of many processes: 16K keys each */
	if (p->small) {
		if (p->funcs)
			bpf_map__set_max_entries(s->maps.func_counts, 1 << 14);
		if (p->calls)
			bpf_map__set_max_entries(s->maps.call_counts, 1 << 14);
	}
}

static struct bpf_program *program_for(struct ctrace_bpf *s,
				       const struct plan *p, int probe)
{
	switch (probe) {
	case PROBE_LINE:
		return s->progs.on_line;
	case PROBE_ENTRY:
		return s->progs.on_entry;
	case PROBE_RETURN:
		return p->calls ? s->progs.on_return_call : s->progs.on_return_func;
	case PROBE_AUDIT:
		return s->progs.on_main_start;
	}
	return NULL;
}

/*
 * The verifier checks every program loaded, and that is most of the time
 * an attach takes: load only the programs this plan attaches.
 */
static void load_only_needed(struct ctrace_bpf *s, const struct plan *p,
			     const struct target *t)
{
	struct bpf_program *keep[CTRACE_MAX_LINKS] = { s->progs.on_exec };
	struct bpf_program *prog;
	int n = 1;

	for (int i = 0; p->probes[i] >= 0 && n < CTRACE_MAX_LINKS; i++)
		keep[n++] = program_for(s, p, p->probes[i]);
	if (p->to_finalize && n < CTRACE_MAX_LINKS)
		keep[n++] = s->progs.on_finalize;
	if (p->any_pid && n < CTRACE_MAX_LINKS)
		keep[n++] = s->progs.on_exit;
	if (t->elf.code_dealloc_off && n < CTRACE_MAX_LINKS)
		keep[n++] = s->progs.on_code_dealloc;
	bpf_object__for_each_program(prog, s->obj) {
		bool needed = false;

		for (int i = 0; i < n; i++)
			needed |= keep[i] == prog;
		bpf_program__set_autoload(prog, needed);
	}
}

/*
 * Before any probe fires: while it is on, the programs may know a string
 * by its address alone (see code_gen).  Without it they read every
 * string they are handed, as before; slower, never wrong.
 */
static void watch_code_deaths(struct tracer *tr, const struct plan *p,
			      const struct target *t)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o);

	if (!t->elf.code_dealloc_off)
		return;
	tr->death_link = bpf_program__attach_uprobe_opts(tr->skel->progs.on_code_dealloc,
							 p->any_pid ? -1 : t->pid,
							 t->elf.path,
							 t->elf.code_dealloc_off,
							 &o);
	if (!tr->death_link) {
		pr_debug("no uprobe on the code objects' dealloc: %s",
			 strerror(errno));
		return;
	}
	tr->skel->bss->gen_armed = 1;
	tr->death_t0 = mono_ns();
	pr_debug("code objects' deaths watched at offset %#llx",
		 (unsigned long long)t->elf.code_dealloc_off);
}

/*
 * Each death is a trap (1-6 us) and sends the next events down the path
 * that reads strings: a program that makes and drops code objects all the
 * time (eval in a loop) pays more for the watch than it saves.  Past this
 * rate the watch goes, and strings are read at every event, as before.
 */
#define CODE_DEATHS_PER_SEC 2000

static void check_death_rate(struct tracer *tr)
{
	uint64_t now = mono_ns(), span = now - tr->death_t0, n;

	if (!tr->death_link || span < 1000000000ULL)
		return;
	n = tr->skel->bss->code_gen - tr->death_n0;
	tr->death_t0 = now;
	tr->death_n0 += n;
	if (n * 1000000000ULL <= CODE_DEATHS_PER_SEC * span)
		return;
	tr->skel->bss->gen_armed = 0;
	__sync_synchronize();
	bpf_link__destroy(tr->death_link);
	tr->death_link = NULL;
	pr_debug("%llu code objects freed a second: their watch is off, names are read at every event",
		 (unsigned long long)(n * 1000000000ULL / span));
}

static __u32 mode_bits(const struct plan *p)
{
	__u32 mode = 0;

	if (p->count)
		mode |= CTRACE_COUNT_LINES;
	if (p->trace)
		mode |= CTRACE_STREAM_LINES | CTRACE_STREAM_ENTRIES;
	if (p->entries && p->count)
		mode |= CTRACE_COUNT_ENTRIES;
	return mode;
}

/* Phase 1: open the object, set what is read-only, size, choose programs. */
static int tracer_configure(struct tracer *tr, const struct plan *p,
			    const struct py_flavor *fl, const struct target *t,
			    char *why, size_t why_len)
{
	struct ctrace_bpf *s;
	int err;

	quiet_libbpf();
	s = ctrace_bpf__open();
	if (!s)
		return bpf_open_failed("the BPF object", why, why_len);
	tr->skel = s;
	s->rodata->mode = mode_bits(p);
	s->rodata->module_tag = str_tag("<module>");
	if (t->elf.init_shim_sym)
		s->rodata->shim_file_tag = str_tag("__init__");
	s->rodata->target_tgid = p->any_pid ? 0 : t->pid;
	s->rodata->finalize_each = p->any_pid && p->to_finalize;
	memcpy((void *)s->rodata->want_comm, p->comm, sizeof(p->comm));
	s->rodata->want_cgroup = p->cgroup_id;
	s->rodata->want_cgroup_level = p->cgroup_level;
	err = py_layout(fl, &t->elf, (struct ctrace_layout *)&s->rodata->layout,
			why, why_len);
	if (err && p->calls)
		return err;	/* callers need frames; other modes do without */
	log_layout(&s->rodata->layout);
	size_maps(s, p);
	load_only_needed(s, p, t);
	return 0;
}

/* One link the tracer keeps until detach; NULL: @what failed, with errno. */
static int keep_link(struct tracer *tr, struct bpf_link *l, const char *what,
		     char *why, size_t why_len)
{
	int err = -errno;

	if (!l) {
		snprintf(why, why_len, "cannot watch for %s: %s", what,
			 strerror(-err));
		return err;
	}
	tr->links[tr->n_links++] = l;
	return 0;
}

/*
 * Phase 3: the programs that say where counting starts and ends: the
 * target's exec (before the first probe can fire), its Py_FinalizeEx,
 * -a's exits, and the code objects' deaths.
 */
static int attach_lifecycle(struct tracer *tr, const struct plan *p,
			    const struct target *t, char *why, size_t why_len)
{
	struct ctrace_bpf *s = tr->skel;
	int err;

	err = keep_link(tr, bpf_program__attach(s->progs.on_exec),
			"the target's exec", why, why_len);
	if (err)
		return err;
	if (p->from_main)
		s->bss->before_main = CTRACE_MAIN_SCRIPT;
	if (p->to_finalize) {
		LIBBPF_OPTS(bpf_uprobe_opts, fo, .func_name = "Py_FinalizeEx");
		struct bpf_link *l;

		l = bpf_program__attach_uprobe_opts(s->progs.on_finalize,
						    p->any_pid ? -1 : t->pid,
						    t->elf.path, 0, &fo);
		if (l)
			tr->links[tr->n_links++] = l;
		else
			pr_info("note: no Py_FinalizeEx in '%s': the interpreter's shutdown is counted too",
				t->elf.path);
	}
	/* -a: each process's mark is cleared at its exit */
	if (p->any_pid) {
		err = keep_link(tr, bpf_program__attach(s->progs.on_exit),
				"processes' exits", why, why_len);
		if (err)
			return err;
	}
	watch_code_deaths(tr, p, t);
	return 0;
}

/* Phase 4: the mode's own probes; counting starts with the first. */
static int attach_mode_probes(struct tracer *tr, const struct plan *p,
			      const struct target *t, char *why,
			      size_t why_len)
{
	for (int i = 0; p->probes[i] >= 0; i++) {
		int probe = p->probes[i];
		struct bpf_link *l;

		l = usdt_attach_probe(program_for(tr->skel, p, probe), t, probe,
				      p->any_pid, why, why_len);
		if (!l)
			return -errno;
		if (probe == PROBE_AUDIT)
			tr->main_link = l;
		else
			tr->links[tr->n_links++] = l;
		pr_debug("attached python:%s (%d sites)", probe_names[probe],
			 t->elf.n_sites[probe]);
	}
	return 0;
}

/* Open, configure and load (phases 1, 2), then attach (3, 4), as retsnoop does. */
int tracer_attach(struct tracer *tr, const struct plan *p,
		  const struct py_flavor *fl, const struct target *t,
		  char *why, size_t why_len)
{
	int err;

	memset(tr, 0, sizeof(*tr));
	err = tracer_configure(tr, p, fl, t, why, why_len);
	if (err)
		return err;
	err = ctrace_bpf__load(tr->skel);
	if (err)
		return bpf_load_failed(err, why, why_len);
	err = attach_lifecycle(tr, p, t, why, why_len);
	if (err)
		return err;
	return attach_mode_probes(tr, p, t, why, why_len);
}

void tracer_poll(struct tracer *tr)
{
	__u32 v;

	check_death_rate(tr);
	if (!tr->main_link)
		return;
	v = tr->skel->bss->before_main;
	if (v == CTRACE_MAIN_SCRIPT || v == CTRACE_MAIN_MODULE)
		return;
	bpf_link__destroy(tr->main_link);
	tr->main_link = NULL;
	pr_debug("the main module is announced: audit probe detached");
}

bool tracer_before_main(const struct tracer *tr)
{
	return tr->skel && tr->skel->bss && tr->skel->bss->before_main;
}

static void *destroy_links(void *arg)
{
	struct tracer *tr = arg;

	bpf_link__destroy(tr->main_link);
	tr->main_link = NULL;
	bpf_link__destroy(tr->death_link);
	tr->death_link = NULL;
	for (int i = 0; i < tr->n_links; i++)
		bpf_link__destroy(tr->links[i]);
	return NULL;
}

/*
 * Removing the uprobes waits out RCU grace periods: ~0.1 s a link here,
 * one after another.  The programs are told to stop first, so the maps
 * hold still and can be read while the links go away in the background.
 * (A program already running when the flag is set may still finish an
 * update; that is an event at the very moment of the stop.)
 */
void tracer_stop(struct tracer *tr)
{
	if (tr->detaching)
		return;
	if (tr->skel && tr->skel->bss)
		tr->skel->bss->stopped = 1;
	__sync_synchronize();
	tr->detaching = !pthread_create(&tr->detacher, NULL, destroy_links, tr);
	if (!tr->detaching)
		tracer_detach(tr);
}

bool tracer_target_execd(const struct tracer *tr)
{
	return tr->skel && tr->skel->bss && tr->skel->bss->exec_seen;
}

void tracer_detach(struct tracer *tr)
{
	if (tr->detaching)
		pthread_join(tr->detacher, NULL);
	else
		destroy_links(tr);
	tr->detaching = false;
	tr->n_links = 0;
}

void tracer_destroy(struct tracer *tr)
{
	tracer_detach(tr);
	ctrace_bpf__destroy(tr->skel);
	tr->skel = NULL;
}
