// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -a across a host: one attachment per interpreter binary, not one per
 * process.  A uprobe registered for every process on a file fires in each
 * process that maps it, so a process that starts later costs us nothing:
 * its counts appear under its process id.  Which processes count is
 * decided in the kernel where it can be (--comm, --cgroup), here otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "ctrace.h"
#include "ctrace.skel.h"
#include "naming/resolve.h"
#include "report/events.h"
#include "report/output.h"
#include "report/report.h"
#include "session/collector.h"
#include "target/pyversion.h"
#include "trace/results.h"
#include "usdt/attach.h"
#include "usdt/binaries.h"
#include "usdt/collect.h"
#include "usdt/fleet.h"
#include "util/fileid.h"
#include "util/log.h"


/* A binary's attachment, for every process that maps it, and its names. */
struct fleet_bin {
	struct usdt_bin u;
	struct target *first;	/* its first process, until it is armed */
	/* names are read in the root of the first process seen */
	struct resolver rs;
	bool have_rs;
	struct file_id root;
};

/* A binary that cannot be traced: why, and how many processes run it. */
struct fleet_skip {
	struct file_id id;
	char why[1024];
	int n;
};

struct fleet {
	const struct options *o;
	struct fleet_bin *bins;
	int n_bins;
	struct fleet_skip *skips;
	int n_skips;
	char comm[16];
	uint64_t cgroup_id;
	int cgroup_level;
	char cgroup_rel[PATH_MAX];	/* as /proc/PID/cgroup shows it */
	struct stat exe_st;
	bool exe_is_file;
	bool defer;	/* binaries found now are armed by fleet_arm() */
	bool stopped;	/* every binary stopped and read */
	/* the processes examined, each with its own report */
	pid_t *examined;
	size_t n_examined, cap_examined;
	bool sorted;
};

/* Where cgroup v2 is mounted: alone, or beside v1 controllers (hybrid). */
static const char *cgroup2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sfs;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!statfs(roots[i], &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC)
			return roots[i];
	return NULL;
}

/*
 * --cgroup: the directory, given under the v2 mount or relative to it; its
 * id (its inode on cgroup2) and its depth, for the kernel's check.
 */
static int cgroup_resolve(struct fleet *f, const char *arg, char *why,
			  size_t why_len)
{
	const char *root = cgroup2_root(), *rel;
	char path[PATH_MAX];
	struct stat st;
	size_t rl;

	if (!root) {
		snprintf(why, why_len,
			 "--cgroup needs cgroup v2 (the unified hierarchy), mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified");
		return -ENOTSUP;
	}
	rl = strlen(root);
	if (!strncmp(arg, root, rl) && (arg[rl] == '/' || !arg[rl]))
		snprintf(path, sizeof(path), "%s", arg);
	else
		snprintf(path, sizeof(path), "%s/%s", root,
			 arg[0] == '/' ? arg + 1 : arg);
	while (strlen(path) > rl && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "no cgroup '%s' (looked for the directory '%s')",
			 arg, path);
		return -ENOENT;
	}
	f->cgroup_id = st.st_ino;
	rel = path + rl;
	snprintf(f->cgroup_rel, sizeof(f->cgroup_rel), "%s", *rel ? rel : "/");
	f->cgroup_level = 0;
	for (const char *c = rel; *c; c++)
		f->cgroup_level += *c == '/';
	return 0;
}

struct fleet *fleet_new(const struct options *o, char *why, size_t why_len)
{
	struct fleet *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	f->o = o;
	if (o->comm)
		snprintf(f->comm, sizeof(f->comm), "%s", o->comm);
	if (o->cgroup && cgroup_resolve(f, o->cgroup, why, why_len)) {
		free(f);
		return NULL;
	}
	if (o->exe && !stat(o->exe, &f->exe_st) && S_ISREG(f->exe_st.st_mode))
		f->exe_is_file = true;
	return f;
}

static bool in_cgroup(const struct fleet *f, pid_t pid)
{
	size_t n = strlen(f->cgroup_rel);
	char path[64], line[PATH_MAX + 8];
	bool in = false;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	fp = fopen(path, "re");
	if (!fp)
		return false;
	while (!in && fgets(line, sizeof(line), fp)) {
		char *p = line;

		if (strncmp(p, "0::", 3))
			continue;
		p += 3;
		p[strcspn(p, "\n")] = '\0';
		in = !strcmp(f->cgroup_rel, "/") ||
		     (!strncmp(p, f->cgroup_rel, n) && (!p[n] || p[n] == '/'));
	}
	fclose(fp);
	return in;
}

static bool runs_exe(const struct fleet *f, const struct target *t)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	if (f->exe_is_file && !stat(path, &st) && st.st_dev == f->exe_st.st_dev &&
	    st.st_ino == f->exe_st.st_ino)
		return true;
	for (int i = 0; i < t->argc; i++)
		if (t->argv[i] && !strcmp(t->argv[i], f->o->exe))
			return true;
	return false;
}

void fleet_filter(const struct fleet *f, struct proc_filter *pf)
{
	memset(pf, 0, sizeof(*pf));
	memcpy(pf->comm, f->comm, sizeof(pf->comm));
	pf->cgroup_id = f->cgroup_id;
	pf->cgroup_level = f->cgroup_level;
}

/* The filters, as the kernel applies them, and --exe, which it cannot. */
bool fleet_wants(const struct fleet *f, const struct target *t)
{
	if (f->comm[0] && strcmp(t->comm, f->comm))
		return false;
	if (f->cgroup_id && !in_cgroup(f, t->pid))
		return false;
	return !f->o->exe || runs_exe(f, t);
}

static int bin_of(const struct fleet *f, const struct stat *st)
{
	return binaries_find(f->n_bins ? &f->bins[0].u : NULL, f->n_bins,
			     sizeof(*f->bins), st);
}

static struct fleet_skip *skip_of(struct fleet *f, const struct stat *st)
{
	int i = f->n_skips ? file_id_find(&f->skips[0].id, f->n_skips,
					  sizeof(*f->skips), file_id_of(st)) : -1;

	return i >= 0 ? &f->skips[i] : NULL;
}

static void skip_add(struct fleet *f, const struct stat *st, const char *why)
{
	struct fleet_skip *s = realloc(f->skips, (f->n_skips + 1) * sizeof(*s));

	if (!s)
		return;
	f->skips = s;
	s = &f->skips[f->n_skips++];
	s->id = file_id_of(st);
	s->n = 1;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

void fleet_not_traced(struct fleet *f, const struct target *t,
		      const char *why)
{
	struct fleet_skip *s;
	struct stat st;

	if (stat(t->elf.path, &st))
		return;
	s = skip_of(f, &st);
	if (s)
		s->n++;
	else
		skip_add(f, &st, why);
}

/* Attach binary @i for every process that maps it; @t is one of them. */
static int bin_arm(struct fleet *f, int i, const struct target *t)
{
	struct fleet_bin *b = &f->bins[i];
	char why[1024];
	int err;

	err = usdt_bin_arm(&b->u, t, why, sizeof(why));
	if (err) {
		struct stat st = { .st_dev = b->u.id.dev, .st_ino = b->u.id.ino };

		skip_add(f, &st, why);
		f->skips[f->n_skips - 1].n = b->u.refs;
		return err;
	}
	pr_info("attached to '%s' for every process that runs it", b->u.path);
	return 0;
}

void fleet_defer(struct fleet *f, bool defer)
{
	f->defer = defer;
}

void fleet_arm(struct fleet *f)
{
	for (int i = 0; i < f->n_bins; i++) {
		struct fleet_bin *b = &f->bins[i];

		if (!b->u.armed && !b->u.failed && b->first)
			bin_arm(f, i, b->first);
		free(b->first);
		b->first = NULL;
	}
}

/* A binary's ELF and plan, for every process that maps it. */
static int bin_attach(struct fleet *f, const struct target *t,
		      const struct stat *st)
{
	struct fleet_bin *b = realloc(f->bins, (f->n_bins + 1) * sizeof(*b));
	char why[1024];
	int err;

	if (!b)
		return -ENOMEM;
	f->bins = b;
	b = &f->bins[f->n_bins];
	memset(b, 0, sizeof(*b));
	b->u.id = file_id_of(st);
	err = usdt_bin_plan(&b->u, f->o, NULL, t, why, sizeof(why));
	if (err) {
		skip_add(f, st, why);
		return -ENOTSUP;
	}
	b->u.plan.any_pid = true;
	memcpy(b->u.plan.comm, f->comm, sizeof(b->u.plan.comm));
	b->u.plan.cgroup_id = f->cgroup_id;
	b->u.plan.cgroup_level = f->cgroup_level;
	b->u.refs = 1;
	if (f->defer) {
		/* only what tracer_attach() reads; the rest belongs to its session */
		b->first = malloc(sizeof(*b->first));
		if (!b->first)
			return -ENOMEM;
		*b->first = *t;
		b->first->argv = b->first->env = NULL;
		b->first->args_buf = b->first->env_buf = NULL;
		return f->n_bins++;
	}
	f->n_bins++;
	return bin_arm(f, f->n_bins - 1, t) ? -ENOTSUP : f->n_bins - 1;
}

const struct pyelf *fleet_elf_of(const struct fleet *f, const struct stat *st)
{
	int i = bin_of(f, st);

	return i >= 0 ? &f->bins[i].u.elf : NULL;
}

int fleet_add(struct fleet *f, const struct target *t)
{
	struct fleet_skip *s;
	struct stat st;
	int i;

	if (stat(t->elf.path, &st))
		return -ENOTSUP;	/* gone while it was examined */
	s = skip_of(f, &st);
	if (s) {
		s->n++;
		return -ENOTSUP;
	}
	i = bin_of(f, &st);
	if (i < 0)
		return bin_attach(f, t, &st);
	if (f->bins[i].u.failed) {
		skip_of(f, &st)->n++;
		return -ENOTSUP;
	}
	f->bins[i].u.refs++;
	return i;
}

void fleet_harvest(struct fleet *f)
{
	if (f->stopped)
		return;
	f->stopped = true;
	/* every binary stops at once, then each is read while they detach */
	for (int i = 0; i < f->n_bins; i++)
		usdt_bin_stop(&f->bins[i].u);
	for (int i = 0; i < f->n_bins; i++) {
		struct fleet_bin *b = &f->bins[i];
		char why[1024];

		if (!b->u.armed)
			continue;
		if (usdt_bin_collect(&b->u, why, sizeof(why)))
			pr_err("%s", why);
		tracer_detach(&b->u.tr);
	}
}

/*
 * Names are read in the target's root.  Processes of one binary share one
 * resolver (and so each file is analysed once for all of them) when they
 * share a root; a process in another root gets one of its own in @own.
 */
static struct resolver *resolver_for(struct fleet *f, struct fleet_bin *b,
				     const struct target *t,
				     struct resolver *own, bool *owned)
{
	const struct options *o = f->o;
	struct stat st = {};
	struct resolver *rs = &b->rs;

	*owned = false;
	if (t)
		fstat(t->root_fd, &st);
	if (b->have_rs && t && !file_id_eq(file_id_of(&st), b->root)) {
		rs = own;
		*owned = true;
	} else if (b->have_rs) {
		return rs;
	}
	resolver_init(rs, b->u.fl, t ? t->root_fd : -1, t ? t->cwd : "/",
		      o->ignore_mods, o->n_ignore_mods, o->ignore_dirs,
		      o->n_ignore_dirs);
	if (!*owned) {
		b->have_rs = true;
		b->root = file_id_of(&st);
		/* every source of the binary's processes, one compiler a core */
		resolver_analyse_raw(rs, &b->u.raw,
				     (int)sysconf(_SC_NPROCESSORS_ONLN));
	}
	return rs;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static bool examined(struct fleet *f, uint32_t pid)
{
	pid_t key = pid;

	if (!f->sorted) {
		qsort(f->examined, f->n_examined, sizeof(pid_t), cmp_pid);
		f->sorted = true;
	}
	return f->n_examined &&
	       bsearch(&key, f->examined, f->n_examined, sizeof(pid_t), cmp_pid);
}

/* @pid's rows of @b, named into @r, in the root of the binary's first. */
static int resolve_unexamined(struct fleet *f, struct fleet_bin *b,
			      uint32_t pid, struct results *r)
{
	struct raw_tables one;
	struct resolver own, *rs;
	bool owned;
	int err;

	err = raw_tables_select(&b->u.raw, pid, &one);
	if (err)
		return err;
	rs = resolver_for(f, b, NULL, &own, &owned);
	err = resolve_for_mode(rs, &one, options_counts(f->o), r);
	if (owned)
		resolver_free(rs);
	raw_tables_free(&one);
	return err;
}

/*
 * Processes that counted but were gone before they were examined (shorter
 * than the exec watcher's poll).  Not under --exe, which only an examined
 * process can be checked against.
 */
static void report_unexamined(struct fleet *f, struct fleet_bin *b,
			      struct results *merged, FILE *out)
{
	size_t n_ids;
	uint32_t *ids;

	if (f->o->exe || !b->have_rs)
		return;
	ids = raw_tables_tgids(&b->u.raw, &n_ids);
	pr_debug("'%s': %zu processes counted", b->u.path, n_ids);
	for (size_t i = 0; ids && i < n_ids; i++) {
		struct results r;

		if (examined(f, ids[i]))
			continue;
		if (merged) {
			resolve_unexamined(f, b, ids[i], merged);
			continue;
		}
		results_init(&r);
		report_heading(out, ids[i], "(exited before it could be examined)");
		if (!resolve_unexamined(f, b, ids[i], &r))
			report_listing(&r, options_counts(f->o), out);
		results_free(&r);
	}
	free(ids);
}

void fleet_report_unexamined(struct fleet *f, struct results *merged,
			     FILE *out)
{
	for (int i = 0; i < f->n_bins; i++)
		if (f->bins[i].u.harvested)
			report_unexamined(f, &f->bins[i], merged, out);
}

void fleet_notes(const struct fleet *f)
{
	for (int i = 0; i < f->n_bins; i++)
		raw_warn_lost(&f->bins[i].u.raw, f->bins[i].rs.unresolved, "");
	for (int i = 0; i < f->n_skips; i++)
		pr_err("note: %d process%s not traced: %s", f->skips[i].n,
		       f->skips[i].n == 1 ? "" : "es", f->skips[i].why);
}

/*
 * The fleet collector: one process of -a, a view on its binary's object.
 * Its counts are its rows of the binary's maps, named in the binary's
 * resolver (each file analysed once for all its processes) unless it runs
 * in another root.
 */
static bool grow_examined(struct fleet *f)
{
	size_t cap = f->cap_examined ? f->cap_examined * 2 : 256;
	pid_t *g = realloc(f->examined, cap * sizeof(*g));

	if (!g)
		return false;
	f->examined = g;
	f->cap_examined = cap;
	return true;
}

struct fleet_member {
	int bin;
	struct raw_tables raw;
	struct resolver own;
	bool owned;
};

static int fc_start(struct collector *c, char *why, size_t why_len)
{
	struct fleet *f = c->hub->fleet;
	struct fleet_member *fm;
	int bin;

	/* its binary's note, if any, comes once at the end */
	bin = fleet_add(f, c->t);
	if (bin < 0) {
		snprintf(why, why_len, "not chosen, or its binary cannot be traced");
		return bin;
	}
	fm = calloc(1, sizeof(*fm));
	if (!fm || (f->n_examined == f->cap_examined &&
		    !grow_examined(f))) {
		free(fm);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	fm->bin = bin;
	c->priv = fm;
	f->examined[f->n_examined++] = c->t->pid;
	f->sorted = false;
	return 0;
}

static int fc_pollfd(struct collector *c)
{
	(void)c;
	return -1;
}

static bool fc_drain(struct collector *c, int *err, char *why, size_t why_len)
{
	struct fleet_member *fm = c->priv;

	/* each member's turn looks at its binary's: the clock says when */
	tracer_poll(&c->hub->fleet->bins[fm->bin].u.tr);
	(void)why;
	(void)why_len;
	*err = 0;
	return false;
}

static int fc_stop(struct collector *c, char *why, size_t why_len)
{
	struct fleet *f = c->hub->fleet;
	struct fleet_member *fm = c->priv;
	struct fleet_bin *b = &f->bins[fm->bin];
	int err;

	fleet_harvest(f);
	if (!b->u.harvested) {
		snprintf(why, why_len, "the maps of '%s' could not be read",
			 b->u.path);
		return -EIO;
	}
	err = raw_tables_select(&b->u.raw, c->t->pid, &fm->raw);
	if (err) {
		snprintf(why, why_len, "out of memory");
		return err;
	}
	c->raw = &fm->raw;
	c->rs = resolver_for(f, b, c->t, &fm->own, &fm->owned);
	return 0;
}

static void fc_close(struct collector *c)
{
	struct fleet_member *fm = c->priv;

	if (!fm)
		return;
	raw_tables_free(&fm->raw);
	if (fm->owned)
		resolver_free(&fm->own);
	free(fm);
	c->priv = NULL;
}

const struct collector_ops fleet_collector = {
	.name = "fleet",
	.start = fc_start,
	.pollfd = fc_pollfd,
	.drain = fc_drain,
	.stop = fc_stop,
	.close = fc_close,
};

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->n_bins; i++) {
		usdt_bin_free(&f->bins[i].u);
		free(f->bins[i].first);
		if (f->bins[i].have_rs)
			resolver_free(&f->bins[i].rs);
	}
	free(f->bins);
	free(f->skips);
	free(f->examined);
	free(f);
}
