/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The interpreter's frames, through the layout userspace found: thread
 * state, current frame, caller, code objects, how a frame was entered.
 * Part of ctrace.bpf.c's one compilation unit: included there, after the
 * globals and maps it uses.
 */
#ifndef CTRACE_PYFRAME_BPF_H
#define CTRACE_PYFRAME_BPF_H

#define MAX_THREADS 64

/* 3.12+: this thread's state, found by its native id in the thread list. */
static __always_inline __u64 tstate_by_tid(__u64 runtime)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 interp, ts;

	interp = read_ptr(runtime + layout.interp_head);
	if (!interp)
		return 0;
	ts = read_ptr(interp + layout.interp_threads);
	for (int i = 0; i < MAX_THREADS && ts; i++) {
		if ((__u32)read_ptr(ts + layout.tstate_native_id) == tid)
			return ts;
		ts = read_ptr(ts + layout.tstate_next);
	}
	return 0;
}

struct tstate_slot {
	__u64 tstate;
	__u32 tid, pad;
};

/* 3.11+: the thread state each CPU found last, and for which thread. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tstate_slot);
} tstate_cache SEC(".maps");

#define BLOCK_WORDS (CTRACE_BLOCK_MAX / 8)

/*
 * Blocks of target memory are read here, not on the stack: a verifier
 * adds up the stacks of every frame down to dict_holds()'s callbacks, and
 * 512 bytes is all there is.  One buffer a CPU is enough: a uprobe's
 * program runs with preemption off, and never nested on its CPU.
 */
struct block {
	__u64 w[BLOCK_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct block);
} block_scratch SEC(".maps");

static __always_inline __u64 *scratch_block(void)
{
	__u32 zero = 0;
	struct block *b = bpf_map_lookup_elem(&block_scratch, &zero);

	return b ? b->w : NULL;
}

/* Read [lo, lo + span) of @base into @buf; false if it cannot be done. */
static __always_inline bool read_block(__u64 *buf, __u64 base, __u32 lo,
				       __u32 span)
{
	if (!span || span > CTRACE_BLOCK_MAX)
		return false;
	return !bpf_probe_read_user(buf, span, (void *)(base + lo));
}

static __always_inline __u64 word_in(const __u64 *buf, __u32 off, __u32 lo)
{
	return buf[((off - lo) / 8) & (BLOCK_WORDS - 1)];
}

/*
 * The word at @off of this thread's state (3.12+: its frame, 3.11: its C
 * frame).  The state last found for this thread is tried first: reading
 * the word and the state's native id at once both answers and checks that
 * it still belongs to us, so the search (3.12+: the thread-list walk, three
 * reads or more) happens only when a CPU changes threads.
 */
static __always_inline __u64 thread_word(__u64 runtime, __u32 off)
{
	__u32 zero = 0, tid = (__u32)bpf_get_current_pid_tgid();
	struct tstate_slot *c = bpf_map_lookup_elem(&tstate_cache, &zero);
	__u64 *buf = scratch_block(), ts;

	if (c && buf && c->tid == tid && c->tstate &&
	    read_block(buf, c->tstate, layout.tstate_lo, layout.tstate_span) &&
	    (__u32)word_in(buf, layout.tstate_native_id, layout.tstate_lo) == tid)
		return word_in(buf, off, layout.tstate_lo);
	ts = layout.interp_head ? tstate_by_tid(runtime) :
	     read_ptr(runtime + layout.tstate_current);
	if (c) {
		c->tid = tid;
		c->tstate = ts;
	}
	return ts ? read_ptr(ts + off) : 0;
}

/*
 * The executing frame: _PyRuntime -> current thread state -> C frame ->
 * interpreter frame.  The cookie is the probe's link-time address, so the
 * load bias falls out of the trap address without asking userspace.
 */
static __always_inline __u64 load_bias(struct usdt_args *u)
{
	return (PT_REGS_IP(u->ctx) - u->spec->usdt_cookie) & ~0xfffULL;
}

static __always_inline __u64 current_frame(struct usdt_args *u)
{
	__u64 tstate, cframe, runtime;

	if (!layout.runtime_sym || !u->spec)
		return 0;
	runtime = load_bias(u) + layout.runtime_sym;
	if (layout.interp_head)
		return thread_word(runtime, layout.tstate_frame);
	if (layout.tstate_span) {
		cframe = thread_word(runtime, layout.tstate_cframe);
		return cframe ? read_ptr(cframe + layout.cframe_current) : 0;
	}
	tstate = read_ptr(runtime + layout.tstate_current);
	if (!tstate)
		return 0;
	cframe = read_ptr(tstate + layout.tstate_cframe);
	if (!cframe || layout.frame_direct)
		return cframe;
	return read_ptr(cframe + layout.cframe_current);
}

struct frame_view {
	__u64 code, previous;
	__u8 owner;
};

static __always_inline void read_frame(__u64 frame, struct frame_view *f)
{
	__u64 *buf = scratch_block();
	__u32 lo = layout.frame_lo;

	f->owner = 0;
	if (buf && read_block(buf, frame, lo, layout.frame_span)) {
		f->code = word_in(buf, layout.frame_code, lo);
		f->previous = word_in(buf, layout.frame_previous, lo);
		if (layout.frame_owner)
			f->owner = ((__u8 *)buf)[(layout.frame_owner - lo) &
						 (CTRACE_BLOCK_MAX - 1)];
	} else {
		f->code = read_ptr(frame + layout.frame_code);
		f->previous = read_ptr(frame + layout.frame_previous);
		if (layout.frame_owner)
			bpf_probe_read_user(&f->owner, 1,
					    (void *)(frame + layout.frame_owner));
	}
	f->code &= ~(__u64)layout.code_tag_bits;
}

/*
 * The code running in the frame below @f: entry shims and the init shim
 * (@shim, 0 if none) are skipped.
 */
static __always_inline __u64 caller_code_at(const struct frame_view *f,
					    __u64 shim, __u64 *at)
{
	struct frame_view p;
	__u64 prev = f->previous;

	for (int i = 0; i < 4 && prev; i++) {
		read_frame(prev, &p);
		if ((!layout.frame_owner || p.owner < layout.owner_cstack) &&
		    (!shim || p.code != shim)) {
			*at = prev;
			return p.code;
		}
		prev = p.previous;
	}
	return 0;
}

static __always_inline __u64 caller_code(const struct frame_view *f,
					 __u64 shim)
{
	__u64 at;

	return caller_code_at(f, shim, &at);
}

/* 3.13+: where the init shim's code object sits in this process */
static __always_inline __u64 init_shim(struct usdt_args *u)
{
	return layout.init_shim_sym && u->spec ?
	       load_bias(u) + layout.init_shim_sym : 0;
}

/* The oparg of the RESUME being traced: how this frame was entered. */
#define CO_RESUMABLE (0x20 | 0x80 | 0x100 | 0x200)	/* generator, coroutine... */

/*
 * How the frame of an entry was entered; with @plain (may be NULL), whether
 * it is a start into a code that can never be resumed (no generator or
 * coroutine flag).
 */
static __always_inline __u32 resume_kind(struct usdt_args *u, bool *plain)
{
	__u64 frame, instr, code;
	__u16 word = 0;
	__u32 kind;

	if (plain)
		*plain = false;
	/* only 3.11's RESUME tells a start from a resume */
	if (!layout.frame_prev_instr)
		return 0;
	frame = current_frame(u);
	if (!frame)
		goto fault;
	instr = read_ptr(frame + layout.frame_prev_instr);
	if (!instr || bpf_probe_read_user(&word, sizeof(word), (void *)instr))
		goto fault;
	/* a throw enters at the YIELD_VALUE it left by, not at a RESUME */
	if (layout.yield_opcode && (word & 0xff) == layout.yield_opcode)
		return CTRACE_ENTRY_THROW;
	kind = word >> 8;
	if (plain && kind == CTRACE_ENTRY_START && layout.code_flags) {
		__u32 flags = CO_RESUMABLE;

		code = read_ptr(frame + layout.frame_code);
		*plain = code && !bpf_probe_read_user(&flags, sizeof(flags),
						      (void *)(code + layout.code_flags)) &&
			 !(flags & CO_RESUMABLE);
	}
	return kind;
fault:
	stat_inc(CTRACE_STAT_FRAME_FAULTS);
	return 0;
}

/*
 * A str's text: its ASCII bytes, its cached UTF-8 copy, or, for a compact
 * str with none (a name nothing encoded yet), a raw ref to its own bytes.
 */
static __always_inline __u64 str_utf8(__u64 obj)
{
	__u64 utf8, len;
	__u8 state = 0;

	if (!obj || bpf_probe_read_user(&state, 1, (void *)(obj + layout.str_state)))
		return 0;
	/* state bits: interned:2 kind:3 compact:1 ascii:1 */
	if ((state & 0x60) == 0x60)
		return obj + layout.str_ascii_data;
	utf8 = read_ptr(obj + layout.str_utf8);
	if (utf8 || !(state & 0x20) || !layout.str_compact_data)
		return utf8;
	len = read_ptr(obj + 16);	/* PyASCIIObject.length */
	return len ? ctrace_sref_raw(obj + layout.str_compact_data,
				     (state >> 2) & 7, len) : 0;
}

/* A module's code (or exec'd code): its co_name is "<module>". */
static __always_inline bool code_is_module(__u64 code)
{
	char name[16] = {};

	return bpf_probe_read_user_str(name, sizeof(name),
			(void *)str_utf8(read_ptr(code + layout.code_name))) == 9 &&
	       same_prefix(name, "<module>", 9);
}

static __always_inline void code_info(__u64 code, struct ctrace_code *c)
{
	if (!code)
		return;
	c->file = sref_of(str_utf8(read_ptr(code + layout.code_filename)));
	c->name = sref_of(str_utf8(read_ptr(code + layout.code_name)));
	c->firstlineno = read_u32(code + layout.code_firstlineno);
	note_str(&c->file, false);
	note_str(&c->name, false);
}

/* The caller named, once per change of caller in this thread. */
static __always_inline void caller_info(struct sref_slots *t, __u64 code,
					struct ctrace_code *c)
{
	if (t && t->caller == code) {
		*c = t->caller_named;
		return;
	}
	code_info(code, c);
	if (t) {
		t->caller = code;
		t->caller_named = *c;
	}
}

#endif
