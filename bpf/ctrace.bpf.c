// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counting side of ctrace-bpf.  Every handler keys its map by what the probe
 * hands over (string pointers and a line number) so the hot path never reads
 * a string; a string is read once, when a new key first shows its pointer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "ctrace.h"
#include "wanted.bpf.h"

const volatile __u32 mode = 0;
const volatile struct ctrace_layout layout = {};
/* Set by userspace at the end: the maps hold still while it reads them. */
volatile __u32 stopped = 0;
/*
 * Launch mode starts where trace starts, at the main module's first
 * bytecode: until then the programs count nothing.  CTRACE_MAIN_MODULE:
 * python -m, whose main code runpy's _run_code execs later.
 */
volatile __u32 before_main = 0;
/*
 * -m: runpy's frames below the main module's were running before counting
 * started, so trace never sees them: counting ends with the main module.
 * module_tag is the identity tag of every "<module>" string.
 */
volatile __u32 main_via_runpy = 0;
const volatile __u64 module_tag = 0;
/* 3.13+: the tag of "__init__", the file name of the init shim's code */
const volatile __u64 shim_file_tag = 0;
/* The target's process id, and whether it has exec'd a new program. */
const volatile __u32 target_tgid = 0;
volatile __u32 exec_seen = 0;

/*
 * -a: counting stops per process, at its Py_FinalizeEx, as trace's does at
 * the end of the main module.  A process's mark goes when it exits, so
 * that its PID, reused, counts again.
 */
const volatile __u32 finalize_each = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} finalizing SEC(".maps");

/*
 * How many code objects the target has freed, counted at their type's
 * tp_dealloc (gen_armed once that uprobe is on).  The strings a probe
 * hands over are its code's file and function names, held alive by that
 * code: while no code object has died since a string was named, nothing
 * can have freed it, so the same address is the same string and needs no
 * reading.  A slot named under an older count is named again.
 */
volatile __u64 code_gen = 0;
volatile __u32 gen_armed = 0;

static __always_inline bool finalizing_here(void)
{
	__u32 tgid;

	/* -p: pruned at load, not even the helper call is left */
	if (!finalize_each)
		return false;
	tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&finalizing, &tgid);
}

/*
 * Line counts live in two arrays that userspace maps into its memory: the
 * n-th key seen and its count.  The hash map only finds a key's place, and
 * is never read back: copying a million-bucket hash map out takes the
 * kernel ~0.4 s, reading the arrays takes milliseconds.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_LINE_KEYS);
	__type(key, struct ctrace_line_key);
	__type(value, __u32);
} line_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTRACE_LINE_KEYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct ctrace_line_key);
} line_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTRACE_LINE_KEYS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} line_hits SEC(".maps");

/* The next free place in line_keys and line_hits. */
__u32 line_next = 0;

/* Probe hits keyed by their arguments: entries (with RESUME kind) or returns. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_FUNC_KEYS);
	__type(key, struct ctrace_func_key);
	__type(value, __u64);
} func_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_CALL_KEYS);
	__type(key, struct ctrace_call_key);
	__type(value, __u64);
} call_counts SEC(".maps");


/* Each code's class, decided once, at its first return: see frame_class(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_FUNC_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctrace_code);
	__type(value, struct ctrace_class);
} code_class SEC(".maps");

/* New strings are rare, so this map is allocated as it grows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CTRACE_STR_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ctrace_sref);
	__type(value, struct ctrace_str);
} strs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/*
 * Counts not yet added to the hash maps: a few slots per CPU, so a tight
 * loop that repeats the same keys adds to a per-CPU slot instead of doing a
 * hash lookup and an atomic add per event.  A slot is added to its map when
 * another key takes it; userspace adds what is left in them at the end.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ctrace_line_slot);
} line_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ctrace_func_slot);
} func_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTRACE_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ctrace_call_slot);
} call_cache SEC(".maps");

/* Scratch for string reads: too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctrace_str_event);
} scratch SEC(".maps");

/* The last string this CPU streamed, to skip the strs lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctrace_sref);
} last_str SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CTRACE_RINGBUF_BYTES);
} events SEC(".maps");

/*
 * USDT arguments without libbpf's bpf_usdt_arg(): that fetches a register
 * through bpf_probe_read_kernel(), a helper call of ~50 ns, twice the rest
 * of a line event.  The saved registers are the program's own context, so
 * a register argument is a plain load from it; other kinds (constants,
 * memory operands) still go through libbpf.
 */
struct usdt_args {
	struct __bpf_usdt_spec *spec;
	struct pt_regs *ctx;
};

static __always_inline bool usdt_args_init(struct usdt_args *u,
					   struct pt_regs *ctx)
{
	int id = __bpf_usdt_spec_id(ctx);

	u->ctx = ctx;
	u->spec = id < 0 ? NULL : bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
	return u->spec;
}

/*
 * The load is spelled out so that clang cannot fold the cases into one load
 * at a computed offset, which the verifier refuses for a context pointer.
 */
#define REG_CASE(r)							\
	case __builtin_offsetof(struct pt_regs, r):			\
		asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(*v)	\
			     : "r"(ctx),				\
			       "i"(__builtin_offsetof(struct pt_regs, r))); \
		return true

static __always_inline bool saved_reg(struct pt_regs *ctx, short off, __u64 *v)
{
	switch (off) {
	REG_CASE(ax); REG_CASE(bx); REG_CASE(cx); REG_CASE(dx);
	REG_CASE(si); REG_CASE(di); REG_CASE(bp); REG_CASE(sp);
	REG_CASE(r8); REG_CASE(r9); REG_CASE(r10); REG_CASE(r11);
	REG_CASE(r12); REG_CASE(r13); REG_CASE(r14); REG_CASE(r15);
	}
	return false;
}

static __always_inline long usdt_arg(struct usdt_args *u, __u32 n)
{
	struct __bpf_usdt_arg_spec *a;
	long slow = 0;
	__u64 v;

	if (!u->spec || n >= BPF_USDT_MAX_ARG_CNT)
		return 0;
	a = &u->spec->args[n];
	if (a->arg_type != BPF_USDT_ARG_REG ||
	    !saved_reg(u->ctx, a->reg_off, &v)) {
		bpf_usdt_arg(u->ctx, n, &slow);
		return slow;
	}
	v <<= a->arg_bitshift;
	if (a->arg_signed)
		return (long)v >> a->arg_bitshift;
	return v >> a->arg_bitshift;
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;
}

static __always_inline void stat_inc(__u32 idx)
{
	stat_add(idx, 1);
}

static __always_inline __u64 read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/* Scratch for fingerprinting a string: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctrace_str);
} fp_scratch SEC(".maps");

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
	n = bpf_probe_read_user_str(b->s, sizeof(b->s), (void *)ptr);
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
	n = bpf_probe_read_user_str(ev->s, sizeof(ev->s), (void *)ref->ptr);
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

static __always_inline __u32 read_u32(__u64 addr)
{
	__u32 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline __u64 str_utf8(__u64 obj)
{
	__u8 state = 0;

	if (!obj || bpf_probe_read_user(&state, 1, (void *)(obj + layout.str_state)))
		return 0;
	/* state bits: interned:2 kind:3 compact:1 ascii:1 */
	if ((state & 0x60) == 0x60)
		return obj + layout.str_ascii_data;
	return read_ptr(obj + layout.str_utf8);
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

/* ---- trace's Class.name, from the live objects ---- */

#define MRO_MAX 16
#define DICT_WORDS 256	/* one read of a dict's entries: 2 KiB */
#define DICT_READS 8	/* dicts past 1024 str-keyed entries: not looked at */

struct dict_block {
	__u64 w[DICT_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dict_block);
} dict_scratch SEC(".maps");

/* One read of a dict's entries, searched by bpf_loop(): the verifier checks
 * the callback once instead of every iteration. */
struct scan_ctx {
	__u64 entries, n, per, esz, voff, func, code;
	/*
	 * A second look, once a holder is known: dict values are collected
	 * into sub_dicts, and another function of the same code is a twin.
	 */
	__u64 dict_type, func_type;
	__u64 hit;	/* the function found */
	int found, twin, fault;
	int subclasses;	/* values are weak references to subclasses */
};

/* here, not on the stack (see block_scratch): dict_holds() never nests */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scan_ctx);
} scan_scratch SEC(".maps");

#define SUB_DICTS 32

/* Dicts that are class attributes (a dispatch table): they may hold it too. */
struct sub_dicts {
	__u64 n;
	__u64 d[SUB_DICTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sub_dicts);
} sub_dicts SEC(".maps");

#define VAL_MATCH 1	/* the function searched for */
#define VAL_TWIN 2	/* another function of the same code */
#define VAL_DICT 3	/* a dict, which may hold it too */

/* What one dict value is to the search.  Global: checked once. */
__noinline int judge_value(__u64 v, __u64 func, __u64 code, __u64 dict_type,
			   __u64 func_type)
{
	__u64 t;

	if (func ? v == func : read_ptr(v + layout.func_code) == code)
		return VAL_MATCH;
	if (!dict_type)
		return 0;
	t = read_ptr(v + 8);
	if (t == dict_type)
		return VAL_DICT;
	if (func && t == func_type && read_ptr(v + layout.func_code) == code)
		return VAL_TWIN;
	return 0;
}

/*
 * One entry of a dict; a block of entries is read when its first is met.
 * Run by bpf_loop(), so the verifier checks this body once: few branches,
 * the judging in a global function.
 */
static long scan_entry(__u32 e, void *data)
{
	struct scan_ctx *c;
	struct dict_block *b;
	struct sub_dicts *s;
	__u32 zero = 0;
	__u64 v, i;
	int j;

	b = bpf_map_lookup_elem(&dict_scratch, &zero);
	c = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!b || !c || e >= c->n || !c->per)
		return 1;
	i = e % c->per;
	if (!i) {
		__u64 cnt = c->n - e < c->per ? c->n - e : c->per;
		__u64 bytes = cnt * c->esz * 8;

		if (!bytes || bytes > sizeof(b->w) ||
		    bpf_probe_read_user(b->w, bytes,
					(void *)(c->entries + e * c->esz * 8))) {
			c->fault = 1;
			return 1;
		}
	}
	v = b->w[(i * c->esz + c->voff) & (DICT_WORDS - 1)];
	if (!v)
		return 0;	/* a deleted entry */
	if (c->subclasses) {
		/* PyWeakReference.wr_object, then its dict */
		v = read_ptr(read_ptr(v + 16) + layout.type_dict);
		j = VAL_DICT;
	} else {
		j = judge_value(v, c->func, c->code, c->dict_type, c->func_type);
	}
	if (j == VAL_MATCH) {
		/* 3.9, by code: a second function of it is a twin (the same
		 * function under a second name is an alias) */
		if (c->found && !c->func && v != c->hit)
			c->twin = 1;
		c->found = 1;
		c->hit = v;
		return c->dict_type ? 0 : 1;
	}
	if (j == VAL_TWIN)
		c->twin = 1;
	if (j == VAL_DICT && v) {
		s = bpf_map_lookup_elem(&sub_dicts, &zero);
		if (s && s->n < SUB_DICTS)
			s->d[s->n++ & (SUB_DICTS - 1)] = v;
	}
	return 0;
}

/*
 * Does the class dict @dict hold the function @func, or, where frames do
 * not say their function (3.9), a function of @code?  (Any key: aliases,
 * wrappers and type()'s dicts hold functions under other names.)  A global
 * function: the verifier checks it once, not at every call site.
 * 2: the dict is too big to tell; 3: another function of the same code
 * is there too (with @dict_type, which also collects the dicts it holds).
 * With neither @func nor @code, @dict is a type's tp_subclasses: the
 * subclasses' dicts are collected.
 */
__noinline int dict_holds(__u64 dict, __u64 func, __u64 code, __u64 dict_type,
			  __u64 func_type)
{
	struct scan_ctx *c;
	__u32 zero = 0;
	__u64 keys, n;

	/* ma_keys at 32 and ma_values at 40, from 3.9 to 3.15 */
	if (!dict || read_ptr(dict + 40))
		return 0;	/* a split table: an instance's dict, not a class's */
	keys = read_ptr(dict + 32);
	c = bpf_map_lookup_elem(&scan_scratch, &zero);
	if (!keys || !c)
		return 0;
	*c = (struct scan_ctx){ .func = func, .code = code,
				.dict_type = dict_type, .func_type = func_type,
				.subclasses = !func && !code };
	if (layout.dict_keys_sized) {
		__u64 size = read_ptr(keys + 8);

		n = read_ptr(keys + 32);
		c->entries = keys + 40 + size * (size <= 0xff ? 1 : size <= 0xffff ? 2 :
						size <= 0xffffffffULL ? 4 : 8);
		c->esz = 3, c->voff = 2;	/* hash, key, value */
	} else {
		__u8 h[4] = {};

		/* dk_log2_size, dk_log2_index_bytes, dk_kind */
		bpf_probe_read_user(h, sizeof(h), (void *)(keys + 8));
		n = read_ptr(keys + 24);
		c->entries = keys + 32 + (1ULL << (h[1] & 31));
		if (h[2])
			c->esz = 2, c->voff = 1;	/* key, value */
		else
			c->esz = 3, c->voff = 2;
	}
	c->per = DICT_WORDS / c->esz;
	c->n = n < DICT_READS * c->per ? n : DICT_READS * c->per;
	bpf_loop(c->n, scan_entry, NULL, 0);
	if (c->fault)
		return 2;	/* cannot tell */
	if (c->twin)
		return 3;
	if (c->found)
		return 1;
	return n > c->n ? 2 : 0;
}

/*
 * A walk along an MRO, its loops run by bpf_loop(): the verifier checks
 * each callback once, where a plain loop is checked once per iteration.
 */
struct mro_walk {
	__u64 mro, func, code, dict_type, func_type;
	__u32 at;	/* the class whose dict holds the function */
	int found, shared;
};

static long find_holder(__u32 i, void *data)
{
	struct mro_walk *w = data;
	__u64 cls = read_ptr(w->mro + layout.tuple_items + i * 8);
	int held;

	if (!cls) {
		w->found = -1;
		return 1;
	}
	held = dict_holds(read_ptr(cls + layout.type_dict), w->func, w->code,
			  0, 0);
	if (held == 1) {
		w->found = 1;
		w->at = i;
	} else if (held) {
		w->found = -1;	/* cannot tell */
	}
	return held ? 1 : 0;
}

static long other_holder(__u32 i, void *data)
{
	struct mro_walk *w = data;
	__u64 cls = read_ptr(w->mro + layout.tuple_items + i * 8);
	int held;

	if (!cls)
		return 0;
	held = dict_holds(read_ptr(cls + layout.type_dict), w->func, w->code,
			  w->dict_type, w->func_type);
	w->shared = held == 3 || (held == 1 && i != w->at);
	return w->shared;
}

static long sub_holder(__u32 i, void *data)
{
	struct mro_walk *w = data;
	struct sub_dicts *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&sub_dicts, &zero);
	if (!s || i >= s->n)
		return 1;
	w->shared = dict_holds(s->d[i & (SUB_DICTS - 1)], w->func, w->code, 0,
			       0) == 1;
	return w->shared;
}

/*
 * trace names the class only when exactly one dict holds the function:
 * one class's, and no other class's in the MRO (an alias in a subclass),
 * no module's (a function assigned into a class), no dict that is a class
 * attribute (a dispatch table), and no direct subclass's.  Dicts elsewhere
 * are not seen.
 */
static __always_inline bool only_holder(struct mro_walk *w, __u64 frame,
					__u64 n, __u64 bias)
{
	__u64 tag = ~(__u64)layout.code_tag_bits;
	struct sub_dicts *s;
	__u32 zero = 0;

	if (layout.frame_globals &&
	    dict_holds(read_ptr(frame + layout.frame_globals) & tag, w->func,
		       w->code, 0, 0) == 1)
		return false;
	s = bpf_map_lookup_elem(&sub_dicts, &zero);
	if (!s)
		return true;
	s->n = 0;
	w->dict_type = layout.dict_type_sym ? bias + layout.dict_type_sym : 0;
	w->func_type = layout.func_type_sym ? bias + layout.func_type_sym : 0;
	bpf_loop(n, other_holder, w, 0);
	if (w->shared)
		return false;
	/* aliases in the holder's subclasses (indent = invalid_input) */
	if (layout.type_subclasses)
		dict_holds(read_ptr(read_ptr(w->mro + layout.tuple_items +
					     w->at * 8) + layout.type_subclasses),
			   0, 0, 0, 0);
	bpf_loop(SUB_DICTS, sub_holder, w, 0);
	return !w->shared;
}

#define CO_VARARGS 0x4
#define CLASS_UNKNOWN 0	/* the frame cannot tell: the source decides */
#define CLASS_NONE 1	/* no class's dict holds it: trace's plain name */

/*
 * trace decides at a code's first call: Class.name when one class's dict
 * holds the function (gc.get_referrers), else the plain name.  A method's
 * class is in the MRO of its first argument's type, so that MRO's dicts
 * are searched for the function; super() calls and mixins are found the
 * same way.  Returns the class's tp_name, or CLASS_UNKNOWN/CLASS_NONE.
 */
__noinline __u64 frame_class(__u64 frame, __u64 bias)
{
	__u64 tag = ~(__u64)layout.code_tag_bits;
	__u64 code, func = 0, arg, type, mro, n;
	struct mro_walk w = {};
	int argc = 0;

	code = read_ptr(frame + layout.frame_code) & tag;
	if (!code)
		return CLASS_UNKNOWN;
	bpf_probe_read_user(&argc, sizeof(argc),
			    (void *)(code + layout.code_argcount));
	if (argc > 0) {
		arg = read_ptr(frame + layout.frame_locals) & tag;
	} else if (layout.code_flags &&
		   (read_u32(code + layout.code_flags) & CO_VARARGS)) {
		/* a decorator's wrapper, (*args, **kw): the first of args */
		__u64 args = read_ptr(frame + layout.frame_locals + 8 *
				      (read_u32(code + layout.code_kwonly) & 0xff)) & tag;

		arg = args && read_ptr(args + 16) > 0 ?
		      read_ptr(args + layout.tuple_items) : 0;
	} else {
		return CLASS_UNKNOWN;	/* no first argument to go by */
	}
	if (!arg)
		return CLASS_UNKNOWN;	/* deleted, or 3.9's copy in a cell */
	type = read_ptr(arg + 8);
	/* a first argument a closure captures sits in a cell (3.11+) */
	if (layout.cell_type_sym && type == bias + layout.cell_type_sym) {
		arg = read_ptr(arg + 16);
		if (!arg)
			return CLASS_UNKNOWN;
		type = read_ptr(arg + 8);
	}
	if (layout.frame_has_func) {
		func = read_ptr(frame + layout.frame_func) & tag;
		if (!func)
			return CLASS_UNKNOWN;
	}
	mro = type ? read_ptr(type + layout.type_mro) : 0;
	if (!mro)
		return CLASS_UNKNOWN;
	n = read_ptr(mro + 16);
	if (n > MRO_MAX)
		return CLASS_UNKNOWN;	/* a longer MRO than we look through */
	w.mro = mro;
	w.func = func;
	w.code = code;
	bpf_loop(n, find_holder, &w, 0);
	if (w.found < 0)
		return CLASS_UNKNOWN;
	if (!w.found)
		return CLASS_NONE;
	if (!only_holder(&w, frame, n, bias))
		return CLASS_NONE;
	return read_ptr(read_ptr(mro + layout.tuple_items + w.at * 8) +
			layout.type_name) ?: CLASS_UNKNOWN;
}

/* Decide @c's class from @frame, the first time @c is seen. */
static __always_inline void note_class(struct usdt_args *u, __u64 frame,
				       struct ctrace_code *c)
{
	struct ctrace_class v = {};
	__u64 tp;

	if (!layout.frame_locals || !frame || !c->name.ptr ||
	    bpf_map_lookup_elem(&code_class, c))
		return;
	tp = frame_class(frame, load_bias(u));
	if (tp == CLASS_UNKNOWN)
		return;
	if (tp != CLASS_NONE) {
		v.name = sref_of(tp);
		note_str(&v.name, false);
	}
	bpf_map_update_elem(&code_class, c, &v, BPF_NOEXIST);
}

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

static __always_inline bool same_prefix(const char *s, const char *lit,
				       int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] != lit[i])
			return false;
	return true;
}

static __always_inline bool is_run_code(__u64 code)
{
	char name[16] = {};

	if (!code ||
	    bpf_probe_read_user_str(name, sizeof(name),
				    (void *)str_utf8(read_ptr(code + layout.code_name))) != 10)
		return false;
	return same_prefix(name, "_run_code", 10);
}

/* Is the code running in the current frame runpy's _run_code? */
static __always_inline bool in_run_code(struct usdt_args *u)
{
	struct frame_view f;
	__u64 frame = current_frame(u);

	if (!frame)
		return false;
	read_frame(frame, &f);
	return is_run_code(f.code);
}

/*
 * The first event of the main module, once the interpreter has announced
 * it: any event but one of a function called from C with no Python frame
 * below it, such as the loader __main__ gets before it runs.
 */
static __always_inline bool main_started(struct usdt_args *u,
					 struct pt_regs *ctx)
{
	struct frame_view f;
	char name[16] = {};
	__u64 frame;

	if (before_main != CTRACE_MAIN_STARTING)
		return false;
	usdt_args_init(u, ctx);
	if (bpf_probe_read_user_str(name, sizeof(name),
				    (void *)usdt_arg(u, 1)) == 9 &&
	    same_prefix(name, "<module>", 9))
		goto started;
	frame = current_frame(u);
	if (!frame)
		return false;
	read_frame(frame, &f);
	if (!caller_code(&f, init_shim(u)))
		return false;
started:
	before_main = 0;
	return true;
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

	if (stopped || (before_main && !main_started(&u, ctx)))
		return 0;
	gen = code_gen;
	usdt_args_init(&u, ctx);
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

SEC("usdt")
int on_entry(struct pt_regs *ctx)
{
	struct ctrace_func_slot *slot;
	struct sref_slots *ts;
	struct usdt_args u;
	struct ctrace_func_key k = {};
	__u64 *v, file, func, gen;
	__u32 line, idx;
	bool plain;

	if (stopped || (before_main && !main_started(&u, ctx)))
		return 0;
	gen = code_gen;
	usdt_args_init(&u, ctx);
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
	k.kind = CTRACE_ENTRY_START;
	/*
	 * Telling a start from a resume reads five dependent words of the
	 * frame chain (~0.5 us here): a code that can never be resumed is read
	 * once, and its count carries the mark after.  --trace alone keeps no
	 * counts, so no mark: it reads every time.
	 */
	if (!(mode & CTRACE_COUNT_ENTRIES)) {
		k.kind = resume_kind(&u, NULL);
	} else if (!(v = bpf_map_lookup_elem(&func_counts, &k)) ||
		   !(*v & CTRACE_PLAIN_BIT)) {
		k.kind = resume_kind(&u, &plain);
		if (count_in(&func_counts, &k, CTRACE_STAT_FUNC_DROPS)) {
			note_str(&k.file, false);
			note_str(&k.func, false);
		}
		v = plain ? bpf_map_lookup_elem(&func_counts, &k) : NULL;
		if (v)
			__sync_fetch_and_or(v, CTRACE_PLAIN_BIT);
	} else {
		count_cached((char *)slot, &func_counts, &k, sizeof(k),
			     CTRACE_STAT_FUNC_DROPS, gen);
	}
	if (mode & CTRACE_STREAM_ENTRIES)
		stream(CTRACE_EV_CALL, &k.file, &k.func, line, k.kind);
	return 0;
}

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

	if (stopped || (before_main && !main_started(&u, ctx)) || !wanted() ||
	    finalizing_here())
		return 0;
	gen = code_gen;
	usdt_args_init(&u, ctx);
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
	if (main_via_runpy && k.func.tag == module_tag) {
		struct frame_view f;
		__u64 frame = current_frame(&u);

		if (frame) {
			read_frame(frame, &f);
			if (is_run_code(caller_code(&f, init_shim(&u))))
				stopped = 1;
		}
	}
	return 0;
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
	struct sref_slots *ts;
	struct usdt_args u;
	struct frame_view f;
	__u64 frame, caller, shim, gen, file, func, caller_frame = 0;
	__u32 idx;

	if (stopped || (before_main && !main_started(&u, ctx)) || !wanted() ||
	    finalizing_here())
		return 0;
	gen = code_gen;
	usdt_args_init(&u, ctx);
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
	/* the same two codes as this slot's, none freed since: the same pair */
	idx = (f.code >> 4 ^ caller >> 3) & (CTRACE_CACHE_SLOTS - 1);
	slot = bpf_map_lookup_elem(&call_cache, &idx);
	file = usdt_arg(&u, 0);
	func = usdt_arg(&u, 1);
	/*
	 * The probe's names agree with the frame's code: the frame found is
	 * the one returning (a thread that switched interpreters may have
	 * left another thread state behind).
	 */
	if (slot && slot_current((char *)slot, sizeof(k), gen) &&
	    slot->callee_code == f.code && slot->caller_code == caller &&
	    slot->k.tgid == k.tgid && slot->k.callee.file.ptr == file &&
	    slot->k.callee.name.ptr == func) {
		slot->pending++;
		k.callee.name = slot->k.callee.name;
		goto counted;
	}
	/* the probe's own arguments are the returning code's names */
	ts = thread_slots();
	k.callee.file = sref_cached(ts, file, 0);
	k.callee.name = sref_cached(ts, func, 1);
	k.callee.firstlineno = read_u32(f.code + layout.code_firstlineno);
	if (caller)
		caller_info(ts, caller, &k.caller);
	if (count_cached((char *)slot, &call_counts, &k, sizeof(k),
			 CTRACE_STAT_CALL_DROPS, gen)) {
		note_str(&k.callee.file, false);
		note_str(&k.callee.name, false);
		note_class(&u, frame, &k.callee);
		if (caller)
			note_class(&u, caller_frame, &k.caller);
	}
	if (slot) {
		slot->callee_code = f.code;
		slot->caller_code = caller;
	}
counted:
	if (main_via_runpy && k.callee.name.tag == module_tag &&
	    is_run_code(caller))
		stopped = 1;
	return 0;
}


/*
 * The interpreter announces what it runs as __main__ with an audit event
 * just before it runs it: cpython.run_file, run_command or run_stdin, with
 * no Python code in between.  For run_module, runpy runs first and execs
 * the module's code from _run_code.  Userspace detaches this probe once
 * it has fired: with its semaphore on, every audit event costs a trap.
 */
SEC("usdt")
int on_main_start(struct pt_regs *ctx)
{
	struct usdt_args u;
	char ev[24] = {};
	long n;

	if (before_main != CTRACE_MAIN_SCRIPT &&
	    before_main != CTRACE_MAIN_MODULE)
		return 0;
	usdt_args_init(&u, ctx);
	n = bpf_probe_read_user_str(ev, sizeof(ev), (void *)usdt_arg(&u, 0));
	if (before_main == CTRACE_MAIN_MODULE) {
		if (n == 5 && same_prefix(ev, "exec", 5) && in_run_code(&u)) {
			before_main = 0;
			main_via_runpy = 1;
		}
		return 0;
	}
	if (n < 13 || !same_prefix(ev, "cpython.run_", 12))
		return 0;
	if (n == 17 && same_prefix(ev + 12, "file", 5))
		before_main = CTRACE_MAIN_STARTING;
	else if ((n == 20 && same_prefix(ev + 12, "command", 8)) ||
		 (n == 18 && same_prefix(ev + 12, "stdin", 6)))
		before_main = 0;
	else if (n == 19 && same_prefix(ev + 12, "module", 7))
		before_main = CTRACE_MAIN_MODULE;
	return 0;
}

/*
 * trace stops when the main module is done, before the interpreter shuts
 * down: atexit, threading._shutdown and finalizers are not its to count.
 */
SEC("uprobe")
int on_finalize(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	if (finalize_each)
		bpf_map_update_elem(&finalizing, &tgid, &one, BPF_ANY);
	else
		stopped = 1;
	return 0;
}

/* A code object of the target is being freed: see code_gen. */
SEC("uprobe")
int on_code_dealloc(struct pt_regs *ctx)
{
	__sync_fetch_and_add(&code_gen, 1);
	return 0;
}

/*
 * -a: a process's exit (its main thread's) clears its mark.  A later
 * process under its PID may hold other strings at the same addresses
 * without a code object having died: names are read anew.
 */
SEC("raw_tp/sched_process_exit")
int on_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if ((__u32)id != tgid)
		return 0;
	if (finalize_each)
		bpf_map_delete_elem(&finalizing, &tgid);
	if (!target_tgid)
		__sync_fetch_and_add(&code_gen, 1);
	return 0;
}

/*
 * An exec replaces the program under the same PID, and the uprobes follow
 * the PID: the new image's strings would be named from the old one's.
 * Counting stops at the exec; userspace ends the trace there.  With -a,
 * every process goes on, and addresses are known by their contents anew.
 */
SEC("raw_tp/sched_process_exec")
int on_exec(void *ctx)
{
	/* -a: the new image's strings may sit where the old one's were */
	if (!target_tgid) {
		__sync_fetch_and_add(&code_gen, 1);
	} else if (bpf_get_current_pid_tgid() >> 32 == target_tgid) {
		stopped = 1;
		exec_seen = 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
