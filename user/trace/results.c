// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "trace/results.h"

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
	return results_add_call_n(r, caller, callee, 1);
}

int results_add_call_n(struct results *r, const struct func_name *caller,
		       const struct func_name *callee, uint64_t n)
{
	struct call_entry *e;

	if (grow((void **)&r->calls, &r->cap_calls, r->n_calls,
		 sizeof(*r->calls)))
		return -ENOMEM;
	e = &r->calls[r->n_calls];
	if (intern_name(r, &e->caller, caller) ||
	    intern_name(r, &e->callee, callee))
		return -ENOMEM;
	e->count = n;
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

struct file_rank {
	const char *file;
	uint32_t rank;
};

static int cmp_rank_name(const void *a, const void *b)
{
	return strcmp(((const struct file_rank *)a)->file,
		      ((const struct file_rank *)b)->file);
}

static int cmp_rank_addr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct file_rank *)a)->file;
	uintptr_t y = (uintptr_t)((const struct file_rank *)b)->file;

	return (x > y) - (x < y);
}

/* Each distinct file of @r's counts with its place in name order. */
static struct file_rank *rank_files(const struct results *r, size_t *nf)
{
	struct file_rank *fr = malloc((r->n_counts + 1) * sizeof(*fr));
	size_t n = 0, u = 0;

	if (!fr)
		return NULL;
	for (size_t i = 0; i < r->n_counts; i++)
		if (!n || fr[n - 1].file != r->counts[i].file)
			fr[n++].file = r->counts[i].file;
	qsort(fr, n, sizeof(*fr), cmp_rank_addr);
	for (size_t i = 0; i < n; i++)
		if (!u || fr[u - 1].file != fr[i].file)
			fr[u++] = fr[i];
	qsort(fr, u, sizeof(*fr), cmp_rank_name);
	for (size_t i = 0; i < u; i++)
		fr[i].rank = i;
	qsort(fr, u, sizeof(*fr), cmp_rank_addr);
	*nf = u;
	return fr;
}

struct keyed_count {
	uint64_t key;	/* file rank << 32 | line */
	struct count_entry e;
};

/*
 * Sort the counts by (file, line) as a radix sort of (file rank, line):
 * the files are interned, so they are ranked once by name.  qsort's
 * string comparisons took 0.2 s for a million counts; this takes 30 ms.
 * False when a line does not fit in 32 bits: then qsort does it.
 */
static bool sort_counts_radix(struct results *r)
{
	size_t n = r->n_counts, nf, hist[256];
	struct keyed_count *a, *b, *t;
	struct file_rank *fr, key, *hit = NULL;
	bool ok = false;

	fr = rank_files(r, &nf);
	a = malloc(n * sizeof(*a));
	b = malloc(n * sizeof(*b));
	if (!fr || !a || !b)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct count_entry *e = &r->counts[i];

		if (e->line < 0 || e->line > UINT32_MAX)
			goto out;
		if (!hit || hit->file != e->file) {
			key.file = e->file;
			hit = bsearch(&key, fr, nf, sizeof(*fr), cmp_rank_addr);
		}
		a[i].key = (uint64_t)hit->rank << 32 | (uint64_t)e->line;
		a[i].e = *e;
	}
	for (int shift = 0; shift < 64; shift += 8) {
		size_t pos = 0;

		memset(hist, 0, sizeof(hist));
		for (size_t i = 0; i < n; i++)
			hist[a[i].key >> shift & 0xff]++;
		if (hist[a[0].key >> shift & 0xff] == n)
			continue;	/* this byte is the same everywhere */
		for (int d = 0; d < 256; d++) {
			size_t c = hist[d];

			hist[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			b[hist[a[i].key >> shift & 0xff]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		r->counts[i] = a[i].e;
	ok = true;
out:
	free(fr);
	free(a);
	free(b);
	return ok;
}

void results_normalize(struct results *r)
{
	size_t i, n;

	if (r->n_counts && !sort_counts_radix(r))
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
		else
			r->calls[n - 1].count += r->calls[i].count;
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
		if (results_add_call_n(dst, &src->calls[i].caller,
				       &src->calls[i].callee, src->calls[i].count))
			return -ENOMEM;
	dst->dropped += src->dropped;
	results_normalize(dst);
	return 0;
}
