/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Counting: the keys' maps, and the per-CPU slots of recent keys that
 * spare most hits a hash-map lookup.
 * Part of ctrace.bpf.c's one compilation unit: included there, after the
 * globals and maps it uses.
 */
#ifndef CTRACE_SLOTS_BPF_H
#define CTRACE_SLOTS_BPF_H

static __always_inline void line_add(void *key, __u64 n)
{
	__u32 *i = bpf_map_lookup_elem(&line_index, key);
	__u64 *h = i ? bpf_map_lookup_elem(&line_hits, i) : NULL;

	if (h)
		__sync_fetch_and_add(h, n);
	else
		stat_add(CTRACE_STAT_LINE_DROPS, n);
}

/*
 * A place for a line key that has none; true when it is new.  Two CPUs
 * meeting the same new key both take a place; the one whose index entry
 * loses keeps a copy of the key with no hits, which userspace skips.
 */
static __always_inline bool line_ensure(void *key)
{
	struct ctrace_line_key *slot;
	__u32 i;

	if (bpf_map_lookup_elem(&line_index, key))
		return false;
	i = __sync_fetch_and_add(&line_next, 1);
	slot = bpf_map_lookup_elem(&line_keys, &i);
	if (!slot)
		return false;	/* full: its hits count as drops */
	__builtin_memcpy(slot, key, sizeof(*slot));
	return !bpf_map_update_elem(&line_index, key, &i, BPF_NOEXIST);
}

/* Add one to a counter, or make it; a full map keeps counting known keys. */
static __always_inline bool count_in(void *map, void *key, __u32 drop_stat)
{
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(map, key);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return false;
	}
	if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(map, key);
		if (v)
			__sync_fetch_and_add(v, 1);
		else
			stat_inc(drop_stat);
		return false;
	}
	return true;
}

static __always_inline void add_n(void *map, void *key, __u64 n,
				  __u32 drop_stat)
{
	__u64 *v;

	if (map == &line_index) {
		line_add(key, n);
		return;
	}
	v = bpf_map_lookup_elem(map, key);

	if (v)
		__sync_fetch_and_add(v, n);
	else
		stat_add(drop_stat, n);
}

/* Keys are whole u64 words: compare them without a libc memcmp. */
static __always_inline bool same_words(const void *a, const void *b, __u32 n)
{
	const __u64 *x = a, *y = b;

#pragma unroll
	for (__u32 i = 0; i < 12; i++)
		if (i < n && x[i] != y[i])
			return false;
	return true;
}

/* Give @key a counter at 0 if it has none; true when it is new. */
static __always_inline bool ensure_key(void *map, void *key)
{
	__u64 zero = 0;

	if (map == &line_index)
		return line_ensure(key);
	if (bpf_map_lookup_elem(map, key))
		return false;
	return !bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
}

/*
 * Count @key through its per-CPU @slot (NULL: none), a key of @ksize bytes
 * followed by its pending count and the code_gen it was named under: @gen,
 * read before the naming began.  True when the key is new to @map.
 */
static __always_inline bool count_cached(char *slot, void *map, void *key,
					 __u32 ksize, __u32 drop_stat,
					 __u64 gen)
{
	__u64 *pending;
	bool fresh;

	if (!slot) {
		fresh = ensure_key(map, key);
		add_n(map, key, 1, drop_stat);
		return fresh;
	}
	pending = (__u64 *)(slot + ksize);
	pending[1] = gen;
	if (*pending && same_words(slot, key, ksize / 8)) {
		*pending += 1;
		return false;
	}
	if (*pending)
		add_n(map, slot, *pending, drop_stat);
	fresh = ensure_key(map, key);
	__builtin_memcpy(slot, key, ksize);
	*pending = 1;
	return fresh;
}

/*
 * Does @slot hold a key named while no code object has died since?  Then
 * the raw addresses it was named from still name the same strings and
 * codes: an event that shows them is that key's, with nothing to read.
 */
static __always_inline bool slot_current(const char *slot, __u32 ksize,
					 __u64 gen)
{
	const __u64 *pending = (const __u64 *)(slot + ksize);

	return gen_armed && pending[0] && pending[1] == gen;
}

#endif
