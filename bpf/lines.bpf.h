/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --count and --trace: lines, and entries (the 3.11 repairs, and trace's
 * "--- modulename" lines).
 * Part of ctrace.bpf.c's one compilation unit: included there, after the
 * globals and maps it uses.
 */
#ifndef CTRACE_LINES_BPF_H
#define CTRACE_LINES_BPF_H

static __always_inline void stream(__u32 type, struct ctrace_sref *file,
				   struct ctrace_sref *func, __u32 line,
				   __u32 kind)
{
	struct ctrace_event *ev;

	note_str_streamed(file);
	if (func)
		note_str(func, true);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(CTRACE_STAT_EVENT_DROPS);
		return;
	}
	ev->type = type;
	ev->tid = (__u32)bpf_get_current_pid_tgid();
	ev->ts = bpf_ktime_get_ns();
	ev->file = *file;
	if (func)
		ev->func = *func;
	else
		ev->func = (struct ctrace_sref){};
	ev->line = line;
	ev->kind = kind;
	bpf_ringbuf_submit(ev, 0);
}

SEC("usdt")
int on_line(struct pt_regs *ctx)
{
	struct ctrace_line_key k = {};
	struct ctrace_line_slot *slot;
	struct usdt_args u;
	long file, line;
	__u32 idx;
	__u64 gen;

	if (!hit_begin(&u, ctx, false))
		return 0;
	gen = code_gen;
	file = usdt_arg(&u, 0);
	line = usdt_arg(&u, 2);
	idx = ((__u64)file >> 4 ^ line) & (CTRACE_CACHE_SLOTS - 1);
	slot = mode & CTRACE_COUNT_LINES ?
	       bpf_map_lookup_elem(&line_cache, &idx) : NULL;
	if (slot && !(mode & CTRACE_STREAM_LINES) &&
	    slot_current((char *)slot, sizeof(k), gen) &&
	    slot->k.file.ptr == file && slot->k.line == line) {
		slot->pending++;
		return 0;
	}
	k.file = sref_cached(thread_slots(), file, 0);
	k.line = line;

	if ((mode & CTRACE_COUNT_LINES) &&
	    count_cached((char *)slot, &line_index, &k, sizeof(k),
			 CTRACE_STAT_LINE_DROPS, gen))
		note_str(&k.file, false);
	if (mode & CTRACE_STREAM_LINES)
		stream(CTRACE_EV_LINE, &k.file, NULL, line, 0);
	return 0;
}

/*
 * An entry's kind and count.  Telling a start from a resume reads five
 * dependent words of the frame chain (~0.5 us here): a code that can
 * never be resumed is read once, and its count carries the mark after.
 * --trace alone keeps no counts, so no mark: it reads every time.
 */
static __always_inline void count_entry(struct usdt_args *u,
					struct ctrace_func_key *k,
					struct ctrace_func_slot *slot,
					__u64 gen)
{
	__u64 *v;
	bool plain;

	k->kind = CTRACE_ENTRY_START;
	if (!(mode & CTRACE_COUNT_ENTRIES)) {
		k->kind = resume_kind(u, NULL);
	} else if (!(v = bpf_map_lookup_elem(&func_counts, k)) ||
		   !(*v & CTRACE_PLAIN_BIT)) {
		k->kind = resume_kind(u, &plain);
		if (count_in(&func_counts, k, CTRACE_STAT_FUNC_DROPS)) {
			note_str(&k->file, false);
			note_str(&k->func, false);
		}
		v = plain ? bpf_map_lookup_elem(&func_counts, k) : NULL;
		if (v)
			__sync_fetch_and_or(v, CTRACE_PLAIN_BIT);
	} else {
		count_cached((char *)slot, &func_counts, k, sizeof(*k),
			     CTRACE_STAT_FUNC_DROPS, gen);
	}
}

SEC("usdt")
int on_entry(struct pt_regs *ctx)
{
	struct ctrace_func_slot *slot;
	struct sref_slots *ts;
	struct usdt_args u;
	struct ctrace_func_key k = {};
	__u64 file, func, gen;
	__u32 line, idx;

	if (!hit_begin(&u, ctx, false))
		return 0;
	gen = code_gen;
	file = usdt_arg(&u, 0);
	func = usdt_arg(&u, 1);
	line = usdt_arg(&u, 2);
	/*
	 * Only starts of codes that are never resumed sit in the slots: one
	 * named under the same count of code deaths is this code, started.
	 */
	idx = (func >> 4 ^ line) & (CTRACE_CACHE_SLOTS - 1);
	slot = mode & CTRACE_COUNT_ENTRIES ?
	       bpf_map_lookup_elem(&func_cache, &idx) : NULL;
	if (slot && !(mode & CTRACE_STREAM_ENTRIES) &&
	    slot_current((char *)slot, sizeof(k), gen) &&
	    slot->k.file.ptr == file && slot->k.func.ptr == func &&
	    slot->k.line == line) {
		slot->pending++;
		return 0;
	}
	ts = thread_slots();
	k.file = sref_cached(ts, file, 0);
	k.func = sref_cached(ts, func, 1);
	k.line = line;
	count_entry(&u, &k, slot, gen);
	if (mode & CTRACE_STREAM_ENTRIES)
		stream(CTRACE_EV_CALL, &k.file, &k.func, line, k.kind);
	return 0;
}

#endif
