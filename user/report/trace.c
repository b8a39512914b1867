// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --trace: the ring's records printed as trace's localtrace_trace prints
 * them, " --- modulename: M, funcname: F" at each call and
 * "file.py(N): source" at each line, with "%.2f " first under --timing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "report/trace.h"
#include "util/ucs.h"
#include "trace/tracepy.h"

struct trace_thread {
	uint32_t tid;
	struct ctrace_sref skip_file;	/* drop the next line event if here */
	uint32_t skip_line;
};

void trace_stream_init(struct trace_stream *ts, FILE *out, bool timing,
		       uint64_t t0_ns, const struct trace_lookup *lk)
{
	memset(ts, 0, sizeof(*ts));
	ts->out = out;
	ts->timing = timing;
	ts->t0_ns = t0_ns;
	ts->lk = lk;
}

void trace_stream_free(struct trace_stream *ts)
{
	for (size_t i = 0; i < ts->cap_strs; i++)
		free(ts->str_vals[i]);
	free(ts->str_keys);
	free(ts->str_vals);
	free(ts->threads);
	memset(ts, 0, sizeof(*ts));
}

static size_t slot(struct ctrace_sref k, size_t cap)
{
	return ((k.ptr ^ k.tag * 31) * 0x9e3779b97f4a7c15ULL >> 17) & (cap - 1);
}

static bool same(struct ctrace_sref a, struct ctrace_sref b)
{
	return a.ptr == b.ptr && a.tag == b.tag;
}

static int str_put(struct trace_stream *ts, struct ctrace_sref ptr,
		   const char *s)
{
	size_t j;

	if ((ts->n_strs + 1) * 2 > ts->cap_strs) {
		size_t cap = ts->cap_strs ? ts->cap_strs * 2 : 256;
		struct ctrace_sref *keys = calloc(cap, sizeof(*keys));
		char **vals = calloc(cap, sizeof(*vals));

		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -ENOMEM;
		}
		for (size_t i = 0; i < ts->cap_strs; i++) {
			if (!ts->str_vals[i])
				continue;
			for (j = slot(ts->str_keys[i], cap); vals[j]; j = (j + 1) & (cap - 1))
				;
			keys[j] = ts->str_keys[i];
			vals[j] = ts->str_vals[i];
		}
		free(ts->str_keys);
		free(ts->str_vals);
		ts->str_keys = keys;
		ts->str_vals = vals;
		ts->cap_strs = cap;
	}
	for (j = slot(ptr, ts->cap_strs); ts->str_vals[j]; j = (j + 1) & (ts->cap_strs - 1))
		if (same(ts->str_keys[j], ptr))
			return 0;
	ts->str_vals[j] = sref_strdup(ptr, s);
	if (!ts->str_vals[j])
		return -ENOMEM;
	ts->str_keys[j] = ptr;
	ts->n_strs++;
	return 0;
}

static const char *str_get(const struct trace_stream *ts,
			   struct ctrace_sref ptr)
{
	if (!ts->cap_strs)
		return NULL;
	for (size_t j = slot(ptr, ts->cap_strs); ts->str_vals[j];
	     j = (j + 1) & (ts->cap_strs - 1))
		if (same(ts->str_keys[j], ptr))
			return ts->str_vals[j];
	return NULL;
}

static struct trace_thread *thread_of(struct trace_stream *ts, uint32_t tid)
{
	struct trace_thread *g;

	for (size_t i = 0; i < ts->n_threads; i++)
		if (ts->threads[i].tid == tid)
			return &ts->threads[i];
	g = realloc(ts->threads, (ts->n_threads + 1) * sizeof(*g));
	if (!g)
		return NULL;
	ts->threads = g;
	g = &ts->threads[ts->n_threads++];
	memset(g, 0, sizeof(*g));
	g->tid = tid;
	return g;
}

static void print_line(struct trace_stream *ts, uint64_t ts_ns,
		       const char *file, long line)
{
	const char *base = strrchr(file, '/');
	const char *text = ts->lk->line_text(ts->lk->ctx, file, line);

	if (ts->timing)
		fprintf(ts->out, "%.2f ",
			ts_ns > ts->t0_ns ? (ts_ns - ts->t0_ns) / 1e9 : 0.0);
	fprintf(ts->out, "%s(%ld)", base ? base + 1 : file, line);
	/* 3.13+: print(": ", line, end=''), and a bare newline without one */
	if (ts->lk->spaced)
		fprintf(ts->out, text && *text ? ":  %s" : "\n", text);
	else
		fprintf(ts->out, ": %s", text ? text : "");
}

int trace_stream_event(struct trace_stream *ts, const void *data, size_t len)
{
	const struct ctrace_event *ev = data;
	struct trace_thread *th;
	const char *file, *func;

	if (len >= sizeof(struct ctrace_str_event) - CTRACE_STR_MAX &&
	    ev->type == CTRACE_EV_STR) {
		const struct ctrace_str_event *s = data;

		return str_put(ts, s->ref, s->s);
	}
	if (len < sizeof(*ev))
		return 0;
	file = str_get(ts, ev->file);
	if (!file) {
		ts->unnamed++;
		return 0;
	}
	if (ts->lk->ignored(ts->lk->ctx, file))
		return 0;
	th = thread_of(ts, ev->tid);
	if (ev->type == CTRACE_EV_CALL) {
		char *mod;

		func = str_get(ts, ev->func);
		if (!func) {
			ts->unnamed++;
			return 0;
		}
		mod = trace_globals_modname(file);
		fprintf(ts->out, " --- modulename: %s, funcname: %s\n",
			mod ? mod : "", func);
		free(mod);
		if (ev->kind == CTRACE_ENTRY_START &&
		    ts->lk->first_line_missed(ts->lk->ctx, file, func, ev->line))
			print_line(ts, ev->ts, file, ev->line);
		if (th && (ev->kind == CTRACE_ENTRY_YIELD_FROM ||
			   ev->kind == CTRACE_ENTRY_AWAIT) &&
		    ts->lk->repair_send_edge) {
			th->skip_file = ev->file;
			th->skip_line = ev->line;
		}
		return 0;
	}
	if (ev->type != CTRACE_EV_LINE)
		return 0;
	if (th && th->skip_file.ptr) {
		bool skip = same(th->skip_file, ev->file) &&
			    th->skip_line == ev->line;

		th->skip_file.ptr = 0;
		if (skip)
			return 0;
	}
	print_line(ts, ev->ts, file, ev->line);
	return 0;
}
