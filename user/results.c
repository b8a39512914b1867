// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "results.h"

void results_init(struct results *r)
{
	memset(r, 0, sizeof(*r));
}

void results_free(struct results *r)
{
	for (size_t i = 0; i < r->cap_strs; i++)
		free(r->strs[i]);
	free(r->strs);
	free(r->counts);
	free(r->funcs);
	free(r->calls);
	memset(r, 0, sizeof(*r));
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Open addressing; the table stays at most half full. */
static int intern_grow(struct results *r)
{
	size_t cap = r->cap_strs ? r->cap_strs * 2 : 64;
	char **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < r->cap_strs; i++) {
		char *s = r->strs[i];
		size_t j;

		if (!s)
			continue;
		for (j = hash_str(s) & (cap - 1); tab[j]; j = (j + 1) & (cap - 1))
			;
		tab[j] = s;
	}
	free(r->strs);
	r->strs = tab;
	r->cap_strs = cap;
	return 0;
}

const char *results_intern(struct results *r, const char *s)
{
	size_t j;

	if (!s)
		return NULL;
	if ((r->n_strs + 1) * 2 > r->cap_strs && intern_grow(r))
		return NULL;
	for (j = hash_str(s) & (r->cap_strs - 1); r->strs[j];
	     j = (j + 1) & (r->cap_strs - 1)) {
		if (strcmp(r->strs[j], s) == 0)
			return r->strs[j];
	}
	r->strs[j] = strdup(s);
	if (!r->strs[j])
		return NULL;
	r->n_strs++;
	return r->strs[j];
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 256;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int results_add_count(struct results *r, const char *file, long line, uint64_t n)
{
	struct count_entry *e;

	/* runs of one file are the rule: skip the hash when it is the last one */
	if (r->n_counts && file && !strcmp(r->counts[r->n_counts - 1].file, file))
		file = r->counts[r->n_counts - 1].file;
	else
		file = results_intern(r, file);
	if (!file || grow((void **)&r->counts, &r->cap_counts, r->n_counts,
			  sizeof(*r->counts)))
		return -ENOMEM;
	e = &r->counts[r->n_counts++];
	e->file = file;
	e->line = line;
	e->count = n;
	return 0;
}

static int intern_name(struct results *r, struct func_name *dst,
		       const struct func_name *src)
{
	dst->file = results_intern(r, src->file);
	dst->mod = results_intern(r, src->mod);
	dst->func = results_intern(r, src->func);
	if (!dst->file || (src->mod && !dst->mod) || !dst->func)
		return -ENOMEM;
	return 0;
}

int results_add_func(struct results *r, const struct func_name *f)
{
	if (grow((void **)&r->funcs, &r->cap_funcs, r->n_funcs,
		 sizeof(*r->funcs)))
		return -ENOMEM;
	if (intern_name(r, &r->funcs[r->n_funcs], f))
		return -ENOMEM;
	r->n_funcs++;
	return 0;
}

int results_add_call(struct results *r, const struct func_name *caller,
		     const struct func_name *callee)
{
	struct call_entry *e;

	if (grow((void **)&r->calls, &r->cap_calls, r->n_calls,
		 sizeof(*r->calls)))
		return -ENOMEM;
	e = &r->calls[r->n_calls];
	if (intern_name(r, &e->caller, caller) ||
	    intern_name(r, &e->callee, callee))
		return -ENOMEM;
	r->n_calls++;
	return 0;
}

/* Python orders None before any string only in our tables; trace never mixes. */
static int cmp_opt(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int cmp_name(const struct func_name *a, const struct func_name *b)
{
	int c = strcmp(a->file, b->file);

	if (!c)
		c = cmp_opt(a->mod, b->mod);
	if (!c)
		c = strcmp(a->func, b->func);
	return c;
}

static int cmp_count(const void *pa, const void *pb)
{
	const struct count_entry *a = pa, *b = pb;
	/* interned: one file is one pointer */
	int c = a->file == b->file ? 0 : strcmp(a->file, b->file);

	if (c)
		return c;
	return (a->line > b->line) - (a->line < b->line);
}

static int cmp_func(const void *a, const void *b)
{
	return cmp_name(a, b);
}

static int cmp_call(const void *pa, const void *pb)
{
	const struct call_entry *a = pa, *b = pb;
	int c = cmp_name(&a->caller, &b->caller);

	return c ? c : cmp_name(&a->callee, &b->callee);
}

void results_normalize(struct results *r)
{
	size_t i, n;

	if (r->n_counts)
		qsort(r->counts, r->n_counts, sizeof(*r->counts), cmp_count);
	for (i = 0, n = 0; i < r->n_counts; i++) {
		if (n && !cmp_count(&r->counts[n - 1], &r->counts[i]))
			r->counts[n - 1].count += r->counts[i].count;
		else
			r->counts[n++] = r->counts[i];
	}
	r->n_counts = n;

	if (r->n_funcs)
		qsort(r->funcs, r->n_funcs, sizeof(*r->funcs), cmp_func);
	for (i = 0, n = 0; i < r->n_funcs; i++)
		if (!n || cmp_func(&r->funcs[n - 1], &r->funcs[i]))
			r->funcs[n++] = r->funcs[i];
	r->n_funcs = n;

	if (r->n_calls)
		qsort(r->calls, r->n_calls, sizeof(*r->calls), cmp_call);
	for (i = 0, n = 0; i < r->n_calls; i++)
		if (!n || cmp_call(&r->calls[n - 1], &r->calls[i]))
			r->calls[n++] = r->calls[i];
	r->n_calls = n;
}

int results_merge(struct results *dst, const struct results *src)
{
	for (size_t i = 0; i < src->n_counts; i++)
		if (results_add_count(dst, src->counts[i].file,
				      src->counts[i].line, src->counts[i].count))
			return -ENOMEM;
	for (size_t i = 0; i < src->n_funcs; i++)
		if (results_add_func(dst, &src->funcs[i]))
			return -ENOMEM;
	for (size_t i = 0; i < src->n_calls; i++)
		if (results_add_call(dst, &src->calls[i].caller,
				     &src->calls[i].callee))
			return -ENOMEM;
	dst->dropped += src->dropped;
	results_normalize(dst);
	return 0;
}

char *trace_modname(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base ? base + 1 : path;
	/* os.path.splitext ignores leading dots of the base name */
	dot = strrchr(base, '.');
	if (dot) {
		const char *p = base;

		while (*p == '.')
			p++;
		if (dot < p)
			dot = NULL;
	}
	return strndup(base, dot ? (size_t)(dot - base) : strlen(base));
}
