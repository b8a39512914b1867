// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "target/pyversion.h"

/* 3.15's _Py_DebugOffsets, counted in u64 words from its cookie. */
static const struct debug_index debug_315 = {
	.interp_head = 5,	/* runtime_state.interpreters_head */
	.interp_threads = 9,	/* interpreter_state.threads_head */
	.tstate_next = 24,
	.tstate_frame = 26,	/* thread_state.current_frame */
	.tstate_native_id = 31,	/* after base_frame, last_profiled_frame, ... */
	.frame_previous = 40,
	.frame_code = 41,	/* interpreter_frame.executable */
	.frame_owner = 44,
	.code_filename = 48,
	.code_name = 49,
	.code_firstlineno = 52,
	.frame_locals = 43,	/* interpreter_frame.localsplus */
	.code_argcount = 53,
};

/* 3.11's offsets, from Include/internal; tests/unit/test_layout.c checks them */
static const struct live_path_layout live_311 = {
	.interp_head = 40,	/* _PyRuntimeState.interpreters.head */
	.sysdict = 904,
	.dict_keys = 32,	/* PyDictObject.ma_keys */
	.keys_log2_index_bytes = 9,
	.keys_kind = 10,	/* 0: general entries, else str-keyed ones */
	.keys_nentries = 24,
	.keys_indices = 32,
	.entry_size = 16,	/* PyDictUnicodeEntry: key, value */
	.list_size = 16,
	.list_items = 24,
	.str_length = 16,
	.str_state = 32,
	.str_data = 48,
};

/*
 * Py_AddPendingCall's queue, from each version's Include/internal headers
 * on x86-64 (release builds: pyenv's and Debian's agree);
 * tests/pending_layout.c checks them against pyenv's headers.
 */
static const struct pending_layout pending_38 = {
	.queue = 600,		/* _PyRuntimeState.ceval.pending */
	.lock = 8, .first = 536, .last = 540, .ring = 32,
};

static const struct pending_layout pending_39 = {
	.interp_main = 40,	/* _PyRuntimeState.interpreters.main */
	.queue = 80,		/* PyInterpreterState.ceval.pending */
	.lock = 0, .first = 528, .last = 532, .ring = 32,
};

static const struct pending_layout pending_311 = {
	.interp_main = 48,
	.queue = 112,
	.lock = 0, .first = 528, .last = 532, .ring = 32,
};

/* 3.12 and 3.13: the main thread's own queue, the one it takes */
static const struct pending_layout pending_312 = {
	.queue = 2016,		/* _PyRuntimeState.ceval.pending_mainthread */
	.lock = 8, .first = 536, .last = 540, .ring = 32,
};

/*
 * 3.13+: a PyMutex's queue, at .queue in _PyRuntime when it has the
 * queue's shape there (handling_thread, mutex, npending, max, which is
 * MAXPENDINGCALLS_MAIN, maxloop, which is 0, 300 calls of 24 bytes, the
 * ring's two ends); else found by that shape, in the size its
 * _Py_DebugOffsets give.  3.14's and 3.15's places are Debian sid's.
 */
#define PENDING_MUTEX(at) {						\
	.queue = (at), .lock = 8, .mutex = true,			\
	.npending = 12, .max = 16, .max_value = 32, .maxloop = 20,	\
	.first = 7224, .last = 7228, .ring = 300,			\
}
static const struct pending_layout pending_313 = PENDING_MUTEX(2640);
static const struct pending_layout pending_314 = PENDING_MUTEX(2848);
static const struct pending_layout pending_315 = PENDING_MUTEX(2976);

/*
 * Offsets from CPython 3.11's Include/internal headers on x86-64;
 * tests/unit/test_layout.c checks them against the installed headers.
 */
static const struct py_flavor flavors[] = {
	{
		.major = 3, .minor = 11,
		.layout = {
			.tstate_current = 576,	/* _PyRuntimeState.gilstate.tstate_current */
			.tstate_cframe = 56,
			.cframe_current = 8,
			.tstate_native_id = 160,
			.frame_code = 32,
			.frame_previous = 48,
			.frame_prev_instr = 56,
			.yield_opcode = 86,
			.code_filename = 112,
			.code_name = 120,
			.code_qualname = 128,
			.code_firstlineno = 72,
			.str_state = 32,
			.str_ascii_data = 48,
			.str_utf8 = 56,
			.str_compact_data = 72,	/* + utf8_length, utf8, wstr_length */
			.frame_locals = 72,
			.frame_func = 0,
			.frame_has_func = 1,
			.code_argcount = 56,
			.code_kwonly = 64,
			.code_flags = 48,
			.frame_globals = 8,
			.func_code = 48,
			.type_name = 24,
			.type_dict = 264,
			.type_mro = 344,
			.type_subclasses = 360,
			.tuple_items = 24,
		},
		.entry_needs_line = true,
		.repair_first_line = true,
		.repair_send_edge = true,
		.live_path = &live_311,
		.pending = &pending_311,
	},
	{
		/*
		 * 3.9: every probe fires on its own and the line probe agrees
		 * with settrace.  Offsets from Debian 11's libpython3.9-dev.
		 */
		.major = 3, .minor = 9,
		.layout = {
			.tstate_current = 568,
			.tstate_cframe = 24,	/* PyThreadState.frame */
			.frame_direct = 1,
			.frame_code = 32,	/* PyFrameObject.f_code */
			.frame_previous = 24,	/* PyFrameObject.f_back */
			.code_filename = 104,
			.code_name = 112,
			.code_firstlineno = 40,
			.str_state = 32,
			.str_ascii_data = 48,
			.str_utf8 = 56,
			.str_compact_data = 72,	/* + utf8_length, utf8, wstr_length */
			/* PyFrameObject.f_localsplus, after 20 blocks */
			.frame_locals = 360,
			.code_argcount = 16,
			.code_kwonly = 24,
			.code_flags = 36,
			.frame_globals = 48,
			.func_code = 16,
			.type_name = 24,
			.type_dict = 264,
			.type_mro = 344,
			.type_subclasses = 360,
			.tuple_items = 24,
			.dict_keys_sized = 1,
		},
		.pyc_tag = "cpython-39",
		.pyc_magic = 3425,
		.pending = &pending_39,
	},
	{
		/*
		 * 3.8, 3.10, 3.12-3.14: the collector counts here (settrace,
		 * or sys.monitoring from 3.12: no line or function probes),
		 * and it needs no layout.
		 */
		.major = 3, .minor = 8,
		.pyc_tag = "cpython-38",
		.pyc_magic = 3413,
		.pending = &pending_38,
	},
	{
		.major = 3, .minor = 10,
		.pyc_tag = "cpython-310",
		.pyc_magic = 3439,
		.pending = &pending_39,
	},
	{
		.major = 3, .minor = 12,
		.pending = &pending_312,
	},
	{
		.major = 3, .minor = 13,
		.pending = &pending_313,
	},
	{
		.major = 3, .minor = 14,
		.pending = &pending_314,	/* --delivery=ptrace */
	},
	{
		/*
		 * 3.15: function__entry and function__return are back, line is
		 * not.  Strings lost wstr in 3.12: data right after state.
		 * Frames are walked with the binary's own _Py_DebugOffsets.
		 */
		.major = 3, .minor = 15,
		.layout = {
			.str_state = 32,
			.str_ascii_data = 40,
			.str_utf8 = 48,
			.str_compact_data = 56,	/* + utf8_length, utf8 */
			/* FRAME_OWNED_BY_INTERPRETER and _CSTACK: entry shims */
			.owner_cstack = 3,
			.code_tag_bits = 7,
			/* _PyInterpreterFrame.f_funcobj, a tagged reference */
			.frame_func = 16,
			.frame_has_func = 1,
			.frame_globals = 24,
			.func_code = 48,
			.type_name = 24,
			.type_dict = 264,
			.type_mro = 344,
			.type_subclasses = 360,
			.tuple_items = 32,	/* after the cached hash (3.14) */
		},
		.debug = &debug_315,
		.pending = &pending_315,
	},
};

void py_stdlib(const struct py_flavor *fl, char *buf, size_t len)
{
	if (fl)
		snprintf(buf, len, "/usr/lib/python%d.%d", fl->major, fl->minor);
	else
		snprintf(buf, len, "/usr/lib");
}

/* The smallest block holding @n fields (offset, size), if it is small. */
static void block_of(const uint32_t (*f)[2], int n, uint32_t *lo,
		     uint32_t *span)
{
	uint32_t a = UINT32_MAX, b = 0;

	for (int i = 0; i < n; i++) {
		if (f[i][0] < a)
			a = f[i][0];
		if (f[i][0] + f[i][1] > b)
			b = f[i][0] + f[i][1];
	}
	*lo = a;
	*span = b - a <= CTRACE_BLOCK_MAX ? b - a : 0;
}

static void plan_blocks(struct ctrace_layout *l)
{
	uint32_t frame[3][2] = {
		{ l->frame_code, 8 }, { l->frame_previous, 8 },
		{ l->frame_owner, 1 },
	};
	/* 3.12+ read the frame with the native id, 3.11 the C frame */
	uint32_t tstate[2][2] = {
		{ l->interp_head ? l->tstate_frame : l->tstate_cframe, 8 },
		{ l->tstate_native_id, 8 },
	};

	block_of(frame, l->frame_owner ? 3 : 2, &l->frame_lo, &l->frame_span);
	if (l->tstate_native_id)
		block_of(tstate, 2, &l->tstate_lo, &l->tstate_span);
}

int py_layout(const struct py_flavor *fl, const struct pyelf *e,
	      struct ctrace_layout *out, char *why, size_t why_len)
{
	const struct debug_index *d = fl->debug;
	const uint64_t *w = e->debug_offsets;
	uint64_t want = (uint64_t)e->major << 24 | (uint64_t)e->minor << 16;

	*out = fl->layout;
	out->runtime_sym = e->runtime_sym;
	out->init_shim_sym = e->init_shim_sym;
	out->cell_type_sym = e->type_cell;
	out->dict_type_sym = e->type_dict;
	out->func_type_sym = e->type_func;
	if (!d) {
		plan_blocks(out);
		return 0;
	}
	if (!e->has_debug_offsets || (w[1] & 0xffff0000) != want) {
		snprintf(why, why_len,
			 "'%s' has no _Py_DebugOffsets for CPython %d.%d in _PyRuntime",
			 e->path, e->major, e->minor);
		out->runtime_sym = 0;
		return -EINVAL;
	}
	out->interp_head = w[d->interp_head];
	out->interp_threads = w[d->interp_threads];
	out->tstate_next = w[d->tstate_next];
	out->tstate_frame = w[d->tstate_frame];
	out->tstate_native_id = w[d->tstate_native_id];
	out->frame_previous = w[d->frame_previous];
	out->frame_code = w[d->frame_code];
	out->frame_owner = w[d->frame_owner];
	out->code_filename = w[d->code_filename];
	out->code_name = w[d->code_name];
	out->code_firstlineno = w[d->code_firstlineno];
	out->frame_locals = w[d->frame_locals];
	out->code_argcount = w[d->code_argcount];
	/*
	 * co_flags, co_argcount, co_posonlyargcount, co_kwonlyargcount,
	 * co_stacksize, co_firstlineno: ints in a row since 3.11.  The debug
	 * offsets name two of them; the others follow where they agree.
	 */
	if (out->code_firstlineno == out->code_argcount + 16) {
		out->code_flags = out->code_argcount - 4;
		out->code_kwonly = out->code_argcount + 8;
	}
	plan_blocks(out);
	return 0;
}

int py_explain_missing(const struct pyelf *e, int probe, const char *mode,
		       char *why, size_t why_len)
{
	const char *lib = strrchr(e->path, '/');
	bool others = false;

	lib = lib ? lib + 1 : e->path;
	for (int i = PROBE_GC_START; i < PROBE_NR; i++)
		others |= e->has_probe[i];
	if (e->major == 3 && e->minor >= 12 && e->minor <= 14 &&
	    !e->has_probe[PROBE_ENTRY] && !e->has_probe[PROBE_RETURN] &&
	    !e->has_probe[PROBE_LINE])
		return snprintf(why, why_len,
				"%s needs python:%s, but CPython %d.%d ('%s') has no function__entry, function__return or line probes: CPython removed them in 3.12 (PEP 669); it still offers %s; --backend=monitoring counts there with a collector inside the target",
				mode, probe_names[probe], e->major, e->minor, lib,
				others ? "the gc, import and audit probes: try --gc, --imports or --audit" :
					 "no probes at all");
	if (!others && !e->has_probe[PROBE_ENTRY] && !e->has_probe[PROBE_RETURN] &&
	    !e->has_probe[PROBE_LINE])
		return snprintf(why, why_len,
				"'%s' was built without --with-dtrace: it has no python:line, python:function__entry or python:function__return probes",
				e->path);
	if (probe == PROBE_LINE && e->major == 3 && e->minor >= 15)
		return snprintf(why, why_len,
				"%s needs the python:line probe, which CPython %d.%d ('%s') does not have: 3.15 restored only function__entry and function__return",
				mode, e->major, e->minor, lib);
	return snprintf(why, why_len,
			"%s needs the python:%s probe, which '%s' (CPython %d.%d) does not have",
			mode, probe_names[probe], e->path, e->major, e->minor);
}

static bool at_least(int major, int minor, int want_major, int want_minor)
{
	return major > want_major || (major == want_major && minor >= want_minor);
}

bool py_has_remote_debug(const struct pyelf *e)
{
	return at_least(e->major, e->minor, 3, 14);
}

bool py_has_collector(const struct pyelf *e)
{
	return e->major == 3 && at_least(e->major, e->minor, 3, 8);
}

bool py_usdt_layout(const struct py_flavor *fl)
{
	return fl && (fl->layout.code_filename || fl->debug);
}

bool py_trace_spaced(const struct py_flavor *fl)
{
	return fl && at_least(fl->major, fl->minor, 3, 13);
}

bool py_percent_tenths(const struct py_flavor *fl)
{
	return fl && at_least(fl->major, fl->minor, 3, 14);
}

const struct py_flavor *py_flavor_for(const struct pyelf *e, char *why,
				      size_t why_len)
{
	for (size_t i = 0; i < sizeof(flavors) / sizeof(flavors[0]); i++)
		if (flavors[i].major == e->major && flavors[i].minor == e->minor)
			return &flavors[i];
	if (e->major)
		snprintf(why, why_len,
			 "CPython %d.%d is not supported (supported: 3.8 to 3.15)",
			 e->major, e->minor);
	else
		snprintf(why, why_len,
			 "cannot tell the CPython version of '%s'", e->path);
	return NULL;
}

void py_objects(const struct pyelf *e, struct ctrace_objs *o)
{
	bool since_312 = at_least(e->major, e->minor, 3, 12);

	memset(o, 0, sizeof(*o));
	o->type_str = e->type_str;
	o->type_int = e->type_int;
	o->type_bytes = e->type_bytes;
	o->str_state = 32;	/* PyASCIIObject.state, after length and hash */
	/* 3.12 dropped PyASCIIObject.wstr: the data follows state directly */
	o->str_ascii_data = since_312 ? 40 : 48;
	/* 3.12: PyLongObject's ob_size became lv_tag */
	o->long_tagged = since_312;
	o->bytes_data = 32;	/* PyBytesObject.ob_sval, after ob_shash */
	/* 3.14: PyTupleObject.ob_hash before ob_item */
	o->tuple_items = at_least(e->major, e->minor, 3, 14) ? 32 : 24;
}
