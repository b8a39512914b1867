// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --gc, --imports and --audit on one target: attaching bpf/events.bpf.c to
 * the probes they need, streaming audit events, and collecting the rest.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ctrace.h"
#include "events.skel.h"
#include "events/events.h"
#include "report/events.h"
#include "session/collector.h"
#include "target/pyversion.h"
#include "usdt/attach.h"
#include "usdt/probe.h"
#include "util/clock.h"
#include "util/log.h"

static int add_import(struct imports *im, const struct ctrace_import_event *ev)
{
	struct import_row *r = NULL;

	for (size_t i = 0; i < im->n && !r; i++)
		if (im->rows[i].pid == ev->pid &&
		    !strncmp(im->rows[i].name, ev->name, sizeof(ev->name)))
			r = &im->rows[i];
	if (!r) {
		if (im->n == im->cap) {
			size_t cap = im->cap ? im->cap * 2 : 64;
			struct import_row *g = realloc(im->rows, cap * sizeof(*g));

			if (!g)
				return -ENOMEM;
			im->rows = g;
			im->cap = cap;
		}
		r = &im->rows[im->n++];
		memset(r, 0, sizeof(*r));
		r->pid = ev->pid;
		memcpy(r->name, ev->name, sizeof(r->name));
		r->name[sizeof(r->name) - 1] = '\0';
	}
	r->ns += ev->ns;
	r->times++;
	r->failed += !ev->found;
	return 0;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct stream *st = ctx;
	const __u32 *type = data;

	if (len >= sizeof(struct ctrace_import_event) && *type == CTRACE_EV_IMPORT)
		return add_import(&st->imports, data);
	if (len >= sizeof(struct ctrace_audit_event) && *type == CTRACE_EV_AUDIT)
		audit_line(stdout, data, st->t0);
	return 0;
}

struct want {
	bool on;
	const char *mode;
	int probes[2];
	int n;
};

static int check_probes(const struct want *w, const struct pyelf *e, char *why,
			size_t why_len)
{
	char ver[32];

	pyelf_version_str(e, ver, sizeof(ver));
	for (int i = 0; i < 3; i++) {
		for (int j = 0; w[i].on && j < w[i].n; j++) {
			if (e->has_probe[w[i].probes[j]])
				continue;
			snprintf(why, why_len,
				 "%s needs the python:%s probe, which '%s' (CPython %s) does not have",
				 w[i].mode, probe_names[w[i].probes[j]], e->path, ver);
			return -ENOTSUP;
		}
	}
	return 0;
}

static struct bpf_program *program_for(struct events_bpf *s, int probe)
{
	switch (probe) {
	case PROBE_GC_START: return s->progs.on_gc_start;
	case PROBE_GC_DONE: return s->progs.on_gc_done;
	case PROBE_IMPORT_START: return s->progs.on_import_start;
	case PROBE_IMPORT_DONE: return s->progs.on_import_done;
	default: return s->progs.on_audit;
	}
}

static void report_gc_map(struct events_bpf *s, uint32_t pid)
{
	int fd = bpf_map__fd(s->maps.gc_gens);
	struct gc_row rows[CTRACE_GC_GENS];
	struct { __u32 pid, gen; } key, next, *prev = NULL;
	size_t n = 0;

	while (n < CTRACE_GC_GENS && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (key.pid != pid ||
		    bpf_map_lookup_elem(fd, &key, &rows[n].g))
			continue;
		rows[n].pid = key.pid;
		rows[n].gen = key.gen;
		n++;
	}
	report_gc(stdout, rows, n);
}

static uint64_t sum_drops(struct events_bpf *s)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = ncpu > 0 ? calloc(ncpu, sizeof(*v)) : NULL;
	__u32 zero = 0;
	uint64_t total = 0;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(s->maps.drops), &zero, v))
		for (int c = 0; c < ncpu; c++)
			total += v[c];
	free(v);
	return total;
}

static const struct want *wants(const struct options *o, struct want w[3])
{
	w[0] = (struct want){ o->gc, "--gc", { PROBE_GC_START, PROBE_GC_DONE }, 2 };
	w[1] = (struct want){ o->imports, "--imports",
			      { PROBE_IMPORT_START, PROBE_IMPORT_DONE }, 2 };
	w[2] = (struct want){ o->audit, "--audit", { PROBE_AUDIT }, 1 };
	return w;
}

int events_open(struct events *ev, const struct options *o,
		const struct proc_filter *pf, char *why, size_t why_len)
{
	struct events_bpf *s;
	int err;

	memset(ev, 0, sizeof(*ev));
	ev->o = o;
	quiet_libbpf();
	s = events_bpf__open();
	if (!s)
		return bpf_open_failed("the BPF object", why, why_len);
	ev->s = s;
	s->rodata->audit_filtered = o->n_audit_events > 0;
	if (pf) {
		memcpy((void *)s->rodata->want_comm, pf->comm, sizeof(pf->comm));
		s->rodata->want_cgroup = pf->cgroup_id;
		s->rodata->want_cgroup_level = pf->cgroup_level;
	}
	err = events_bpf__load(s);
	if (err)
		return bpf_load_failed(err, why, why_len);
	for (int i = 0; i < o->n_audit_events; i++) {
		char key[64] = {};
		__u8 one = 1;

		strncpy(key, o->audit_events[i], sizeof(key) - 1);
		bpf_map_update_elem(bpf_map__fd(s->maps.audit_filter), key, &one,
				    BPF_ANY);
	}
	ev->rb = ring_buffer__new(bpf_map__fd(s->maps.events), on_event, &ev->st,
				  NULL);
	if (!ev->rb) {
		snprintf(why, why_len, "cannot open the ring buffer: %s", strerror(errno));
		return -errno;
	}
	ev->st.t0 = mono_ns();
	return 0;
}

/* A binary already attached for every process: nothing to do for @t. */
static bool bin_known(struct events *ev, const struct target *t, bool *full)
{
	struct stat st;

	*full = false;
	if (stat(t->elf.path, &st))
		return false;
	if (file_id_find(ev->bins, ev->n_bins, sizeof(ev->bins[0]),
			 file_id_of(&st)) >= 0)
		return true;
	if (ev->n_bins == EVENTS_MAX_LINKS) {
		*full = true;
		return false;
	}
	ev->bins[ev->n_bins++] = file_id_of(&st);
	return false;
}

/* Each binary's object layout goes in a map: -a mixes interpreters. */
int events_add(struct events *ev, struct target *t, bool any_pid, char *why,
	       size_t why_len)
{
	struct want w[3];
	struct events_bpf *s = ev->s;
	struct ctrace_objs objs;
	__u64 cookie;
	bool full;

	if (check_probes(wants(ev->o, w), &t->elf, why, why_len))
		return -ENOTSUP;
	if (any_pid && bin_known(ev, t, &full)) {
		ev->n_targets++;
		return 0;
	}
	if (any_pid && full) {
		snprintf(why, why_len, "too many interpreter binaries");
		return -E2BIG;
	}
	py_objects(&t->elf, &objs);
	cookie = t->elf.probe_pc[PROBE_AUDIT];
	bpf_map_update_elem(bpf_map__fd(s->maps.objs_of), &cookie, &objs, BPF_ANY);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; w[i].on && j < w[i].n; j++) {
			int probe = w[i].probes[j];
			struct bpf_link *l;

			if (ev->n_links == EVENTS_MAX_LINKS) {
				snprintf(why, why_len, "too many probes attached (%d)", ev->n_links);
				return -E2BIG;
			}
			l = usdt_attach_probe(program_for(s, probe), t, probe,
					      any_pid, why, why_len);
			if (!l)
				return -errno;
			ev->links[ev->n_links++] = l;
		}
	}
	ev->n_targets++;
	return 0;
}

int events_pollfd(struct events *ev)
{
	return ring_buffer__epoll_fd(ev->rb);
}

void events_poll(struct events *ev, int ms)
{
	ring_buffer__poll(ev->rb, ms);
}

void events_stop(struct events *ev)
{
	ev->s->bss->stopped = 1;
	ring_buffer__consume(ev->rb);
	fflush(stdout);
}

void events_report(struct events *ev, const struct target *t)
{
	struct import_row *mine;
	size_t n = 0;

	if (!ev->o->gc && !ev->o->imports)
		return;
	mine = calloc(ev->st.imports.n + 1, sizeof(*mine));
	report_heading(stdout, t->pid, t->cmdline);
	if (ev->o->gc)
		report_gc_map(ev->s, t->pid);
	for (size_t i = 0; mine && i < ev->st.imports.n; i++)
		if (ev->st.imports.rows[i].pid == (uint32_t)t->pid)
			mine[n++] = ev->st.imports.rows[i];
	if (ev->o->imports)
		report_imports(stdout, mine, n);
	free(mine);
}

void events_close(struct events *ev)
{
	if (ev->s && sum_drops(ev->s))
		pr_err("warning: %llu events were lost: the ring buffer was full",
		       (unsigned long long)sum_drops(ev->s));
	ring_buffer__free(ev->rb);
	while (ev->n_links--)
		bpf_link__destroy(ev->links[ev->n_links]);
	events_bpf__destroy(ev->s);
	free(ev->st.imports.rows);
	memset(ev, 0, sizeof(*ev));
}

/*
 * The events collector: one process's --gc, --imports and --audit, in an
 * object of its own, or in the hub's that every process of the session
 * shares (its probes attached once per binary under -a).
 */
static bool ev_shared(const struct collector *c)
{
	return c->hub && c->priv == c->hub->ev;
}

static int ev_start(struct collector *c, char *why, size_t why_len)
{
	struct target *t = c->t;
	struct events *ev;
	int err;

	if (c->hub && c->hub->ev) {
		c->priv = c->hub->ev;
		err = events_add(c->priv, t, c->o->all, why, why_len);
		return err ? err : target_still_ours(t, why, why_len);
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	c->priv = ev;
	err = events_open(ev, c->o, NULL, why, why_len);
	if (!err)
		err = events_add(ev, t, false, why, why_len);
	if (err)
		return err;
	err = target_still_ours(t, why, why_len);
	if (err)
		return err;
	ev->st.t0 = mono_ns();
	if (c->o->audit)
		audit_header(stdout);
	target_print_ready(t, false, NULL);
	return t->launched ? target_release(t, why, why_len) : 0;
}

static int ev_pollfd(struct collector *c)
{
	if (ev_shared(c))
		return -1;
	return events_pollfd(c->priv);
}

static bool ev_drain(struct collector *c, int *err, char *why, size_t why_len)
{
	(void)why;
	(void)why_len;
	*err = 0;
	if (!ev_shared(c))
		events_poll(c->priv, 0);
	return false;
}

static int ev_stop(struct collector *c, char *why, size_t why_len)
{
	(void)why;
	(void)why_len;
	events_stop(c->priv);
	return 0;
}

static void ev_report(struct collector *c)
{
	events_report(c->priv, c->t);
}

static void ev_close(struct collector *c)
{
	if (!c->priv || ev_shared(c))
		return;
	events_close(c->priv);
	free(c->priv);
	c->priv = NULL;
}

const struct collector_ops events_collector = {
	.name = "events",
	.start = ev_start,
	.pollfd = ev_pollfd,
	.drain = ev_drain,
	.stop = ev_stop,
	.report = ev_report,
	.close = ev_close,
};
