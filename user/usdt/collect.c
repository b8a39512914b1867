// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Collecting: line counts are read in place from arrays mapped into our
 * memory; the other maps are copied out with batch lookups (about 66 ns
 * an entry here, against 850 ns one key at a time), falling back to
 * key-by-key iteration on kernels without batch support.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ctrace.h"
#include "ctrace.skel.h"
#include "usdt/collect.h"
#include "util/ucs.h"
#include "util/log.h"

#define BATCH 4096

static int collect_slow(int fd, size_t ks, size_t vs, size_t max, char *keys,
			char *values, size_t *n)
{
	char *prev = NULL;
	size_t i = 0;

	while (i < max && !bpf_map_get_next_key(fd, prev, keys + i * ks)) {
		if (!bpf_map_lookup_elem(fd, keys + i * ks, values + i * vs)) {
			prev = keys + i * ks;
			i++;
		} else if (errno != ENOENT) {
			return -errno;
		}
	}
	*n = i;
	return 0;
}

int collect_map(int fd, size_t ks, size_t vs, size_t max, void **keys_out,
		void **values_out, size_t *n)
{
	char *keys = malloc(ks * (max + 1)), *values = malloc(vs * (max + 1));
	__u64 in = 0, out = 0;
	bool first = true;
	size_t total = 0;
	int err = 0;

	*n = 0;
	if (!keys || !values) {
		err = -ENOMEM;
		goto fail;
	}
	while (total < max) {
		__u32 count = max - total < BATCH ? max - total : BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out,
					   keys + total * ks, values + total * vs,
					   &count, NULL);
		if (err && errno != ENOENT) {
			if (first && (errno == EINVAL || errno == ENOTSUP ||
				      errno == EOPNOTSUPP)) {
				err = collect_slow(fd, ks, vs, max, keys, values, &total);
				if (err)
					goto fail;
				break;
			}
			err = -errno;
			goto fail;
		}
		total += count;
		if (err)	/* ENOENT: that was the last batch */
			break;
		in = out;
		first = false;
	}
	*keys_out = keys;
	*values_out = values;
	*n = total;
	return 0;
fail:
	free(keys);
	free(values);
	return err;
}

/* The per-CPU stats, summed over the CPUs. */
static void read_stats(struct ctrace_bpf *s, struct raw_tables *t)
{
	int ncpu = libbpf_num_possible_cpus();

	for (__u32 i = 0; ncpu > 0 && i < CTRACE_STAT_NR; i++) {
		__u64 *v = calloc(ncpu, sizeof(*v));

		if (v && !bpf_map_lookup_elem(bpf_map__fd(s->maps.stats), &i, v))
			for (int c = 0; c < ncpu; c++)
				t->stats[i] += v[c];
		free(v);
	}
}


/* Dump one counting map into rows of {key, u64}. */
static int collect_counts(struct bpf_map *m, size_t ks, void **rows, size_t *n)
{
	size_t row = ks + sizeof(uint64_t), max = bpf_map__max_entries(m);
	void *keys, *values;
	char *out;
	int err;

	err = collect_map(bpf_map__fd(m), ks, sizeof(uint64_t), max, &keys,
			  &values, n);
	if (err)
		return err;
	out = malloc(row * (*n + 1));
	if (!out) {
		free(keys);
		free(values);
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++) {
		memcpy(out + i * row, (char *)keys + i * ks, ks);
		memcpy(out + i * row + ks, (char *)values + i * sizeof(uint64_t),
		       sizeof(uint64_t));
	}
	free(keys);
	free(values);
	*rows = out;
	return 0;
}

/* qsort and bsearch on row pointers, by their first key_size bytes */
static __thread size_t key_size;

static int cmp_row_key(const void *a, const void *b)
{
	return memcmp(*(char *const *)a, *(char *const *)b, key_size);
}

/*
 * Add what the per-CPU slots still hold to the rows of their keys.  A key
 * with no row never got a counter (a full map): its hits are drops.
 */

static int flush_slots(struct bpf_map *cache, size_t slot_size, size_t ks,
		       void *rows, size_t n_rows, uint64_t *drops)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t row = ks + sizeof(uint64_t), stride = (slot_size + 7) & ~7UL;
	char *vals, **index;

	if (ncpu <= 0)
		return -EINVAL;
	vals = malloc(stride * ncpu);
	/* slots times CPUs lookups: by a sorted index, not along the rows */
	index = malloc((n_rows + 1) * sizeof(*index));
	if (!vals || !index) {
		free(vals);
		free(index);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_rows; i++)
		index[i] = (char *)rows + i * row;
	key_size = ks;
	qsort(index, n_rows, sizeof(*index), cmp_row_key);
	for (__u32 idx = 0; idx < CTRACE_CACHE_SLOTS; idx++) {
		if (bpf_map_lookup_elem(bpf_map__fd(cache), &idx, vals))
			continue;
		for (int c = 0; c < ncpu; c++) {
			const char *slot = vals + c * stride;
			char **hit = NULL;
			uint64_t pending, count;

			memcpy(&pending, slot + ks, sizeof(pending));
			if (!pending)
				continue;
			if (n_rows)
				hit = bsearch(&slot, index, n_rows, sizeof(*index),
					      cmp_row_key);
			if (!hit) {
				*drops += pending;
				continue;
			}
			memcpy(&count, *hit + ks, sizeof(count));
			count += pending;
			memcpy(*hit + ks, &count, sizeof(count));
		}
	}
	free(index);
	free(vals);
	return 0;
}

static void *map_array(struct bpf_map *m, size_t *len)
{
	size_t page = getpagesize();
	void *p;

	*len = (bpf_map__value_size(m) * (size_t)bpf_map__max_entries(m) +
		page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, bpf_map__fd(m), 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Line counts: the keys and hits arrays, read in place, then what the
 * per-CPU slots still hold, found through the index.  A place with no
 * hits is a key another CPU placed first; it is skipped.
 */
static int collect_lines(struct ctrace_bpf *s, struct raw_tables *t)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	size_t klen = 0, hlen = 0, n = s->bss->line_next, out = 0;
	size_t stride = (sizeof(struct ctrace_line_slot) + 7) & ~7UL;
	const struct ctrace_line_key *keys = map_array(s->maps.line_keys, &klen);
	const __u64 *hits = map_array(s->maps.line_hits, &hlen);
	char *vals = ncpu > 0 ? malloc(stride * ncpu) : NULL;

	if (n > bpf_map__max_entries(s->maps.line_keys))
		n = bpf_map__max_entries(s->maps.line_keys);
	t->lines = malloc((n + 1) * sizeof(*t->lines));
	if (!keys || !hits || !vals || !t->lines) {
		err = keys && hits && vals ? -ENOMEM : -errno;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		t->lines[i].k = keys[i];
		t->lines[i].n = hits[i];
	}
	for (__u32 idx = 0; idx < CTRACE_CACHE_SLOTS; idx++) {
		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.line_cache), &idx, vals))
			continue;
		for (int c = 0; c < ncpu; c++) {
			const struct ctrace_line_slot *slot =
				(const void *)(vals + c * stride);
			__u32 at;

			if (!slot->pending)
				continue;
			if (!bpf_map_lookup_elem(bpf_map__fd(s->maps.line_index),
						 &slot->k, &at) && at < n)
				t->lines[at].n += slot->pending;
			else
				t->stats[CTRACE_STAT_LINE_DROPS] += slot->pending;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (t->lines[i].n)
			t->lines[out++] = t->lines[i];
	t->n_lines = out;
out:
	if (keys)
		munmap((void *)keys, klen);
	if (hits)
		munmap((void *)hits, hlen);
	free(vals);
	return err;
}

/* The function and pair counts, and what the slots still hold of them. */
static int collect_funcs_calls(struct ctrace_bpf *s, struct raw_tables *t)
{
	int err;

	err = collect_counts(s->maps.func_counts, sizeof(struct ctrace_func_key),
			     (void **)&t->funcs, &t->n_funcs);
	/* an entry's count carries its code's "never resumed" mark */
	for (size_t i = 0; !err && i < t->n_funcs; i++)
		t->funcs[i].n &= ~CTRACE_PLAIN_BIT;
	if (!err)
		err = collect_counts(s->maps.call_counts,
				     sizeof(struct ctrace_call_key),
				     (void **)&t->calls, &t->n_calls);
	if (!err)
		err = flush_slots(s->maps.func_cache,
				  sizeof(struct ctrace_func_slot),
				  sizeof(struct ctrace_func_key), t->funcs,
				  t->n_funcs, &t->stats[CTRACE_STAT_FUNC_DROPS]);
	if (!err)
		err = flush_slots(s->maps.call_cache,
				  sizeof(struct ctrace_call_slot),
				  sizeof(struct ctrace_call_key), t->calls,
				  t->n_calls, &t->stats[CTRACE_STAT_CALL_DROPS]);
	return err;
}

static int collect_strs(struct ctrace_bpf *s, struct raw_tables *t)
{
	void *keys = NULL, *values = NULL;
	size_t n;
	int err;

	err = collect_map(bpf_map__fd(s->maps.strs), sizeof(struct ctrace_sref),
			  sizeof(struct ctrace_str),
			  bpf_map__max_entries(s->maps.strs), &keys, &values, &n);
	if (err)
		return err;
	t->strs = calloc(n + 1, sizeof(*t->strs));
	for (size_t i = 0; t->strs && i < n; i++) {
		struct ctrace_str *v = &((struct ctrace_str *)values)[i];

		t->strs[i].ref = ((struct ctrace_sref *)keys)[i];
		t->strs[i].s = sref_strdup(t->strs[i].ref, v->s);
	}
	t->n_strs = t->strs ? n : 0;
	raw_sort_strs(t);
	free(keys);
	free(values);
	return 0;
}

static int collect_classes(struct ctrace_bpf *s, struct raw_tables *t)
{
	void *keys = NULL, *values = NULL;
	size_t n;
	int err;

	err = collect_map(bpf_map__fd(s->maps.code_class),
			  sizeof(struct ctrace_code), sizeof(struct ctrace_class),
			  bpf_map__max_entries(s->maps.code_class), &keys,
			  &values, &n);
	if (err)
		return err;
	t->classes = calloc(n + 1, sizeof(*t->classes));
	for (size_t i = 0; t->classes && i < n; i++) {
		t->classes[i].k = ((struct ctrace_code *)keys)[i];
		t->classes[i].v = ((struct ctrace_class *)values)[i];
	}
	t->n_classes = t->classes ? n : 0;
	free(keys);
	free(values);
	return raw_name_classes(t);
}

int collect_all(struct ctrace_bpf *s, struct raw_tables *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	/* stats first: the slots' leftovers may add to the drop counts */
	read_stats(s, t);
	err = collect_lines(s, t);
	if (!err)
		err = collect_funcs_calls(s, t);
	if (!err)
		err = collect_strs(s, t);
	return err ? err : collect_classes(s, t);
}

static size_t watch_slot(struct ctrace_sref r, size_t cap)
{
	return ((r.ptr ^ r.tag * 31) * 0x9e3779b97f4a7c15ULL >> 17) & (cap - 1);
}

/* Add @r to the set; false when it was there already. */
static bool watch_add(struct str_watch *w, struct ctrace_sref r)
{
	size_t i;

	if ((w->n + 1) * 2 > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct ctrace_sref *g = calloc(cap, sizeof(*g));

		if (!g)
			return false;
		for (size_t k = 0; k < w->cap; k++) {
			if (!w->seen[k].ptr)
				continue;
			for (i = watch_slot(w->seen[k], cap); g[i].ptr; i = (i + 1) & (cap - 1))
				;
			g[i] = w->seen[k];
		}
		free(w->seen);
		w->seen = g;
		w->cap = cap;
	}
	for (i = watch_slot(r, w->cap); w->seen[i].ptr; i = (i + 1) & (w->cap - 1))
		if (w->seen[i].ptr == r.ptr && w->seen[i].tag == r.tag)
			return false;
	w->seen[i] = r;
	w->n++;
	return true;
}

int collect_new_sources(struct ctrace_bpf *s, struct str_watch *w,
			char ***names, size_t *n)
{
	int fd = bpf_map__fd(s->maps.strs);
	struct ctrace_sref key, next, *prev = NULL;
	struct ctrace_str v;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		char *text;

		if (!key.ptr || !watch_add(w, key) ||
		    bpf_map_lookup_elem(fd, &key, &v))
			continue;
		text = sref_strdup(key, v.s);
		if (!text || (!(text[0] == '/' && strlen(text) > 3 &&
				!strcmp(text + strlen(text) - 3, ".py")) &&
			      strncmp(text, "<frozen ", 8))) {
			free(text);
			continue;	/* a function's name, or no source */
		}
		if (*n == cap) {
			char **g = realloc(*names, (cap ? cap * 2 : 64) * sizeof(*g));

			if (!g) {
				free(text);
				break;
			}
			*names = g;
			cap = cap ? cap * 2 : 64;
		}
		(*names)[(*n)++] = text;
	}
	return 0;
}

void str_watch_free(struct str_watch *w)
{
	free(w->seen);
	memset(w, 0, sizeof(*w));
}
