/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --listfuncs and --trackcalls, from the return probe alone.
 * Part of ctrace.bpf.c's one compilation unit: included there, after the
 * globals and maps it uses.
 */
#ifndef CTRACE_RETURNS_BPF_H
#define CTRACE_RETURNS_BPF_H

/* A new --listfuncs key: its code's class, if not yet decided. */
static __always_inline void name_class(struct usdt_args *u,
				       struct ctrace_func_key *k)
{
	struct ctrace_code c = { .file = k->file, .name = k->func };
	struct frame_view f;
	__u64 frame;

	if (!layout.frame_locals)
		return;
	frame = current_frame(u);
	if (!frame)
		return;
	read_frame(frame, &f);
	if (!f.code)
		return;
	c.firstlineno = read_u32(f.code + layout.code_firstlineno);
	note_class(u, frame, &c);
}

/* --listfuncs: a function that returned was called. */
SEC("usdt")
int on_return_func(struct pt_regs *ctx)
{
	struct ctrace_func_key k = {};
	struct ctrace_func_slot *slot;
	struct sref_slots *ts;
	struct usdt_args u;
	__u64 file, func, gen;
	__u32 idx, line, tgid;

	if (!hit_begin(&u, ctx, true))
		return 0;
	gen = code_gen;
	file = usdt_arg(&u, 0);
	func = usdt_arg(&u, 1);
	line = usdt_arg(&u, 2);
	tgid = bpf_get_current_pid_tgid() >> 32;
	idx = (func >> 4 ^ line) & (CTRACE_CACHE_SLOTS - 1);
	slot = bpf_map_lookup_elem(&func_cache, &idx);
	if (slot && slot_current((char *)slot, sizeof(k), gen) &&
	    slot->k.file.ptr == file && slot->k.func.ptr == func &&
	    slot->k.line == line && slot->k.tgid == tgid) {
		slot->pending++;
		k.func = slot->k.func;
		goto counted;
	}
	ts = thread_slots();
	k.file = sref_cached(ts, file, 0);
	k.func = sref_cached(ts, func, 1);
	k.line = line;
	k.tgid = tgid;
	if (shim_file_tag && k.file.tag == shim_file_tag)
		return 0;

	if (count_cached((char *)slot, &func_counts, &k, sizeof(k),
			 CTRACE_STAT_FUNC_DROPS, gen)) {
		note_str(&k.file, false);
		note_str(&k.func, false);
		name_class(&u, &k);
	}
counted:
	runpy_done(&u, k.func.tag, NULL);
	return 0;
}

/*
 * The same two codes as this slot's, none freed since: the same pair.
 * The probe's names must agree with the frame's code too: the frame found
 * is the one returning (a thread that switched interpreters may have left
 * another thread state behind).
 */
static __always_inline bool pair_in_slot(struct ctrace_call_slot *slot,
					 __u64 gen, __u64 code, __u64 caller,
					 __u32 tgid, __u64 file, __u64 func)
{
	return slot && slot_current((char *)slot, sizeof(slot->k), gen) &&
	       slot->callee_code == code && slot->caller_code == caller &&
	       slot->k.tgid == tgid && slot->k.callee.file.ptr == file &&
	       slot->k.callee.name.ptr == func;
}

/* A pair the slot does not hold: named, counted, its classes decided once. */
static __always_inline void count_pair(struct usdt_args *u,
				       struct ctrace_call_key *k,
				       struct ctrace_call_slot *slot,
				       __u64 frame, __u64 code, __u64 caller,
				       __u64 caller_frame, __u64 gen)
{
	struct sref_slots *ts = thread_slots();

	/* the probe's own arguments are the returning code's names */
	k->callee.file = sref_cached(ts, k->callee.file.ptr, 0);
	k->callee.name = sref_cached(ts, k->callee.name.ptr, 1);
	k->callee.firstlineno = read_u32(code + layout.code_firstlineno);
	if (caller)
		caller_info(ts, caller, &k->caller);
	if (count_cached((char *)slot, &call_counts, k, sizeof(*k),
			 CTRACE_STAT_CALL_DROPS, gen)) {
		note_str(&k->callee.file, false);
		note_str(&k->callee.name, false);
		note_class(u, frame, &k->callee);
		if (caller)
			note_class(u, caller_frame, &k->caller);
	}
	if (slot) {
		slot->callee_code = code;
		slot->caller_code = caller;
	}
}

/*
 * --trackcalls: at a return or yield the frame below is the caller or the
 * resumer, exactly what trace's f_back shows at the matching call.
 */
SEC("usdt")
int on_return_call(struct pt_regs *ctx)
{
	struct ctrace_call_key k = {};
	struct ctrace_call_slot *slot;
	struct usdt_args u;
	struct frame_view f;
	__u64 frame, caller, shim, gen, caller_frame = 0;
	__u32 idx;

	if (!hit_begin(&u, ctx, true))
		return 0;
	gen = code_gen;
	frame = current_frame(&u);
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	if (!frame) {
		stat_inc(CTRACE_STAT_FRAME_FAULTS);
		return 0;
	}
	read_frame(frame, &f);
	shim = init_shim(&u);
	if (shim && f.code == shim)
		return 0;
	caller = caller_code_at(&f, shim, &caller_frame);
	idx = (f.code >> 4 ^ caller >> 3) & (CTRACE_CACHE_SLOTS - 1);
	slot = bpf_map_lookup_elem(&call_cache, &idx);
	k.callee.file.ptr = usdt_arg(&u, 0);
	k.callee.name.ptr = usdt_arg(&u, 1);
	if (pair_in_slot(slot, gen, f.code, caller, k.tgid, k.callee.file.ptr,
			 k.callee.name.ptr)) {
		slot->pending++;
		k.callee.name = slot->k.callee.name;
	} else {
		count_pair(&u, &k, slot, frame, f.code, caller, caller_frame,
			   gen);
	}
	runpy_done(&u, k.callee.name.tag, &caller);
	return 0;
}

#endif
