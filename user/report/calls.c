// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "report/report.h"

static const char *none_or(const char *s)
{
	return s ? s : "None";
}

void report_funcs(const struct results *r, FILE *out)
{
	if (!r->n_funcs)
		return;
	fprintf(out, "\nfunctions called:\n");
	for (size_t i = 0; i < r->n_funcs; i++)
		fprintf(out, "filename: %s, modulename: %s, funcname: %s\n",
			r->funcs[i].file, none_or(r->funcs[i].mod),
			r->funcs[i].func);
}

void report_calls(const struct results *r, FILE *out)
{
	const char *lastfile = "", *lastcfile = "";

	if (!r->n_calls)
		return;
	fprintf(out, "\ncalling relationships:\n");
	for (size_t i = 0; i < r->n_calls; i++) {
		const struct func_name *p = &r->calls[i].caller;
		const struct func_name *c = &r->calls[i].callee;

		if (strcmp(p->file, lastfile)) {
			fprintf(out, "\n*** %s ***\n", p->file);
			lastfile = p->file;
			lastcfile = "";
		}
		if (strcmp(c->file, p->file) && strcmp(lastcfile, c->file)) {
			fprintf(out, "  --> %s\n", c->file);
			lastcfile = c->file;
		}
		fprintf(out, "    %s.%s -> %s.%s\n", none_or(p->mod), p->func,
			none_or(c->mod), c->func);
	}
}

void report_listing(const struct results *r, enum count_kind kind, FILE *out)
{
	if (kind == COUNT_CALLS)
		report_calls(r, out);
	else
		report_funcs(r, out);
}
