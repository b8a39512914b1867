/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A new -l/-T key's class, decided once per code by class.bpf.c's search.
 * Part of ctrace.bpf.c's compilation unit.
 */
#ifndef CTRACE_NOTES_BPF_H
#define CTRACE_NOTES_BPF_H

#include "class.bpf.h"

/*
 * trace decides at a code's first call.  Called by a class body that
 * defines it, the function is in no class's dict yet (only in the body's
 * namespace), so trace's answer is the plain name, for good.  A class
 * body is code of neither CO_OPTIMIZED nor CO_NEWLOCALS that is not a
 * <module>.
 */
static __noinline bool called_by_class_body(__u64 shim, __u64 frame)
{
	struct frame_view f;
	__u64 code;

	if (!layout.code_flags)
		return false;
	read_frame(frame, &f);
	code = caller_code(&f, shim);
	return code && !(read_u32(code + layout.code_flags) & 3) &&
	       !code_is_module(code);
}

/* Decide @c's class from @frame, the first time @c is seen. */
static __always_inline void note_class(struct usdt_args *u, __u64 frame,
				       struct ctrace_code *c)
{
	struct ctrace_class v = {}, *had;
	__u64 tp;

	if (!layout.frame_locals || !frame || !c->name.ptr)
		return;
	/* a verdict stands; a code only seen may get one at a later return */
	had = bpf_map_lookup_elem(&code_class, c);
	if (had && (had->name.ptr || had->name.tag != CTRACE_CLASS_SEEN))
		return;
	tp = frame_class(frame, load_bias(u));
	if (tp == CLASS_UNKNOWN && called_by_class_body(init_shim(u), frame))
		tp = CLASS_NONE;
	if (tp == CLASS_UNKNOWN) {
		if (had)
			return;
		v.name.tag = CTRACE_CLASS_SEEN;
	} else if (tp != CLASS_NONE) {
		v.name = sref_of(tp);
		note_str(&v.name, false);
	}
	bpf_map_update_elem(&code_class, c, &v, BPF_ANY);
}

#endif
