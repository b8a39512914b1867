/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one header shared by the BPF programs and userspace.  Keep it free of
 * includes: both sides bring their own __u32/__u64.
 */
#ifndef CTRACE_H
#define CTRACE_H

#define CTRACE_STR_MAX 1024
#define CTRACE_LINE_KEYS (1 << 20)
#define CTRACE_FUNC_KEYS (1 << 18)
#define CTRACE_CALL_KEYS (1 << 18)
#define CTRACE_STR_KEYS (1 << 16)
#define CTRACE_RINGBUF_BYTES (16 << 20)
#define CTRACE_CACHE_SLOTS 256	/* per CPU, a power of two */

/*
 * In func_counts' values of entries (kind START): the code can never be
 * resumed, so its next entries are starts without reading the frame.
 * Userspace masks it off.
 */
#define CTRACE_PLAIN_BIT (1ULL << 63)

/*
 * A string ref to a compact str that is not ASCII and has no UTF-8 copy
 * cached (a caller's name that nothing asked to encode): its own bytes,
 * read raw and encoded in userspace.  The ref's ptr is then the data's
 * address (user addresses fit in 48 bits), its kind (1, 2 or 4 bytes a
 * character) and its length in characters, capped.
 */
#define CTRACE_SREF_RAW (1ULL << 63)
#define CTRACE_SREF_KIND_SHIFT 61
#define CTRACE_SREF_LEN_SHIFT 48
#define CTRACE_SREF_LEN_MAX 8191
#define CTRACE_SREF_ADDR ((1ULL << 48) - 1)

static inline __u64 ctrace_sref_raw(__u64 data, __u32 kind, __u64 len)
{
	__u64 k = kind == 4 ? 3 : kind;

	if (len > CTRACE_SREF_LEN_MAX)
		len = CTRACE_SREF_LEN_MAX;
	return CTRACE_SREF_RAW | k << CTRACE_SREF_KIND_SHIFT |
	       len << CTRACE_SREF_LEN_SHIFT | (data & CTRACE_SREF_ADDR);
}

/* A raw ref's bytes a character (1, 2, 4), and its bytes, capped. */
static inline __u32 ctrace_sref_kind(__u64 ptr)
{
	__u32 k = (ptr >> CTRACE_SREF_KIND_SHIFT) & 3;

	return k == 3 ? 4 : k;
}

static inline __u32 ctrace_sref_bytes(__u64 ptr)
{
	__u64 n = ((ptr >> CTRACE_SREF_LEN_SHIFT) & CTRACE_SREF_LEN_MAX) *
		  ctrace_sref_kind(ptr);

	return n > CTRACE_STR_MAX ? CTRACE_STR_MAX : n;
}

/* Indexes into the per-CPU stats array. */
enum ctrace_stat {
	CTRACE_STAT_LINE_DROPS,
	CTRACE_STAT_FUNC_DROPS,
	CTRACE_STAT_CALL_DROPS,
	CTRACE_STAT_STR_DROPS,
	CTRACE_STAT_EVENT_DROPS,
	CTRACE_STAT_FRAME_FAULTS,
	CTRACE_STAT_NR,
};

/*
 * before_main: waiting for the interpreter to announce the main module,
 * for runpy to exec it (-m), or for its first event (a script: the loader
 * set up for __main__ runs Python code first).
 */
#define CTRACE_MAIN_SCRIPT 1
#define CTRACE_MAIN_MODULE 2
#define CTRACE_MAIN_STARTING 3

/* What the programs do; set in .rodata before load. */
enum ctrace_mode_bits {
	CTRACE_COUNT_LINES = 1 << 0,	/* line hits into line_counts */
	CTRACE_STREAM_LINES = 1 << 1,	/* --trace: line events to the ring */
	CTRACE_COUNT_ENTRIES = 1 << 2,	/* frame starts and resumes, for repairs */
	CTRACE_STREAM_ENTRIES = 1 << 3,	/* --trace: call events to the ring */
};

/*
 * Where CPython keeps what the probe arguments leave out.  Filled from the
 * version table in userspace; zero runtime_sym means "cannot walk frames".
 */
struct ctrace_layout {
	__u64 runtime_sym;	/* link-time address of _PyRuntime */
	/*
	 * 3.13+: the code object of the frame pushed to run after a class's
	 * __init__, which trace never sees (link-time address, 0 if none)
	 */
	__u64 init_shim_sym;
	__u32 tstate_current;	/* _PyRuntime -> current PyThreadState * */
	__u32 tstate_cframe;	/* PyThreadState -> _PyCFrame * */
	__u32 cframe_current;	/* _PyCFrame -> _PyInterpreterFrame * */
	__u32 frame_code;	/* _PyInterpreterFrame -> PyCodeObject * */
	__u32 frame_previous;	/* _PyInterpreterFrame -> caller frame */
	__u32 frame_prev_instr;	/* _PyInterpreterFrame -> _Py_CODEUNIT * */
	__u32 yield_opcode;	/* YIELD_VALUE: where a throw re-enters */
	__u32 code_filename;
	__u32 code_name;
	__u32 code_qualname;
	__u32 code_firstlineno;
	__u32 str_state;	/* PyASCIIObject.state */
	__u32 str_ascii_data;	/* sizeof(PyASCIIObject) */
	__u32 str_utf8;		/* PyCompactUnicodeObject.utf8 */
	__u32 str_compact_data;	/* sizeof(PyCompactUnicodeObject): 0, never raw */
	__u32 frame_direct;	/* <= 3.10: tstate_cframe is tstate->frame itself */
	/*
	 * 3.12+: no current thread state in _PyRuntime; walk the main
	 * interpreter's threads for the one whose native id is ours.
	 */
	__u32 interp_head;	/* _PyRuntime -> first PyInterpreterState */
	__u32 interp_threads;	/* PyInterpreterState -> first PyThreadState */
	__u32 tstate_next;
	__u32 tstate_native_id;
	__u32 tstate_frame;	/* PyThreadState -> current _PyInterpreterFrame */
	__u32 frame_owner;	/* _PyInterpreterFrame.owner, 0 if unused */
	__u32 owner_cstack;	/* owners from here on are entry shims, not code */
	__u32 code_tag_bits;	/* f_executable is a tagged _PyStackRef */
	/*
	 * Fields read together, as one read of [lo, lo + span): a read of
	 * user memory costs ~90 ns whatever its size.  Span 0: one by one.
	 */
	__u32 frame_lo, frame_span;	/* code, previous, owner */
	__u32 tstate_lo, tstate_span;	/* 3.12+: frame, native id */
	/*
	 * trace names a function Class.name when a class's dict holds it.
	 * At a code's first return the class is looked for among the MRO of
	 * its first argument's type.  frame_locals 0: not for this version.
	 */
	__u64 cell_type_sym;	/* link-time &PyCell_Type: a captured argument */
	__u64 dict_type_sym;	/* link-time &PyDict_Type: dispatch tables */
	__u64 func_type_sym;	/* link-time &PyFunction_Type: a decorator's twins */
	__u32 frame_locals;	/* the frame's first local */
	__u32 frame_func;	/* the frame's function, if frame_has_func */
	__u32 frame_has_func;	/* else: the dict's entry keyed by co_name */
	__u32 code_argcount;
	__u32 code_kwonly;	/* co_kwonlyargcount: where *args sits */
	__u32 code_flags;	/* 0: unknown, and *args is not looked into */
	__u32 frame_globals;	/* a module's dict holding it too: plain */
	__u32 func_code;	/* PyFunctionObject.func_code */
	__u32 type_name;	/* PyTypeObject.tp_name, tp_dict, tp_mro */
	__u32 type_dict;
	__u32 type_mro;
	__u32 type_subclasses;	/* a dict of weak references; 0: not looked at */
	__u32 tuple_items;
	__u32 dict_keys_sized;	/* 3.9: dk_size, not the log2 fields */
};

#define CTRACE_BLOCK_MAX 128	/* the largest span read at once */

/*
 * A string as the probe hands it over: its address, and a hash of its
 * contents.  A freed string whose address is reused by another gets a
 * different identity.
 */
struct ctrace_sref {
	__u64 ptr;
	__u64 tag;
};

/* Keys hold the probe's own pointers; strings are resolved once, aside. */
struct ctrace_line_key {
	struct ctrace_sref file;
	__u32 line;
	__u32 pad;
};

/*
 * Function and pair keys carry the process: under -a one object counts
 * every process that maps an interpreter binary.
 */
struct ctrace_func_key {
	struct ctrace_sref file;
	struct ctrace_sref func;
	__u32 line;
	__u32 kind;	/* enum ctrace_entry_kind */
	__u32 tgid;
	__u32 pad;
};

/*
 * How a frame was entered: RESUME's oparg, or a throw into a suspended
 * generator (close(), throw()), which runs no RESUME and reports no line.
 */
enum ctrace_entry_kind {
	CTRACE_ENTRY_START,
	CTRACE_ENTRY_YIELD,
	CTRACE_ENTRY_YIELD_FROM,
	CTRACE_ENTRY_AWAIT,
	CTRACE_ENTRY_THROW,
};

/*
 * A per-CPU slot: a key and the hits not yet added to its map, and the
 * count of code objects freed when the key was named (see code_gen).
 */
struct ctrace_line_slot {
	struct ctrace_line_key k;
	__u64 pending;
	__u64 gen;
};

struct ctrace_func_slot {
	struct ctrace_func_key k;
	__u64 pending;
	__u64 gen;
};

struct ctrace_code {
	struct ctrace_sref file;	/* resolved through the strs map */
	struct ctrace_sref name;
	__u32 firstlineno;
	__u32 pad;
};

/*
 * A pair by its ends' names, not their code objects' addresses: a freed
 * code object's address is reused by others.  The caller is all zero at
 * the bottom of a stack.
 */
struct ctrace_call_key {
	struct ctrace_code caller;
	struct ctrace_code callee;
	__u32 tgid;
	__u32 pad;
};

/*
 * A pair's slot also keeps the addresses of the two code objects it was
 * named from: under the same gen they are the same codes.
 */
struct ctrace_call_slot {
	struct ctrace_call_key k;
	__u64 pending;
	__u64 gen;
	__u64 callee_code, caller_code;
};

/*
 * A code's class, as trace's first call decides it: the class's tp_name,
 * or a zero ptr where no class's dict holds the function (a plain name).
 */
struct ctrace_class {
	struct ctrace_sref name;
};

/*
 * In a ctrace_class's name.tag, its ptr 0: no verdict (the frame could not
 * tell), but this code, of this first line, is one that returned; of two
 * codes of one name holding the line a return was seen at (a class body
 * and its method of the class's name), the source names this one.
 */
#define CTRACE_CLASS_SEEN 1

struct ctrace_str {
	char s[CTRACE_STR_MAX];
};

/*
 * A string's identity tag: a hash of its @n bytes, the terminating NUL
 * included, read from @s as whole words.  Shared so that userspace can
 * know a string's tag in advance ("<module>").  Bytes past the NUL are
 * whatever the buffer held before, so they are masked off.
 */
static inline __u64 ctrace_fingerprint(const struct ctrace_str *s, long n)
{
	__u64 h = 0xcbf29ce484222325ULL, w;

	for (int i = 0; i < CTRACE_STR_MAX / 8; i++) {
		long left = n - i * 8;

		if (left <= 0)
			break;
		w = ((const __u64 *)s->s)[i];
		if (left < 8)
			w &= (1ULL << (left * 8)) - 1;
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h ^ n;
}

enum ctrace_event_type {
	CTRACE_EV_STR = 1,
	CTRACE_EV_LINE,
	CTRACE_EV_CALL,
};

/* Every ring record starts with its type, so the reader can switch on it. */
struct ctrace_event {
	__u32 type;
	__u32 tid;
	__u64 ts;
	struct ctrace_sref file;
	struct ctrace_sref func;
	__u32 line;
	__u32 kind;
};

struct ctrace_str_event {
	__u32 type;
	__u32 pad;
	struct ctrace_sref ref;
	char s[CTRACE_STR_MAX];
};

/* ---- --gc, --imports, --audit (bpf/events.bpf.c) ---- */

#define CTRACE_GC_GENS 4	/* 0-2, and 3 for anything else */
#define CTRACE_HIST_SLOTS 32	/* log2 buckets of microseconds */
#define CTRACE_NAME_MAX 128
#define CTRACE_AUDIT_ARGS 4
#define CTRACE_AUDIT_VAL 64

struct ctrace_gc_gen {
	__u64 collections;
	__u64 collected;
	__u64 total_ns;
	__u64 hist[CTRACE_HIST_SLOTS];	/* [i]: durations in [2^(i-1), 2^i) us */
};

/* Where CPython keeps the values an audit event's args tuple may hold. */
struct ctrace_objs {
	__u64 type_str, type_int, type_bytes;	/* link-time &PyXxx_Type */
	__u32 str_state, str_ascii_data;
	__u32 long_tagged;	/* 3.12+: lv_tag, not ob_size, says size and sign */
	__u32 bytes_data;
	__u32 tuple_items;	/* 3.14 put a cached hash before the items */
	__u32 pad;
};

enum ctrace_ev_kind {
	CTRACE_EV_IMPORT = 16,
	CTRACE_EV_AUDIT,
};

struct ctrace_import_event {
	__u32 type;
	__u32 pid;
	__u64 ns;	/* find-and-load time, nested imports included */
	__u32 found;
	__u32 depth;
	char name[CTRACE_NAME_MAX];
};

enum ctrace_arg_kind {
	CTRACE_ARG_OTHER,	/* something that is not str, int or bytes */
	CTRACE_ARG_STR,
	CTRACE_ARG_INT,
	CTRACE_ARG_BYTES,
	CTRACE_ARG_BIGINT,	/* an int wider than 60 bits */
	CTRACE_ARG_UNREADABLE,	/* a str that is not compact ASCII, or a fault */
};

struct ctrace_audit_arg {
	__u32 kind;
	__u32 len;	/* the whole value's length; val holds its start */
	__s64 i;
	char val[CTRACE_AUDIT_VAL];
};

struct ctrace_audit_event {
	__u32 type;
	__u32 pid;
	__u64 ts;
	__u32 tid;
	__u32 nargs;	/* the tuple's size; at most CTRACE_AUDIT_ARGS shown */
	char comm[16];
	char event[64];
	struct ctrace_audit_arg args[CTRACE_AUDIT_ARGS];
};

#endif /* CTRACE_H */
