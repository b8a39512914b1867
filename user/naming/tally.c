// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tally: a collector's raw rows, their strings by reference, the live
 * class verdicts, and one process's share of a fleet's rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "naming/tally.h"
#include "util/log.h"

static int cmp_str_row(const void *a, const void *b)
{
	const struct str_row *x = a, *y = b;

	if (x->ref.ptr != y->ref.ptr)
		return (x->ref.ptr > y->ref.ptr) - (x->ref.ptr < y->ref.ptr);
	return (x->ref.tag > y->ref.tag) - (x->ref.tag < y->ref.tag);
}

void raw_sort_strs(struct raw_tables *t)
{
	qsort(t->strs, t->n_strs, sizeof(*t->strs), cmp_str_row);
}

const char *raw_str(const struct raw_tables *t, struct ctrace_sref ref)
{
	struct str_row key = { .ref = ref }, *r;

	r = bsearch(&key, t->strs, t->n_strs, sizeof(*t->strs), cmp_str_row);
	return r ? r->s : NULL;
}

static int cmp_class_name(const void *a, const void *b)
{
	const struct class_name *x = a, *y = b;
	int c = strcmp(x->func, y->func);

	if (!c)
		c = strcmp(x->file, y->file);
	/* a line < 0 stands for any line */
	if (!c && x->firstlineno >= 0 && y->firstlineno >= 0)
		c = (x->firstlineno > y->firstlineno) -
		    (x->firstlineno < y->firstlineno);
	return c;
}

int raw_name_classes(struct raw_tables *t)
{
	size_t n = 0;

	t->class_names = calloc(t->n_classes + 1, sizeof(*t->class_names));
	if (!t->class_names)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_classes; i++) {
		const struct class_row *r = &t->classes[i];
		struct class_name *c = &t->class_names[n];
		const char *cls = NULL;

		c->file = raw_str(t, r->k.file);
		c->func = raw_str(t, r->k.name);
		c->firstlineno = r->k.firstlineno;
		c->seen_only = !r->v.name.ptr && r->v.name.tag == CTRACE_CLASS_SEEN;
		if (r->v.name.ptr && !(cls = raw_str(t, r->v.name)))
			continue;	/* its string was lost: no verdict */
		if (!c->file || !c->func)
			continue;
		if (cls && asprintf(&c->trace_name, "%s.%s", cls, c->func) < 0)
			return -ENOMEM;
		n++;
	}
	t->n_class_names = n;
	qsort(t->class_names, n, sizeof(*t->class_names), cmp_class_name);
	return 0;
}

static bool same_verdict(const struct class_name *a, const struct class_name *b)
{
	if (!a->trace_name || !b->trace_name)
		return a->trace_name == b->trace_name;
	return !strcmp(a->trace_name, b->trace_name);
}

const struct class_name *raw_class(const struct raw_tables *t, const char *file,
				   const char *func, long firstlineno)
{
	struct class_name key = { .file = file, .func = func,
				  .firstlineno = firstlineno };
	const struct class_name *c, *x, *end;

	c = bsearch(&key, t->class_names, t->n_class_names,
		    sizeof(*t->class_names), cmp_class_name);
	if (!c || firstlineno >= 0)
		return c;
	/*
	 * by name alone: every verdict on a code of that name in the file
	 * must agree (codes only seen give none)
	 */
	end = t->class_names + t->n_class_names;
	while (c > t->class_names && !cmp_class_name(c - 1, &key))
		c--;
	for (x = c; x < end && !cmp_class_name(x, &key); x++) {
		if (x->seen_only)
			continue;
		if (c->seen_only)
			c = x;
		else if (!same_verdict(x, c))
			return NULL;
	}
	return c;
}

void raw_tables_free(struct raw_tables *t)
{
	if (t->borrowed) {
		free(t->lines);
		free(t->funcs);
		free(t->calls);
		memset(t, 0, sizeof(*t));
		return;
	}
	for (size_t i = 0; i < t->n_strs; i++)
		free(t->strs[i].s);
	free(t->strs);
	for (size_t i = 0; i < t->n_class_names; i++)
		free(t->class_names[i].trace_name);
	free(t->class_names);
	free(t->classes);
	free(t->lines);
	free(t->funcs);
	free(t->calls);
	memset(t, 0, sizeof(*t));
}

void raw_warn_lost(const struct raw_tables *t, uint64_t unnamed, const char *who)
{
	uint64_t drops = t->stats[CTRACE_STAT_LINE_DROPS] +
			 t->stats[CTRACE_STAT_FUNC_DROPS] +
			 t->stats[CTRACE_STAT_CALL_DROPS];

	if (drops)
		pr_err("warning: %s%llu events were not counted: a BPF map was full",
		       who, (unsigned long long)drops);
	if (t->stats[CTRACE_STAT_EVENT_DROPS])
		pr_err("warning: %s%llu trace events were lost: the ring buffer was full",
		       who, (unsigned long long)t->stats[CTRACE_STAT_EVENT_DROPS]);
	if (unnamed || t->stats[CTRACE_STAT_STR_DROPS])
		pr_err("warning: %s%llu events name a file or function that could not be read from the target",
		       who, (unsigned long long)unnamed);
}

int raw_tables_select(const struct raw_tables *all, uint32_t tgid,
		      struct raw_tables *out)
{
	memset(out, 0, sizeof(*out));
	out->borrowed = true;
	out->strs = all->strs;
	out->n_strs = all->n_strs;
	out->classes = all->classes;
	out->n_classes = all->n_classes;
	out->class_names = all->class_names;
	out->n_class_names = all->n_class_names;
	out->funcs = malloc((all->n_funcs + 1) * sizeof(*out->funcs));
	out->calls = malloc((all->n_calls + 1) * sizeof(*out->calls));
	if (!out->funcs || !out->calls) {
		raw_tables_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < all->n_funcs; i++)
		if (all->funcs[i].k.tgid == tgid)
			out->funcs[out->n_funcs++] = all->funcs[i];
	for (size_t i = 0; i < all->n_calls; i++)
		if (all->calls[i].k.tgid == tgid)
			out->calls[out->n_calls++] = all->calls[i];
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

uint32_t *raw_tables_tgids(const struct raw_tables *t, size_t *n)
{
	uint32_t *ids = malloc((t->n_funcs + t->n_calls + 1) * sizeof(*ids));
	size_t k = 0, out = 0;

	*n = 0;
	if (!ids)
		return NULL;
	for (size_t i = 0; i < t->n_funcs; i++)
		ids[k++] = t->funcs[i].k.tgid;
	for (size_t i = 0; i < t->n_calls; i++)
		ids[k++] = t->calls[i].k.tgid;
	qsort(ids, k, sizeof(*ids), cmp_u32);
	for (size_t i = 0; i < k; i++)
		if (!out || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	*n = out;
	return ids;
}
