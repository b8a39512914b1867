// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * From raw probe keys to python -m trace's tables, repairing on the way the
 * places where this interpreter's probes and settrace disagree.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "naming/resolve.h"
#include "naming/tally.h"
#include "target/pyversion.h"
#include "naming/source.h"
#include "trace/tracepy.h"
#include "util/clock.h"
#include "util/log.h"

struct resolved_file {
	char *file;
	enum analysis_level level;
	int err;
	char why[256];
	struct file_analysis a;
	/* analysed while the trace ran: checked for changes at first use */
	bool early;
	struct stat st;
};

/* The file as it is now, inside the target's root; zeroed if unreadable. */
static void stat_source(const struct resolver *rs, const char *file,
			struct stat *st)
{
	int fd = file[0] == '/' ? source_open(rs->root_fd, file, O_RDONLY) : -1;

	memset(st, 0, sizeof(*st));
	if (fd >= 0) {
		if (fstat(fd, st))
			memset(st, 0, sizeof(*st));
		close(fd);
	}
}

static bool changed(const struct stat *a, const struct stat *b)
{
	return a->st_dev != b->st_dev || a->st_ino != b->st_ino ||
	       a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	       a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* trace's parse_ignore_dir(): ~, then $prefix and $exec_prefix, normalized. */
static char *norm_dir(const char *d, const char *stdlib)
{
	char home[4096], buf[8192];
	const char *pre;
	size_t len;

	if (d[0] == '~' && (d[1] == '/' || !d[1]) && getenv("HOME")) {
		snprintf(home, sizeof(home), "%s%s", getenv("HOME"), d + 1);
		d = home;
	}
	pre = strstr(d, "$exec_prefix") ? "$exec_prefix" :
	      strstr(d, "$prefix") ? "$prefix" : NULL;
	if (pre) {
		const char *at = strstr(d, pre);

		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - d), d, stdlib,
			 at + strlen(pre));
	} else {
		snprintf(buf, sizeof(buf), "%s", d);
	}
	len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	return strdup(buf);
}

void resolver_init(struct resolver *rs, const struct py_flavor *fl,
		   int root_fd, const char *cwd, char *const *mods,
		   size_t n_mods, char *const *dirs, size_t n_dirs)
{
	char stdlib[64];

	memset(rs, 0, sizeof(*rs));
	rs->fl = fl;
	rs->root_fd = root_fd;
	rs->cwd = cwd;
	rs->ignore_mods = mods;
	rs->n_ignore_mods = n_mods;
	py_stdlib(fl, stdlib, sizeof(stdlib));
	rs->ignore_dirs = calloc(n_dirs + 1, sizeof(char *));
	for (size_t i = 0; rs->ignore_dirs && i < n_dirs; i++) {
		rs->ignore_dirs[i] = norm_dir(dirs[i], stdlib);
		if (rs->ignore_dirs[i])
			rs->n_ignore_dirs++;
	}
}

void resolver_free(struct resolver *rs)
{
	for (size_t i = 0; i < rs->n_files; i++) {
		free(rs->files[i].file);
		file_analysis_free(&rs->files[i].a);
	}
	free(rs->files);
	for (size_t i = 0; i < rs->n_ignore_dirs; i++)
		free(rs->ignore_dirs[i]);
	free(rs->ignore_dirs);
	memset(rs, 0, sizeof(*rs));
}

/*
 * A frozen module's source: the standard library's file of the same
 * module, inside the target's root.  Its code was frozen from that file, so
 * names and first lines agree; trace prints no source text for it.
 */
static bool frozen_source(const struct resolver *rs, const char *file,
			  char *path, size_t len)
{
	char stdlib[64];
	size_t n, at;
	const char *m = frozen_module(file, &n);

	if (!m || !rs->fl)
		return false;
	py_stdlib(rs->fl, stdlib, sizeof(stdlib));
	at = snprintf(path, len, "%s/", stdlib);
	for (size_t i = 0; i < n && at + 4 < len; i++)
		path[at++] = m[i] == '.' ? '/' : m[i];
	snprintf(path + at, len - at, ".py");
	return true;
}

/*
 * The target's own .pyc of @file, when this version needs it and it was
 * compiled from the very source read (its header's mtime and size agree):
 * NULL otherwise, and the host's compiler is used.
 */
static char *target_pyc(const struct resolver *rs, const char *file,
			size_t src_len, size_t *len)
{
	const char *slash = strrchr(file, '/'), *dot;
	char path[PATH_MAX], why[128], *data = NULL;
	struct stat st;
	unsigned char *h;
	int fd;

	if (!rs->fl || !rs->fl->pyc_tag || !slash || file[0] != '/')
		return NULL;
	dot = strrchr(slash, '.');
	if (!dot || strcmp(dot, ".py"))
		return NULL;
	fd = source_open(rs->root_fd, file, O_RDONLY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || (size_t)st.st_size != src_len) {
		close(fd);
		return NULL;
	}
	close(fd);
	snprintf(path, sizeof(path), "%.*s/__pycache__/%.*s.%s.pyc",
		 (int)(slash - file), file, (int)(dot - slash - 1), slash + 1,
		 rs->fl->pyc_tag);
	if (source_read(rs->root_fd, NULL, path, &data, len, why, sizeof(why)))
		return NULL;
	h = (unsigned char *)data;
	/* magic, flags 0 (checked by time), source mtime and size */
	if (*len < 16 || (unsigned int)(h[0] | h[1] << 8) != rs->fl->pyc_magic ||
	    h[2] != '\r' || h[3] != '\n' || h[4] | h[5] | h[6] | h[7] ||
	    (uint32_t)(h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24) !=
		    (uint32_t)st.st_mtime ||
	    (uint32_t)(h[12] | h[13] << 8 | h[14] << 16 | (uint32_t)h[15] << 24) !=
		    (uint32_t)st.st_size) {
		free(data);
		return NULL;
	}
	return data;
}

/* @f's source (and its .pyc, where needed) for an analysis to @level. */
static int prepare_file(struct resolver *rs, struct resolved_file *f,
			enum analysis_level level, struct analysis_job *j)
{
	char path[PATH_MAX];

	file_analysis_free(&f->a);
	f->level = level;
	memset(j, 0, sizeof(*j));
	if (f->file[0] == '<' && !frozen_source(rs, f->file, path, sizeof(path))) {
		f->err = -ENOENT;
		snprintf(f->why, sizeof(f->why), "not a file");
		return f->err;
	}
	f->err = source_read(rs->root_fd, rs->cwd, f->file[0] == '<' ? path : f->file,
			     (char **)&j->data, &j->len, f->why, sizeof(f->why));
	if (f->err)
		return f->err;
	j->pyc = level >= ANALYSIS_EXECUTABLE && f->file[0] != '<' ?
		 target_pyc(rs, f->file, j->len, &j->pyc_len) : NULL;
	j->filename = f->file;
	j->level = level;
	j->out = &f->a;
	j->why = f->why;
	j->why_len = sizeof(f->why);
	return 0;
}

static void finish_file(struct resolved_file *f, struct analysis_job *j)
{
	f->err = j->err;
	free((char *)j->data);
	free((char *)j->pyc);
	if (!f->err && f->a.problem)
		pr_err("note: '%s' does not compile (%s): no executable lines or method names for it",
		       f->file, f->a.problem);
}

/* Read and analyse @f's file to @level, replacing a shallower analysis. */
static void analyse_file(struct resolver *rs, struct resolved_file *f,
			 enum analysis_level level)
{
	struct timespec t0, t1;
	struct analysis_job j;

	if (prepare_file(rs, f, level, &j))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	analysis_run_many(&j, 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_debug("analysed '%s' (%zu bytes, level %d) in %.3f s", f->file, j.len,
		 level, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	finish_file(f, &j);
}

/* A new entry for @file, not analysed yet; NULL when out of memory. */
static struct resolved_file *file_entry(struct resolver *rs, const char *file)
{
	struct resolved_file *f;

	if (rs->n_files == rs->cap_files) {
		size_t cap = rs->cap_files ? rs->cap_files * 2 : 32;
		struct resolved_file *g = realloc(rs->files, cap * sizeof(*g));

		if (!g)
			return NULL;
		rs->files = g;
		rs->cap_files = cap;
	}
	f = &rs->files[rs->n_files];
	memset(f, 0, sizeof(*f));
	f->file = strdup(file);
	if (!f->file)
		return NULL;
	rs->n_files++;
	return f;
}

static struct resolved_file *find_file(const struct resolver *rs,
				      const char *file)
{
	for (size_t i = 0; i < rs->n_files; i++)
		if (!strcmp(rs->files[i].file, file))
			return &rs->files[i];
	return NULL;
}

/* How deep names need a file analysed: the executable lines for --missing. */
static enum analysis_level names_level(const struct resolver *rs)
{
	return rs->want_executable ? ANALYSIS_EXECUTABLE : ANALYSIS_CODES;
}

const struct file_analysis *resolver_file_at(struct resolver *rs,
					     const char *file,
					     enum analysis_level level,
					     const char **why)
{
	struct resolved_file *f = find_file(rs, file);

	if (!f) {
		f = file_entry(rs, file);
		if (!f) {
			*why = "out of memory";
			return NULL;
		}
		if (rs->early)
			stat_source(rs, file, &f->st);
		f->early = rs->early;
		analyse_file(rs, f, level);
	} else if (f->early && !rs->early) {
		struct stat now;

		/* a file that changed during the trace is analysed again */
		f->early = false;
		stat_source(rs, file, &now);
		if (changed(&f->st, &now))
			analyse_file(rs, f, level > f->level ? level : f->level);
		else if (f->level < level && !f->err)
			analyse_file(rs, f, level);
	} else if (f->level < level && !f->err) {
		analyse_file(rs, f, level);
	}
	if (f->err) {
		*why = f->why;
		return NULL;
	}
	return &f->a;
}

const struct file_analysis *resolver_file(struct resolver *rs, const char *file,
					  const char **why)
{
	return resolver_file_at(rs, file, ANALYSIS_LINES, why);
}

bool resolver_ignored(const struct resolver *rs, const char *file)
{
	char *mod = trace_modname(file);
	bool ign = trace_ignored(file, mod, rs->ignore_mods, rs->n_ignore_mods,
				 rs->ignore_dirs, rs->n_ignore_dirs);

	free(mod);
	return ign;
}

static const struct code_info *find_code(struct resolver *rs, const char *file,
					 const char *func, long line,
					 bool exact_first)
{
	const struct file_analysis *a;
	const struct code_info *c;
	const char *why;

	a = resolver_file_at(rs, file, names_level(rs), &why);
	if (!a)
		return NULL;
	c = analysis_find(a, func, line, exact_first);
	/* a module's RESUME sits on line 0, before its first statement */
	if (!c && !strcmp(func, "<module>"))
		c = analysis_find(a, func, 0, false);
	if (!c && exact_first)
		c = analysis_find(a, func, line, false);
	return c;
}

struct seen_ctx {
	const struct raw_tables *raw;
	const char *file;
};

static bool code_seen(const struct code_info *c, void *ctx)
{
	const struct seen_ctx *s = ctx;

	return raw_class(s->raw, s->file, c->name, c->firstlineno);
}

const char *resolver_func_name(struct resolver *rs, const struct raw_tables *raw,
			       const char *file, const char *func, long line,
			       bool exact_first)
{
	const struct code_info *c;
	const struct class_name *v = NULL;

	/* a verdict on this very code needs no source (the monitoring one) */
	if (raw && exact_first && (v = raw_class(raw, file, func, line)) &&
	    !v->seen_only)
		return v->trace_name ? v->trace_name : func;
	c = find_code(rs, file, func, line, exact_first);
	/*
	 * A return's line alone (--listfuncs by the return probe) may lie in
	 * two codes of one name: the one the target saw return is meant.
	 */
	if (raw && c && !exact_first) {
		struct seen_ctx s = { raw, file };
		const struct file_analysis *a;
		const struct code_info *seen = NULL;
		const char *why;

		a = resolver_file_at(rs, file, names_level(rs), &why);
		if (a)
			seen = analysis_find_if(a, func, line, false, code_seen, &s);
		c = seen ?: c;
	}
	/* what the live objects said at the code's first return comes first */
	if (raw)
		v = raw_class(raw, file, func, c ? c->firstlineno :
					       exact_first ? line : -1);
	if (v && !v->seen_only)
		return v->trace_name ? v->trace_name : func;
	return c ? c->trace_name : func;
}

bool resolver_first_line_missed(struct resolver *rs, const char *file,
				const char *func, long line)
{
	const struct code_info *c;

	if (!rs->fl || !rs->fl->repair_first_line)
		return false;
	c = find_code(rs, file, func, line, true);
	/* a module whose body is empty runs at its RESUME's line, 0 */
	return c && c->first_line_missed &&
	       (c->firstlineno == line || (!line && !strcmp(func, "<module>")));
}

static int cmp_count_key(const void *a, const void *b)
{
	const struct count_entry *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

int resolve_counts(struct resolver *rs, const struct raw_tables *raw,
		   struct results *r)
{
	struct ctrace_sref last = {};
	const char *file = NULL;
	bool ignored = false;

	for (size_t i = 0; i < raw->n_lines; i++) {
		const struct line_row *l = &raw->lines[i];

		/* a million keys of one file: name and judge it once */
		if (!i || l->k.file.ptr != last.ptr || l->k.file.tag != last.tag) {
			last = l->k.file;
			file = raw_str(raw, last);
			ignored = file && resolver_ignored(rs, file);
		}
		if (!file) {
			rs->unresolved += l->n;
			continue;
		}
		if (ignored)
			continue;
		if (results_add_count(r, file, l->k.line, l->n))
			return -ENOMEM;
	}
	/* frame starts whose first line the probe never reported */
	for (size_t i = 0; i < raw->n_funcs; i++) {
		const struct func_row *f = &raw->funcs[i];
		const char *file = raw_str(raw, f->k.file);
		const char *func = raw_str(raw, f->k.func);

		if (f->k.kind != CTRACE_ENTRY_START || !file || !func || resolver_ignored(rs, file))
			continue;
		if (resolver_first_line_missed(rs, file, func, f->k.line) &&
		    results_add_count(r, file, f->k.line, f->n))
			return -ENOMEM;
	}
	results_normalize(r);
	if (!rs->fl || !rs->fl->repair_send_edge)
		return 0;
	/* resumes into yield from / await: one backward edge each, unseen by settrace */
	for (size_t i = 0; i < raw->n_funcs; i++) {
		const struct func_row *f = &raw->funcs[i];
		struct count_entry key, *e;

		if (f->k.kind != CTRACE_ENTRY_YIELD_FROM &&
		    f->k.kind != CTRACE_ENTRY_AWAIT)
			continue;
		key.file = raw_str(raw, f->k.file);
		key.line = f->k.line;
		if (!key.file)
			continue;
		e = bsearch(&key, r->counts, r->n_counts, sizeof(*r->counts),
			    cmp_count_key);
		if (e)
			e->count = e->count > f->n ? e->count - f->n : 1;
	}
	return 0;
}

int resolve_funcs(struct resolver *rs, const struct raw_tables *raw,
		  struct results *r)
{
	for (size_t i = 0; i < raw->n_funcs; i++) {
		const struct func_row *f = &raw->funcs[i];
		struct func_name n;
		char *mod;
		int err;

		n.file = raw_str(raw, f->k.file);
		n.func = raw_str(raw, f->k.func);
		if (!n.file || !n.func) {
			rs->unresolved += f->n;
			continue;
		}
		n.func = resolver_func_name(rs, raw, n.file, n.func, f->k.line,
					    raw->funcs_at_first_line);
		mod = n.file[0] ? trace_modname(n.file) : NULL;
		n.mod = mod;
		err = results_add_func(r, &n);
		free(mod);
		if (err)
			return err;
	}
	results_normalize(r);
	return 0;
}

/* Name one end of a pair the way trace names a frame's code. */
static bool code_name(struct resolver *rs, const struct raw_tables *raw,
		      const struct ctrace_code *c, struct func_name *n,
		      char **mod)
{
	n->file = raw_str(raw, c->file);
	n->func = raw_str(raw, c->name);
	if (!n->file || !n->func)
		return false;
	n->func = resolver_func_name(rs, raw, n->file, n->func, c->firstlineno,
				     true);
	*mod = n->file[0] ? trace_modname(n->file) : NULL;
	n->mod = *mod;
	return true;
}

int resolve_calls(struct resolver *rs, const struct raw_tables *raw,
		  struct results *r)
{
	for (size_t i = 0; i < raw->n_calls; i++) {
		const struct call_row *c = &raw->calls[i];
		struct func_name a, b;
		char *ma = NULL, *mb = NULL;
		int err = 0;

		/* the bottom frame: trace's own runctx is its caller there */
		if (!c->k.caller.file.ptr)
			continue;
		if (code_name(rs, raw, &c->k.caller, &a, &ma) &&
		    code_name(rs, raw, &c->k.callee, &b, &mb))
			err = results_add_call_n(r, &a, &b, c->n);
		else
			rs->unresolved += c->n;
		free(ma);
		free(mb);
		if (err)
			return err;
	}
	results_normalize(r);
	return 0;
}

static int cmp_given(const void *a, const void *b)
{
	return strcmp(((const struct given_lines *)a)->file,
		      ((const struct given_lines *)b)->file);
}

int resolve_for_mode(struct resolver *rs, const struct raw_tables *raw,
		     enum count_kind kind, struct results *r)
{
	if (kind == COUNT_CALLS)
		return resolve_calls(rs, raw, r);
	if (kind == COUNT_FUNCS)
		return resolve_funcs(rs, raw, r);
	return resolve_counts(rs, raw, r);
}

static int provide(void *ctx, const char *file, bool want_executable,
		   struct source_info *out, char *why, size_t why_len)
{
	struct resolver *rs = ctx;
	struct given_lines key = { .file = file };
	const struct given_lines *g = NULL;
	const struct file_analysis *a;
	const char *reason;

	if (want_executable && rs->n_given)
		g = bsearch(&key, rs->given, rs->n_given, sizeof(*g), cmp_given);
	a = resolver_file_at(ctx, file, want_executable && !g ?
			     ANALYSIS_EXECUTABLE : ANALYSIS_LINES, &reason);
	if (!a) {
		snprintf(why, why_len, "%s", reason);
		return -ENOENT;
	}
	/* a shallow copy the report must not free: see report_counts() */
	memset(out, 0, sizeof(*out));
	out->lines = a->src.lines;
	out->n_lines = a->src.n_lines;
	out->encoding = a->src.encoding;
	if (g) {
		out->executable = g->lines;
		out->n_executable = g->n;
	} else if (want_executable) {
		out->executable = a->src.executable;
		out->n_executable = a->src.n_executable;
	}
	return 0;
}

void resolver_give_executable(struct resolver *rs, struct given_lines *g,
			      size_t n)
{
	qsort(g, n, sizeof(*g), cmp_given);
	rs->given = g;
	rs->n_given = n;
}

struct source_provider resolver_sources(struct resolver *rs)
{
	struct source_provider p = { .get = provide, .ctx = rs };

	return p;
}

#define PREFETCH_MAX_BYTES (1 << 20)

int resolver_prefetch(struct resolver *rs, char *const *files, size_t n,
		      uint64_t budget_ns)
{
	enum analysis_level level = names_level(rs);
	struct timespec t0, t1;
	const char *why;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rs->early = true;
	for (i = 0; i < n; i++) {
		struct stat st;

		if (!files[i][0] || find_file(rs, files[i]) ||
		    resolver_ignored(rs, files[i]))
			continue;
		/*
		 * One analysis runs to its end: a huge source would hold the
		 * loop (and Ctrl-C) for seconds.  It waits for the end, where
		 * all cores analyse, and a file of lines alone needs no
		 * compiler.
		 */
		stat_source(rs, files[i], &st);
		if (st.st_size > PREFETCH_MAX_BYTES)
			continue;
		resolver_file_at(rs, files[i], level, &why);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ULL +
		    t1.tv_nsec - t0.tv_nsec >= budget_ns) {
			i++;
			break;
		}
	}
	rs->early = false;
	return i;
}


/* The @i-th file @raw names: functions', then pairs' both ends, then lines'. */
static struct ctrace_sref raw_file_at(const struct raw_tables *raw, size_t i)
{
	size_t nf = raw->n_funcs + 2 * raw->n_calls;

	if (i < raw->n_funcs)
		return raw->funcs[i].k.file;
	if (i < nf && (i - raw->n_funcs) % 2)
		return raw->calls[(i - raw->n_funcs) / 2].k.caller.file;
	if (i < nf)
		return raw->calls[(i - raw->n_funcs) / 2].k.callee.file;
	return raw->lines[i - nf].k.file;
}

/*
 * The files @raw names that have no entry yet, each given one, as indexes
 * into rs->files; those before *@n_named hold functions.
 */
static size_t new_files(struct resolver *rs, const struct raw_tables *raw,
			size_t *idx, size_t *n_named)
{
	size_t nf = raw->n_funcs + 2 * raw->n_calls, n = nf + raw->n_lines;
	struct ctrace_sref last = {};
	size_t nj = 0;

	*n_named = 0;
	for (size_t i = 0; i < n; i++) {
		struct ctrace_sref r = raw_file_at(raw, i);
		const char *file;

		if (r.ptr == last.ptr && r.tag == last.tag)
			continue;
		last = r;
		file = raw_str(raw, r);
		if (!file || !*file || find_file(rs, file) || resolver_ignored(rs, file))
			continue;
		if (!file_entry(rs, file))
			break;
		if (i < nf)
			*n_named = nj + 1;
		idx[nj++] = rs->n_files - 1;
	}
	return nj;
}

void resolver_analyse_raw(struct resolver *rs, const struct raw_tables *raw,
			  int parallel)
{
	size_t n = raw->n_funcs + 2 * raw->n_calls + raw->n_lines;
	struct analysis_job *jobs = calloc(n + 1, sizeof(*jobs));
	size_t *idx = calloc(n + 1, sizeof(*idx));
	size_t nj, n_named, k = 0;
	uint64_t t0;

	if (!jobs || !idx)
		goto out;
	/*
	 * Files of functions first, to the depth names need; a file only
	 * lines were counted in needs its lines alone (its executable lines
	 * for --missing), which needs no compiler: a million-line module
	 * takes milliseconds, not seconds.
	 */
	nj = new_files(rs, raw, idx, &n_named);
	/* no entry is added from here on, so pointers into rs->files hold */
	for (size_t i = 0; i < nj; i++)
		if (!prepare_file(rs, &rs->files[idx[i]],
				  i < n_named || rs->want_executable ?
				  names_level(rs) : ANALYSIS_LINES, &jobs[k]))
			idx[k++] = idx[i];
	nj = k;
	t0 = mono_ns();
	analysis_run_many(jobs, nj, parallel);
	pr_debug("analysed %zu files, %d at a time, in %.3f s", nj, parallel,
		 (mono_ns() - t0) / 1e9);
	for (size_t i = 0; i < nj; i++)
		finish_file(&rs->files[idx[i]], &jobs[i]);
out:
	free(jobs);
	free(idx);
}

/* --trace's lookups, answered from the resolver's analysis cache */
static const char *lk_line_text(void *ctx, const char *file, long line)
{
	const struct file_analysis *a;
	const char *why;

	/* linecache has no text for "<frozen ...>" or "<string>" */
	if (file[0] == '<')
		return NULL;
	/* one line at a time is printed: one buffer serves */
	static char *buf;
	static size_t cap;

	a = resolver_file_at(ctx, file, ANALYSIS_LINES, &why);
	if (!a || line < 1 || (size_t)line > a->src.n_lines)
		return NULL;
	return source_line_text(&a->src, line - 1, &buf, &cap);
}

static bool lk_first_missed(void *ctx, const char *file, const char *func,
			    long line)
{
	return resolver_first_line_missed(ctx, file, func, line);
}

static bool lk_ignored(void *ctx, const char *file)
{
	return resolver_ignored(ctx, file);
}

struct trace_lookup resolver_trace_lookup(struct resolver *rs)
{
	struct trace_lookup lk = {
		.line_text = lk_line_text,
		.first_line_missed = lk_first_missed,
		.ignored = lk_ignored,
		.repair_send_edge = rs->fl && rs->fl->repair_send_edge,
		.spaced = py_trace_spaced(rs->fl),
		.ctx = rs,
	};

	return lk;
}
