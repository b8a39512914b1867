// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * trace's Class.name, from the live objects, for -l and -T: the search of
 * a frame's class through its first argument's MRO.  A unit of its own,
 * linked into ctrace.bpf.o by bpftool gen object; ctrace.bpf.c calls
 * frame_class() (class.bpf.h) once per new code.  Every function here is
 * global, so the verifier checks each once, and they take scalars only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ctrace.h"
#include "reads.bpf.h"
#include "class.bpf.h"

/* ctrace.bpf.c's, set by userspace before load */
extern const volatile struct ctrace_layout layout;

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
	/*
	 * Not in its first argument's MRO: an unbound call with another
	 * object, or the argument rebound (self = None) before the return we
	 * see, where trace saw it at the call.  The source decides.
	 */
	if (w.found <= 0)
		return CLASS_UNKNOWN;
	if (!only_holder(&w, frame, n, bias))
		return CLASS_NONE;
	return read_ptr(read_ptr(mro + layout.tuple_items + w.at * 8) +
			layout.type_name) ?: CLASS_UNKNOWN;
}

