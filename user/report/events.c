// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The reports of --gc, --imports and --audit, from plain tables. */
#include <stdlib.h>
#include <string.h>
#include "report/events.h"

void report_heading(FILE *out, uint32_t pid, const char *cmdline)
{
	fprintf(out, "pid %u: %s\n", pid, cmdline && *cmdline ? cmdline : "?");
}

static int cmp_gen(const void *a, const void *b)
{
	const struct gc_row *x = a, *y = b;

	return (x->gen > y->gen) - (x->gen < y->gen);
}

static void histogram(FILE *out, const __u64 *hist)
{
	__u64 max = 0;
	int last = -1;

	for (int i = 0; i < CTRACE_HIST_SLOTS; i++) {
		if (hist[i] > max)
			max = hist[i];
		if (hist[i])
			last = i;
	}
	fprintf(out, "  %22s : %-10s\n", "usecs", "count");
	for (int i = 0; i <= last; i++) {
		__u64 lo = i ? 1ULL << (i - 1) : 0, hi = i ? (1ULL << i) - 1 : 0;
		int bar = max ? (int)(hist[i] * 40 / max) : 0;

		fprintf(out, "  %10llu -> %-8llu : %-10llu |%-40.*s|\n",
			(unsigned long long)lo, (unsigned long long)hi,
			(unsigned long long)hist[i], bar,
			"****************************************");
	}
}

void report_gc(FILE *out, struct gc_row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), cmp_gen);
	fprintf(out, "garbage collections:\n");
	if (!n) {
		fprintf(out, "  none\n");
		return;
	}
	fprintf(out, "  %-10s %11s %11s %11s %11s\n", "generation", "collections",
		"collected", "total ms", "mean us");
	for (size_t i = 0; i < n; i++) {
		const struct ctrace_gc_gen *g = &rows[i].g;
		char gen[16];

		if (rows[i].gen < CTRACE_GC_GENS - 1)
			snprintf(gen, sizeof(gen), "%u", rows[i].gen);
		else
			snprintf(gen, sizeof(gen), "other");
		fprintf(out, "  %-10s %11llu %11llu %11.3f %11.1f\n",
			gen, (unsigned long long)g->collections,
			(unsigned long long)g->collected, g->total_ns / 1e6,
			g->collections ? g->total_ns / 1e3 / g->collections : 0.0);
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "generation %u, durations:\n", rows[i].gen);
		histogram(out, rows[i].g.hist);
	}
}

static int cmp_slowest(const void *a, const void *b)
{
	const struct import_row *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	return strcmp(x->name, y->name);
}

void report_imports(FILE *out, struct import_row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), cmp_slowest);
	fprintf(out, "imports, slowest first (find and load, nested imports included):\n");
	if (!n) {
		fprintf(out, "  none\n");
		return;
	}
	fprintf(out, "  %10s  %s\n", "ms", "module");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %10.3f  %s", rows[i].ns / 1e6,
			rows[i].name[0] ? rows[i].name : "?");
		if (rows[i].times > 1)
			fprintf(out, "  (%u times)", rows[i].times);
		if (rows[i].failed == rows[i].times)
			fputs("  FAILED", out);
		else if (rows[i].failed)
			fprintf(out, "  FAILED %u of %u", rows[i].failed,
				rows[i].times);
		fputc('\n', out);
	}
}

void audit_header(FILE *out)
{
	fprintf(out, "%-12s %-7s %-16s %-24s %s\n", "TIME(s)", "PID", "COMM",
		"EVENT", "ARGS");
}

/* A str or bytes value as Python's repr shows it, cut at what we read. */
static void put_quoted(FILE *out, const struct ctrace_audit_arg *a)
{
	size_t shown = a->len < sizeof(a->val) ? a->len : sizeof(a->val);

	if (a->kind == CTRACE_ARG_BYTES)
		fputc('b', out);
	fputc('\'', out);
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = a->val[i];

		if (c == '\'' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('\'', out);
	if (shown < a->len)
		fprintf(out, "...(%u %s)", a->len,
			a->kind == CTRACE_ARG_BYTES ? "bytes" : "chars");
}

void audit_line(FILE *out, const struct ctrace_audit_event *ev, uint64_t t0_ns)
{
	char comm[sizeof(ev->comm) + 1], event[sizeof(ev->event) + 1];
	uint32_t shown = ev->nargs < CTRACE_AUDIT_ARGS ? ev->nargs : CTRACE_AUDIT_ARGS;

	/* the ring's copies are not trusted to be terminated */
	memcpy(comm, ev->comm, sizeof(ev->comm));
	comm[sizeof(ev->comm)] = '\0';
	memcpy(event, ev->event, sizeof(ev->event));
	event[sizeof(ev->event)] = '\0';
	fprintf(out, "%-12.6f %-7u %-16s %-24s (", ev->ts > t0_ns ?
		(ev->ts - t0_ns) / 1e9 : 0.0, ev->pid, comm, event);
	for (uint32_t i = 0; i < shown; i++) {
		const struct ctrace_audit_arg *a = &ev->args[i];

		if (i)
			fputs(", ", out);
		switch (a->kind) {
		case CTRACE_ARG_STR:
		case CTRACE_ARG_BYTES:
			put_quoted(out, a);
			break;
		case CTRACE_ARG_INT:
			fprintf(out, "%lld", (long long)a->i);
			break;
		case CTRACE_ARG_BIGINT:
			fputs("<int>", out);
			break;
		case CTRACE_ARG_OTHER:
			fputs("<object>", out);
			break;
		default:
			fputs("<?>", out);
		}
	}
	if (ev->nargs > shown)
		fprintf(out, ", ...%u more", ev->nargs - shown);
	else if (shown == 1)
		fputc(',', out);
	fputs(")\n", out);
}
