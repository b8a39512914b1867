/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Everything that differs between CPython versions lives behind this header:
 * struct layouts for walking frames, which probes fire when, and which
 * probe-versus-settrace differences must be repaired.
 */
#ifndef CTRACE_PYVERSION_H
#define CTRACE_PYVERSION_H

#include <stdbool.h>
#include <linux/types.h>
#include "ctrace.h"
#include "target/pyelf.h"

/* Where each needed offset sits in one version's _Py_DebugOffsets. */
struct debug_index {
	int interp_head, interp_threads, tstate_next, tstate_frame,
	    tstate_native_id, frame_previous, frame_code, frame_owner,
	    code_filename, code_name, code_firstlineno, frame_locals,
	    code_argcount;
};

/*
 * Where the live sys.path sits: _PyRuntime -> interpreters.head ->
 * sysdict -> its "path" entry -> the list's str items (compact ASCII).
 */
struct live_path_layout {
	unsigned int interp_head, sysdict, dict_keys;
	unsigned int keys_log2_index_bytes, keys_kind, keys_nentries,
		     keys_indices, entry_size;	/* str-keyed entries */
	unsigned int list_size, list_items;
	unsigned int str_length, str_state, str_data;
};

/*
 * Where Py_AddPendingCall's queue and its lock sit (3.8-3.13, for the
 * ptrace delivery): in _PyRuntime, or in the main interpreter that
 * _PyRuntime.interpreters.main points to.
 */
struct pending_layout {
	unsigned int interp_main;	/* 0: the queue is in _PyRuntime */
	unsigned int queue;		/* in _PyRuntime or the interpreter
					   (a PyMutex's: where it is looked
					   for first) */
	unsigned int lock;		/* in the queue */
	bool mutex;			/* a PyMutex (3.13), not a sem_t * */
	/* the queue's ring: its two ends, each below ring */
	unsigned int first, last, ring;
	/* a PyMutex's queue: its count, its fixed bound, its loop bound (0) */
	unsigned int npending, max, max_value, maxloop;
};

struct py_flavor {
	int major, minor;
	struct ctrace_layout layout;	/* runtime_sym filled from the ELF */
	/* 3.11: function__entry fires only down the tracing dispatch path */
	bool entry_needs_line;
	/*
	 * 3.11: no line event for a frame's first line when it is the RESUME's
	 * line; count it from the frame-start entries instead.
	 */
	bool repair_first_line;
	/* 3.11: the probe fires on SEND's backward edge, settrace does not */
	bool repair_send_edge;
	/*
	 * Executable lines from the target's own .pyc of a source, when this
	 * version compiles differently from the host's 3.11: its
	 * __pycache__ tag and magic number.  NULL: the host's compiler.
	 */
	const char *pyc_tag;
	unsigned int pyc_magic;
	/* the live sys.path, read from the target; NULL: derived only */
	const struct live_path_layout *live_path;
	/* Py_AddPendingCall's queue; NULL where PEP 768 delivers */
	const struct pending_layout *pending;
	/* frame layout from _Py_DebugOffsets: indexes of its u64 fields */
	const struct debug_index *debug;
};

/*
 * What follows from the version alone, asked here so that no other file
 * compares version numbers: the remote debugger interface (PEP 768,
 * 3.14+), trace's "f.py(3):  text" (3.13+) and its summary's percentages
 * in tenths (3.14+).
 */
bool py_has_remote_debug(const struct pyelf *e);
/* A version our collector counts in: 3.8+ (settrace, sys.monitoring). */
bool py_has_collector(const struct pyelf *e);
/* Does this flavour describe the frames the USDT programs walk? */
bool py_usdt_layout(const struct py_flavor *fl);
bool py_trace_spaced(const struct py_flavor *fl);
bool py_percent_tenths(const struct py_flavor *fl);

/* trace's $prefix for --ignore-dir: the standard library's directory. */
void py_stdlib(const struct py_flavor *fl, char *buf, size_t len);

/* NULL when this version is not supported; @why says what to do. */
const struct py_flavor *py_flavor_for(const struct pyelf *e, char *why,
				      size_t why_len);

/* The layout for @e: the table's, completed from the binary's own offsets. */
int py_layout(const struct py_flavor *fl, const struct pyelf *e,
	      struct ctrace_layout *out, char *why, size_t why_len);

/* Where str, int and bytes objects keep their values, for --audit. */
void py_objects(const struct pyelf *e, struct ctrace_objs *o);

/* Why @mode cannot run on @e for want of @probe, in one line. */
int py_explain_missing(const struct pyelf *e, int probe, const char *mode,
		       char *why, size_t why_len);

#endif
