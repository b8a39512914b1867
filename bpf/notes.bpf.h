/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A new -l/-T key's class, decided once per code by class.bpf.c's search.
 * Part of ctrace.bpf.c's compilation unit.
 */
#ifndef CTRACE_NOTES_BPF_H
#define CTRACE_NOTES_BPF_H

#include "class.bpf.h"

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
