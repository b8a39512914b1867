// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unprivileged entry points into the report, pickle and analysis code.
 * tests/run-unit.sh feeds them inputs and compares what they print with
 * what CPython's own Lib/trace.py prints for the same inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "naming/analysis.h"
#include "naming/source.h"
#include "report/report.h"
#include "target/syspath.h"
#include "trace/pickle.h"
#include "trace/results.h"

extern char **environ;

static int load(const char *path, struct results *r)
{
	char why[256];

	results_init(r);
	if (pickle_read(path, r, why, sizeof(why))) {
		fprintf(stderr, "pickle_read: %s\n", why);
		return 1;
	}
	return 0;
}

/* A provider over local files, through the same analyser as the tracer. */
static int local_source(void *ctx, const char *file, bool want_exec,
			struct source_info *out, char *why, size_t why_len)
{
	struct file_analysis *a = malloc(sizeof(*a));
	char *data;
	size_t len;
	int err;

	(void)ctx;
	if (!a)
		return -1;
	err = source_read(-1, NULL, file, &data, &len, why, why_len);
	if (err) {
		free(a);
		return err;
	}
	err = analysis_run(data, len, file, want_exec ? ANALYSIS_EXECUTABLE :
			   ANALYSIS_LINES, a, why, why_len);
	free(data);
	if (err) {
		free(a);
		return err;
	}
	/* leaked on purpose: the provider owns what it hands out */
	*out = a->src;
	if (!want_exec)
		out->n_executable = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct results r;

	if (argc >= 3 && !strcmp(argv[1], "fullmodname")) {
		char *m = trace_fullmodname(argv[2], (const char *const *)argv + 3,
					    argc - 3);
		printf("%s\n", m);
		free(m);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "modname")) {
		char *m = trace_modname(argv[2]);

		printf("%s\n", m);
		free(m);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "expand")) {
		write_expanded(stdout, argv[2], true);
		putchar('\n');
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "repickle")) {
		char why[256];

		if (load(argv[2], &r))
			return 1;
		if (pickle_write(argv[3], &r, why, sizeof(why))) {
			fprintf(stderr, "pickle_write: %s\n", why);
			return 1;
		}
		results_free(&r);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "calls")) {
		if (load(argv[2], &r))
			return 1;
		report_funcs(&r, stdout);
		report_calls(&r, stdout);
		results_free(&r);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "counts")) {
		/* counts PICKLE COVERDIR [missing] [summary] SYS_PATH... */
		struct source_provider src = { .get = local_source };
		struct count_report_opts o = { .coverdir = argv[3] };
		int i = 4;

		for (; i < argc; i++) {
			if (!strcmp(argv[i], "missing"))
				o.missing = true;
			else if (!strcmp(argv[i], "summary"))
				o.summary = true;
			else
				break;
		}
		o.sys_path = (const char *const *)argv + i;
		o.n_sys_path = argc - i;
		if (load(argv[2], &r))
			return 1;
		i = report_counts(&r, &src, &o, stdout);
		results_free(&r);
		analysis_shutdown();
		return i ? 1 : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "parse")) {
		/* hostile input: must fail cleanly, never crash */
		char why[256];
		int err;

		results_init(&r);
		err = pickle_read(argv[2], &r, why, sizeof(why));
		printf("%s\n", err ? "rejected" : "accepted");
		results_free(&r);
		return 0;
	}
	if (argc >= 5 && !strcmp(argv[1], "syspath")) {
		/* syspath 3.11 CWD ARGV...: ours, from this environment */
		struct py_flavor fl = { .major = 3 };
		struct syspath_input in = {
			.fl = &fl, .root_fd = -1, .cwd = argv[3],
			.argv = argv + 4, .argc = argc - 4, .env = environ,
		};
		struct syspath sp;

		sscanf(argv[2], "3.%d", &fl.minor);
		while (environ[in.envc])
			in.envc++;
		if (syspath_derive(&in, &sp))
			return 1;
		for (size_t i = 0; i < sp.n; i++)
			printf("%s\n", sp.dirs[i]);
		syspath_free(&sp);
		return 0;
	}
	fprintf(stderr, "usage: test_units fullmodname|modname|expand|repickle|calls|counts|parse|syspath ...\n");
	return 2;
}
