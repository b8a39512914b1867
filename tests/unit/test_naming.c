// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Naming and the reports, without root or BPF: a fixture of the events
 * CPython 3.11's probes fire (tests/unit/probes.py writes it) becomes the
 * tally the BPF maps would hold, or the ring records --trace streams, and
 * goes through resolve (the 3.11 repairs included) to trace's reports.
 * tests/run-unit.sh compares them with python -m trace on the same program.
 *
 *   test_naming count FIXTURE COVERDIR SYS_PATH...   .cover files, summary
 *   test_naming funcs FIXTURE                        --listfuncs
 *   test_naming calls FIXTURE                        --trackcalls
 *   test_naming trace FIXTURE                        --trace
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "naming/analysis.h"
#include "naming/resolve.h"
#include "naming/tally.h"
#include "report/report.h"
#include "report/trace.h"
#include "target/pyversion.h"
#include "trace/results.h"

#define MAX_FIELDS 8

struct fixture {
	struct raw_tables raw;
	size_t cap_lines, cap_funcs, cap_calls, cap_strs;
};

static struct ctrace_sref ref(unsigned long id)
{
	return (struct ctrace_sref){ .ptr = id, .tag = id };
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 256;
	p = realloc(p, *cap * size);
	if (!p) {
		perror("realloc");
		exit(1);
	}
	return p;
}

/*
 * The maps count by key: the same key seen again adds one.  Every row is
 * a key of @ksize bytes and then its u64 count.
 */
static void add_row(void **rows, size_t *n, size_t *cap, const void *key,
		    size_t ksize)
{
	size_t rsize = ksize + sizeof(uint64_t);
	char *r = *rows;

	for (size_t i = 0; i < *n; i++, r += rsize)
		if (!memcmp(r, key, ksize)) {
			(*(uint64_t *)(r + ksize))++;
			return;
		}
	*rows = grow(*rows, cap, *n, rsize);
	r = (char *)*rows + (*n)++ * rsize;
	memcpy(r, key, ksize);
	*(uint64_t *)(r + ksize) = 1;
}

/* add_row()'s idea of a row: the tally's rows have no padding */
_Static_assert(sizeof(struct line_row) == sizeof(struct ctrace_line_key) + 8, "line_row");
_Static_assert(sizeof(struct func_row) == sizeof(struct ctrace_func_key) + 8, "func_row");
_Static_assert(sizeof(struct call_row) == sizeof(struct ctrace_call_key) + 8, "call_row");

static void add_line(struct fixture *fx, unsigned long file, unsigned line)
{
	struct ctrace_line_key k = { .file = ref(file), .line = line };

	add_row((void **)&fx->raw.lines, &fx->raw.n_lines, &fx->cap_lines, &k,
		sizeof(k));
}

static void add_func(struct fixture *fx, const struct ctrace_func_key *k)
{
	add_row((void **)&fx->raw.funcs, &fx->raw.n_funcs, &fx->cap_funcs, k,
		sizeof(*k));
}

static void add_call(struct fixture *fx, const struct ctrace_call_key *k)
{
	add_row((void **)&fx->raw.calls, &fx->raw.n_calls, &fx->cap_calls, k,
		sizeof(*k));
}

static void add_str(struct fixture *fx, unsigned long id, const char *s)
{
	struct raw_tables *t = &fx->raw;

	t->strs = grow(t->strs, &fx->cap_strs, t->n_strs, sizeof(*t->strs));
	t->strs[t->n_strs].ref = ref(id);
	t->strs[t->n_strs++].s = strdup(s);
}

static int split(char *line, char **f)
{
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	for (char *p = line; n < MAX_FIELDS; p = NULL) {
		char *tok = strtok(p, "\t");

		if (!tok)
			break;
		f[n++] = tok;
	}
	return n;
}

/* R's caller field: "file func firstlineno", or "-" at the bottom frame */
static void caller_of(const char *s, struct ctrace_code *c)
{
	unsigned long file, func;
	unsigned first;

	memset(c, 0, sizeof(*c));
	if (sscanf(s, "%lu %lu %u", &file, &func, &first) == 3)
		*c = (struct ctrace_code){ .file = ref(file), .name = ref(func),
					   .firstlineno = first };
}

/* One fixture event into the tally @mode's maps would hold. */
static void tally_event(struct fixture *fx, const char *mode, char **f, int n)
{
	struct ctrace_func_key fk = {};
	struct ctrace_call_key ck = {};

	if (f[0][0] == 'L' && n == 3 && !strcmp(mode, "count")) {
		add_line(fx, strtoul(f[1], NULL, 10), strtoul(f[2], NULL, 10));
	} else if (f[0][0] == 'E' && n == 5 && !strcmp(mode, "count")) {
		fk.file = ref(strtoul(f[1], NULL, 10));
		fk.func = ref(strtoul(f[2], NULL, 10));
		fk.line = strtoul(f[3], NULL, 10);
		fk.kind = strtoul(f[4], NULL, 10);
		add_func(fx, &fk);
	} else if (f[0][0] == 'R' && n == 6 && !strcmp(mode, "funcs")) {
		/* 3.11's -l: function__return alone, at the returning line */
		fk.file = ref(strtoul(f[1], NULL, 10));
		fk.func = ref(strtoul(f[2], NULL, 10));
		fk.line = strtoul(f[3], NULL, 10);
		add_func(fx, &fk);
	} else if (f[0][0] == 'R' && n == 6 && !strcmp(mode, "calls")) {
		ck.callee = (struct ctrace_code){
			.file = ref(strtoul(f[1], NULL, 10)),
			.name = ref(strtoul(f[2], NULL, 10)),
			.firstlineno = strtoul(f[4], NULL, 10) };
		caller_of(f[5], &ck.caller);
		add_call(fx, &ck);
	}
}

static int load(const char *path, const char *mode, struct fixture *fx)
{
	FILE *in = fopen(path, "re");
	char line[8192], *f[MAX_FIELDS];
	int n;

	memset(fx, 0, sizeof(*fx));
	if (!in) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		n = split(line, f);
		if (n == 3 && f[0][0] == 'S')
			add_str(fx, strtoul(f[1], NULL, 10), f[2]);
		else if (n > 0)
			tally_event(fx, mode, f, n);
	}
	fclose(in);
	raw_sort_strs(&fx->raw);
	return raw_name_classes(&fx->raw);
}

/* --trace: each fixture event as the ring record the BPF side streams. */
static int stream(const char *path, struct resolver *rs)
{
	struct trace_lookup lk = resolver_trace_lookup(rs);
	char line[8192], *f[MAX_FIELDS];
	FILE *in = fopen(path, "re");
	struct trace_stream ts;
	int n;

	if (!in) {
		perror(path);
		return 1;
	}
	trace_stream_init(&ts, stdout, false, 0, &lk);
	while (fgets(line, sizeof(line), in)) {
		struct ctrace_str_event s = { .type = CTRACE_EV_STR };
		struct ctrace_event ev = { .tid = 1 };

		n = split(line, f);
		if (n == 3 && f[0][0] == 'S') {
			s.ref = ref(strtoul(f[1], NULL, 10));
			snprintf(s.s, sizeof(s.s), "%s", f[2]);
			trace_stream_event(&ts, &s, sizeof(s));
			continue;
		}
		if (n == 3 && f[0][0] == 'L') {
			ev.type = CTRACE_EV_LINE;
			ev.file = ref(strtoul(f[1], NULL, 10));
			ev.line = strtoul(f[2], NULL, 10);
		} else if (n == 5 && f[0][0] == 'E') {
			ev.type = CTRACE_EV_CALL;
			ev.file = ref(strtoul(f[1], NULL, 10));
			ev.func = ref(strtoul(f[2], NULL, 10));
			ev.line = strtoul(f[3], NULL, 10);
			ev.kind = strtoul(f[4], NULL, 10);
		} else {
			continue;
		}
		trace_stream_event(&ts, &ev, sizeof(ev));
	}
	fclose(in);
	trace_stream_free(&ts);
	return 0;
}

static int report(const char *mode, struct fixture *fx, struct resolver *rs,
		  char **rest, int n_rest)
{
	struct count_report_opts o = { .missing = true, .summary = true };
	enum count_kind kind = !strcmp(mode, "calls") ? COUNT_CALLS :
			       !strcmp(mode, "funcs") ? COUNT_FUNCS : COUNT_LINES;
	struct source_provider src = resolver_sources(rs);
	struct results r;
	int err;

	results_init(&r);
	err = resolve_for_mode(rs, &fx->raw, kind, &r);
	if (err)
		return 1;
	if (kind != COUNT_LINES) {
		report_listing(&r, kind, stdout);
	} else {
		if (n_rest < 1)
			return 2;
		o.coverdir = rest[0];
		o.sys_path = (const char *const *)rest + 1;
		o.n_sys_path = n_rest - 1;
		err = report_counts(&r, &src, &o, stdout);
	}
	results_free(&r);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct py_flavor *fl;
	struct pyelf e = { .major = 3, .minor = 11 };
	struct resolver rs;
	struct fixture fx;
	char why[256], cwd[4096];
	int ret;

	if (argc < 3 || !getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "usage: test_naming count|funcs|calls|trace FIXTURE [COVERDIR SYS_PATH...]\n");
		return 2;
	}
	fl = py_flavor_for(&e, why, sizeof(why));
	if (!fl) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	resolver_init(&rs, fl, -1, cwd, NULL, 0, NULL, 0);
	rs.want_executable = true;
	if (!strcmp(argv[1], "trace")) {
		ret = stream(argv[2], &rs);
	} else {
		ret = load(argv[2], argv[1], &fx);
		if (!ret)
			ret = report(argv[1], &fx, &rs, argv + 3, argc - 3);
		raw_tables_free(&fx.raw);
	}
	resolver_free(&rs);
	analysis_shutdown();
	return ret;
}
