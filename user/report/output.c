// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The end of every trace, whichever collector counted: trace's reports on
 * stdout and in .cover files, and the counts file (-f).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "naming/resolve.h"
#include "report/export.h"
#include "report/output.h"
#include "report/report.h"
#include "trace/pickle.h"
#include "util/log.h"

/* The interpreter's sys.path, for .cover names as trace's --coverdir gives. */
static void sys_path_of(const struct target *t, const struct py_flavor *fl,
			struct syspath *sp)
{
	struct syspath_input in = {
		.fl = fl, .root_fd = t->root_fd, .cwd = t->cwd,
		.argv = t->argv, .argc = t->argc,
		.env = t->env, .envc = t->envc,
	};

	memset(sp, 0, sizeof(*sp));
	if (fl && syspath_derive(&in, sp))
		pr_err("warning: out of memory deriving sys.path: .cover names may be longer than trace's");
	/*
	 * What the program added at run time, from its memory; '' (for -c)
	 * means the cwd, as derived.  A read made early holds less, hence the
	 * union.
	 */
	for (size_t i = 0; i < t->live_path.n; i++) {
		const char *d = t->live_path.dirs[i];

		if (syspath_add(sp, d[0] ? d : t->cwd))
			break;
	}
}

bool exports_wanted(const struct options *o)
{
	return o->coverage_file || o->lcov || o->json || o->callgraph;
}

/* --coverage-file, --lcov, --json, --callgraph: each one failing alone. */
int write_exports(const struct options *o, const struct results *r,
		      struct resolver *rs, const struct target *t)
{
	struct export_info x = {
		.cwd = t && t->cwd[0] ? t->cwd : NULL,
		.context = "",
		.command = t ? t->cmdline : NULL,
		.pid = t ? t->pid : 0,
		.rs = rs,
		.executable = o->missing,
	};
	char ver[32] = "", why[1024];
	int err = 0;

	if (t && t->elf.major)
		pyelf_version_str(&t->elf, ver, sizeof(ver));
	x.python = ver[0] ? ver : NULL;
	if (o->coverage_file && export_coverage(o->coverage_file, r, &x, why,
						sizeof(why)))
		err = -1, pr_err("%s", why);
	if (o->lcov && export_lcov(o->lcov, r, &x, why, sizeof(why)))
		err = -1, pr_err("%s", why);
	if (o->json && export_json(o->json, r, &x, why, sizeof(why)))
		err = -1, pr_err("%s", why);
	if (o->callgraph && export_callgraph(o->callgraph, r, &x, why,
					     sizeof(why)))
		err = -1, pr_err("%s", why);
	return err;
}

int write_reports(const struct options *o, struct results *r,
			 struct resolver *rs, const struct target *t,
			 const struct py_flavor *fl)
{
	struct source_provider src = resolver_sources(rs);
	struct count_report_opts co = {
		.missing = o->missing,
		.summary = o->summary,
		.coverdir = o->coverdir,
		/* trace's own format follows its version */
		.percent_tenths = py_percent_tenths(fl),
	};
	struct syspath sp = {};
	char why[512];
	int err = 0;

	if (o->file) {
		err = pickle_write(o->file, r, why, sizeof(why));
		if (err)
			pr_err("cannot save counts to '%s': %s", o->file, why);
	}
	if (o->no_report)
		return write_exports(o, r, rs, t) || err ? 1 : 0;
	report_funcs(r, stdout);
	report_calls(r, stdout);
	if (t)
		sys_path_of(t, fl, &sp);
	co.sys_path = (const char *const *)sp.dirs;
	co.n_sys_path = sp.n;
	if (r->n_counts && report_counts(r, &src, &co, stdout) < 0)
		err = -1;
	syspath_free(&sp);
	fflush(stdout);
	/* after the reports, so that --json has their notes too */
	err |= write_exports(o, r, rs, t);
	return err ? 1 : 0;
}

void merge_counts_file(const struct options *o, struct results *r)
{
	struct results old;
	char why[512];
	int err;

	if (!o->file)
		return;
	/* trace merges the existing file before writing it back */
	results_init(&old);
	err = pickle_read(o->file, &old, why, sizeof(why));
	if (!err)
		results_merge(r, &old);
	else if (err != -ENOENT)
		pr_err("note: skipping counts file '%s': %s", o->file, why);
	results_free(&old);
}
