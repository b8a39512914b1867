/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A string's identity: its address, with a tag that tells strings at one
 * address apart, read once per new key, never on the hot path.
 * Part of ctrace.bpf.c's one compilation unit: included there, after the
 * globals and maps it uses.
 */
#ifndef CTRACE_STRINGS_BPF_H
#define CTRACE_STRINGS_BPF_H

/* Scratch for fingerprinting a string: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctrace_str);
} fp_scratch SEC(".maps");

/* @s starts with the @n bytes of @lit (its NUL among them: equal) */
static __always_inline bool same_prefix(const char *s, const char *lit,
				       int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != lit[i])
			return false;
	return true;
}

/* A ref's string into @dst: its bytes read (the NUL counted), or <= 0. */
static __always_inline long read_sref(char *dst, __u64 ptr)
{
	__u32 n;

	if (!(ptr & CTRACE_SREF_RAW))
		return bpf_probe_read_user_str(dst, CTRACE_STR_MAX, (void *)ptr);
	n = ctrace_sref_bytes(ptr);
	if (n > CTRACE_STR_MAX)
		n = CTRACE_STR_MAX;
	if (!n || bpf_probe_read_user(dst, n, (void *)(ptr & CTRACE_SREF_ADDR)))
		return 0;
	return n;
}

/*
 * A hash of the string's whole contents.  A freed string's address is
 * reused by other strings, often of the same length (every "<module>"),
 * and file names compiled at run time carry no cached str hash, so only
 * the contents tell two strings at one address apart.  Global, not static:
 * the verifier checks its 128-word loop once, not at each of the five
 * places that call it (-T's attach: 0.7 s of verifying -> 0.08 s).
 */
__noinline __u64 str_fingerprint(__u64 ptr)
{
	struct ctrace_str *b;
	__u32 zero = 0;
	long n;

	b = bpf_map_lookup_elem(&fp_scratch, &zero);
	if (!b)
		return 0;
	n = read_sref(b->s, ptr);
	if (n <= 0)
		return 0;
	return ctrace_fingerprint(b, n);
}

static __always_inline struct ctrace_sref sref_of(__u64 ptr)
{
	struct ctrace_sref r = { .ptr = ptr };

	if (ptr)
		r.tag = str_fingerprint(ptr);
	return r;
}

/*
 * The last string a thread saw in each argument slot, and the last caller
 * it named: a caller's frame outlives the returns into it.
 */
struct sref_slots {
	__u64 switches;	/* the thread's, when it filled the slots */
	__u32 tid;
	struct ctrace_sref s[2];
	__u64 caller;
	struct ctrace_code caller_named;
};

/*
 * A thread that sees the same address again without having seen another
 * in between is still in code that holds that string alive, so it is not
 * fingerprinted again: that read costs more than the rest of a line event.
 * The slots belong to the thread, not the CPU: a thread that moved to
 * another CPU and back may have seen the string freed in between.  They
 * are kept per CPU, with the thread that filled them and its count of
 * context switches: while both are unchanged, the thread has not left the
 * CPU, so no other thread has used the slots and it has seen nothing
 * elsewhere.  (Task storage would keep them across switches, but its
 * lookup costs ~50 ns an event, a quarter of a line event.)
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sref_slots);
} sref_cache SEC(".maps");

static __always_inline struct sref_slots *thread_slots(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sref_slots *c;
	__u32 zero = 0;
	__u64 switches;

	c = bpf_map_lookup_elem(&sref_cache, &zero);
	if (!c)
		return NULL;
	switches = task->nvcsw + task->nivcsw;
	if (c->tid != (__u32)task->pid || c->switches != switches) {
		__builtin_memset(c->s, 0, sizeof(c->s));
		c->caller = 0;
		c->tid = task->pid;
		c->switches = switches;
	}
	return c;
}

/* @c: the thread's slots, looked up once per event (NULL: none) */
static __always_inline struct ctrace_sref sref_cached(struct sref_slots *c,
						      __u64 ptr, __u32 slot)
{
	struct ctrace_sref r;

	slot &= 1;
	if (c && c->s[slot].ptr == ptr && ptr)
		return c->s[slot];
	r = sref_of(ptr);
	if (c)
		c->s[slot] = r;
	return r;
}

/*
 * Read a string the first time its identity is seen.  With @stream the
 * string also goes to the ring, ahead of the event that uses it, so the
 * reader never meets a string it cannot name.
 */
static __noinline int note_str(struct ctrace_sref *ref, bool stream)
{
	struct ctrace_str_event *ev;
	__u32 zero = 0;
	long n;

	if (!ref->ptr || bpf_map_lookup_elem(&strs, ref))
		return 0;
	ev = bpf_map_lookup_elem(&scratch, &zero);
	if (!ev)
		return 0;
	n = read_sref(ev->s, ref->ptr);
	if (n <= 0)
		return 0;
	if (bpf_map_update_elem(&strs, ref, ev->s, BPF_NOEXIST)) {
		stat_inc(CTRACE_STAT_STR_DROPS);
		return 0;
	}
	if (stream) {
		ev->type = CTRACE_EV_STR;
		ev->ref = *ref;
		if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0))
			stat_inc(CTRACE_STAT_EVENT_DROPS);
	}
	return 0;
}

static __always_inline void note_str_streamed(struct ctrace_sref *ref)
{
	__u32 zero = 0;
	struct ctrace_sref *last = bpf_map_lookup_elem(&last_str, &zero);

	if (last && last->ptr == ref->ptr && last->tag == ref->tag)
		return;
	note_str(ref, true);
	if (last)
		*last = *ref;
}

#endif
